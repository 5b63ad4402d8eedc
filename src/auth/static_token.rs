//! A token obtained elsewhere (for example `Get-AzAccessToken`). It cannot be renewed, so its
//! expiry, read from the JWT `exp` claim when it is a JWT, turns into a clear error up front.

use super::{AccessToken, BoxFuture, TokenSource};
use crate::error::{Error, ErrorKind, Result};
use base64::Engine;
use secrecy::{ExposeSecret, SecretString};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

pub struct StaticTokenSource {
    token: SecretString,
    expires_at: Option<Instant>,
}

impl StaticTokenSource {
    pub fn new(token: SecretString) -> Self {
        let expires_at = jwt_expiry(token.expose_secret());
        StaticTokenSource { token, expires_at }
    }
}

pub fn expired_token_error() -> Error {
    Error::new(ErrorKind::Authentication, "The access token given to the connection has expired and crmsync cannot renew a token it did not obtain itself.")
        .with_remedy("Get a new token and connect again, or connect with a client secret, a certificate or another renewable credential so that long runs renew tokens automatically.")
        .with_hint("connect_again")
}

impl TokenSource for StaticTokenSource {
    fn fetch(&self) -> BoxFuture<'_, Result<AccessToken>> {
        Box::pin(async move {
            if self.expires_at.is_some_and(|at| Instant::now() >= at) {
                return Err(expired_token_error());
            }
            Ok(AccessToken { secret: self.token.clone(), expires_at: self.expires_at })
        })
    }

    fn can_renew(&self) -> bool {
        false
    }
}

/// Reads `exp` from a JWT without verifying it (the service verifies; we only want the time).
fn jwt_expiry(token: &str) -> Option<Instant> {
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload.trim_end_matches('=')).ok()?;
    let claims: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    let exp = claims.get("exp")?.as_u64()?;
    let now = SystemTime::now().duration_since(UNIX_EPOCH).ok()?.as_secs();
    Some(Instant::now() + Duration::from_secs(exp.saturating_sub(now)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwt_with_exp(exp: u64) -> String {
        let enc = |v: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v);
        format!("{}.{}.sig", enc(r#"{"alg":"none"}"#), enc(&format!(r#"{{"exp":{exp}}}"#)))
    }

    #[tokio::test]
    async fn an_expired_jwt_gives_a_clear_error_without_the_token() {
        let token = jwt_with_exp(1_000);
        let err = StaticTokenSource::new(SecretString::from(token.clone())).fetch().await.err().unwrap();
        assert_eq!(err.kind, ErrorKind::Authentication);
        assert!(err.message.contains("expired"));
        assert!(!crate::documents::to_value(crate::documents::ErrorDocument::from(&err)).to_string().contains(&token));
    }

    #[tokio::test]
    async fn a_valid_jwt_and_an_opaque_token_are_used_as_given() {
        let future = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() + 3600;
        let got = StaticTokenSource::new(SecretString::from(jwt_with_exp(future))).fetch().await.unwrap();
        assert!(got.expires_at.is_some());
        let opaque = StaticTokenSource::new(SecretString::from("opaque".to_string())).fetch().await.unwrap();
        assert_eq!(opaque.secret.expose_secret(), "opaque");
        assert!(opaque.expires_at.is_none());
    }
}
