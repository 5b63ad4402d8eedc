//! `PATCH <set>(<id>)`: update, or upsert when the row is missing (no `If-Match`).
//!
//! Order of checks: unsupported table → body JSON → preconditions (`If-Match`,
//! `If-None-Match`) → create/write privilege → body validation (unknown properties, read-only
//! columns, types, option values, `@odata.bind`) → state/status pairing → platform rules
//! ([`crate::rules`]) → commit (version bump on every touched row) → 204 or representation.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};
use uuid::Uuid;

use crate::auth::require;
use crate::entities::{entity_body, set_preference_applied};
use crate::errors::{ApiError, ApiResult, CODE_DUPLICATE, CODE_PICKLIST_OUT_OF_RANGE, CODE_VERSION_MISMATCH};
use crate::odata::filter::parse_datetime;
use crate::odata::format::etag;
use crate::odata::query::parse_options;
use crate::routes::{API_PREFIX, Ctx, json_response};
use crate::schema::{Access, Kind, Schema, Table};
use crate::store::{Row, Store, now_string};
use crate::{rules, seed, testenable};

fn convert_error(v: &Value, edm: &str) -> ApiError {
    let lit = match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    ApiError::odata(format!("Cannot convert the literal '{lit}' to the expected type '{edm}'."))
}

/// Validate and normalize one property value.
fn validate_value(table: &Table, col: &str, kind: &Kind, v: &Value) -> ApiResult<Value> {
    if v.is_null() {
        return match kind {
            Kind::Picklist(_) if matches!(col, "statecode" | "statuscode" | "emailrouteraccessapproval") => Err(ApiError::invalid(
                format!("A value for '{col}' on record of type '{}' is required and cannot be null.", table.logical_name),
            )),
            _ => Ok(Value::Null),
        };
    }
    let edm = kind.edm();
    match kind {
        Kind::String | Kind::Binary => v.as_str().map(|_| v.clone()).ok_or_else(|| convert_error(v, edm)),
        Kind::Int => v.as_i64().filter(|n| i32::try_from(*n).is_ok()).map(|n| json!(n)).ok_or_else(|| convert_error(v, edm)),
        Kind::BigInt => v.as_i64().map(|n| json!(n)).ok_or_else(|| convert_error(v, edm)),
        Kind::Double | Kind::Decimal => v.as_f64().map(|_| v.clone()).ok_or_else(|| convert_error(v, edm)),
        Kind::Bool { .. } => v.as_bool().map(|b| json!(b)).ok_or_else(|| convert_error(v, edm)),
        Kind::Picklist(opts) => {
            let n = v.as_i64().filter(|n| i32::try_from(*n).is_ok()).ok_or_else(|| convert_error(v, edm))?;
            if opts.iter().any(|(o, _)| *o == n) {
                Ok(json!(n))
            } else {
                let accepted: Vec<String> = opts.iter().map(|(o, _)| o.to_string()).collect();
                Err(ApiError::new(
                    StatusCode::BAD_REQUEST,
                    CODE_PICKLIST_OUT_OF_RANGE,
                    format!(
                        "A validation error occurred. The value {n} of '{col}' on record of type '{}' is outside the valid range. Accepted Values: {}",
                        table.logical_name,
                        accepted.join(",")
                    ),
                ))
            }
        }
        Kind::DateTime => v
            .as_str()
            .and_then(parse_datetime)
            .map(|d| json!(d.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)))
            .ok_or_else(|| convert_error(v, edm)),
        Kind::Guid | Kind::Lookup { .. } => {
            v.as_str().and_then(|s| Uuid::parse_str(s).ok()).map(|u| json!(u.to_string())).ok_or_else(|| convert_error(v, edm))
        }
    }
}

