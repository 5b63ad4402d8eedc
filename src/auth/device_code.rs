//! Device code sign-in for people (S-ENTRA-DC, dataverse-reference §11):
//! `POST {authority}/{tenant}/oauth2/v2.0/devicecode`, show the code and URL to the user, poll
//! `…/token` with `grant_type=urn:ietf:params:oauth:grant-type:device_code` at the interval the
//! service gives, then renew with the refresh token (`offline_access`).
//!
//! The library never prints: the code and URL travel as a `device_code` event of the
//! authenticate operation (`crmsync_client_authenticate_start`), which the caller shows.

use super::entra::{self, EntraAnswer, TokenResponse};
use super::{AccessToken, BoxFuture, Prompt, TokenSource};
use crate::documents::DeviceCodeEvent;
use crate::error::{Error, ErrorKind, Result};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::{Duration, Instant};
use url::Url;
use uuid::Uuid;

pub const DEVICE_CODE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";
/// The public client id Microsoft publishes for Dataverse tools and samples (XrmTooling /
/// Dataverse ServiceClient samples: `AppId=51f81489-12ee-4a9e-aaae-a2591f45987d;
/// RedirectUri=app://58145B91-0C36-4500-8554-080854F2AC97`, and the pac CLI). Preauthorized for
/// Dataverse in every tenant, so people can sign in without registering an app.
pub const DEFAULT_PUBLIC_CLIENT_ID: &str = "51f81489-12ee-4a9e-aaae-a2591f45987d";
/// `organizations`: any work or school account (personal Microsoft accounts have no Dataverse).
pub const DEFAULT_TENANT: &str = "organizations";
/// RFC 8628 §3.5: on `slow_down` the interval grows by 5 seconds.
const SLOW_DOWN_STEP: Duration = Duration::from_secs(5);

pub struct DeviceCodeSource {
    pub(super) http: reqwest::Client,
    pub(super) device_code_url: Url,
    pub(super) token_url: Url,
    pub(super) client_id: String,
    /// `<org>/.default offline_access`
    pub(super) scope: String,
    /// The person's refresh token; shared by the connections of one sign-in group (see
    /// [`refresh_slot`]).
    pub(super) refresh_token: Arc<Mutex<Option<SecretString>>>,
}

type RefreshSlot = Arc<Mutex<Option<SecretString>>>;
type WeakSlot = Weak<Mutex<Option<SecretString>>>;

/// The refresh token a connection keeps. Connections given the same sign-in group (and the same
/// authority, tenant and app) share one: Microsoft Entra refresh tokens are not bound to one
/// resource, so a person who signed in for one environment gets tokens for the others of the
/// group without another code. The slot lives in memory only, as long as a connection holds it.
pub(super) fn refresh_slot(group: Option<Uuid>, token_url: &Url, client_id: &str) -> RefreshSlot {
    static GROUPS: OnceLock<Mutex<HashMap<String, WeakSlot>>> = OnceLock::new();
    let Some(group) = group else { return Arc::new(Mutex::new(None)) };
    let key = format!("{group} {token_url} {}", client_id.to_ascii_lowercase());
    let mut groups = GROUPS.get_or_init(Default::default).lock().unwrap_or_else(|p| p.into_inner());
    groups.retain(|_, slot| slot.strong_count() > 0);
    if let Some(slot) = groups.get(&key).and_then(Weak::upgrade) {
        return slot;
    }
    let slot: RefreshSlot = Arc::new(Mutex::new(None));
    groups.insert(key, Arc::downgrade(&slot));
    slot
}

#[derive(Deserialize)]
struct DeviceCodeResponse {
    device_code: SecretString,
    user_code: String,
    verification_uri: String,
    #[serde(default = "default_expires_in")]
    expires_in: u64,
    #[serde(default = "default_interval")]
    interval: u64,
    #[serde(default)]
    message: String,
}

fn default_expires_in() -> u64 {
    900
}

fn default_interval() -> u64 {
    5
}

const SIGN_IN_AGAIN: &str = "Start the device code sign-in again (crmsync_client_authenticate_start) and finish it in the browser.";

impl DeviceCodeSource {
    fn keep(&self, token: &TokenResponse) {
        if let Some(refresh) = &token.refresh_token {
            *self.refresh_token.lock().unwrap_or_else(|p| p.into_inner()) = Some(refresh.clone());
        }
    }

