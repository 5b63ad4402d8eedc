//! The Entra-like identity provider beyond client secrets: client assertions signed with a
//! certificate, device code sign-in with refresh tokens, and the managed identity endpoints
//! (Azure Automation / App Service `IDENTITY_ENDPOINT`, and the VM metadata service).
//!
//! Every token issued here maps to the application user ([`fixtures::APP_USER_ID`], System
//! Administrator), except device code sign-ins, which map to the person a test approves as.

use std::collections::HashMap;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::extract::{Path, State};
use axum::http::Uri;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rsa::RsaPublicKey;
use rsa::pkcs8::DecodePublicKey;
use rsa::signature::Verifier;
use serde_json::{Value, json};
use sha2::Digest;
use uuid::Uuid;

use crate::app::App;
use crate::auth::aad_error;
use crate::fixtures;

pub const DEVICE_CODE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

/// Identity-provider settings of [`crate::SimConfig`].
#[derive(Debug, Clone)]
pub struct IdentityConfig {
    /// Certificates (DER) registered on the app [`fixtures::CLIENT_ID`]: assertions signed with
    /// their keys are accepted.
    pub trusted_certificates: Vec<Vec<u8>>,
    /// `expires_in` of a device code.
    pub device_code_expires_in_secs: u64,
    /// `interval` the client is told to poll at.
    pub device_code_interval_secs: u64,
}

impl Default for IdentityConfig {
    fn default() -> Self {
        IdentityConfig { trusted_certificates: Vec::new(), device_code_expires_in_secs: 900, device_code_interval_secs: 5 }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Decision {
    Pending,
    Approved(Uuid),
    Declined,
}

#[derive(Debug, Clone)]
struct DeviceCode {
    user_code: String,
    client_id: String,
    expires_at: Instant,
    offline_access: bool,
    last_poll: Option<Instant>,
    decision: Decision,
}

/// Identity-provider state, kept in the store next to the bearer tokens.
#[derive(Debug, Default)]
pub struct IdpState {
    device_codes: HashMap<String, DeviceCode>,
    /// refresh token → (user, client id)
    refresh_tokens: HashMap<String, (Uuid, String)>,
    /// Requests to any token-issuing endpoint.
    pub endpoint_calls: usize,
}

fn json_response(status: StatusCode, body: Value) -> Response {
    let mut resp = (status, body.to_string()).into_response();
    resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json; charset=utf-8"));
    resp
}

fn epoch_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or_default()
}

fn app_user() -> Uuid {
    Uuid::parse_str(fixtures::APP_USER_ID).expect("valid")
}

fn bearer(app: &App, user: Uuid, refresh: Option<(String, bool)>) -> Response {
    let lifetime = app.config.token_lifetime_secs;
    let mut store = app.lock();
    let token = store.tokens.issue(user, Duration::from_secs(lifetime));
    let mut body = json!({"token_type": "Bearer", "expires_in": lifetime, "ext_expires_in": lifetime, "access_token": token});
    if let Some((client_id, true)) = refresh {
        let refresh_token = format!("sim-refresh-{}", Uuid::new_v4().simple());
        store.tokens.idp.refresh_tokens.insert(refresh_token.clone(), (user, client_id));
        body["refresh_token"] = json!(refresh_token);
        body["scope"] = json!(format!("{}/user_impersonation", app.base_url));
    }
    json_response(StatusCode::OK, body)
}

/// Whether `tenant` names the simulated tenant (or a multi-tenant alias for delegated flows).
fn known_tenant(tenant: &str, delegated: bool) -> bool {
    tenant.eq_ignore_ascii_case(fixtures::TENANT_ID) || (delegated && matches!(tenant, "organizations" | "common"))
}

fn tenant_not_found(tenant: &str) -> Response {
    aad_error(
        StatusCode::BAD_REQUEST,
        "invalid_request",
        90002,
        &format!("Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud."),
    )
}

// ---------------------------------------------------------------------------------------------
// Client assertion (certificate credentials)

fn invalid_assertion(code: u32, description: &str) -> Response {
    aad_error(StatusCode::UNAUTHORIZED, "invalid_client", code, description)
}

fn decode_part(part: &str) -> Option<Value> {
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part.trim_end_matches('=')).ok()?).ok()
}

