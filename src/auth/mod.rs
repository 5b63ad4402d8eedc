//! Token sources behind one trait, and the cache that shares one token among concurrent
//! requests. Tokens live in `SecretString` and are exposed only to build the
//! `Authorization` header.

mod client_secret;
mod static_token;

pub use client_secret::ClientSecretSource;
pub use static_token::StaticTokenSource;

use crate::config::{ClientConfig, Credential};
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

/// Renew this long before expiry so that a request never leaves with a token about to die.
const REFRESH_MARGIN: Duration = Duration::from_secs(300);

pub trait TokenSource: Send + Sync {
    /// Gets a fresh token from the source (network call for the OAuth flows).
    fn fetch(&self) -> BoxFuture<'_, Result<AccessToken>>;
    /// Whether `fetch` can produce a new token after the current one expires or is rejected.
    fn can_renew(&self) -> bool;
}

pub fn source_for(config: &ClientConfig, http: &reqwest::Client) -> Arc<dyn TokenSource> {
    match &config.credential {
        Credential::AccessToken(token) => Arc::new(StaticTokenSource::new(token.clone())),
        Credential::ClientSecret { tenant_id, client_id, client_secret, authority_host } => Arc::new(ClientSecretSource {
            http: http.clone(),
            token_url: client_secret::token_url(authority_host, tenant_id),
            client_id: client_id.clone(),
            secret: client_secret.clone(),
            scope: format!("{}/.default", config.org_url.as_str().trim_end_matches('/')),
        }),
    }
}

/// One cached token for all requests of a client. The async mutex makes concurrent callers
/// that find the token stale wait for a single refresh instead of each starting one.
pub struct TokenCache {
    source: Arc<dyn TokenSource>,
    current: Mutex<Option<AccessToken>>,
}

impl TokenCache {
    pub fn new(source: Arc<dyn TokenSource>) -> Self {
        TokenCache { source, current: Mutex::new(None) }
    }

    pub async fn get(&self) -> Result<AccessToken> {
        let mut current = self.current.lock().await;
        if let Some(token) = current.as_ref().filter(|t| is_fresh(t, self.source.can_renew())) {
            return Ok(token.clone());
        }
        let token = self.source.fetch().await?;
        *current = Some(token.clone());
        Ok(token)
    }

    /// Called after a 401: drops the token that was rejected (unless another request has
    /// already replaced it) and says whether a retry can expect a different one.
    pub async fn invalidate(&self, rejected: &AccessToken) -> bool {
        use secrecy::ExposeSecret;
        let mut current = self.current.lock().await;
        if current.as_ref().is_some_and(|t| t.secret.expose_secret() == rejected.secret.expose_secret()) {
            *current = None;
        }
        self.source.can_renew()
    }
}

fn is_fresh(token: &AccessToken, renewable: bool) -> bool {
    match token.expires_at {
        None => true,
        // A token we cannot renew is used until it really expires; the service then says so.
        Some(at) if !renewable => Instant::now() < at,
        Some(at) => Instant::now() + REFRESH_MARGIN < at,
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
        let source = Arc::new(CountingSource { calls: AtomicUsize::new(0), lifetime: Duration::from_secs(60) });
        let cache = TokenCache::new(source.clone());
        let first = cache.get().await.unwrap();
        cache.get().await.unwrap();
        assert_eq!(source.calls.load(Ordering::SeqCst), 2, "a token inside the refresh margin must be renewed");
        assert!(cache.invalidate(&first).await);
    }
}
