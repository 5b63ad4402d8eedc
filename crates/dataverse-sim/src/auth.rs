//! Principals, roles, privileges, bearer tokens and the Entra-like token endpoint.
//!
//! Roles are Dataverse security roles with a set of privilege names (`prvReadMailbox`, …). The
//! Microsoft 365 Global/Exchange admin condition for email approval is a property of the
//! *user* (an Entra role, invisible to Dataverse); the "Delegated Mailbox Approver" Dataverse
//! role satisfies the same condition.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::time::{Duration, SystemTime};

use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use uuid::Uuid;

use crate::app::App;
use crate::fixtures;

/// Privilege id of prvApproveRejectEmailAddress (documented, CRM 2015 privileges page).
const APPROVE_PRIVILEGE_ID: &str = "54e8c67e-9cc2-441b-802f-788f93e977d6";
pub const PRV_APPROVE: &str = "prvApproveRejectEmailAddress";

/// Deterministic GUID for a name (FNV-1a, formatted as a v4 GUID).
pub fn name_guid(name: &str) -> Uuid {
    let fnv = |salt: u64| {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ salt;
        for b in name.bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        h
    };
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&fnv(0).to_be_bytes());
    bytes[8..].copy_from_slice(&fnv(0x9e37_79b9_7f4a_7c15).to_be_bytes());
    uuid::Builder::from_random_bytes(bytes).into_uuid()
}

/// Every privilege the simulated organization knows, with its id.
fn privilege_catalog() -> BTreeMap<String, Uuid> {
    let mut out = BTreeMap::new();
    let all = ["Create", "Read", "Write", "Delete", "Append", "AppendTo", "Assign", "Share"];
    let per_entity: &[(&str, &[&str])] = &[
        ("Mailbox", &all),
        ("EmailServerProfile", &all),
        ("Queue", &all),
        ("User", &["Create", "Read", "Write", "Append", "AppendTo", "Assign"]),
        ("Organization", &["Read", "Write"]),
        ("TraceLog", &["Create", "Read", "Delete"]),
    ];
    for (entity, verbs) in per_entity {
        for verb in *verbs {
            let name = format!("prv{verb}{entity}");
            let id = name_guid(&name);
            out.insert(name, id);
        }
    }
    out.insert(PRV_APPROVE.to_string(), Uuid::parse_str(APPROVE_PRIVILEGE_ID).expect("valid"));
    out
}

#[derive(Debug, Clone)]
pub struct Role {
    pub id: Uuid,
    pub name: String,
    pub privileges: BTreeSet<String>,
    /// Holding this role satisfies the M365 admin condition for approvals.
    pub satisfies_approval_condition: bool,
}

#[derive(Debug, Default)]
pub struct Security {
    pub roles: Vec<Role>,
    pub user_roles: HashMap<Uuid, Vec<Uuid>>,
    /// Users with the Microsoft 365 Global or Exchange administrator role.
    pub m365_admins: HashSet<Uuid>,
    pub privileges: BTreeMap<String, Uuid>,
    /// Teams (not a simulated table): owners of queues for the day-two failures.
    pub teams: BTreeMap<Uuid, Team>,
}

/// A team and the names of its security roles.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Team {
    pub name: String,
    pub roles: BTreeSet<String>,
}

impl Security {
    /// Roles of the simulated organization (no user assignments yet).
    pub fn seeded() -> Self {
        let privileges = privilege_catalog();
        let everything: BTreeSet<String> = privileges.keys().cloned().collect();
        let read_only: BTreeSet<String> = privileges.keys().filter(|p| p.starts_with("prvRead")).cloned().collect();
        let role = |name: &str, privileges: BTreeSet<String>, approver: bool| Role {
            id: name_guid(&format!("role:{name}")),
            name: name.to_string(),
            privileges,
            satisfies_approval_condition: approver,
        };
        Security {
            roles: vec![
                role(fixtures::ROLE_SYSTEM_ADMINISTRATOR, everything, false),
                role(fixtures::ROLE_READER, read_only, false),
                role(fixtures::ROLE_DELEGATED_MAILBOX_APPROVER, BTreeSet::from([PRV_APPROVE.to_string()]), true),
            ],
            user_roles: HashMap::new(),
            m365_admins: HashSet::new(),
            privileges,
            teams: BTreeMap::new(),
        }
    }

    /// Create a team with the named roles (unknown names are the caller's to check); its id
    /// is derived from its number, so seeded teams are deterministic.
    pub fn create_team(&mut self, name: &str, roles: &[String]) -> Uuid {
        let id = name_guid(&format!("team:{}:{name}", self.teams.len()));
        self.teams.insert(id, Team { name: name.to_string(), roles: roles.iter().cloned().collect() });
        id
    }

