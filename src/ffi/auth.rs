//! Signing in at Connect time, with the user present.

use super::client::CrmsyncClient;
use super::operation::{CrmsyncOperation, start};
use super::{Status, guard};
use crate::auth::{BoxFuture, Prompt};
use crate::client::Client;
use crate::documents::{AuthenticateRequest, AuthenticateResult, DeviceCodeEvent, Event};
use crate::operation::EventSink;
use std::ffi::c_char;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Obtains a token now, for every credential kind, so that Connect fails early and clearly.
/// Request `{"version":1}`. For `device_code` the operation first emits
/// `{"version":1,"type":"device_code","user_code","verification_uri","message","expires_in"}`:
/// show `message` to the user (the library never prints), then keep pulling events until
/// `END_OF_EVENTS`; it ends when the user has signed in, declined, or the code expired.
/// Result `{"version":1,"authenticated":true,"credential":"DeviceCode",…,"expires_on":<epoch seconds>|null}`.
/// Cancel with `crmsync_op_cancel`.
///
/// Documents: request `AuthenticateRequest`; event `Event::DeviceCode` (`DeviceCodeEvent`); result
/// `AuthenticateResult`.
///
/// # Safety
/// `client` is a live handle; `request` points at `request_len` bytes; out-parameters are writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crmsync_client_authenticate_start(
    client: *const CrmsyncClient,
    request: *const u8,
    request_len: usize,
    op_out: *mut *mut CrmsyncOperation,
    error_out: *mut *mut c_char,
) -> Status {
    guard(error_out, || start(client, request, request_len, op_out, authenticate))
}

/// The device code reaches the caller as an event of the authenticate operation.
impl Prompt for EventSink {
    fn show(&self, code: DeviceCodeEvent) -> BoxFuture<'_, crate::error::Result<()>> {
        Box::pin(self.send(Event::DeviceCode(code)))
    }
}

async fn authenticate(client: Arc<Client>, _request: AuthenticateRequest, sink: EventSink) -> crate::error::Result<AuthenticateResult> {
    let token = client.api().tokens().sign_in(&sink).await?;
    let expires_on = token.expires_at.map(|at| {
        let left = at.saturating_duration_since(Instant::now());
        (SystemTime::now() + left).duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO).as_secs()
    });
    Ok(AuthenticateResult { authenticated: true, credential: client.config().credential.kind_name().to_string(), expires_on })
}
