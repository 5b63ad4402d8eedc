//! Reading arguments from C and writing results back, with the checks in one place.

use super::{Failure, Status};
use serde::de::DeserializeOwned;
use std::ffi::{CString, c_char};

/// A borrowed `(pointer, length)` byte string. NULL is refused (also when `len == 0`).
pub(crate) fn bytes<'a>(ptr: *const u8, len: usize, name: &str) -> Result<&'a [u8], Failure> {
    if ptr.is_null() {
        return Err(Failure::new(Status::NullArgument, format!("{name} is NULL.")));
    }
    // SAFETY: the caller promises `ptr` points at `len` readable bytes for this call.
    Ok(unsafe { std::slice::from_raw_parts(ptr, len) })
}

pub(crate) fn utf8<'a>(ptr: *const u8, len: usize, name: &str) -> Result<&'a str, Failure> {
    std::str::from_utf8(bytes(ptr, len, name)?)
        .map_err(|e| Failure::new(Status::InvalidUtf8, format!("{name} is not valid UTF-8 (byte {}).", e.valid_up_to())))
}

/// A JSON document: syntax errors are `InvalidJson`, a wrong shape is `InvalidArgument`.
pub(crate) fn json<T: DeserializeOwned>(ptr: *const u8, len: usize, name: &str) -> Result<T, Failure> {
    let text = utf8(ptr, len, name)?;
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| Failure::new(Status::InvalidJson, format!("{name} is not valid JSON: {e}.")))?;
    require_version(&value, name)?;
    serde_json::from_value(value).map_err(|e| Failure::new(Status::InvalidArgument, format!("{name} has an unexpected shape: {e}.")))
}

fn require_version(value: &serde_json::Value, name: &str) -> Result<(), Failure> {
    match value.get("version").and_then(serde_json::Value::as_u64) {
        Some(1) => Ok(()),
        other => Err(Failure::new(Status::InvalidArgument, format!("{name} must carry \"version\": 1 (found {other:?})."))),
    }
}

/// A borrowed handle.
pub(crate) fn handle<'a, T>(ptr: *const T, name: &str) -> Result<&'a T, Failure> {
    // SAFETY: non-NULL handles come from our own `Box::into_raw` and are live until freed.
    unsafe { ptr.as_ref() }.ok_or_else(|| Failure::new(Status::NullArgument, format!("{name} is NULL.")))
}

/// Checks an out-parameter and clears it, so the caller never sees a stale pointer.
pub(crate) fn out<T>(ptr: *mut *mut T, name: &str) -> Result<(), Failure> {
    if ptr.is_null() {
        return Err(Failure::new(Status::NullArgument, format!("{name} is NULL.")));
    }
    // SAFETY: checked non-NULL; the caller passes a writable `T **`.
    unsafe { *ptr = std::ptr::null_mut() };
    Ok(())
}

/// Moves a Rust string to the caller, who frees it with `crmsync_string_free`.
pub(crate) fn write_string(out: *mut *mut c_char, text: String) {
    if out.is_null() {
        return;
    }
    // JSON escapes NUL as \u0000, so this only fails on our own bug; then say so.
    let c = CString::new(text).unwrap_or_else(|_| CString::new("{\"version\":1,\"status\":\"Internal\"}").expect("no NUL"));
    // SAFETY: checked non-NULL above.
    unsafe { *out = c.into_raw() };
}

pub(crate) fn write_json(out: *mut *mut c_char, value: &impl serde::Serialize) -> Result<Status, Failure> {
    let text = serde_json::to_string(value).map_err(|e| Failure::from(crate::error::Error::internal(e.to_string())))?;
    write_string(out, text);
    Ok(Status::Ok)
}
