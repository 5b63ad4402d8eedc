//! OData error responses: `{"error":{"code":"0x…","message":"…"}}`.
//!
//! Codes used (real ones where the reference documents them):
//! - `0x80060888`: OData URI/payload errors (unknown property, syntax error, unsupported
//!   query option). The real service reports all URI parse problems with this code.
//! - `0x80040217`: ObjectDoesNotExist ("<entity> With Id = <guid> Does Not Exist").
//! - `0x80040220`: PrivilegeDenied ("Principal user … is missing prv… privilege").
//! - `0x80060882`: ConcurrencyVersionMismatch (412).
//! - `0x80040237`: DuplicateRecord (412 on `If-None-Match: *`).
//! - `0x8004431A`: PicklistValueOutOfRange ("A validation error occurred. The value 9 of 'x'
//!   on record of type 'y' is outside the valid range. Accepted Values: …", as public reports
//!   quote the platform).
//! - `0x80040800`: SdkEntityDoesNotSupportMessage ("The 'Delete' method does not support
//!   entities of type 'organization'. MessageProcessorCache returned MessageProcessor.Empty.").
//! - `0x80040203`: InvalidArgument. Chosen (not verified) for validation errors the reference
//!   does not pin down: read-only column, state/status mismatch.
//! - approval denial: configurable, see [`crate::SimConfig::approval_denied_code`].

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

pub const CODE_ODATA: &str = "0x80060888";
pub const CODE_NOT_FOUND: &str = "0x80040217";
pub const CODE_PRIVILEGE: &str = "0x80040220";
pub const CODE_VERSION_MISMATCH: &str = "0x80060882";
pub const CODE_DUPLICATE: &str = "0x80040237";
pub const CODE_INVALID_ARGUMENT: &str = "0x80040203";
pub const CODE_PICKLIST_OUT_OF_RANGE: &str = "0x8004431A";
pub const CODE_MESSAGE_NOT_SUPPORTED: &str = "0x80040800";

#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: String,
    pub message: String,
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        ApiError { status, code: code.to_string(), message: message.into() }
    }

    /// 400 with the OData parse code.
    pub fn odata(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, CODE_ODATA, message)
    }

    /// 400 InvalidArgument.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, CODE_INVALID_ARGUMENT, message)
    }

    /// `Could not find a property named 'x' on type 'Microsoft.Dynamics.CRM.mailbox'.`
    pub fn unknown_property(name: &str, type_name: &str) -> Self {
        Self::odata(format!("Could not find a property named '{name}' on type '{type_name}'."))
    }

    /// 404 `mailbox With Id = <guid> Does Not Exist`.
    pub fn not_found(logical_name: &str, id: &uuid::Uuid) -> Self {
        Self::new(StatusCode::NOT_FOUND, CODE_NOT_FOUND, format!("{logical_name} With Id = {id} Does Not Exist"))
    }

    /// 404 for an unknown path segment.
    pub fn no_resource(segment: &str) -> Self {
        Self::new(StatusCode::NOT_FOUND, CODE_ODATA, format!("Resource not found for the segment '{segment}'."))
    }

    pub fn method_not_allowed(message: impl Into<String>) -> Self {
        Self::new(StatusCode::METHOD_NOT_ALLOWED, CODE_INVALID_ARGUMENT, message)
    }

    /// 400 for a message the platform does not support on a table (Create of an
    /// organization, Delete of a user, Update of an alert).
    pub fn message_not_supported(message: &str, logical_name: &str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            CODE_MESSAGE_NOT_SUPPORTED,
            format!(
                "The '{message}' method does not support entities of type '{logical_name}'. MessageProcessorCache returned MessageProcessor.Empty."
            ),
        )
    }

    /// 400 for a feature the real service has but the simulator does not model (never 501:
    /// clients treat 5xx as transient and would retry).
    pub fn not_modelled(what: &str) -> Self {
        Self::odata(format!("The Dataverse simulator does not model {what}."))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({"error": {"code": self.code, "message": self.message}}).to_string();
        let mut resp = (self.status, body).into_response();
        let h = resp.headers_mut();
        h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json; odata.metadata=minimal"));
        h.insert("OData-Version", HeaderValue::from_static("4.0"));
        resp
    }
}
