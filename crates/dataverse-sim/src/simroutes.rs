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
}

fn json_answer(status: StatusCode, body: &Value) -> Response {
    let mut resp = (status, body.to_string()).into_response();
    resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    resp
}

fn bad_request(message: impl Into<String>) -> Response {
    json_answer(StatusCode::BAD_REQUEST, &json!({"error": {"code": "SimBadRequest", "message": message.into()}}))
}

fn not_found(message: impl Into<String>) -> Response {
    json_answer(StatusCode::NOT_FOUND, &json!({"error": {"code": "SimNotFound", "message": message.into()}}))
}

fn parse_id(raw: &str) -> Result<Uuid, Response> {
    Uuid::parse_str(raw.trim()).map_err(|_| bad_request(format!("'{raw}' is not a GUID")))
}

/// The body as a JSON object (an empty body is `{}`).
fn body_object(body: &Bytes) -> Result<Row, Response> {
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

async fn inject_failure(State(app): State<App>, Path(id): Path<String>, body: Bytes) -> Response {
    let id = match parse_id(&id) {
        Ok(id) => id,
        Err(r) => return r,
    };
    let body = match body_object(&body) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let Some(kind) = body.get("kind").and_then(Value::as_str) else {
        return bad_request("the body needs \"kind\"");
    };
    let Some(kind) = FailureKind::parse(kind) else {
        let names: Vec<&str> = FailureKind::ALL.iter().map(|k| k.name()).collect();
        return bad_request(format!("unknown failure kind '{kind}' (one of {})", names.join(", ")));
    };
    let owner = match body.get("owner") {
        None | Some(Value::Null) => None,
        Some(v) => match v.as_str().and_then(|s| Uuid::parse_str(s).ok()) {
            Some(u) => Some(u),
            None => return bad_request("\"owner\" must be a systemuserid"),
        },
    };
    let access_mode = match body.get("accessmode") {
        None | Some(Value::Null) => None,
        Some(v) => match v.as_i64() {
            Some(n) => Some(n),
            None => return bad_request("\"accessmode\" must be an integer"),
        },
    };
    let sync_now = match body.get("sync") {
        None | Some(Value::Null) => true,
        Some(Value::Bool(b)) => *b,
        Some(_) => return bad_request("\"sync\" must be true or false"),
    };
    if !app.lock().contains("mailbox", &id) {
        return not_found(format!("mailbox {id} does not exist"));
    }
    match inject(&app, id, kind, &InjectOptions { owner, access_mode }, sync_now) {
        Ok(doc) => json_answer(StatusCode::OK, &doc),
        Err(e) => bad_request(e),
    }
}

async fn clear_failure(State(app): State<App>, Path(id): Path<String>) -> Response {
    let id = match parse_id(&id) {
        Ok(id) => id,
        Err(r) => return r,
    };
    let _shared = app.shared();
    if health::clear(&mut app.lock(), id) { StatusCode::NO_CONTENT.into_response() } else { not_found(format!("mailbox {id} does not exist")) }
}

async fn set_row_route(State(app): State<App>, Path((set, id)): Path<(String, String)>, body: Bytes) -> Response {
    let Some(table) = Schema::get().by_entity_set(&set) else {
        return not_found(format!("unknown entity set '{set}'"));
    };
    let id = match parse_id(&id) {
        Ok(id) => id,
        Err(r) => return r,
    };
    let values = match body_object(&body) {
        Ok(b) => b,
        Err(r) => return r,
    };
    if let Some(unknown) = values.keys().find(|k| table.column(k).is_none()) {
        return bad_request(format!("'{unknown}' is not a column of {}", table.logical_name));
    }
    if values.contains_key(&table.primary_id) {
        return bad_request(format!("'{}' is the row's key and cannot be set", table.primary_id));
    }
    if set_row(&app, &table.logical_name, id, values) {
        StatusCode::NO_CONTENT.into_response()
    } else {
        not_found(format!("{} with id {id} does not exist", table.logical_name))
    }
}

/// Role names from `{"roles": [...]}`, each a known role.
fn roles_of(app: &App, body: &Row) -> Result<Vec<String>, Response> {
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

async fn create_team(State(app): State<App>, body: Bytes) -> Response {
    let body = match body_object(&body) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let Some(name) = body.get("name").and_then(Value::as_str).map(str::trim).filter(|n| !n.is_empty()) else {
        return bad_request("the body needs a non-empty \"name\"");
    };
    let roles = match roles_of(&app, &body) {
        Ok(r) => r,
        Err(r) => return r,
    };
    let id = app.lock().security.create_team(name, &roles);
    json_answer(StatusCode::CREATED, &json!({"teamid": id.to_string()}))
}

async fn set_team_roles(State(app): State<App>, Path(id): Path<String>, body: Bytes) -> Response {
    let id = match parse_id(&id) {
        Ok(id) => id,
        Err(r) => return r,
    };
    let body = match body_object(&body) {
        Ok(b) => b,
        Err(r) => return r,
    };
    if !body.contains_key("roles") {
        return bad_request("the body needs \"roles\"");
    }
    let roles = match roles_of(&app, &body) {
        Ok(r) => r,
        Err(r) => return r,
    };
    match app.lock().security.teams.get_mut(&id) {
        Some(team) => {
            team.roles = roles.into_iter().collect();
            StatusCode::NO_CONTENT.into_response()
        }
        None => not_found(format!("team {id} does not exist")),
    }
}

async fn sync_now(State(app): State<App>, body: Bytes) -> Response {
    let body = match body_object(&body) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let ids = match body.get("mailboxes") {
        None | Some(Value::Null) => None,
        Some(Value::Array(a)) => {
            let parsed: Option<Vec<Uuid>> = a.iter().map(|v| v.as_str().and_then(|s| Uuid::parse_str(s).ok())).collect();
            match parsed {
                Some(ids) => Some(ids),
                None => return bad_request("\"mailboxes\" must be an array of mailbox ids"),
            }
        }
        Some(_) => return bad_request("\"mailboxes\" must be an array of mailbox ids"),
    };
    let app2 = app.clone();
    // Holds the store for a whole pass over the cycle: off the async workers.
    let n = tokio::task::spawn_blocking(move || sync::run_now(&app2, ids.as_deref())).await.unwrap_or(0);
    json_answer(StatusCode::OK, &json!({"synchronized": n}))
}
