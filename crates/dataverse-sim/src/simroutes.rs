//! Day-two control routes under `/_sim/` (no auth, no faults, not counted): the failure
//! report, injecting and clearing failures, setting rows the way an admin elsewhere would,
//! teams, and running sync cycles now. Contract: the crate README, "Control routes".

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post, put};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::app::App;
use crate::health::{self, FailureKind, InjectOptions, Source};
use crate::schema::Schema;
use crate::store::Row;
use crate::{sync, testenable};

pub fn router() -> Router<App> {
    Router::new()
        .route("/_sim/health", get(health_report))
        .route("/_sim/mailboxes/{id}/failure", post(inject_failure).delete(clear_failure))
        .route("/_sim/rows/{set}/{id}", patch(set_row_route))
        .route("/_sim/teams", post(create_team))
        .route("/_sim/teams/{id}/roles", put(set_team_roles))
        .route("/_sim/sync", post(sync_now))
        .route("/_sim/devicelogin", post(device_login))
}

/// `{"user_code": "…", "approve": true|false}`: the person's answer on the sign-in page.
async fn device_login(State(app): State<App>, body: Bytes) -> SimResult {
    let body = body_object(&body)?;
    let code = body.get("user_code").and_then(Value::as_str).ok_or_else(|| bad_request("\"user_code\" is required"))?;
    let approve = body.get("approve").and_then(Value::as_bool).unwrap_or(true);
    if crate::identity_provider::decide_in_browser(&app, code, approve) {
        Ok(json_answer(StatusCode::OK, &json!({"user_code": code, "approved": approve})))
    } else {
        Err(not_found(format!("no sign-in waits for the code {code}")))
    }
}

fn json_answer(status: StatusCode, body: &Value) -> Response {
    let mut resp = (status, body.to_string()).into_response();
    resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    resp
}

/// A refused control request: 400 `SimBadRequest` or 404 `SimNotFound`.
#[derive(Debug)]
struct SimError {
    status: StatusCode,
    message: String,
}

type SimResult = Result<Response, SimError>;

impl IntoResponse for SimError {
    fn into_response(self) -> Response {
        let code = if self.status == StatusCode::NOT_FOUND { "SimNotFound" } else { "SimBadRequest" };
        json_answer(self.status, &json!({"error": {"code": code, "message": self.message}}))
    }
}

fn bad_request(message: impl Into<String>) -> SimError {
    SimError { status: StatusCode::BAD_REQUEST, message: message.into() }
}

fn not_found(message: impl Into<String>) -> SimError {
    SimError { status: StatusCode::NOT_FOUND, message: message.into() }
}

fn parse_id(raw: &str) -> Result<Uuid, SimError> {
    Uuid::parse_str(raw.trim()).map_err(|_| bad_request(format!("'{raw}' is not a GUID")))
}

/// The body as a JSON object (an empty body is `{}`).
fn body_object(body: &Bytes) -> Result<Row, SimError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Row::new());
    }
    match serde_json::from_slice(body) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(bad_request("the body must be a JSON object")),
        Err(e) => Err(bad_request(format!("the body is not valid JSON: {e}"))),
    }
}

/// Set columns of a row as the platform would (no privileges, no rules) and schedule a test
/// when the columns say so. The caller has checked the table and the columns.
pub fn set_row(app: &App, logical: &str, id: Uuid, values: Row) -> bool {
    let _shared = app.shared();
    let mut store = app.lock();
    if !store.update(logical, &id, values.clone(), None) {
        return false;
    }
    testenable::on_platform_set(&mut store, &app.config, logical, id, &values);
    true
}

/// Inject a failure; with `sync`, run one cycle of the mailbox when it is in the cycle.
pub fn inject(app: &App, mailbox: Uuid, kind: FailureKind, opts: &InjectOptions, sync_now: bool) -> Result<Value, String> {
    let _shared = app.shared();
    let mut store = app.lock();
    let changed = health::inject(&mut store, mailbox, kind, Source::Route, opts)?;
    let synchronized = if sync_now { sync::run_now_locked(&mut store, &app.config, Some(&[mailbox])) } else { 0 };
    Ok(json!({"mailboxid": mailbox.to_string(), "kind": kind.name(), "changed": changed, "synchronized": synchronized}))
}

async fn health_report(State(app): State<App>) -> Response {
    let doc = health::document(&app.lock(), &app.config);
    json_answer(StatusCode::OK, &doc)
}

