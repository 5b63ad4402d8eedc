//! Client handles and the synchronous steps.

use super::{Failure, Status, args, guard, guard_void};
use crate::client::Client;
use crate::config::ClientConfig;
use crate::documents::{AlertQuery, AlertsResult, ChecksResult, DefaultsRequest, EnvironmentQuery, ProfileQuery, ProfilesResult};
use crate::steps;
use std::ffi::c_char;
use std::sync::Arc;

/// A connection to one organization (opaque). Free with `crmsync_client_free`.
pub struct CrmsyncClient {
    pub(crate) inner: Arc<Client>,
}

/// Creates a client from a JSON configuration (see README, "Client configuration").
/// No network call is made; the first call authenticates.
///
/// Documents: the configuration is a `config::ClientConfig`; a failure writes an `ErrorDocument`.
///
/// # Safety
/// `config` points at `config_len` bytes; `client_out` and `error_out` are writable or NULL.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crmsync_client_new(
    config: *const u8,
    config_len: usize,
    client_out: *mut *mut CrmsyncClient,
    error_out: *mut *mut c_char,
) -> Status {
    guard(error_out, || {
        args::out(client_out, "client_out")?;
        let text = args::utf8(config, config_len, "config")?;
        let value: serde_json::Value = serde_json::from_str(text)
            // serde_json's syntax errors give a position, never the text: safe with secrets.
            .map_err(|e| super::Failure::new(Status::InvalidJson, format!("config is not valid JSON: {e}.")))?;
        let client = Client::new(ClientConfig::from_value(value)?)?;
        let handle = Box::new(CrmsyncClient { inner: Arc::new(client) });
        // SAFETY: `args::out` checked `client_out`.
        unsafe { *client_out = Box::into_raw(handle) };
        Ok(Status::Ok)
    })
}

/// One client over several connections to the same organization (for example several
/// application users, each with its own service-protection limits): reads use the first,
/// bulk writes are spread across all. The given clients stay valid and must still be freed.
///
/// # Safety
/// `clients` points at `count` live client handles; out-parameters are writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crmsync_client_pool_new(
    clients: *const *const CrmsyncClient,
    count: usize,
    client_out: *mut *mut CrmsyncClient,
    error_out: *mut *mut c_char,
) -> Status {
    guard(error_out, || {
        args::out(client_out, "client_out")?;
        if clients.is_null() {
            return Err(Failure::new(Status::NullArgument, "clients is NULL."));
        }
        // SAFETY: the caller promises `count` readable handle pointers.
        let handles = unsafe { std::slice::from_raw_parts(clients, count) };
        let members = handles.iter().map(|h| args::handle(*h, "clients[i]").map(|c| c.inner.clone())).collect::<Result<Vec<_>, _>>()?;
        let pool = Client::pool(&members)?;
        // SAFETY: `args::out` checked `client_out`.
        unsafe { *client_out = Box::into_raw(Box::new(CrmsyncClient { inner: Arc::new(pool) })) };
        Ok(Status::Ok)
    })
}

/// Frees a client. Operations started from it keep working until they are freed.
///
/// # Safety
/// `client` is NULL or a live handle from `crmsync_client_new`, not used afterwards.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crmsync_client_free(client: *mut CrmsyncClient) {
    if !client.is_null() {
        // SAFETY: by contract the handle came from `Box::into_raw` and is freed once.
        guard_void(|| drop(unsafe { Box::from_raw(client) }));
    }
}

/// Runs one synchronous step on the shared runtime and writes its JSON result.
fn run<T, Fut>(client: *const CrmsyncClient, result_out: *mut *mut c_char, step: impl FnOnce(Arc<Client>) -> Fut) -> Result<Status, Failure>
where
    T: serde::Serialize,
    Fut: std::future::Future<Output = crate::error::Result<T>>,
{
    let client = args::handle(client, "client")?.inner.clone();
    args::out(result_out, "result_out")?;
    let value = crate::runtime::get().block_on(step(client))?;
    args::write_json(result_out, &crate::documents::to_value(value))
}

/// Who am I: `{"version":1,"user_id","business_unit_id","organization_id","organization_name","url","default_email_server_profile_id"}`.
///
/// Documents: result `Identity`.
///
/// # Safety
/// `client` is a live handle; out-parameters are writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crmsync_who_am_i(
    client: *const CrmsyncClient,
    result_out: *mut *mut c_char,
    error_out: *mut *mut c_char,
) -> Status {
    guard(error_out, || run(client, result_out, |c| async move { steps::identity::who_am_i(&c).await }))
}