    pub fn role_by_name(&self, name: &str) -> Option<&Role> {
        self.roles.iter().find(|r| r.name == name)
    }

    /// Give `user` the role named `role`. Returns false for an unknown role.
    pub fn assign_role(&mut self, user: Uuid, role: &str) -> bool {
        let Some(id) = self.role_by_name(role).map(|r| r.id) else {
            return false;
        };
        let roles = self.user_roles.entry(user).or_default();
        if !roles.contains(&id) {
            roles.push(id);
        }
        true
    }

    /// Take the role named `role` away from `user`.
    pub fn remove_role(&mut self, user: Uuid, role: &str) {
        if let Some(id) = self.role_by_name(role).map(|r| r.id)
            && let Some(roles) = self.user_roles.get_mut(&user)
        {
            roles.retain(|r| *r != id);
        }
    }

    pub fn roles_of(&self, user: &Uuid) -> Vec<&Role> {
        let ids = self.user_roles.get(user).cloned().unwrap_or_default();
        self.roles.iter().filter(|r| ids.contains(&r.id)).collect()
    }

    pub fn privileges_of(&self, user: &Uuid) -> BTreeSet<String> {
        self.roles_of(user).into_iter().flat_map(|r| r.privileges.iter().cloned()).collect()
    }

    pub fn has_privilege(&self, user: &Uuid, privilege: &str) -> bool {
        self.roles_of(user).iter().any(|r| r.privileges.contains(privilege))
    }

    /// Global/Exchange admin in M365, or the Delegated Mailbox Approver role.
    pub fn may_approve_email(&self, user: &Uuid) -> bool {
        self.m365_admins.contains(user) || self.roles_of(user).iter().any(|r| r.satisfies_approval_condition)
    }

    pub fn privilege_id(&self, name: &str) -> Option<Uuid> {
        self.privileges.get(name).copied()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenInfo {
    pub user: Uuid,
    /// `None`: never expires. `Some(UNIX_EPOCH)`: always expired.
    pub expires_at: Option<SystemTime>,
}

#[derive(Debug, Default)]
pub struct Tokens {
    map: HashMap<String, TokenInfo>,
    /// Device codes, refresh tokens and endpoint counters of the identity provider.
    pub idp: crate::identity_provider::IdpState,
}

/// Outcome of checking a bearer token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenCheck {
    Valid(Uuid),
    Missing,
    Invalid,
    Expired,
}

impl Tokens {
    pub fn insert(&mut self, token: &str, user: Uuid, expires_at: Option<SystemTime>) {
        self.map.insert(token.to_string(), TokenInfo { user, expires_at });
    }

    /// Mint a token for `user` valid for `lifetime`.
    pub fn issue(&mut self, user: Uuid, lifetime: Duration) -> String {
        let token = format!("sim-issued-{}", Uuid::new_v4().simple());
        self.insert(&token, user, Some(SystemTime::now() + lifetime));
        token
    }

    /// Make an existing token expired (for tests of refresh on 401).
    pub fn expire(&mut self, token: &str) -> bool {
        match self.map.get_mut(token) {
            Some(info) => {
                info.expires_at = Some(SystemTime::UNIX_EPOCH);
                true
            }
            None => false,
        }
    }