async fn inject_failure(State(app): State<App>, Path(id): Path<String>, body: Bytes) -> SimResult {
    let id = parse_id(&id)?;
    let body = body_object(&body)?;
    let kind = body.get("kind").and_then(Value::as_str).ok_or_else(|| bad_request("the body needs \"kind\""))?;
    let kind = FailureKind::parse(kind).ok_or_else(|| {
        let names: Vec<&str> = FailureKind::ALL.iter().map(|k| k.name()).collect();
        bad_request(format!("unknown failure kind '{kind}' (one of {})", names.join(", ")))
    })?;
    let owner = match body.get("owner") {
        None | Some(Value::Null) => None,
        Some(v) => Some(v.as_str().and_then(|s| Uuid::parse_str(s).ok()).ok_or_else(|| bad_request("\"owner\" must be a systemuserid"))?),
    };
    let access_mode = match body.get("accessmode") {
        None | Some(Value::Null) => None,
        Some(v) => Some(v.as_i64().ok_or_else(|| bad_request("\"accessmode\" must be an integer"))?),
    };
    let sync_now = match body.get("sync") {
        None | Some(Value::Null) => true,
        Some(v) => v.as_bool().ok_or_else(|| bad_request("\"sync\" must be true or false"))?,
    };
    if !app.lock().contains("mailbox", &id) {
        return Err(not_found(format!("mailbox {id} does not exist")));
    }
    let doc = inject(&app, id, kind, &InjectOptions { owner, access_mode }, sync_now).map_err(bad_request)?;
    Ok(json_answer(StatusCode::OK, &doc))
}

async fn clear_failure(State(app): State<App>, Path(id): Path<String>) -> SimResult {
    let id = parse_id(&id)?;
    let _shared = app.shared();
    if !health::clear(&mut app.lock(), id) {
        return Err(not_found(format!("mailbox {id} does not exist")));
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn set_row_route(State(app): State<App>, Path((set, id)): Path<(String, String)>, body: Bytes) -> SimResult {
    let table = Schema::get().by_entity_set(&set).ok_or_else(|| not_found(format!("unknown entity set '{set}'")))?;
    let id = parse_id(&id)?;
    let values = body_object(&body)?;
    if let Some(unknown) = values.keys().find(|k| table.column(k).is_none()) {
        return Err(bad_request(format!("'{unknown}' is not a column of {}", table.logical_name)));
    }
    if values.contains_key(&table.primary_id) {
        return Err(bad_request(format!("'{}' is the row's key and cannot be set", table.primary_id)));
    }
    if !set_row(&app, &table.logical_name, id, values) {
        return Err(not_found(format!("{} with id {id} does not exist", table.logical_name)));
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Role names from `{"roles": [...]}`, each a known role.
fn roles_of(app: &App, body: &Row) -> Result<Vec<String>, SimError> {
    let roles = match body.get("roles") {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(a)) => a,
        Some(_) => return Err(bad_request("\"roles\" must be an array of role names")),
    };
    let store = app.lock();
    roles
        .iter()
        .map(|r| match r.as_str() {
            Some(name) if store.security.role_by_name(name).is_some() => Ok(name.to_string()),
            _ => Err(bad_request(format!("unknown role {r}"))),
        })
        .collect()
}

async fn create_team(State(app): State<App>, body: Bytes) -> SimResult {
    let body = body_object(&body)?;
    let name = body
        .get("name")
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .ok_or_else(|| bad_request("the body needs a non-empty \"name\""))?;
    let roles = roles_of(&app, &body)?;
    let id = app.lock().security.create_team(name, &roles);
    Ok(json_answer(StatusCode::CREATED, &json!({"teamid": id.to_string()})))
}

async fn set_team_roles(State(app): State<App>, Path(id): Path<String>, body: Bytes) -> SimResult {
    let id = parse_id(&id)?;
    let body = body_object(&body)?;
    if !body.contains_key("roles") {
        return Err(bad_request("the body needs \"roles\""));
    }
    let roles = roles_of(&app, &body)?;
    let mut store = app.lock();
    let team = store.security.teams.get_mut(&id).ok_or_else(|| not_found(format!("team {id} does not exist")))?;
    team.roles = roles.into_iter().collect();
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn sync_now(State(app): State<App>, body: Bytes) -> SimResult {
    let body = body_object(&body)?;
    let ids = match body.get("mailboxes") {
        None | Some(Value::Null) => None,
        Some(v) => {
            let parsed: Option<Vec<Uuid>> =
                v.as_array().and_then(|a| a.iter().map(|v| v.as_str().and_then(|s| Uuid::parse_str(s).ok())).collect());
            Some(parsed.ok_or_else(|| bad_request("\"mailboxes\" must be an array of mailbox ids"))?)
        }
    };
    let app2 = app.clone();
    // Holds the store for a whole pass over the cycle: off the async workers.
    let n = tokio::task::spawn_blocking(move || sync::run_now(&app2, ids.as_deref())).await.unwrap_or(0);
    Ok(json_answer(StatusCode::OK, &json!({"synchronized": n})))
}
