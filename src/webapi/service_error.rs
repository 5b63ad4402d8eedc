//! Turning what the service (or the network) said into an `Error` with a remedy.

use crate::error::{Error, ErrorKind};
use reqwest::StatusCode;
use reqwest::header::{HeaderMap, WWW_AUTHENTICATE};
use serde::Deserialize;
use url::Url;

#[derive(Deserialize)]
struct Body {
    error: ODataError,
}

#[derive(Deserialize)]
struct ODataError {
    #[serde(default)]
    code: String,
    #[serde(default)]
    message: String,
}

pub fn from_response(status: StatusCode, headers: &HeaderMap, body: &[u8]) -> Error {
    let (code, message) = match serde_json::from_slice::<Body>(body) {
        Ok(b) => (Some(b.error.code).filter(|c| !c.is_empty()), b.error.message),
        Err(_) => (None, format!("The service answered HTTP {status} without an OData error body.")),
    };
    let kind = match status.as_u16() {
        403 => ErrorKind::PermissionDenied,
        404 => ErrorKind::NotFound,
        429 => ErrorKind::Throttled,
        _ => ErrorKind::Service,
    };
    let mut error = Error::new(kind, message);
    error.http_status = Some(status.as_u16());
    error.retry_after = super::retry::retry_after(headers);
    let (remedy, hint) = remedy(kind, code.as_deref(), &error.message);
    error.remedy = Some(remedy.to_string());
    error.hint = hint;
    error.code = code;
    error
}

/// The platform's text when a caller without the Microsoft 365 condition approves email (S-CRDB).
pub const APPROVAL_ROLE_MESSAGE: &str = "can only be approved by a user with the Global Administrator or Exchange Administrator role";

/// The remedy for a service error, and its hint when a front end may add its own advice.
fn remedy(kind: ErrorKind, code: Option<&str>, message: &str) -> (&'static str, Option<&'static str>) {
    if message.contains(APPROVAL_ROLE_MESSAGE) {
        return (
            "Approve as a user who holds the Global Administrator or Exchange Administrator role in Microsoft 365, or give the caller the Delegated Mailbox Approver security role in Dynamics 365 (an application user cannot hold the Microsoft 365 roles, so it needs Delegated Mailbox Approver).",
            None,
        );
    }
    let remedy = match (kind, code) {
        (_, Some("0x80040220")) => {
            "Ask a System Administrator to give this user or application user a security role that holds the privilege named in the message."
        }
        (ErrorKind::PermissionDenied, _) => {
            return (
                "The signed-in user lacks a privilege or role this step needs; the readiness checks (crmsync_readiness_get) show which.",
                Some("check_privileges"),
            );
        }
        (ErrorKind::NotFound, _) => "The row does not exist (it may have been deleted); list the rows again and retry.",
        (ErrorKind::Throttled, _) => {
            "Dataverse service-protection limits were exceeded and the retries ran out; wait for the Retry-After time and run the command again (completed work is kept)."
        }
        (_, Some("0x80060882")) => "The row changed since it was read; read it again and retry.",
        _ => "See the Dataverse error code and message; if it persists, retry later or contact Microsoft support with the code.",
    };
    (remedy, None)
}

/// The `error_description` of a 401's `WWW-Authenticate` challenge (never contains the token).
pub fn challenge_description(headers: &HeaderMap) -> Option<String> {
    let text = headers.get(WWW_AUTHENTICATE)?.to_str().ok()?;
    let start = text.find("error_description=\"")? + "error_description=\"".len();
    let end = text[start..].find('"')? + start;
    Some(text[start..end].to_string())
}

pub fn unauthorized(challenge: Option<String>, after_renewal: bool) -> Error {
    let said = challenge.map(|c| format!(" The service said: {c}.")).unwrap_or_default();
    let mut error = if after_renewal {
        Error::new(ErrorKind::Authentication, format!("The service rejected a freshly issued access token.{said}"))
            .with_remedy("Check that the app registration is an application user in this environment (Power Platform admin center > Environments > Settings > Application users) with a security role, and that the URL is the organization's.")
    } else {
        Error::new(ErrorKind::Authentication, format!("The service rejected the access token: it has expired or is not valid for this organization.{said}"))
            .with_remedy("Get a new token and connect again, or connect with a renewable credential (client secret, certificate, managed identity or device code) so that tokens renew automatically.")
            .with_hint("connect_again")
    };
    error.http_status = Some(401);
    error
}

pub fn transport(url: &Url, error: &reqwest::Error) -> Error {
    let host = url.host_str().unwrap_or("?");
    if let Some(refusal) = crate::transport::refusal(error) {
        let (remedy, hint) = if refusal.contains("proxy") {
            (
                "Give the proxy's user name and password in the client configuration (transport.proxy_username/proxy_password).",
                "proxy_credential",
            )
        } else {
            (
                "Trust the certificate authority that issued the server's certificate: add it to the system store (on Linux the CA bundle, or SSL_CERT_FILE), or give its PEM file in the client configuration (transport.ca_file). Check that the URL names the host the certificate is for. Certificate checks cannot be turned off.",
                "certificate_authority",
            )
        };
        return Error::new(ErrorKind::Transport, format!("The request to {host} failed: {refusal}.")).with_remedy(remedy).with_hint(hint);
    }
    Error::new(ErrorKind::Transport, format!("The request to {host} failed: {}", crate::transport::describe_error(error)))
        .with_remedy("Check the organization URL, the network and proxy settings; the request was retried before giving up.")
}

/// A proxy in front of a plain-http URL answers 407 itself (for https it refuses the tunnel).
pub fn proxy_authentication_required() -> Error {
    let mut error = Error::new(ErrorKind::Transport, "The proxy demands authentication (HTTP 407 Proxy Authentication Required).")
        .with_remedy("Give the proxy's user name and password in the client configuration (transport.proxy_username/proxy_password).")
        .with_hint("proxy_credential");
    error.http_status = Some(407);
    error
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_privilege_error_keeps_code_and_message_and_gets_a_remedy() {
        let body = br#"{"error":{"code":"0x80040220","message":"Principal user (Id=1) is missing prvWriteMailbox privilege"}}"#;
        let e = from_response(StatusCode::FORBIDDEN, &HeaderMap::new(), body);
        assert_eq!(e.kind, ErrorKind::PermissionDenied);
        assert_eq!(e.code.as_deref(), Some("0x80040220"));
        assert!(e.message.contains("prvWriteMailbox"));
        assert!(e.remedy.unwrap().contains("security role"));
    }

    #[test]
    fn the_challenge_description_is_extracted() {
        let mut h = HeaderMap::new();
        h.insert(WWW_AUTHENTICATE, r#"Bearer error="invalid_token", error_description="The access token is expired""#.parse().unwrap());
        assert_eq!(challenge_description(&h).as_deref(), Some("The access token is expired"));
        let e = unauthorized(challenge_description(&h), false);
        assert!(e.message.contains("expired"));
    }

    #[test]
    fn a_body_that_is_not_odata_still_gives_an_error() {
        let e = from_response(StatusCode::BAD_GATEWAY, &HeaderMap::new(), b"<html>");
        assert_eq!(e.kind, ErrorKind::Service);
        assert_eq!(e.http_status, Some(502));
    }
}