    fn current_refresh_token(&self) -> Option<SecretString> {
        self.refresh_token.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    async fn refresh(&self, refresh_token: SecretString) -> Result<AccessToken> {
        let form = [
            ("grant_type", "refresh_token"),
            ("client_id", self.client_id.as_str()),
            ("refresh_token", refresh_token.expose_secret()),
            ("scope", self.scope.as_str()),
        ];
        match entra::post_form::<TokenResponse>(&self.http, &self.token_url, &form).await? {
            EntraAnswer::Token(token) => {
                self.keep(&token);
                Ok(token.access_token())
            }
            EntraAnswer::Refused { status, error } => {
                // Forget the token only if it is still the one refused: another connection of
                // the group may have put a newer one there meanwhile.
                let mut slot = self.refresh_token.lock().unwrap_or_else(|p| p.into_inner());
                if slot.as_ref().is_some_and(|kept| kept.expose_secret() == refresh_token.expose_secret()) {
                    *slot = None;
                }
                drop(slot);
                Err(entra::refused(
                    status,
                    format!("The device code sign-in could not be renewed ({}); it may have expired or been revoked.", error.summary()),
                    SIGN_IN_AGAIN,
                )
                .with_hint("sign_in_again"))
            }
        }
    }

    async fn device_flow(&self, prompt: &dyn Prompt) -> Result<AccessToken> {
        let form = [("client_id", self.client_id.as_str()), ("scope", self.scope.as_str())];
        let code = match entra::post_form::<DeviceCodeResponse>(&self.http, &self.device_code_url, &form).await? {
            EntraAnswer::Token(code) => code,
            EntraAnswer::Refused { status, error } => {
                return Err(entra::refused(
                    status,
                    format!("Microsoft Entra ID refused to start a device code sign-in ({}).", error.summary()),
                    "Check tenant_id and client_id (the app must be a public client with 'Allow public client flows' enabled), and cloud or authority_host for national clouds.",
                ));
            }
        };
        let message = if code.message.is_empty() {
            format!("To sign in, open {} and enter the code {}.", code.verification_uri, code.user_code)
        } else {
            code.message.clone()
        };
        prompt
            .show(DeviceCodeEvent {
                user_code: code.user_code.clone(),
                verification_uri: code.verification_uri.clone(),
                message,
                expires_in: code.expires_in,
            })
            .await?;
        let deadline = Instant::now() + Duration::from_secs(code.expires_in);
        let mut interval = Duration::from_secs(code.interval.max(1));
        let poll =
            [("grant_type", DEVICE_CODE_GRANT), ("client_id", self.client_id.as_str()), ("device_code", code.device_code.expose_secret())];
        loop {
            tokio::time::sleep(interval).await;
            let (status, error) = match entra::post_form::<TokenResponse>(&self.http, &self.token_url, &poll).await? {
                EntraAnswer::Token(token) => {
                    self.keep(&token);
                    return Ok(token.access_token());
                }
                EntraAnswer::Refused { status, error } => (status, error),
            };
            match error.error.as_str() {
                "authorization_pending" if Instant::now() < deadline => continue,
                "slow_down" if Instant::now() < deadline => {
                    interval += SLOW_DOWN_STEP;
                    continue;
                }
                "authorization_pending" | "slow_down" | "expired_token" => {
                    return Err(entra::refused(
                        status,
                        format!("The device code expired before the sign-in was completed ({}).", error.summary()),
                        &format!("{SIGN_IN_AGAIN} Enter the code within {} minutes.", code.expires_in.div_ceil(60)),
                    )
                    .with_hint("sign_in_again"));
                }
                "authorization_declined" => {
                    return Err(entra::refused(
                        status,
                        format!("The sign-in was declined in the browser ({}).", error.summary()),
                        &format!("{SIGN_IN_AGAIN} Choose 'Continue' and sign in with an account that is a user of this environment."),
                    )
                    .with_hint("sign_in_again"));
                }
                "bad_verification_code" => {
                    return Err(entra::refused(
                        status,
                        format!("Microsoft Entra ID did not recognise the device code ({}).", error.summary()),
                        SIGN_IN_AGAIN,
                    )
                    .with_hint("sign_in_again"));
                }
                _ => {
                    return Err(entra::refused(
                        status,
                        format!("The device code sign-in failed ({}).", error.summary()),
                        "Check tenant_id and client_id, that the account may use this app (admin consent, conditional access), and that it is a user of this environment.",
                    ));
                }
            }
        }
    }
}

impl TokenSource for DeviceCodeSource {
    fn fetch(&self) -> BoxFuture<'_, Result<AccessToken>> {
        Box::pin(async move {
            match self.current_refresh_token() {
                Some(refresh) => self.refresh(refresh).await,
                None => Err(Error::new(
                    ErrorKind::Authentication,
                    "Device code sign-in needs the user, and nobody has signed in on this connection yet.",
                )
                .with_remedy(SIGN_IN_AGAIN)
                .with_hint("sign_in_again")),
            }
        })
    }

    fn can_renew(&self) -> bool {
        self.refresh_token.lock().unwrap_or_else(|p| p.into_inner()).is_some()
    }

    fn sign_in<'a>(&'a self, prompt: &'a dyn Prompt) -> BoxFuture<'a, Result<AccessToken>> {
        Box::pin(async move {
            if let Some(refresh) = self.current_refresh_token()
                && let Ok(token) = self.refresh(refresh).await
            {
                return Ok(token);
            }
            self.device_flow(prompt).await
        })
    }
}
