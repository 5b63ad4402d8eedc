//! OAuth 2.0 client credentials with a shared secret (Microsoft identity platform v2.0,
//! dataverse-reference §11): `POST {authority}/{tenant}/oauth2/v2.0/token`.

use super::{AccessToken, BoxFuture, TokenSource};
use crate::error::{Error, ErrorKind, Result};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use std::time::{Duration, Instant};
use url::Url;

pub struct ClientSecretSource {
    pub(super) http: reqwest::Client,
    pub(super) token_url: Url,
    pub(super) client_id: String,
    pub(super) secret: SecretString,
    pub(super) scope: String,
}

pub(super) fn token_url(authority_host: &Url, tenant: &str) -> Url {
    authority_host.join(&format!("{tenant}/oauth2/v2.0/token")).expect("tenant was validated as a GUID or domain")
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: SecretString,
    expires_in: u64,
}

#[derive(Deserialize)]
struct TokenError {
    error: String,
    #[serde(default)]
    error_description: String,
}

impl TokenSource for ClientSecretSource {
    fn fetch(&self) -> BoxFuture<'_, Result<AccessToken>> {
        Box::pin(async move {
            let form = [
                ("grant_type", "client_credentials"),
                ("client_id", self.client_id.as_str()),
                ("client_secret", self.secret.expose_secret()),
                ("scope", self.scope.as_str()),
            ];
            let response = self.http.post(self.token_url.clone()).form(&form).send().await.map_err(|e| {
                Error::new(
                    ErrorKind::Transport,
                    format!("Could not reach the token endpoint {}: {}", self.token_url, crate::webapi::describe_transport_error(&e)),
                )
                .with_remedy("Check the network, proxy and the authority host (sovereign clouds use a different one).")
            })?;
            let status = response.status();
            let body = response.bytes().await.unwrap_or_default();
            if status.is_success() {
                let token: TokenResponse = serde_json::from_slice(&body)
                    .map_err(|_| Error::new(ErrorKind::Authentication, "The token endpoint answered without a usable access token."))?;
                return Ok(AccessToken {
                    secret: token.access_token,
                    expires_at: Some(Instant::now() + Duration::from_secs(token.expires_in)),
                });
            }
            let detail = serde_json::from_slice::<TokenError>(&body)
                .map(|e| format!("{}: {}", e.error, first_line(&e.error_description)))
                .unwrap_or_else(|_| format!("HTTP {status}"));
            let mut err = Error::new(ErrorKind::Authentication, format!("Microsoft Entra ID refused the client credentials ({detail})."))
                .with_remedy("Check -TenantId, -ClientId and the client secret (it may have expired: Entra ID > App registrations > Certificates & secrets), and that the app is an application user in this environment.");
            err.http_status = Some(status.as_u16());
            Err(err)
        })
    }

    fn can_renew(&self) -> bool {
        true
    }
}

/// Entra error descriptions end with trace and correlation ids on extra lines.
fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or_default().trim()
}
