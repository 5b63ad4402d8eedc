//! Functions: `WhoAmI` and the privilege functions bound to `systemuser`.

use axum::http::{Method, StatusCode};
use axum::response::Response;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::auth::require;
use crate::errors::{ApiError, ApiResult};
use crate::fixtures;
use crate::routes::{Ctx, json_response};
use crate::schema::Table;

pub fn who_am_i(ctx: &Ctx<'_>) -> ApiResult<Response> {
    let body = json!({
        "@odata.context": format!("{}/$metadata#Microsoft.Dynamics.CRM.WhoAmIResponse", ctx.app.api_base()),
        "BusinessUnitId": fixtures::BUSINESS_UNIT_ID,
        "UserId": ctx.user.to_string(),
        "OrganizationId": fixtures::ORGANIZATION_ID,
    });
    // `x-ms-dop-hint` is added to every Web API response by the guard layer.
    Ok(json_response(StatusCode::OK, &body))
}

/// Parse `Name(Param='value')` (or `Param=@alias` resolved from the query string).
fn function_call<'a>(segment: &'a str, ctx: &Ctx<'_>) -> ApiResult<(&'a str, Vec<(String, String)>)> {
    let (name, args) = match segment.find('(') {
        Some(i) if segment.ends_with(')') => (&segment[..i], &segment[i + 1..segment.len() - 1]),
        _ => (segment, ""),
    };
    let name = name.strip_prefix("Microsoft.Dynamics.CRM.").unwrap_or(name);
    let mut params = Vec::new();
    for part in args.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (k, v) = part.split_once('=').ok_or_else(|| ApiError::odata("Bad Request - Error in query syntax."))?;
        let v = v.trim();
        let v = match v.strip_prefix('@') {
            Some(alias) => ctx
                .query
                .iter()
                .find(|(k, _)| k.strip_prefix('@') == Some(alias))
                .map(|(_, v)| v.clone())
                .ok_or_else(|| ApiError::odata(format!("The parameter alias '@{alias}' was not found in the request.")))?,
            None => v.to_string(),
        };
        let v = match v.strip_prefix('\'').and_then(|s| s.strip_suffix('\'')) {
            Some(inner) => inner.replace("''", "'"),
            None => {
                return Err(ApiError::odata(format!("The parameter '{}' must be a string literal.", k.trim())));
            }
        };
        params.push((k.trim().to_string(), v));
    }
    Ok((name, params))
}

fn role_privileges(ctx: &Ctx<'_>, target: &Uuid, filter: &dyn Fn(&str) -> bool) -> Vec<Value> {
    let store = ctx.app.lock();
    let sec = &store.security;
    let mut out = Vec::new();
    for role in sec.roles_of(target) {
        for p in role.privileges.iter().filter(|p| filter(p)) {
            out.push(json!({
                "Depth": "Global",
                "PrivilegeId": sec.privilege_id(p).map(|u| u.to_string()),
                "BusinessUnitId": fixtures::BUSINESS_UNIT_ID,
                "PrivilegeName": p,
            }));
        }
    }
    out
}

/// `<set>(<id>)/<segment>`: bound functions on systemuser; everything else is not simulated.
pub fn entity_path(ctx: &Ctx<'_>, table: &Table, id: Uuid, segment: &str) -> ApiResult<Response> {
    if table.logical_name != "systemuser" || !segment.contains('(') {
        if table.navigations.contains_key(segment) || table.column(segment).is_some() {
            return Err(ApiError::not_modelled("navigation and property paths"));
        }
        return Err(ApiError::no_resource(segment));
    }
    let (name, params) = function_call(segment, ctx)?;
    if !matches!(name, "RetrieveUserPrivilegeByPrivilegeName" | "RetrieveUserPrivileges") {
        return Err(ApiError::no_resource(segment));
    }
    if *ctx.method != Method::GET {
        return Err(ApiError::method_not_allowed(format!("{name} is a function; use GET.")));
    }
    {
        let store = ctx.app.lock();
        require(&store, &ctx.user, "prvReadUser", table)?;
        if !store.contains("systemuser", &id) {
            return Err(ApiError::not_found("systemuser", &id));
        }
    }
    let api = ctx.app.api_base();
    let privileges = if name == "RetrieveUserPrivileges" {
        role_privileges(ctx, &id, &|_| true)
    } else {
        let wanted = params.iter().find(|(k, _)| k == "PrivilegeName").map(|(_, v)| v.clone()).ok_or_else(|| {
            ApiError::odata("The parameter 'PrivilegeName' of the function 'RetrieveUserPrivilegeByPrivilegeName' is missing.")
        })?;
        // Assumption (unconfirmed third-party report): an unknown privilege name is an error.
        if ctx.app.lock().security.privilege_id(&wanted).is_none() {
            return Err(ApiError::invalid(format!("The privilege '{wanted}' does not exist.")));
        }
        role_privileges(ctx, &id, &|p| p == wanted)
    };
    let body = json!({
        "@odata.context": format!("{api}/$metadata#Microsoft.Dynamics.CRM.{name}Response"),
        "RolePrivileges": privileges,
    });
    Ok(json_response(StatusCode::OK, &body))
}
