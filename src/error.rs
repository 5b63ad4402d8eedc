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
    /// Neutral advice: what to do, in terms of the library and the service (no front end's
    /// commands: a C caller reads it too).
    pub remedy: Option<String>,
    /// A stable name for the remedy (`sign_in_again`, `list_profiles`, …), so that a front end
    /// can add advice in its own terms: the PowerShell module maps it to its cmdlets.
    pub hint: Option<&'static str>,
    pub retry_after: Option<Duration>,
}

pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error { kind, message: message.into(), http_status: None, code: None, remedy: None, hint: None, retry_after: None }
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

    pub fn with_hint(mut self, hint: &'static str) -> Self {
        self.hint = Some(hint);
        self
    }
}