/// Parse an `@odata.bind` reference: `/set(id)`, `set(id)` or an absolute URL.
fn parse_bind(v: &str) -> Option<(&str, Uuid)> {
    let path = match v.find(API_PREFIX) {
        Some(i) => &v[i + API_PREFIX.len()..],
        None => v,
    };
    let path = path.trim_start_matches('/');
    let open = path.find('(')?;
    let inner = path[open + 1..].strip_suffix(')')?;
    Some((&path[..open], Uuid::parse_str(inner).ok()?))
}

/// Validate the body into column changes.
fn validate_body(table: &Table, body: &Map<String, Value>, store: &Store, id: &Uuid) -> ApiResult<Row> {
    let mut changes = Row::new();
    for (key, value) in body {
        if let Some((name, annotation)) = key.split_once('@') {
            if annotation != "odata.bind" || name.is_empty() {
                continue; // instance annotations (@odata.type, …FormattedValue) are ignored
            }
            let Some(nav) = table.navigations.get(name) else {
                return Err(ApiError::odata(format!(
                    "An undeclared property '{name}' which only has property annotations in the payload but no property value was found in the payload. In OData, only declared navigation properties and declared named streams can be represented as properties without values."
                )));
            };
            let (Some(column), true) = (&nav.column, nav.bindable) else {
                return Err(ApiError::invalid(format!(
                    "The navigation property '{name}' of '{}' cannot be set by the simulator (read-only or not supported).",
                    table.logical_name
                )));
            };
            let target = Schema::get().by_logical_name(&nav.target).expect("bindable targets are simulated");
            let new = match value {
                Value::Null => Value::Null,
                Value::String(s) => {
                    let (set, target_id) = parse_bind(s)
                        .ok_or_else(|| ApiError::odata(format!("The @odata.bind value '{s}' is not a valid entity reference.")))?;
                    if set != target.entity_set {
                        return Err(ApiError::odata(format!(
                            "The navigation property '{name}' expects an entity of type '{}', but the reference '{s}' is to entity set '{set}'.",
                            target.type_name()
                        )));
                    }
                    if !store.contains(&target.logical_name, &target_id) {
                        return Err(ApiError::not_found(&target.logical_name, &target_id));
                    }
                    json!(target_id.to_string())
                }
                other => return Err(convert_error(other, "Edm.String")),
            };
            changes.insert(column.clone(), new);
            continue;
        }
        let Some(col) = table.column(key) else {
            return Err(ApiError::odata(format!(
                "The property '{key}' does not exist on type '{}'. Make sure to only use property names that are defined by the type or mark the type as open type.",
                table.type_name()
            )));
        };
        if key == &table.primary_id {
            if value.as_str().and_then(|s| Uuid::parse_str(s).ok()) == Some(*id) {
                continue;
            }
            return Err(ApiError::invalid(format!("The value of '{key}' in the body does not match the key in the URL.")));
        }
        if let Kind::Lookup { .. } = col.kind {
            return Err(ApiError::odata(
                "CRM do not support direct update of Entity Reference properties, Use Navigation properties instead.",
            ));
        }
        if col.access == Access::ReadOnly {
            return Err(ApiError::invalid(format!(
                "The '{key}' attribute of entity '{}' is read-only and cannot be set.",
                table.logical_name
            )));
        }
        changes.insert(key.clone(), validate_value(table, key, &col.kind, value)?);
    }
    Ok(changes)
}

/// Keep statecode/statuscode consistent: a new state without a status gets the default status.
fn normalize_state(table: &Table, current: &Row, changes: &mut Row, id: &Uuid) -> ApiResult<()> {
    let Some(states) = table.states else {
        return Ok(());
    };
    if !changes.contains_key("statecode") && !changes.contains_key("statuscode") {
        return Ok(());
    }
    let state = changes.get("statecode").or(current.get("statecode")).and_then(Value::as_i64).unwrap_or(0);
    let Some((_, default_status, allowed)) = states.iter().find(|(s, _, _)| *s == state) else {
        return Ok(());
    };
    match changes.get("statuscode").and_then(Value::as_i64) {
        None => {
            changes.insert("statuscode".into(), json!(default_status));
        }
        Some(s) if allowed.contains(&s) => {}
        Some(s) => {
            return Err(ApiError::invalid(format!(
                "{s} is not a valid status code for state code {state} on {} with Id {id}.",
                table.logical_name
            )));
        }
    }
    Ok(())
}