/// Verifies a `client_assertion` for `client_id` sent to `tenant`'s token endpoint, the way
/// Entra does: a trusted certificate (by `x5t#S256`, or `x5t`), a valid signature with its
/// key, audience = the token URL, `iss` = `sub` = client id, and a current time window.
pub fn verify_client_assertion(app: &App, tenant: &str, client_id: &str, assertion: &str) -> Result<(), Box<Response>> {
    let parts: Vec<&str> = assertion.split('.').collect();
    let (Some(header), Some(claims), Some(signature)) = (
        parts.first().and_then(|p| decode_part(p)),
        parts.get(1).and_then(|p| decode_part(p)),
        parts.get(2).and_then(|p| URL_SAFE_NO_PAD.decode(p).ok()),
    ) else {
        return Err(Box::new(invalid_assertion(50027, "JWT token is invalid or malformed.")));
    };
    if parts.len() != 3 {
        return Err(Box::new(invalid_assertion(50027, "JWT token is invalid or malformed.")));
    }
    let sha256 = header.get("x5t#S256").and_then(Value::as_str).map(str::to_string);
    let sha1 = header.get("x5t").and_then(Value::as_str).map(str::to_string);
    let trusted = app.config.identity.trusted_certificates.iter().find(|der| {
        sha256.as_deref().is_some_and(|t| t == URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(der)))
            || (sha256.is_none() && sha1.as_deref().is_some_and(|t| t == URL_SAFE_NO_PAD.encode(sha1_digest(der))))
    });
    let Some(der) = trusted else {
        return Err(Box::new(invalid_assertion(
            700027,
            &format!(
                "Client assertion contains an invalid signature. [Reason - The key was not found., Thumbprint of key used by client: '{}', Please visit the Azure Portal, Graph Explorer or directly use MS Graph to see configured keys for app Id '{client_id}'.]",
                sha256.or(sha1).unwrap_or_default()
            ),
        )));
    };
    let Some(public) = certificate_public_key(der) else {
        return Err(Box::new(invalid_assertion(
            700027,
            "Client assertion contains an invalid signature. [Reason - The key could not be read.]",
        )));
    };
    let signing_input = format!("{}.{}", parts[0], parts[1]);
    let verified = match header.get("alg").and_then(Value::as_str) {
        Some("PS256") => rsa::pss::Signature::try_from(signature.as_slice())
            .ok()
            .is_some_and(|s| rsa::pss::VerifyingKey::<sha2::Sha256>::new(public).verify(signing_input.as_bytes(), &s).is_ok()),
        Some("RS256") => rsa::pkcs1v15::Signature::try_from(signature.as_slice())
            .ok()
            .is_some_and(|s| rsa::pkcs1v15::VerifyingKey::<sha2::Sha256>::new(public).verify(signing_input.as_bytes(), &s).is_ok()),
        other => {
            return Err(Box::new(invalid_assertion(
                5002738,
                &format!("Invalid JWT token. '{}' is not a supported signature algorithm.", other.unwrap_or("none")),
            )));
        }
    };
    if !verified {
        return Err(Box::new(invalid_assertion(
            700027,
            "Client assertion contains an invalid signature. [Reason - The signature is invalid.]",
        )));
    }
    let expected_aud = format!("{}/{tenant}/oauth2/v2.0/token", app.base_url);
    if claims.get("aud").and_then(Value::as_str) != Some(expected_aud.as_str()) {
        return Err(Box::new(invalid_assertion(
            700027,
            "Client assertion failed signature validation. [Reason - The audience of the assertion is not the token endpoint.]",
        )));
    }
    let iss = claims.get("iss").and_then(Value::as_str);
    let sub = claims.get("sub").and_then(Value::as_str);
    if iss != Some(client_id) || sub != Some(client_id) {
        return Err(Box::new(invalid_assertion(700021, "Client assertion application identifier doesn't match 'client_id' parameter.")));
    }
    let now = epoch_now();
    let exp = claims.get("exp").and_then(Value::as_u64).unwrap_or(0);
    let nbf = claims.get("nbf").and_then(Value::as_u64).unwrap_or(0);
    if exp <= now || nbf > now + 300 || claims.get("jti").and_then(Value::as_str).is_none_or(str::is_empty) {
        return Err(Box::new(invalid_assertion(700024, "Client assertion is not within its valid time range.")));
    }
    Ok(())
}

/// `x5t` (SHA-1 thumbprint): what legacy clients send instead of `x5t#S256`.
fn sha1_digest(der: &[u8]) -> Vec<u8> {
    <sha1::Sha1 as Digest>::digest(der).to_vec()
}

