//! One error type for the whole library. It carries what an administrator needs to act:
//! the kind (the C boundary maps each kind to a stable status), the service's HTTP status and hex code, the
//! message, and a remedy. It never carries a secret: messages are built from our own text
//! and from service error bodies, never from request headers or bodies.

use serde::Serialize;
use std::time::Duration;

/// What went wrong, coarse enough to be stable across versions. Each kind is named like the
/// C status the boundary returns for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum ErrorKind {
    InvalidArgument,
    Transport,
    Authentication,
    PermissionDenied,
    NotFound,
    Throttled,
    Service,
    Cancelled,
    Internal,
}

#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct Error {
    pub kind: ErrorKind,
    pub message: String,
    pub http_status: Option<u16>,
    /// Dataverse hex code such as `0x80040220`, when the service gave one.
    pub code: Option<String>,
    pub remedy: Option<String>,
    pub retry_after: Option<Duration>,
}

pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error { kind, message: message.into(), http_status: None, code: None, remedy: None, retry_after: None }
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::InvalidArgument, message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::NotFound, message)
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Internal, message)
    }

    pub fn cancelled() -> Self {
        Self::new(ErrorKind::Cancelled, "The operation was cancelled.")
            .with_remedy("Run the command again to finish the remaining items; completed work is kept.")
    }

    pub fn with_remedy(mut self, remedy: impl Into<String>) -> Self {
        self.remedy = Some(remedy.into());
        self
    }

    /// The error as a document: `status` names the kind. It is the error of a failed item
    /// inside events and results; the C boundary adds the numeric `status_code` to the error
    /// of a failed call.
    pub fn document(&self) -> serde_json::Value {
        serde_json::json!({
            "version": 1,
            "status": self.kind,
            "http_status": self.http_status,
            "code": self.code,
            "message": self.message,
            "remedy": self.remedy,
            "retry_after_secs": self.retry_after.map(|d| d.as_secs_f64()),
        })
    }
}
