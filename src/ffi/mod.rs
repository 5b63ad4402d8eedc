//! The C ABI and nothing else. Every export goes through `guard`, which catches panics,
//! clears and fills the error out-parameter, and returns a stable status. Handles are opaque;
//! every Rust-allocated string has one free function (`crmsync_string_free`).

mod args;
mod auth;
mod client;
mod operation;

pub use auth::*;
pub use client::*;
pub use operation::*;

use crate::documents::ErrorDocument;
use crate::error::{Error, ErrorKind};
use std::ffi::{CString, c_char};
use std::panic::{AssertUnwindSafe, catch_unwind};

/// Bumped on any incompatible change of the exported functions or documents.
///
/// Every JSON document in and out is a serde type of the library's `documents` module
/// (`src/documents.rs`; the requests and queries in `src/documents/requests.rs`), or of the
/// module named, and each function's comment names them: its request, its events and its
/// result. An event `Event::Item` is the object `{"type":"item",…}`; every document has
/// `"version"` (added in one place, `Versioned`); an error is an `ErrorDocument`.
pub const CRMSYNC_ABI_VERSION: u32 = 1;

/// Result of every call. Values are stable: never renumber, retire instead.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Ok = 0,
    NullArgument = 1,
    InvalidUtf8 = 2,
    InvalidJson = 3,
    InvalidArgument = 4,
    Panic = 5,
    Transport = 6,
    Authentication = 7,
    Service = 8,
    NotFound = 9,
    TimedOut = 10,
    Cancelled = 11,
    StillRunning = 12,
    EndOfEvents = 13,
    Throttled = 14,
    Internal = 15,
    PermissionDenied = 16,
}

impl From<ErrorKind> for Status {
    fn from(kind: ErrorKind) -> Status {
        match kind {
            ErrorKind::InvalidArgument => Status::InvalidArgument,
            ErrorKind::Transport => Status::Transport,
            ErrorKind::Authentication => Status::Authentication,
            ErrorKind::PermissionDenied => Status::PermissionDenied,
            ErrorKind::NotFound => Status::NotFound,
            ErrorKind::Throttled => Status::Throttled,
            ErrorKind::Service => Status::Service,
            ErrorKind::Cancelled => Status::Cancelled,
            ErrorKind::Internal => Status::Internal,
        }
    }
}

/// A failed call: the status returned and the error written to `error_out`.
pub(crate) struct Failure {
    status: Status,
    error: Error,
}

impl Failure {
    pub(crate) fn new(status: Status, message: impl Into<String>) -> Failure {
        Failure { status, error: Error::invalid(message) }
    }
}

impl From<Error> for Failure {
    fn from(error: Error) -> Failure {
        Failure { status: error.kind.into(), error }
    }
}

/// The boundary of every export.
pub(crate) fn guard(error_out: *mut *mut c_char, body: impl FnOnce() -> Result<Status, Failure>) -> Status {
    if !error_out.is_null() {
        // SAFETY: the caller passes either NULL or a writable `char **`.
        unsafe { *error_out = std::ptr::null_mut() };
    }
    let failure = match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(status)) => return status,
        Ok(Err(failure)) => failure,
        Err(payload) => {
            let what = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            Failure {
                status: Status::Panic,
                error: Error::internal(format!("crmsync hit an internal error and stopped this call safely: {what}"))
                    .with_remedy("Please report this with the command you ran; the session can continue."),
            }
        }
    };
    let mut document = ErrorDocument::from(&failure.error);
    document.status = format!("{:?}", failure.status);
    document.status_code = Some(failure.status as i32);
    args::write_string(error_out, crate::documents::to_value(document).to_string());
    failure.status
}

/// Catches panics in functions that return nothing (the free functions).
fn guard_void(body: impl FnOnce()) {
    let _ = catch_unwind(AssertUnwindSafe(body));
}

/// The ABI version of this library; compare it with `CRMSYNC_ABI_VERSION` of your header.
#[unsafe(no_mangle)]
pub extern "C" fn crmsync_abi_version() -> u32 {
    CRMSYNC_ABI_VERSION
}

/// Frees a string returned by any crmsync function. NULL is ignored.
///
/// # Safety
/// `s` must be NULL or a string returned by crmsync, not freed before.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crmsync_string_free(s: *mut c_char) {
    if s.is_null() {
        return;
    }
    // SAFETY: by contract `s` came from `CString::into_raw` in `args::write_string`.
    guard_void(|| drop(unsafe { CString::from_raw(s) }));
}

#[cfg(test)]
mod tests;