fn certificate_public_key(der: &[u8]) -> Option<RsaPublicKey> {
    use x509_cert::der::{Decode, Encode};
    let cert = x509_cert::Certificate::from_der(der).ok()?;
    let spki = cert.tbs_certificate.subject_public_key_info.to_der().ok()?;
    RsaPublicKey::from_public_key_der(&spki).ok()
}

/// `grant_type=client_credentials` with `client_assertion` (the tenant and client id are checked).
pub fn client_assertion_grant(app: &App, tenant: &str, form: &HashMap<String, String>) -> Response {
    let client_id = form.get("client_id").map(String::as_str).unwrap_or_default();
    if form.get("client_assertion_type").map(String::as_str) != Some("urn:ietf:params:oauth:client-assertion-type:jwt-bearer") {
        return aad_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            50027,
            "The request body must contain client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer.",
        );
    }
    if let Err(resp) = verify_client_assertion(app, tenant, client_id, form.get("client_assertion").map(String::as_str).unwrap_or_default())
    {
        return *resp;
    }
    if let Some(resp) = check_app_scope(app, form) {
        return resp;
    }
    bearer(app, app_user(), None)
}

/// Client credential flows need `<resource>/.default`.
pub fn check_app_scope(app: &App, form: &HashMap<String, String>) -> Option<Response> {
    let scope = form.get("scope").map(String::as_str).unwrap_or_default();
    let expected = format!("{}/.default", app.base_url);
    let expected_double = format!("{}//.default", app.base_url);
    (scope != expected && scope != expected_double).then(|| {
        aad_error(
            StatusCode::BAD_REQUEST,
            "invalid_scope",
            1002012,
            &format!(
                "The provided value for scope {scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI)."
            ),
        )
    })
}

// ---------------------------------------------------------------------------------------------
// Device code

fn public_client(client_id: &str) -> bool {
    client_id.eq_ignore_ascii_case(fixtures::PUBLIC_CLIENT_ID) || client_id.eq_ignore_ascii_case(fixtures::CLIENT_ID)
}

/// `POST /{tenant}/oauth2/v2.0/devicecode` with `client_id` and `scope`.
pub async fn devicecode_endpoint(State(app): State<App>, Path(tenant): Path<String>, body: axum::body::Bytes) -> Response {
    let form: HashMap<String, String> = url::form_urlencoded::parse(&body).into_owned().collect();
    app.lock().tokens.idp.endpoint_calls += 1;
    if !known_tenant(&tenant, true) {
        return tenant_not_found(&tenant);
    }
    let client_id = form.get("client_id").cloned().unwrap_or_default();
    if !public_client(&client_id) {
        return aad_error(
            StatusCode::BAD_REQUEST,
            "unauthorized_client",
            700016,
            &format!("Application with identifier '{client_id}' was not found in the directory '{}'.", fixtures::TENANT_ID),
        );
    }
    let scope = form.get("scope").cloned().unwrap_or_default();
    let scopes: Vec<&str> = scope.split_whitespace().collect();
    let resource_ok = scopes.iter().any(|s| {
        *s == format!("{}/.default", app.base_url)
            || *s == format!("{}/user_impersonation", app.base_url)
            || *s == format!("{}//.default", app.base_url)
    });
    if !resource_ok {
        return aad_error(
            StatusCode::BAD_REQUEST,
            "invalid_scope",
            70011,
            &format!("The provided value for the input parameter 'scope' is not valid. The scope {scope} is not valid."),
        );
    }
    let cfg = &app.config.identity;
    let device_code = format!("sim-device-{}", Uuid::new_v4().simple());
    let raw = Uuid::new_v4().simple().to_string().to_ascii_uppercase();
    let user_code: String = raw.chars().filter(|c| c.is_ascii_alphabetic() || c.is_ascii_digit()).take(9).collect();
    let verification_uri = format!("{}/devicelogin", app.base_url);
    app.lock().tokens.idp.device_codes.insert(
        device_code.clone(),
        DeviceCode {
            user_code: user_code.clone(),
            client_id,
            expires_at: Instant::now() + Duration::from_secs(cfg.device_code_expires_in_secs),
            offline_access: scopes.contains(&"offline_access"),
            last_poll: None,
            decision: Decision::Pending,
        },
    );
    json_response(
        StatusCode::OK,
        json!({
            "user_code": user_code,
            "device_code": device_code,
            "verification_uri": verification_uri,
            "expires_in": cfg.device_code_expires_in_secs,
            "interval": cfg.device_code_interval_secs,
            "message": format!("To sign in, use a web browser to open the page {verification_uri} and enter the code {user_code} to authenticate."),
        }),
    )
}

