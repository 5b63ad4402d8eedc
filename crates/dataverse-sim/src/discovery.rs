//! The Global Discovery Service's Web API (`GET /api/discovery/v2.0/Instances`): the
//! environments the caller can reach. The real service lives on its own host per cloud
//! (`https://globaldisco.crm.dynamics.com`); the simulator serves it on its own URL, listing
//! itself first and then `SimConfig::discovery_instances` (other simulators, for example).
//!
//! Property names follow Microsoft's "Discover user organizations" (`Id`, `UniqueName`,
//! `UrlName`, `FriendlyName`, `State`, `Version`, `Url`, `ApiUrl`, `LastUpdated`, `Region`,
//! `TenantId`, `EnvironmentId`, `OrganizationType`, `Purpose`, `TrialExpirationDate`).
//! The real service accepts `$filter`/`$select`; the client sends neither, so the simulator
//! refuses any query option with 400 instead of answering as if it had applied it.

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};

use crate::app::App;
use crate::auth::TokenCheck;
use crate::fixtures;

pub const INSTANCES_PATH: &str = "/api/discovery/v2.0/Instances";

pub fn router() -> Router<App> {
    Router::new().route(INSTANCES_PATH, get(instances))
}

/// This simulator as the service would describe it.
fn own_instance(app: &App) -> Value {
    let base = app.base_url.trim_end_matches('/');
    json!({
        "Id": fixtures::ORGANIZATION_ID,
        "UniqueName": fixtures::BUSINESS_UNIT_NAME,
        "UrlName": fixtures::BUSINESS_UNIT_NAME,
        "FriendlyName": fixtures::ORG_NAME,
        "State": 0,
        "Version": "9.2.25011.00177",
        "Url": base,
        "ApiUrl": base,
        "LastUpdated": crate::store::now_string(),
        "Region": "NA",
        "TenantId": fixtures::TENANT_ID,
        "EnvironmentId": crate::auth::name_guid("environment:own").to_string(),
        "OrganizationType": 0,
        "Purpose": "",
        "TrialExpirationDate": null,
    })
}

async fn instances(State(app): State<App>, uri: Uri, headers: HeaderMap) -> Response {
    let auth = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
    let check = app.lock().tokens.check(auth);
    let user = match check {
        TokenCheck::Valid(user) => user,
        TokenCheck::Expired => return crate::routes::unauthorized(&app, "The access token is expired"),
        TokenCheck::Missing => return crate::routes::unauthorized(&app, "Bearer token is missing"),
        TokenCheck::Invalid => return crate::routes::unauthorized(&app, "The access token is invalid"),
    };
    if is_application(&app, &user) {
        return crate::routes::unauthorized(&app, APP_TOKEN_REFUSED);
    }
    if uri.query().is_some_and(|q| !q.is_empty()) {
        let body = json!({"error": {"code": "0x0", "message": "The simulator's discovery service supports no query options."}});
        return answer(StatusCode::BAD_REQUEST, &body);
    }
    let mut value = vec![own_instance(&app)];
    value.extend(app.config.discovery_instances.iter().cloned());
    let context = format!("{}/api/discovery/v2.0/$metadata#Instances", app.base_url.trim_end_matches('/'));
    answer(StatusCode::OK, &json!({"@odata.context": context, "value": value}))
}

/// The service lists the environments of a signed-in user: Microsoft documents it for user
/// (delegated) sign-ins, and an application's (client credentials) token has no user whose
/// environments it could list. The references do not give the status or text of the refusal;
/// the simulator answers 401 with an `invalid_token` challenge (as Dataverse answers a token it
/// does not accept), and crmsync treats a 401 or a 403 from the discovery service alike.
pub const APP_TOKEN_REFUSED: &str =
    "The Global Discovery Service accepts user (delegated) tokens only; this token was issued to an application";

/// A token of an application user (a `systemuser` row with an `applicationid`, like the one the
/// token endpoint's client credentials flows sign in as).
fn is_application(app: &App, user: &uuid::Uuid) -> bool {
    let store = app.lock();
    store.get("systemuser", user).and_then(|row| row.get("applicationid")).is_some_and(|id| !id.is_null())
}

fn answer(status: StatusCode, body: &Value) -> Response {
    let mut resp = (status, body.to_string()).into_response();
    resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json; odata.metadata=minimal"));
    resp.headers_mut().insert("OData-Version", HeaderValue::from_static("4.0"));
    resp
}
