//! A connection to one organization: its configuration and its Web API client, plus any
//! further connections (other application users, each with its own service-protection
//! limits) that bulk writes may be spread across. Cheap to share between operations (`Arc`).

use crate::auth::{TokenCache, source_for};
use crate::config::ClientConfig;
use crate::error::{Error, Result};
use crate::transport::{HttpOptions, build_client};
use crate::webapi::{Settings, WebApi};
use std::sync::Arc;

/// Cloned cheaply (shared connections): a task of its own can own one.
#[derive(Clone)]
pub struct Client {
    pub(crate) api: Arc<WebApi>,
    pub(crate) config: Arc<ClientConfig>,
    /// Every connection bulk writes may use, `api` first.
    pub(crate) writers: Vec<Arc<WebApi>>,
}

impl Client {
    pub fn new(config: ClientConfig) -> Result<Client> {
        // One HTTP client for the connection: the Web API and the OAuth flows share its pool.
        let http = build_client(&HttpOptions::service(config.timeout, config.transport.clone()))?;
        let tokens = TokenCache::new(source_for(&config.credential, &config.org_url, &http)?);
        let settings = Settings { base: config.api_base(), max_retries: config.max_retries, limits: &config.limits };
        let api = Arc::new(WebApi::new(http, tokens, settings));
        Ok(Client { writers: vec![api.clone()], api, config: Arc::new(config) })
    }

    pub fn from_json(config: &[u8]) -> Result<Client> {
        Client::new(ClientConfig::from_json(config)?)
    }

    /// One client over several connections to the same organization: reads use the first,
    /// bulk writes are spread over all of them.
    pub fn pool(clients: &[Arc<Client>]) -> Result<Client> {
        let first = clients.first().ok_or_else(|| Error::invalid("A connection pool needs at least one connection."))?;
        if let Some(other) = clients.iter().find(|c| c.config.org_url != first.config.org_url) {
            return Err(Error::invalid(format!(
                "All connections of a pool must be to the same organization ({} and {}).",
                first.config.org_url, other.config.org_url
            )));
        }
        let writers = clients.iter().flat_map(|c| c.writers.iter().cloned()).collect();
        Ok(Client { api: first.api.clone(), config: first.config.clone(), writers })
    }

    pub fn api(&self) -> &WebApi {
        &self.api
    }

    /// This client with its reads going through connection `turn` of the pool (modulo its
    /// size; itself for one connection): the procedure's read-backs and polls then share the
    /// identities' request budgets instead of all spending the first one's.
    pub fn reading_through(&self, turn: usize) -> Client {
        let api = self.writers[turn % self.writers.len()].clone();
        Client { api, config: self.config.clone(), writers: self.writers.clone() }
    }

    pub fn writers(&self) -> &[Arc<WebApi>] {
        &self.writers
    }

    pub fn config(&self) -> &ClientConfig {
        &self.config
    }

    /// A Web API client for another service that signs in the same way as this connection,
    /// with tokens for `resource` (for example the Global Discovery Service) and requests
    /// relative to `base`.
    pub fn for_resource(&self, resource: &url::Url, base: url::Url) -> Result<WebApi> {
        let config = &self.config;
        let http = build_client(&HttpOptions::service(config.timeout, config.transport.clone()))?;
        let tokens = TokenCache::new(source_for(&config.credential, resource, &http)?);
        Ok(WebApi::new(http, tokens, Settings { base, max_retries: config.max_retries, limits: &config.limits }))
    }
}