/// The JSON object of a write's body.
fn body_object(ctx: &Ctx<'_>) -> ApiResult<Map<String, Value>> {
    let body: Value = serde_json::from_slice(ctx.body)
        .map_err(|e| ApiError::odata(format!("Invalid JSON. The request body could not be parsed: {e}")))?;
    let Value::Object(body) = body else {
        return Err(ApiError::odata("Invalid JSON. A JSON object was expected as the request body."));
    };
    Ok(body)
}

pub fn patch(ctx: &Ctx<'_>, table: &Table, id: Uuid) -> ApiResult<Response> {
    let logical = table.logical_name.as_str();
    if logical == "tracelog" {
        return Err(ApiError::message_not_supported("Update", "tracelog"));
    }
    let body = body_object(ctx)?;
    let q = parse_options(table, &ctx.query, true)?;
    let mut store = ctx.app.lock();
    let exists = store.contains(logical, &id);

    if let Some(im) = ctx.headers.get(header::IF_MATCH).and_then(|v| v.to_str().ok()) {
        let Some(row) = store.get(logical, &id) else {
            return Err(ApiError::not_found(logical, &id));
        };
        let current = etag(row);
        let im = im.trim();
        if im != "*" && !im.split(',').any(|t| t.trim() == current) {
            return Err(ApiError::new(
                StatusCode::PRECONDITION_FAILED,
                CODE_VERSION_MISMATCH,
                "The version of the existing record doesn't match the RowVersion property provided.",
            ));
        }
    }
    if let Some(inm) = ctx.headers.get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok())
        && inm.trim() == "*"
        && exists
    {
        return Err(ApiError::new(StatusCode::PRECONDITION_FAILED, CODE_DUPLICATE, "A record with matching key values already exists."));
    }
    if !exists && logical == "organization" {
        return Err(ApiError::message_not_supported("Create", "organization"));
    }
    commit(ctx, &mut store, table, id, exists, &body, q.select.as_deref())
}

/// `POST <set>`: create a row (the id from the body's primary key, else a new one).
pub fn create(ctx: &Ctx<'_>, table: &Table) -> ApiResult<Response> {
    let logical = table.logical_name.as_str();
    if logical == "organization" {
        return Err(ApiError::message_not_supported("Create", "organization"));
    }
    let body = body_object(ctx)?;
    let q = parse_options(table, &ctx.query, true)?;
    let id = match body.get(&table.primary_id) {
        None | Some(Value::Null) => Uuid::new_v4(),
        Some(v) => v.as_str().and_then(|s| Uuid::parse_str(s).ok()).ok_or_else(|| convert_error(v, "Edm.Guid"))?,
    };
    let mut store = ctx.app.lock();
    if store.contains(logical, &id) {
        return Err(ApiError::new(StatusCode::BAD_REQUEST, CODE_DUPLICATE, "A record with matching key values already exists."));
    }
    commit(ctx, &mut store, table, id, false, &body, q.select.as_deref())
}

