//! A connection to one organization: its configuration and its Web API client. Cheap to
//! share between operations (`Arc`).

use crate::config::ClientConfig;
use crate::error::Result;
use crate::webapi::WebApi;

pub struct Client {
    pub(crate) api: WebApi,
    pub(crate) config: ClientConfig,
}

impl Client {
    pub fn new(config: ClientConfig) -> Result<Client> {
        let api = WebApi::new(&config)?;
        Ok(Client { api, config })
    }

    pub fn from_json(config: &[u8]) -> Result<Client> {
        Client::new(ClientConfig::from_json(config)?)
    }

    pub fn api(&self) -> &WebApi {
        &self.api
    }

    pub fn config(&self) -> &ClientConfig {
        &self.config
    }
}
