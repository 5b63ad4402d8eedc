//! HTTP surface: the token endpoint, and one fallback handler that parses Web API paths
//! (`mailboxes(<guid>)`, `systemusers(<guid>)/Microsoft.Dynamics.CRM.…(…)`) itself.

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use percent_encoding::percent_decode_str;
use serde_json::Value;
use uuid::Uuid;

use crate::app::App;
use crate::auth::{TokenCheck, token_endpoint};
use crate::errors::{ApiError, ApiResult};
use crate::odata::prefer::Prefer;
use crate::odata::query::decode_query;
use crate::schema::{Schema, Table};
use crate::store::RequestRecord;
use crate::{entities, fixtures, functions, write};

pub const API_PREFIX: &str = "/api/data/v9.2";

pub fn router(app: App) -> Router {
    Router::new()
        .route("/{tenant}/oauth2/v2.0/token", post(token_endpoint))
        .route("/{tenant}/oauth2/v2.0/devicecode", post(crate::identity_provider::devicecode_endpoint))
        .route("/msi/token", axum::routing::get(crate::identity_provider::msi_endpoint))
        .route("/metadata/identity/oauth2/token", axum::routing::get(crate::identity_provider::imds_endpoint))
        .route("/_sim/stats", axum::routing::get(sim_stats))
        .route("/_sim/reset", post(sim_reset))
        .merge(crate::simroutes::router())
        .merge(crate::discovery::router())
        .fallback(dispatch)
        .layer(axum::middleware::from_fn_with_state(app.clone(), crate::guard::layer))
        .with_state(app)
}

/// `GET /_sim/stats` (no auth): the simulator's counters.
async fn sim_stats(State(app): State<App>) -> Response {
    let mut resp = (StatusCode::OK, crate::stats::document(&app).to_string()).into_response();
    resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    resp
}

