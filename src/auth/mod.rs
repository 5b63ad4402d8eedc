//! Token sources behind one trait, and the cache that shares one token among concurrent
//! requests. Tokens live in `SecretString` and are exposed only to build the
//! `Authorization` header.

pub mod certificate;
mod client_secret;
pub mod cloud;
mod credential;
pub mod device_code;
mod entra;
pub mod managed_identity;
mod static_token;

pub use certificate::{ClientCertificate, ClientCertificateSource, SigningAlgorithm};
pub use client_secret::ClientSecretSource;
pub use cloud::Cloud;
pub use credential::{Credential, CredentialDocument};
pub use device_code::DeviceCodeSource;
pub use managed_identity::ManagedIdentitySource;
pub use static_token::StaticTokenSource;

use crate::error::Result;
use secrecy::SecretString;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

#[derive(Clone)]
pub struct AccessToken {
    pub secret: SecretString,
    /// `None` when the lifetime is unknown (a token given by the caller that is not a JWT).
    pub expires_at: Option<Instant>,
}

/// Renew this long before expiry so that a request never leaves with a token about to die
/// (a quarter of the lifetime for short-lived tokens).
const REFRESH_MARGIN: Duration = Duration::from_secs(300);

/// Where an interactive source shows what the user must do (the device code and URL). The
/// library never prints: the authenticate operation turns these into events.
pub trait Prompt: Send + Sync {
    fn show(&self, code: crate::documents::DeviceCodeEvent) -> BoxFuture<'_, Result<()>>;
}

pub trait TokenSource: Send + Sync {
    /// Gets a fresh token from the source (network call for the OAuth flows), without the user.
    fn fetch(&self) -> BoxFuture<'_, Result<AccessToken>>;
    /// Whether `fetch` can produce a new token after the current one expires or is rejected.
    fn can_renew(&self) -> bool;
    /// Gets a token when the user is there to act on `prompt` (Connect time). Sources that
    /// never need the user simply fetch.
    fn sign_in<'a>(&'a self, prompt: &'a dyn Prompt) -> BoxFuture<'a, Result<AccessToken>> {
        let _ = prompt;
        self.fetch()
    }
}

/// The token source for `credential`, asking for tokens for the organization at `org_url`;
/// the OAuth flows post through `http`.
pub fn source_for(credential: &Credential, org_url: &url::Url, http: &reqwest::Client) -> Result<Arc<dyn TokenSource>> {
    let org = org_url.as_str().trim_end_matches('/');
    let default_scope = format!("{org}/.default");
    Ok(match credential {
        Credential::AccessToken(token) => Arc::new(StaticTokenSource::new(token.clone())),
        Credential::ClientSecret { tenant_id, client_id, client_secret, authority_host } => Arc::new(ClientSecretSource {
            http: http.clone(),
            token_url: entra::endpoint(authority_host, tenant_id, "token"),
            client_id: client_id.clone(),
            secret: client_secret.clone(),
            scope: default_scope,
        }),
        Credential::ClientCertificate { tenant_id, client_id, certificate, algorithm, authority_host } => {
            Arc::new(ClientCertificateSource {
                http: http.clone(),
                token_url: entra::endpoint(authority_host, tenant_id, "token"),
                client_id: client_id.clone(),
                certificate: certificate.clone(),
                algorithm: *algorithm,
                scope: default_scope,
            })
        }
        Credential::ManagedIdentity { client_id, endpoint } => {
            Arc::new(ManagedIdentitySource::new(endpoint.clone(), client_id.clone(), org_url)?)
        }
        Credential::DeviceCode { tenant_id, client_id, authority_host, sign_in_group } => {
            let token_url = entra::endpoint(authority_host, tenant_id, "token");
            Arc::new(DeviceCodeSource {
                http: http.clone(),
                device_code_url: entra::endpoint(authority_host, tenant_id, "devicecode"),
                refresh_token: device_code::refresh_slot(*sign_in_group, &token_url, client_id),
                token_url,
                client_id: client_id.clone(),
                scope: format!("{default_scope} offline_access"),
            })
        }
    })
}

/// One cached token for all requests of a client. The async mutex makes concurrent callers
/// that find the token stale wait for a single refresh instead of each starting one.
pub struct TokenCache {
    source: Arc<dyn TokenSource>,
    /// The token and when it was obtained (its lifetime sets the renewal margin).
    current: Mutex<Option<(AccessToken, Instant)>>,
}