    pub fn check(&self, authorization: Option<&str>) -> TokenCheck {
        let Some(value) = authorization else {
            return TokenCheck::Missing;
        };
        let mut parts = value.trim().splitn(2, ' ');
        let (Some(scheme), Some(token)) = (parts.next(), parts.next()) else {
            return TokenCheck::Invalid;
        };
        if !scheme.eq_ignore_ascii_case("bearer") {
            return TokenCheck::Invalid;
        }
        match self.map.get(token.trim()) {
            None => TokenCheck::Invalid,
            Some(TokenInfo { expires_at: Some(t), .. }) if *t <= SystemTime::now() => TokenCheck::Expired,
            Some(info) => TokenCheck::Valid(info.user),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Token endpoint: POST /{tenant}/oauth2/v2.0/token (client credentials with a secret or a
// certificate assertion, device code, refresh token; see `identity_provider`)

pub(crate) fn aad_error(status: StatusCode, error: &str, code: u32, description: &str) -> Response {
    let body = json!({
        "error": error,
        "error_description": format!("AADSTS{code}: {description}\r\nTrace ID: {}\r\nCorrelation ID: {}\r\nTimestamp: {}", Uuid::new_v4(), Uuid::new_v4(), crate::store::now_string()),
        "error_codes": [code],
        "timestamp": crate::store::now_string(),
        "trace_id": Uuid::new_v4().to_string(),
        "correlation_id": Uuid::new_v4().to_string(),
    });
    let mut resp = (status, body.to_string()).into_response();
    resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json; charset=utf-8"));
    resp
}

pub async fn token_endpoint(State(app): State<App>, Path(tenant): Path<String>, body: axum::body::Bytes) -> Response {
    let form: HashMap<String, String> = url::form_urlencoded::parse(&body).into_owned().collect();
    let get = |k: &str| form.get(k).map(String::as_str);
    app.lock().tokens.idp.endpoint_calls += 1;
    let delegated = matches!(get("grant_type"), Some(crate::identity_provider::DEVICE_CODE_GRANT | "refresh_token"));
    let tenant_ok =
        tenant.eq_ignore_ascii_case(fixtures::TENANT_ID) || (delegated && matches!(tenant.as_str(), "organizations" | "common"));
    if !tenant_ok {
        return aad_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            90002,
            &format!(
                "Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud."
            ),
        );
    }
    match get("grant_type") {
        Some("client_credentials") => {}
        Some(crate::identity_provider::DEVICE_CODE_GRANT) => return crate::identity_provider::device_code_grant(&app, &form),
        Some("refresh_token") => return crate::identity_provider::refresh_token_grant(&app, &form),
        Some(other) => {
            return aad_error(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                70003,
                &format!("The app requested an unsupported grant type '{other}'."),
            );
        }
        None => {
            return aad_error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                900144,
                "The request body must contain the following parameter: 'grant_type'.",
            );
        }
    }
    let Some(client_id) = get("client_id") else {
        return aad_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            900144,
            "The request body must contain the following parameter: 'client_id'.",
        );
    };
    if !client_id.eq_ignore_ascii_case(fixtures::CLIENT_ID) {
        return aad_error(
            StatusCode::BAD_REQUEST,
            "unauthorized_client",
            700016,
            &format!("Application with identifier '{client_id}' was not found in the directory '{}'.", fixtures::TENANT_ID),
        );
    }
    if get("client_assertion").is_some() {
        return crate::identity_provider::client_assertion_grant(&app, &tenant, &form);
    }
    match get("client_secret") {
        Some(s) if s == fixtures::CLIENT_SECRET => {}
        Some(_) => {
            return aad_error(
                StatusCode::UNAUTHORIZED,
                "invalid_client",
                7000215,
                &format!(
                    "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '{client_id}'."
                ),
            );
        }
        None => {
            return aad_error(
                StatusCode::UNAUTHORIZED,
                "invalid_client",
                7000218,
                "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
            );
        }
    }
    let scope = get("scope").unwrap_or_default();
    let expected = format!("{}/.default", app.base_url);
    let expected_double = format!("{}//.default", app.base_url);
    if scope != expected && scope != expected_double {
        return aad_error(
            StatusCode::BAD_REQUEST,
            "invalid_scope",
            1002012,
            &format!(
                "The provided value for scope {scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI)."
            ),
        );
    }
    let lifetime = app.config.token_lifetime_secs;
    let user = Uuid::parse_str(fixtures::APP_USER_ID).expect("valid");
    let token = app.lock().tokens.issue(user, Duration::from_secs(lifetime));
    let body = json!({"token_type": "Bearer", "expires_in": lifetime, "ext_expires_in": lifetime, "access_token": token});
    let mut resp = (StatusCode::OK, body.to_string()).into_response();
    resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json; charset=utf-8"));
    resp
}

// ---------------------------------------------------------------------------------------------
// Privilege checks

/// Fail with 403 0x80040220 unless `user` holds `privilege` (checked against `table`).
pub fn require(store: &crate::store::Store, user: &Uuid, privilege: &str, table: &crate::schema::Table) -> crate::errors::ApiResult<()> {
    let sec = &store.security;
    if sec.has_privilege(user, privilege) {
        return Ok(());
    }
    let access_mode = store.get("systemuser", user).and_then(|r| r.get("accessmode")).and_then(serde_json::Value::as_i64).unwrap_or(0);
    let id = sec.privilege_id(privilege).map(|u| u.to_string()).unwrap_or_default();
    Err(crate::errors::ApiError::new(
        StatusCode::FORBIDDEN,
        crate::errors::CODE_PRIVILEGE,
        format!(
            "Principal user (Id={user}, type=8, roleCount={}, privilegeCount={}, accessMode={access_mode}), is missing {privilege} privilege (Id={id}) on OTC={} for entity '{}'. Consider adding the privilege to one of the principal's roles.",
            sec.roles_of(user).len(),
            sec.privileges_of(user).len(),
            table.otc,
            table.logical_name
        ),
    ))
}