/// Email server profiles: query `{"version":1,"name":"…"}` (name optional, exact) →
/// `{"version":1,"profiles":[…]}`.
///
/// Documents: query `ProfileQuery`; result `ProfilesResult` of
/// `model::profile::EmailServerProfile`.
///
/// # Safety
/// `client` is a live handle; `query` points at `query_len` bytes; out-parameters are writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crmsync_email_server_profiles_get(
    client: *const CrmsyncClient,
    query: *const u8,
    query_len: usize,
    result_out: *mut *mut c_char,
    error_out: *mut *mut c_char,
) -> Status {
    guard(error_out, || {
        let query: ProfileQuery = args::json(query, query_len, "query")?;
        run(client, result_out, |c| async move { steps::profiles::list(&c, &query).await.map(|profiles| ProfilesResult { profiles }) })
    })
}

/// The organization's default email settings: profile, delivery methods, processing channel,
/// approval requirements.
///
/// Documents: result `model::organization::MailboxDefaults`.
///
/// # Safety
/// `client` is a live handle; out-parameters are writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crmsync_mailbox_defaults_get(
    client: *const CrmsyncClient,
    result_out: *mut *mut c_char,
    error_out: *mut *mut c_char,
) -> Status {
    guard(error_out, || run(client, result_out, |c| async move { steps::org_defaults::get(&c).await }))
}

/// Sets the organization's defaults, writing only what differs. Request
/// `{"version":1,"server_profile","incoming_email","outgoing_email","appointments_contacts_tasks","process_email_using","what_if","journal_path"}`
/// (all optional; delivery methods by name: `ServerSideSync`, `Outlook`, `None`, `ForwardMailbox`).
/// Setting `server_profile` also activates an inactive profile. Result
/// `{"version":1,"what_if","changed","changes":[{"target","field","from","to"}],"defaults":{…}}`.
///
/// Documents: request `DefaultsRequest`; result `DefaultsResult`.
///
/// # Safety
/// `client` is a live handle; `request` points at `request_len` bytes; out-parameters are writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crmsync_mailbox_defaults_set(
    client: *const CrmsyncClient,
    request: *const u8,
    request_len: usize,
    result_out: *mut *mut c_char,
    error_out: *mut *mut c_char,
) -> Status {
    guard(error_out, || {
        let request: DefaultsRequest = args::json(request, request_len, "request")?;
        run(client, result_out, |c| async move { steps::org_defaults::run(&c, &request).await })
    })
}

/// Alerts (tracelogs) for mailboxes or a profile, newest first. Query
/// `{"version":1,"mailbox_ids":[…],"server_profile","min_level":"Information|Warning|Error","since":"<ISO 8601>","top"}`
/// → `{"version":1,"alerts":[{"alert_id","level","code","error_type","text","created_on","regarding_id","regarding_type","regarding_name"}]}`.
///
/// Documents: query `AlertQuery`; result `AlertsResult` of `model::alert::Alert`.
///
/// # Safety
/// `client` is a live handle; `query` points at `query_len` bytes; out-parameters are writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crmsync_alerts_get(
    client: *const CrmsyncClient,
    query: *const u8,
    query_len: usize,
    result_out: *mut *mut c_char,
    error_out: *mut *mut c_char,
) -> Status {
    guard(error_out, || {
        let query: AlertQuery = args::json(query, query_len, "query")?;
        run(client, result_out, |c| async move { steps::alerts::list(&c, &query).await.map(|alerts| AlertsResult { alerts }) })
    })
}

/// Readiness checks: `{"version":1,"checks":[{"check","status":"Pass|Warning|Fail","message","remedy"}]}`.
///
/// Documents: result `ChecksResult` (each a `Check`).
///
/// # Safety
/// `client` is a live handle; out-parameters are writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crmsync_readiness_get(
    client: *const CrmsyncClient,
    result_out: *mut *mut c_char,
    error_out: *mut *mut c_char,
) -> Status {
    guard(error_out, || run(client, result_out, |c| async move { steps::readiness::run(&c).await.map(|checks| ChecksResult { checks }) }))
}

/// The environments the signed-in user can reach, from the Global Discovery Service. Query
/// `{"version":1,"discovery_url":"https://globaldisco.crm.dynamics.com"}` (optional: by default
/// the service of the connection's cloud) → `{"version":1,"discovery_url","environments":[{"url",
/// "api_url","unique_name","url_name","friendly_name","state","version","region","organization_type",
/// "environment_type","organization_id","environment_id","tenant_id","last_updated"}]}` (`environment_type`:
/// Production, Sandbox, Developer, Trial or Default, from Microsoft's OrganizationType values; absent for
/// others). The service needs a user (delegated) sign-in: with an application's, `AUTHENTICATION` says so.
///
/// Documents: query `EnvironmentQuery`; result `EnvironmentsResult` (each an
/// `Environment`).
///
/// # Safety
/// `client` is a live handle; `query` points at `query_len` bytes; out-parameters are writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crmsync_environments_get(
    client: *const CrmsyncClient,
    query: *const u8,
    query_len: usize,
    result_out: *mut *mut c_char,
    error_out: *mut *mut c_char,
) -> Status {
    guard(error_out, || {
        let query: EnvironmentQuery = args::json(query, query_len, "query")?;
        run(client, result_out, |c| async move { steps::discovery::list(&c, &query).await })
    })
}