impl TokenCache {
    pub fn new(source: Arc<dyn TokenSource>) -> Self {
        TokenCache { source, current: Mutex::new(None) }
    }

    pub async fn get(&self) -> Result<AccessToken> {
        let mut current = self.current.lock().await;
        if let Some((token, _)) = current.as_ref().filter(|(t, at)| is_fresh(t, *at, self.source.can_renew())) {
            return Ok(token.clone());
        }
        let token = self.source.fetch().await?;
        *current = Some((token.clone(), Instant::now()));
        Ok(token)
    }

    /// Gets a token with the user present (Connect time): a still-fresh token is kept,
    /// otherwise the source signs in, showing what the user must do through `prompt`.
    pub async fn sign_in(&self, prompt: &dyn Prompt) -> Result<AccessToken> {
        let mut current = self.current.lock().await;
        if let Some((token, _)) = current.as_ref().filter(|(t, at)| is_fresh(t, *at, self.source.can_renew())) {
            return Ok(token.clone());
        }
        let token = self.source.sign_in(prompt).await?;
        *current = Some((token.clone(), Instant::now()));
        Ok(token)
    }

    /// Called after a 401: drops the token that was rejected (unless another request has
    /// already replaced it) and says whether a retry can expect a different one.
    pub async fn invalidate(&self, rejected: &AccessToken) -> bool {
        use secrecy::ExposeSecret;
        let mut current = self.current.lock().await;
        if current.as_ref().is_some_and(|(t, _)| t.secret.expose_secret() == rejected.secret.expose_secret()) {
            *current = None;
        }
        self.source.can_renew()
    }
}

fn is_fresh(token: &AccessToken, obtained: Instant, renewable: bool) -> bool {
    match token.expires_at {
        None => true,
        // A token we cannot renew is used until it really expires; the service then says so.
        Some(at) if !renewable => Instant::now() < at,
        Some(at) => {
            let margin = REFRESH_MARGIN.min(at.saturating_duration_since(obtained) / 4);
            Instant::now() + margin < at
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    struct CountingSource {
        calls: AtomicUsize,
        lifetime: Duration,
    }

    impl TokenSource for CountingSource {
        fn fetch(&self) -> BoxFuture<'_, Result<AccessToken>> {
            Box::pin(async move {
                let n = self.calls.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(20)).await;
                Ok(AccessToken { secret: SecretString::from(format!("token-{n}")), expires_at: Some(Instant::now() + self.lifetime) })
            })
        }
        fn can_renew(&self) -> bool {
            true
        }
    }

    #[tokio::test]
    async fn fifty_concurrent_callers_share_one_refresh() {
        let source = Arc::new(CountingSource { calls: AtomicUsize::new(0), lifetime: Duration::from_secs(3600) });
        let cache = Arc::new(TokenCache::new(source.clone()));
        let tasks: Vec<_> = (0..50)
            .map(|_| {
                let c = cache.clone();
                tokio::spawn(async move { c.get().await.map(|_| ()) })
            })
            .collect();
        for t in tasks {
            t.await.unwrap().unwrap();
        }
        assert_eq!(source.calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_token_near_expiry_is_renewed_and_a_rejected_one_is_dropped() {
        let source = Arc::new(CountingSource { calls: AtomicUsize::new(0), lifetime: Duration::from_millis(400) });
        let cache = TokenCache::new(source.clone());
        let first = cache.get().await.unwrap();
        cache.get().await.unwrap();
        assert_eq!(source.calls.load(Ordering::SeqCst), 1, "a fresh token is reused");
        tokio::time::sleep(Duration::from_millis(320)).await;
        cache.get().await.unwrap();
        assert_eq!(source.calls.load(Ordering::SeqCst), 2, "a token inside the refresh margin (a quarter of its lifetime) must be renewed");
        assert!(cache.invalidate(&first).await);
    }

    #[tokio::test]
    async fn an_hour_long_token_is_renewed_five_minutes_before_expiry() {
        let now = Instant::now();
        let token = |secs| AccessToken { secret: SecretString::from("t".to_string()), expires_at: Some(now + Duration::from_secs(secs)) };
        assert!(is_fresh(&token(3600), now, true));
        // Obtained an hour ago with 299 s left: inside the 300 s margin.
        let old = now.checked_sub(Duration::from_secs(3300)).unwrap_or(now);
        assert!(!is_fresh(&token(299), old, true));
        assert!(is_fresh(&token(299), old, false), "a token that cannot be renewed is used until it expires");
    }
}