/// `DELETE <set>(<id>)`. Deleting a queue deletes its mailbox (the platform creates and removes
/// them together); deleting a profile clears the links to it.
pub fn delete(ctx: &Ctx<'_>, table: &Table, id: Uuid) -> ApiResult<Response> {
    let logical = table.logical_name.as_str();
    if matches!(logical, "organization" | "systemuser") {
        // Users are disabled, never deleted; the organization is not a deletable row.
        return Err(ApiError::message_not_supported("Delete", logical));
    }
    let mut store = ctx.app.lock();
    require(&store, &ctx.user, &format!("prvDelete{}", table.privilege_entity), table)?;
    if !store.contains(logical, &id) {
        return Err(ApiError::not_found(logical, &id));
    }
    let mut doomed = vec![(logical, id)];
    if logical == "queue"
        && let Some(mbx) = store.mailbox_of(&id)
    {
        doomed.push(("mailbox", mbx));
    }
    if logical == "emailserverprofile" {
        let linked: Vec<(Uuid, &str)> = store
            .rows("mailbox")
            .filter(|r| r.get("_emailserverprofile_value").and_then(Value::as_str) == Some(id.to_string().as_str()))
            .filter_map(|r| Some((Uuid::parse_str(r.get("mailboxid")?.as_str()?).ok()?, "mailbox")))
            .chain(
                store
                    .rows("organization")
                    .filter(|r| r.get("_defaultemailserverprofileid_value").and_then(Value::as_str) == Some(id.to_string().as_str()))
                    .filter_map(|r| Some((Uuid::parse_str(r.get("organizationid")?.as_str()?).ok()?, "organization"))),
            )
            .collect();
        for (row, table) in linked {
            let column = if table == "mailbox" { "_emailserverprofile_value" } else { "_defaultemailserverprofileid_value" };
            let mut c = Row::new();
            c.insert(column.into(), Value::Null);
            store.update(table, &row, c, Some(ctx.user));
        }
    }
    for (table, row) in doomed {
        store.remove(table, &row);
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Validate `body` against the current (or new) row and write it; the common tail of PATCH and
/// POST.
fn commit(
    ctx: &Ctx<'_>,
    store: &mut Store,
    table: &Table,
    id: Uuid,
    exists: bool,
    body: &Map<String, Value>,
    select: Option<&[String]>,
) -> ApiResult<Response> {
    let logical = table.logical_name.as_str();
    let verb = if exists { "Write" } else { "Create" };
    require(store, &ctx.user, &format!("prv{verb}{}", table.privilege_entity), table)?;

    // The stored row is read where it is (a copy of every column for each of a batch's
    // thousand writes was most of the simulator's time); a new one starts blank.
    let mut blank: Option<Row> = None;
    let (changes, effects, test) = {
        let current: &Row = match store.get(logical, &id) {
            Some(r) => r,
            None => {
                let mut r = Store::blank_row(table, &id);
                r.extend(seed::create_defaults(logical, &now_string(), &ctx.user));
                blank.insert(r)
            }
        };
        let mut changes = validate_body(table, body, store, &id)?;
        normalize_state(table, current, &mut changes, &id)?;
        let effects = rules::apply(&ctx.app.config, store, &ctx.user, table, &id, current, &mut changes)?;
        let test = if logical == "mailbox" { testenable::on_mailbox_write(&mut changes) } else { None };
        (changes, effects, test)
    };

    match blank {
        None => {
            store.update(logical, &id, changes, Some(ctx.user));
        }
        Some(mut row) => {
            row.extend(changes);
            store.insert(logical, id, row);
        }
    }
    for e in effects {
        store.update(e.logical, &e.id, e.changes, Some(ctx.user));
    }
    if let Some(flag) = test {
        testenable::schedule(store, ctx.app.config.test_delay_ms, id, ctx.user, flag);
    }

    let entity_url = format!("{}/{}({id})", ctx.app.api_base(), table.entity_set);
    if ctx.prefer.return_representation {
        let body = entity_body(ctx, store, table, &id, select)?;
        let status = if exists { StatusCode::OK } else { StatusCode::CREATED };
        let mut resp = json_response(status, &body);
        let mut applied = vec!["return=representation".to_string()];
        applied.extend(ctx.prefer.annotations.iter().map(|a| format!("odata.include-annotations=\"{}\"", a.raw)));
        set_preference_applied(&mut resp, &applied);
        return Ok(resp);
    }
    let mut resp = StatusCode::NO_CONTENT.into_response();
    if let Ok(v) = HeaderValue::from_str(&entity_url) {
        resp.headers_mut().insert("OData-EntityId", v);
    }
    Ok(resp)
}
