//! What every Microsoft Entra (v2.0 endpoint) flow shares: the endpoint URLs, posting a form,
//! and reading the token or the `{error, error_description}` answer. Nothing here ever puts a
//! request value (secret, assertion, refresh token, device code) into an error.

use super::AccessToken;
use crate::error::{Error, ErrorKind, Result};
use secrecy::SecretString;
use serde::Deserialize;
use std::time::{Duration, Instant};
use url::Url;

pub(super) fn endpoint(authority_host: &Url, tenant: &str, leaf: &str) -> Url {
    authority_host.join(&format!("{tenant}/oauth2/v2.0/{leaf}")).expect("tenant was validated as a GUID or domain")
}

#[derive(Deserialize)]
pub(super) struct TokenResponse {
    pub access_token: SecretString,
    pub expires_in: u64,
    #[serde(default)]
    pub refresh_token: Option<SecretString>,
}

impl TokenResponse {
    pub fn access_token(&self) -> AccessToken {
        AccessToken { secret: self.access_token.clone(), expires_at: Some(Instant::now() + Duration::from_secs(self.expires_in)) }
    }
}

#[derive(Deserialize, Debug, Clone)]
pub(super) struct EntraError {
    pub error: String,
    #[serde(default)]
    pub error_description: String,
}

impl EntraError {
    /// `error: first line of the description` (Entra adds trace and correlation ids on more lines).
    pub fn summary(&self) -> String {
        let first = self.error_description.lines().next().unwrap_or_default().trim();
        if first.is_empty() { self.error.clone() } else { format!("{}: {first}", self.error) }
    }
}

/// The outcome of one form POST: a token, or the service's refusal with its HTTP status.
pub(super) enum EntraAnswer<T> {
    Token(T),
    Refused { status: u16, error: EntraError },
}

/// POSTs `form` to an Entra endpoint. Network failures become `Transport` errors naming the
/// endpoint; an answer that is neither JSON success nor an OAuth error becomes `Authentication`.
pub(super) async fn post_form<T: serde::de::DeserializeOwned>(
    http: &reqwest::Client,
    url: &Url,
    form: &[(&str, &str)],
) -> Result<EntraAnswer<T>> {
    let response = http.post(url.clone()).form(form).send().await.map_err(|e| {
        Error::new(
            ErrorKind::Transport,
            format!("Could not reach the Microsoft Entra endpoint {url}: {}", crate::transport::describe_error(&e)),
        )
        .with_remedy("Check the network and proxy, and the authority host: national clouds (GCC High, DoD, China) use their own; set the credential's cloud or authority_host.")
        .with_hint("choose_cloud")
    })?;
    let status = response.status();
    let body = response.bytes().await.unwrap_or_default();
    if status.is_success() {
        return serde_json::from_slice::<T>(&body).map(EntraAnswer::Token).map_err(|_| {
            Error::new(ErrorKind::Authentication, format!("The Microsoft Entra endpoint {url} answered without a usable token."))
        });
    }
    let error = serde_json::from_slice::<EntraError>(&body)
        .unwrap_or_else(|_| EntraError { error: format!("HTTP {}", status.as_u16()), error_description: String::new() });
    Ok(EntraAnswer::Refused { status: status.as_u16(), error })
}

/// An `Authentication` error for a refusal, with the HTTP status.
pub(super) fn refused(status: u16, message: String, remedy: &str) -> Error {
    let mut err = Error::new(ErrorKind::Authentication, message).with_remedy(remedy);
    err.http_status = Some(status);
    err
}
