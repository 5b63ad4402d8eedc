//! The one HTTP client for the Dataverse Web API: standard headers, bearer token from the
//! cache, retries that honour `Retry-After`, a single re-authentication on 401, OData error
//! bodies turned into typed errors, and paging by `@odata.nextLink`.

pub mod odata;
mod retry;
mod service_error;

pub use service_error::describe_transport_error;

use crate::auth::{TokenCache, TokenSource};
use crate::config::ClientConfig;
use crate::error::{Error, ErrorKind, Result};
use reqwest::header::{ACCEPT, CONTENT_TYPE, HeaderMap, HeaderValue};
use reqwest::{Method, StatusCode};
use secrecy::ExposeSecret;
use serde_json::Value;
use std::sync::Arc;
use url::Url;

pub struct WebApi {
    http: reqwest::Client,
    base: Url,
    tokens: TokenCache,
    max_retries: u32,
}

/// One page of a collection and the link to the next one, exactly as the service gave it.
pub struct Page {
    pub rows: Vec<Value>,
    pub next_link: Option<Url>,
}

/// A successful response: the parts callers look at.
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

impl WebApi {
    pub fn new(config: &ClientConfig) -> Result<Self> {
        let http = build_http_client(config)?;
        let source: Arc<dyn TokenSource> = crate::auth::source_for(config, &http);
        Ok(WebApi { http, base: config.api_base(), tokens: TokenCache::new(source), max_retries: config.max_retries })
    }

    pub fn base(&self) -> &Url {
        &self.base
    }

    /// GET a path relative to the API base (e.g. `WhoAmI`, `mailboxes?$select=…`).
    pub async fn get(&self, path: &str, prefer: &[&str]) -> Result<Value> {
        let url = self.resolve(path)?;
        Ok(self.send(Method::GET, url, None, prefer, None).await?.body)
    }

    /// GET one page of a collection; pass the returned `next_link` to get the next page.
    pub async fn get_page(&self, url: Url, prefer: &[&str]) -> Result<Page> {
        let mut body = self.send(Method::GET, url, None, prefer, None).await?.body;
        let rows = match body.get_mut("value").map(Value::take) {
            Some(Value::Array(rows)) => rows,
            _ => return Err(Error::new(ErrorKind::Service, "The service answered a collection query without a 'value' array.")),
        };
        let next_link = match body.get("@odata.nextLink").and_then(Value::as_str) {
            Some(link) => Some(self.same_origin(link)?),
            None => None,
        };
        Ok(Page { rows, next_link })
    }

    /// PATCH a row. Every PATCH this product sends sets absolute values, so repeating it
    /// after a lost response is safe; that is what makes the retries here correct.
    pub async fn patch(&self, path: &str, body: &Value, if_match: Option<&str>) -> Result<Reply> {
        let url = self.resolve(path)?;
        self.send(Method::PATCH, url, Some(body), &[], if_match).await
    }

    /// Resolves a relative path against the API base.
    pub fn resolve(&self, path: &str) -> Result<Url> {
        self.base.join(path).map_err(|e| Error::internal(format!("bad request path '{path}': {e}")))
    }

    /// A next link is followed only on the organization's own origin, so a tampered or
    /// misrouted response can never make us send the bearer token elsewhere.
    fn same_origin(&self, link: &str) -> Result<Url> {
        let url = Url::parse(link)
            .or_else(|_| self.base.join(link))
            .map_err(|_| Error::new(ErrorKind::Service, "The service returned an unusable @odata.nextLink."))?;
        if url.origin() != self.base.origin() {
            return Err(Error::new(
                ErrorKind::Service,
                format!("The service returned a next link to another host ({}); refusing to follow it.", url.host_str().unwrap_or("?")),
            ));
        }
        Ok(url)
    }

    async fn send(&self, method: Method, url: Url, body: Option<&Value>, prefer: &[&str], if_match: Option<&str>) -> Result<Reply> {
        let mut attempt = 0u32;
        let mut reauthenticated = false;
        loop {
            let token = self.tokens.get().await?;
            let mut request =
                self.http.request(method.clone(), url.clone()).headers(standard_headers(&method)).bearer_auth(token.secret.expose_secret());
            if !prefer.is_empty() {
                request = request.header("Prefer", prefer.join(","));
            }
            if let Some(tag) = if_match {
                request = request.header("If-Match", tag);
            }
            if let Some(body) = body {
                request = request.header(CONTENT_TYPE, "application/json").body(body.to_string());
            }
            let response = match request.send().await {
                Ok(response) => response,
                Err(e) if retry::is_transient(&e) && attempt < self.max_retries => {
                    tokio::time::sleep(retry::backoff(attempt)).await;
                    attempt += 1;
                    continue;
                }
                Err(e) => return Err(service_error::transport(&url, &e)),
            };
            let status = response.status();
            if status == StatusCode::UNAUTHORIZED {
                let challenge = service_error::challenge_description(response.headers());
                if !reauthenticated && self.tokens.invalidate(&token).await {
                    reauthenticated = true;
                    continue;
                }
                return Err(service_error::unauthorized(challenge, reauthenticated));
            }
            if retry::is_retryable_status(status) && attempt < self.max_retries {
                tokio::time::sleep(retry::delay(response.headers(), attempt)).await;
                attempt += 1;
                continue;
            }
            let headers = response.headers().clone();
            let bytes = response.bytes().await.map_err(|e| service_error::transport(&url, &e))?;
            if !status.is_success() {
                return Err(service_error::from_response(status, &headers, &bytes));
            }
            let body = if bytes.is_empty() {
                Value::Null
            } else {
                serde_json::from_slice(&bytes)
                    .map_err(|e| Error::new(ErrorKind::Service, format!("The service answered with a body that is not JSON: {e}")))?
            };
            return Ok(Reply { status, headers, body });
        }
    }
}

fn standard_headers(method: &Method) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
    headers.insert("OData-MaxVersion", HeaderValue::from_static("4.0"));
    headers.insert("OData-Version", HeaderValue::from_static("4.0"));
    if method == Method::GET {
        // Dataverse may otherwise answer from a cache (S-COMPOSE).
        headers.insert("If-None-Match", HeaderValue::from_static("null"));
    }
    headers
}

fn build_http_client(config: &ClientConfig) -> Result<reqwest::Client> {
    crate::runtime::install_crypto_provider();
    reqwest::Client::builder()
        .timeout(config.timeout)
        .connect_timeout(std::time::Duration::from_secs(30))
        .user_agent(concat!("crmsync/", env!("CARGO_PKG_VERSION")))
        .pool_max_idle_per_host(64)
        .build()
        .map_err(|e| Error::internal(format!("could not build the HTTP client: {}", describe_transport_error(&e))))
}