/// `POST /_sim/reset` (no auth): back to the seeded state; 204.
async fn sim_reset(State(app): State<App>) -> Response {
    let app2 = app.clone();
    // Waits for change sets in progress (exclusive gate): off the async workers.
    match tokio::task::spawn_blocking(move || app2.reset()).await {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

/// Everything a Web API handler needs about the request.
pub struct Ctx<'a> {
    pub app: &'a App,
    pub user: Uuid,
    pub method: &'a Method,
    pub headers: &'a HeaderMap,
    pub prefer: Prefer,
    pub query: Vec<(String, String)>,
    pub body: &'a Bytes,
}

/// What the path addresses.
#[derive(Debug, PartialEq)]
enum Resource<'s> {
    WhoAmI,
    Collection(&'static Table),
    /// `<set>/$count`: the number of rows as text.
    Count(&'static Table),
    Entity(&'static Table, Uuid),
    /// `<set>(<id>)/<segment>`: bound function, navigation or property.
    EntityPath(&'static Table, Uuid, String),
    Unsupported(&'s str),
}

/// A JSON response with the Web API's content type.
pub fn json_response(status: StatusCode, body: &Value) -> Response {
    json_bytes_response(status, body.to_string().into_bytes())
}

/// A JSON body already serialized (a collection's page, written row by row).
pub fn json_bytes_response(status: StatusCode, body: Vec<u8>) -> Response {
    let mut resp = (status, body).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; odata.metadata=minimal; odata.streaming=true; IEEE754Compatible=false; charset=utf-8"),
    );
    resp
}

pub(crate) fn unauthorized(app: &App, description: &str) -> Response {
    let challenge = format!(
        "Bearer error=\"invalid_token\", error_description=\"{description}\", authorization_uri={base}/{tenant}/oauth2/authorize, resource_id={base}/",
        base = app.base_url,
        tenant = fixtures::TENANT_ID
    );
    let mut resp = StatusCode::UNAUTHORIZED.into_response();
    if let Ok(v) = HeaderValue::from_str(&challenge) {
        resp.headers_mut().insert(header::WWW_AUTHENTICATE, v);
    }
    resp
}

/// Parse `name(key)` into `(name, Some(key))`.
fn split_key(segment: &str) -> (&str, Option<&str>) {
    match (segment.find('('), segment.ends_with(')')) {
        (Some(i), true) => (&segment[..i], Some(&segment[i + 1..segment.len() - 1])),
        _ => (segment, None),
    }
}

/// A key: `<guid>` or `<primaryid>=<guid>`.
fn parse_key(table: &Table, key: &str) -> ApiResult<Uuid> {
    let raw = match key.split_once('=') {
        Some((name, v)) if name.trim() == table.primary_id => v.trim(),
        Some(_) => return Err(ApiError::odata("Bad Request - Error in query syntax.")),
        None => key.trim(),
    };
    if raw.len() != 36 {
        return Err(ApiError::odata("Bad Request - Error in query syntax."));
    }
    Uuid::parse_str(raw).map_err(|_| ApiError::odata("Bad Request - Error in query syntax."))
}

fn resolve(path: &str) -> ApiResult<Resource<'_>> {
    let mut segments = path.splitn(2, '/');
    let first = segments.next().unwrap_or_default();
    let rest = segments.next();
    if first == "WhoAmI" || first == "WhoAmI()" {
        return match rest {
            None => Ok(Resource::WhoAmI),
            Some(r) => Err(ApiError::no_resource(r)),
        };
    }
    if first.starts_with('$') {
        return Ok(Resource::Unsupported(first));
    }
    let (name, key) = split_key(first);
    let Some(table) = Schema::get().by_entity_set(name) else {
        return Err(ApiError::no_resource(name));
    };
    match (key, rest) {
        (None, None) => Ok(Resource::Collection(table)),
        (None, Some("$count")) => Ok(Resource::Count(table)),
        (None, Some(_)) => Err(ApiError::odata("Bad Request - Error in query syntax.")),
        (Some(k), None) => Ok(Resource::Entity(table, parse_key(table, k)?)),
        (Some(k), Some(r)) => Ok(Resource::EntityPath(table, parse_key(table, k)?, r.to_string())),
    }
}

async fn dispatch(State(app): State<App>, method: Method, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    let raw_path = uri.path();
    let Some(rest) = raw_path.strip_prefix(API_PREFIX) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let auth = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
    let check = app.lock().tokens.check(auth);
    let record = |user: Option<Uuid>, status: StatusCode| RequestRecord {
        method: method.to_string(),
        uri: uri.path_and_query().map(|p| p.to_string()).unwrap_or_default(),
        user,
        status: status.as_u16(),
    };
    let user = match check {
        TokenCheck::Valid(u) => u,
        other => {
            let description = match other {
                TokenCheck::Expired => "The access token is expired",
                TokenCheck::Missing => "Bearer token is missing",
                _ => "The access token is invalid",
            };
            let resp = unauthorized(&app, description);
            app.lock().requests.push(record(None, resp.status()));
            return resp;
        }
    };
    let decoded = percent_decode_str(rest.trim_start_matches('/')).decode_utf8_lossy().into_owned();
    let mut resp = if decoded == "$batch" {
        crate::batch::handle(&app, user, &method, &headers, &body).await
    } else {
        let _shared = app.shared();
        execute(&app, user, &method, &decoded, uri.query(), &headers, &body)
    };
    finish_headers(&mut resp);
    app.lock().requests.push(record(Some(user), resp.status()));
    resp
}

/// Headers every Web API response carries.
pub fn finish_headers(resp: &mut Response) {
    let h = resp.headers_mut();
    h.insert("OData-Version", HeaderValue::from_static("4.0"));
    if let Ok(v) = HeaderValue::from_str(&Uuid::new_v4().to_string()) {
        h.insert("REQ_ID", v);
    }
}

/// Run one authenticated Web API request without HTTP: `path` is percent-decoded and relative
/// to `/api/data/v9.2/`, `query` is the raw query string. Used by single requests and by
/// `$batch` operations (same handlers, privileges, validation and side effects). The caller
/// holds the store gate (`App::shared` or `App::exclusive`).
pub fn execute(app: &App, user: Uuid, method: &Method, path: &str, query: Option<&str>, headers: &HeaderMap, body: &Bytes) -> Response {
    if *method != Method::GET {
        app.counters().writes += 1;
    }
    let ctx = Ctx { app, user, method, headers, prefer: Prefer::from_headers(headers), query: decode_query(query), body };
    match handle(&ctx, path) {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}

fn handle(ctx: &Ctx<'_>, path: &str) -> ApiResult<Response> {
    let m = ctx.method;
    if path.is_empty() {
        return if *m == Method::GET {
            Ok(service_document(ctx))
        } else {
            Err(ApiError::method_not_allowed(format!("The HTTP method '{m}' is not allowed on the service document.")))
        };
    }
    match resolve(path)? {
        Resource::WhoAmI if *m == Method::GET => functions::who_am_i(ctx),
        Resource::WhoAmI => Err(ApiError::method_not_allowed("WhoAmI is a function; use GET.")),
        Resource::Collection(t) if *m == Method::GET => entities::get_collection(ctx, t),
        Resource::Collection(t) if matches!(*m, Method::PATCH | Method::PUT | Method::DELETE) => {
            Err(ApiError::method_not_allowed(format!("The HTTP method '{m}' is not allowed on the collection '{}'.", t.entity_set)))
        }
        Resource::Collection(t) => write::create(ctx, t),
        Resource::Count(t) if *m == Method::GET => entities::count(ctx, t),
        Resource::Count(t) => {
            Err(ApiError::method_not_allowed(format!("The HTTP method '{m}' is not allowed on '{}/$count'.", t.entity_set)))
        }
        Resource::Entity(t, id) if *m == Method::GET => entities::get_entity(ctx, t, id),
        Resource::Entity(t, id) if *m == Method::PATCH => write::patch(ctx, t, id),
        Resource::Entity(t, id) if *m == Method::DELETE => write::delete(ctx, t, id),
        Resource::Entity(t, _) => {
            Err(ApiError::method_not_allowed(format!("The HTTP method '{m}' is not supported for '{}'.", t.entity_set)))
        }
        Resource::EntityPath(t, id, segment) => functions::entity_path(ctx, t, id, &segment),
        Resource::Unsupported("$metadata") => Err(ApiError::not_modelled("$metadata (the CSDL document)")),
        Resource::Unsupported(s) => Err(ApiError::no_resource(s)),
    }
}

/// `GET /api/data/v9.2/`: the OData service document (the entity sets).
fn service_document(ctx: &Ctx<'_>) -> Response {
    let mut sets: Vec<&str> = Schema::get().tables().map(|t| t.entity_set.as_str()).collect();
    sets.sort_unstable();
    let value: Vec<Value> = sets.iter().map(|s| serde_json::json!({"name": s, "kind": "EntitySet", "url": s})).collect();
    json_response(StatusCode::OK, &serde_json::json!({"@odata.context": format!("{}/$metadata", ctx.app.api_base()), "value": value}))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths() {
        let s = Schema::get();
        let mbx = s.by_entity_set("mailboxes").unwrap();
        let id = "3f2504e0-4f89-41d3-9a0c-0305e82c3301";
        assert_eq!(resolve("mailboxes").unwrap(), Resource::Collection(mbx));
        assert_eq!(resolve(&format!("mailboxes({id})")).unwrap(), Resource::Entity(mbx, id.parse().unwrap()));
        assert_eq!(resolve(&format!("mailboxes(mailboxid={id})")).unwrap(), Resource::Entity(mbx, id.parse().unwrap()));
        assert_eq!(resolve("mailboxes(not-a-guid)").unwrap_err().status, 400);
        assert_eq!(resolve("nosuch").unwrap_err().status, 404);
        assert_eq!(resolve("WhoAmI").unwrap(), Resource::WhoAmI);
        assert_eq!(resolve("mailboxes/$count").unwrap(), Resource::Count(mbx));
        assert_eq!(resolve("mailboxes/$counts").unwrap_err().status, 400);
        let su = s.by_entity_set("systemusers").unwrap();
        assert_eq!(
            resolve(&format!(
                "systemusers({id})/Microsoft.Dynamics.CRM.RetrieveUserPrivilegeByPrivilegeName(PrivilegeName='prvReadMailbox')"
            ))
            .unwrap(),
            Resource::EntityPath(
                su,
                id.parse().unwrap(),
                "Microsoft.Dynamics.CRM.RetrieveUserPrivilegeByPrivilegeName(PrivilegeName='prvReadMailbox')".into()
            )
        );
    }
}