fn device_error(error: &str, code: u32, description: &str) -> Response {
    aad_error(StatusCode::BAD_REQUEST, error, code, description)
}

/// `grant_type=urn:ietf:params:oauth:grant-type:device_code`.
pub fn device_code_grant(app: &App, form: &HashMap<String, String>) -> Response {
    let device_code = form.get("device_code").cloned().unwrap_or_default();
    let client_id = form.get("client_id").cloned().unwrap_or_default();
    let interval = Duration::from_secs(app.config.identity.device_code_interval_secs);
    let mut store = app.lock();
    let Some(entry) = store.tokens.idp.device_codes.get_mut(&device_code) else {
        return device_error("bad_verification_code", 70000, "The provided value for the input parameter 'device_code' is not valid.");
    };
    if !entry.client_id.eq_ignore_ascii_case(&client_id) {
        return device_error("invalid_grant", 70000, "The device code was issued to another application.");
    }
    if Instant::now() >= entry.expires_at {
        store.tokens.idp.device_codes.remove(&device_code);
        return device_error("expired_token", 70019, "Verification code expired.");
    }
    let too_fast = entry.last_poll.is_some_and(|t| t.elapsed() < interval / 2);
    entry.last_poll = Some(Instant::now());
    match entry.decision {
        Decision::Declined => {
            store.tokens.idp.device_codes.remove(&device_code);
            device_error("authorization_declined", 70000, "The user declined the sign-in request.")
        }
        Decision::Pending if too_fast => device_error("slow_down", 70016, "Polling too fast; slow down."),
        Decision::Pending => {
            device_error("authorization_pending", 70016, "OAuth 2.0 device flow error. Authorization is pending. Continue polling.")
        }
        Decision::Approved(user) => {
            let entry = store.tokens.idp.device_codes.remove(&device_code).expect("present");
            drop(store);
            bearer(app, user, Some((entry.client_id, entry.offline_access)))
        }
    }
}

/// `grant_type=refresh_token` (the refresh token is rotated).
pub fn refresh_token_grant(app: &App, form: &HashMap<String, String>) -> Response {
    let refresh = form.get("refresh_token").cloned().unwrap_or_default();
    let client_id = form.get("client_id").cloned().unwrap_or_default();
    let found = app.lock().tokens.idp.refresh_tokens.remove(&refresh);
    match found {
        Some((user, issued_to)) if issued_to.eq_ignore_ascii_case(&client_id) => bearer(app, user, Some((issued_to, true))),
        _ => aad_error(StatusCode::BAD_REQUEST, "invalid_grant", 700082, "The refresh token has expired due to inactivity or was revoked."),
    }
}

// ---------------------------------------------------------------------------------------------
// Managed identity

fn query_map(uri: &Uri) -> HashMap<String, String> {
    url::form_urlencoded::parse(uri.query().unwrap_or_default().as_bytes()).into_owned().collect()
}

fn mi_resource_ok(app: &App, resource: Option<&String>) -> bool {
    resource.is_some_and(|r| r.trim_end_matches('/') == app.base_url)
}

fn mi_client_ok(query: &HashMap<String, String>) -> bool {
    query.get("client_id").is_none_or(|id| id.eq_ignore_ascii_case(fixtures::MANAGED_IDENTITY_CLIENT_ID))
}

fn mi_token(app: &App, imds: bool) -> Response {
    let lifetime = app.config.token_lifetime_secs;
    let token = app.lock().tokens.issue(app_user(), Duration::from_secs(lifetime));
    let expires_on = epoch_now() + lifetime;
    let mut body = json!({
        "access_token": token,
        "expires_on": expires_on.to_string(),
        "resource": app.base_url,
        "token_type": "Bearer",
        "client_id": fixtures::MANAGED_IDENTITY_CLIENT_ID,
    });
    if imds {
        body["expires_in"] = json!(lifetime.to_string());
        body["ext_expires_in"] = json!(lifetime.to_string());
        body["not_before"] = json!(epoch_now().to_string());
    } else {
        body["expires_on"] = json!(expires_on);
    }
    json_response(StatusCode::OK, body)
}

