//! What every HTTP conversation of the library shares, whoever it talks to (Dataverse,
//! Microsoft Entra, a managed identity endpoint): building the `reqwest` client over rustls,
//! the policy on which URLs a bearer token may travel to, and describing a transport failure
//! without leaking the URL's query. It sits below both `auth` and `webapi`.

use crate::error::{Error, Result};
use std::net::IpAddr;
use std::time::Duration;
use url::Url;

/// How one HTTP client is built. Every client of the library is built by `build_client`, so
/// a transport option (proxy, trusted CA) is added here once.
#[derive(Debug, Clone)]
pub struct HttpOptions {
    /// The whole request, connect to last byte.
    pub timeout: Duration,
    pub connect_timeout: Duration,
    /// The system and environment proxies are honoured unless this is false (endpoints local
    /// to the host, which a proxy would not reach).
    pub use_proxy: bool,
    /// Idle connections kept per host (bulk writes reuse them).
    pub max_idle_per_host: usize,
}

impl HttpOptions {
    /// A client for a service across the network (Dataverse, Entra).
    pub fn service(timeout: Duration) -> HttpOptions {
        HttpOptions { timeout, connect_timeout: Duration::from_secs(30), use_proxy: true, max_idle_per_host: 64 }
    }

    /// A client for an endpoint on this host (the managed identity endpoints): short
    /// timeouts and never through a proxy.
    pub fn host_local(connect_timeout: Duration, timeout: Duration) -> HttpOptions {
        HttpOptions { timeout, connect_timeout, use_proxy: false, max_idle_per_host: 4 }
    }
}

pub fn build_client(options: &HttpOptions) -> Result<reqwest::Client> {
    install_crypto_provider();
    let mut builder = reqwest::Client::builder()
        .timeout(options.timeout)
        .connect_timeout(options.connect_timeout)
        .user_agent(concat!("crmsync/", env!("CARGO_PKG_VERSION")))
        .pool_max_idle_per_host(options.max_idle_per_host);
    if !options.use_proxy {
        builder = builder.no_proxy();
    }
    builder.build().map_err(|e| Error::internal(format!("could not build the HTTP client: {}", describe_error(&e))))
}

/// reqwest is built without a default provider (aws-lc needs a C toolchain on every
/// platform); ring is installed as the process default the first time a client is made.
fn install_crypto_provider() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // Another library in the process may already have installed one: that is fine.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// The error and its causes on one line, without the URL (which may carry query values).
pub fn describe_error(error: &reqwest::Error) -> String {
    use std::error::Error as _;
    let mut text = error.to_string();
    if let Some(url) = error.url() {
        text = text.replace(&format!(" ({url})"), "").replace(url.as_str(), "<url>");
    }
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// Accepts `https://` anywhere and `http://` only for loopback (the simulator): a bearer token
/// must never travel in clear text over a network.
pub fn parse_service_url(text: &str, field: &str) -> Result<Url> {
    let mut url = Url::parse(text.trim()).map_err(|e| {
        Error::invalid(format!("{field} '{text}' is not a valid URL ({e}); expected e.g. https://contoso.crm.dynamics.com"))
    })?;
    let host = url.host_str().unwrap_or_default().to_owned();
    match url.scheme() {
        "https" => {}
        "http" if is_loopback(&host) => {}
        "http" => {
            return Err(Error::invalid(format!(
                "{field} '{text}' uses plain http: only https is allowed, except for a local simulator on 127.0.0.1/localhost."
            )));
        }
        other => return Err(Error::invalid(format!("{field} '{text}' has scheme '{other}': use https://."))),
    }
    if host.is_empty() || url.query().is_some() || url.fragment().is_some() {
        return Err(Error::invalid(format!("{field} '{text}' must be a plain organization root such as https://contoso.crm.dynamics.com")));
    }
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    Ok(url)
}

/// Managed identity endpoints are local to the host and plain http by design: loopback
/// (Azure Automation, App Service) or the link-local metadata address 169.254.169.254.
pub fn parse_local_endpoint(text: &str, field: &str) -> Result<Url> {
    let url = Url::parse(text.trim()).map_err(|e| Error::invalid(format!("{field} '{text}' is not a valid URL ({e}).")))?;
    let host = url.host_str().unwrap_or_default().trim_start_matches('[').trim_end_matches(']').to_string();
    let local = is_loopback(&host) || host.parse::<IpAddr>().is_ok_and(|ip| matches!(ip, IpAddr::V4(v4) if v4.is_link_local()));
    match url.scheme() {
        "https" => Ok(url),
        "http" if local => Ok(url),
        _ => Err(Error::invalid(format!(
            "{field} '{text}' must be https, or http on loopback or the link-local metadata address 169.254.169.254."
        ))),
    }
}

fn is_loopback(host: &str) -> bool {
    let trimmed = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost") || trimmed.parse::<IpAddr>().map(|ip| ip.is_loopback()).unwrap_or(false)
}
