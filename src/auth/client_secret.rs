//! OAuth 2.0 client credentials with a shared secret (Microsoft identity platform v2.0,
//! dataverse-reference §11): `POST {authority}/{tenant}/oauth2/v2.0/token`.

use super::entra::{self, EntraAnswer, TokenResponse};
use super::{AccessToken, BoxFuture, TokenSource};
use crate::error::Result;
use secrecy::{ExposeSecret, SecretString};
use url::Url;

pub struct ClientSecretSource {
    pub(super) http: reqwest::Client,
    pub(super) token_url: Url,
    pub(super) client_id: String,
    pub(super) secret: SecretString,
    pub(super) scope: String,
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
            match entra::post_form::<TokenResponse>(&self.http, &self.token_url, &form).await? {
                EntraAnswer::Token(token) => Ok(token.access_token()),
                EntraAnswer::Refused { status, error } => Err(entra::refused(
                    status,
                    format!("Microsoft Entra ID refused the client credentials ({}).", error.summary()),
                    "Check tenant_id, client_id and the client secret (it may have expired: Entra ID > App registrations > Certificates & secrets), and that the app is an application user in this environment.",
                )),
            }
        })
    }

    fn can_renew(&self) -> bool {
        true
    }
}