/// `GET /msi/token?resource=…&api-version=2019-08-01[&client_id=…]` with `X-IDENTITY-HEADER`
/// (Azure Automation / App Service `IDENTITY_ENDPOINT`).
pub async fn msi_endpoint(State(app): State<App>, uri: Uri, headers: HeaderMap) -> Response {
    let query = query_map(&uri);
    app.lock().tokens.idp.endpoint_calls += 1;
    let secret = headers.get("X-IDENTITY-HEADER").and_then(|v| v.to_str().ok());
    if secret != Some(fixtures::MANAGED_IDENTITY_HEADER) {
        return json_response(
            StatusCode::UNAUTHORIZED,
            json!({"statusCode": 401, "message": "Unauthorized: the X-IDENTITY-HEADER is missing or wrong."}),
        );
    }
    if query.get("api-version").map(String::as_str) != Some("2019-08-01") {
        return json_response(StatusCode::BAD_REQUEST, json!({"statusCode": 400, "message": "Unsupported or missing api-version."}));
    }
    if !mi_client_ok(&query) {
        return json_response(
            StatusCode::BAD_REQUEST,
            json!({"statusCode": 400, "message": "No managed identity with the requested client_id is assigned to this resource."}),
        );
    }
    if !mi_resource_ok(&app, query.get("resource")) {
        return json_response(
            StatusCode::BAD_REQUEST,
            json!({"error": "invalid_resource", "error_description": "AADSTS500011: The resource principal was not found in the tenant."}),
        );
    }
    mi_token(&app, false)
}

/// `GET /metadata/identity/oauth2/token?api-version=2018-02-01&resource=…` with `Metadata: true` (IMDS).
pub async fn imds_endpoint(State(app): State<App>, uri: Uri, headers: HeaderMap) -> Response {
    let query = query_map(&uri);
    app.lock().tokens.idp.endpoint_calls += 1;
    if headers.get("Metadata").and_then(|v| v.to_str().ok()).is_none_or(|v| !v.eq_ignore_ascii_case("true")) {
        return json_response(
            StatusCode::BAD_REQUEST,
            json!({"error": "invalid_request", "error_description": "Required metadata header not specified"}),
        );
    }
    if !query.contains_key("api-version") {
        return json_response(
            StatusCode::BAD_REQUEST,
            json!({"error": "invalid_request", "error_description": "Required query variable 'api-version' is missing"}),
        );
    }
    if !mi_client_ok(&query) {
        return json_response(StatusCode::BAD_REQUEST, json!({"error": "invalid_request", "error_description": "Identity not found"}));
    }
    if !mi_resource_ok(&app, query.get("resource")) {
        return json_response(
            StatusCode::BAD_REQUEST,
            json!({"error": "invalid_resource", "error_description": "AADSTS500011: The resource principal was not found in the tenant."}),
        );
    }
    mi_token(&app, true)
}

// ---------------------------------------------------------------------------------------------
// Test hooks

impl crate::SimState {
    /// User codes of the device code sign-ins waiting for a decision.
    pub fn pending_device_codes(&self) -> Vec<String> {
        let store = self.app.lock();
        store.tokens.idp.device_codes.values().filter(|d| d.decision == Decision::Pending).map(|d| d.user_code.clone()).collect()
    }

    /// The person `user` completes the sign-in for `user_code` in the browser.
    pub fn approve_device_code(&self, user_code: &str, user: Uuid) -> bool {
        self.decide(user_code, Decision::Approved(user))
    }

    /// The person declines the sign-in for `user_code`.
    pub fn decline_device_code(&self, user_code: &str) -> bool {
        self.decide(user_code, Decision::Declined)
    }

    fn decide(&self, user_code: &str, decision: Decision) -> bool {
        decide(&self.app, user_code, decision)
    }

    /// Revokes every refresh token (the next renewal needs a new sign-in).
    pub fn revoke_refresh_tokens(&self) {
        self.app.lock().tokens.idp.refresh_tokens.clear();
    }

    /// Requests received by the token, device code and managed identity endpoints.
    pub fn token_endpoint_calls(&self) -> usize {
        self.app.lock().tokens.idp.endpoint_calls
    }
}

fn decide(app: &App, user_code: &str, decision: Decision) -> bool {
    let mut store = app.lock();
    match store.tokens.idp.device_codes.values_mut().find(|d| d.user_code == user_code && d.decision == Decision::Pending) {
        Some(entry) => {
            entry.decision = decision;
            true
        }
        None => false,
    }
}

/// What the person does on the sign-in page, for scripts that cannot reach the test handle
/// (`POST /_sim/devicelogin`): approve as the administrator user, or decline.
pub(crate) fn decide_in_browser(app: &App, user_code: &str, approve: bool) -> bool {
    let decision = if approve { Decision::Approved(fixtures::ADMIN_USER_ID.parse().expect("fixture id")) } else { Decision::Declined };
    decide(app, user_code, decision)
}
