//! What every HTTP conversation of the library shares, whoever it talks to (Dataverse,
//! Microsoft Entra, a managed identity endpoint): building the `reqwest` client over rustls,
//! the policy on which URLs a bearer token may travel to, and describing a transport failure
//! without leaking the URL's query. It sits below both `auth` and `webapi`.

use crate::error::{Error, Result};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;
use url::Url;

/// The `transport` member of the client configuration: a certificate authority to trust besides
/// the platform's (an HTTPS simulator, a TLS-inspecting proxy whose CA is not in the store) and
/// an explicit proxy. There is deliberately no option that turns certificate checks off.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct TransportDocument {
    /// A PEM file with one or more CA certificates, trusted in addition to the platform verifier.
    #[serde(default)]
    ca_file: Option<String>,
    /// `http://host:port` (or https://) of a proxy used for every request instead of the system
    /// and environment proxies; `NO_PROXY` still applies.
    #[serde(default)]
    proxy: Option<String>,
    #[serde(default)]
    proxy_username: Option<String>,
    #[serde(default)]
    proxy_password: Option<SecretString>,
}

/// The validated transport options (shared by every client of a connection).
#[derive(Default)]
pub struct Transport {
    extra_roots: Vec<reqwest::Certificate>,
    proxy: Option<ExplicitProxy>,
}

struct ExplicitProxy {
    url: Url,
    credentials: Option<(String, SecretString)>,
}

impl std::fmt::Debug for Transport {
    // The proxy password never appears, not even redacted-length.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transport")
            .field("extra_roots", &self.extra_roots.len())
            .field("proxy", &self.proxy.as_ref().map(|p| p.url.as_str()))
            .field("proxy_credentials", &self.proxy.as_ref().is_some_and(|p| p.credentials.is_some()))
            .finish()
    }
}

impl Transport {
    pub fn from_document(document: TransportDocument) -> Result<Transport> {
        let extra_roots = match document.ca_file.as_deref().map(str::trim).filter(|p| !p.is_empty()) {
            Some(path) => read_ca_file(path)?,
            None => Vec::new(),
        };
        let proxy = match document.proxy.as_deref().map(str::trim).filter(|p| !p.is_empty()) {
            Some(text) => Some(ExplicitProxy {
                url: parse_proxy_url(text)?,
                credentials: proxy_credentials(document.proxy_username, document.proxy_password)?,
            }),
            None if document.proxy_username.is_some() || document.proxy_password.is_some() => {
                return Err(Error::invalid(
                    "proxy_username/proxy_password were given without a proxy: give the proxy URL too (transport.proxy).",
                ));
            }
            None => None,
        };
        Ok(Transport { extra_roots, proxy })
    }
}

fn read_ca_file(path: &str) -> Result<Vec<reqwest::Certificate>> {
    let bytes = std::fs::read(path).map_err(|e| Error::invalid(format!("The certificate authority file '{path}' cannot be read: {e}.")))?;
    let certificates = reqwest::Certificate::from_pem_bundle(&bytes)
        .map_err(|e| Error::invalid(format!("The certificate authority file '{path}' is not a PEM certificate bundle: {e}.")))?;
    if certificates.is_empty() {
        return Err(Error::invalid(format!(
            "The certificate authority file '{path}' holds no PEM certificate (-----BEGIN CERTIFICATE-----)."
        )));
    }
    Ok(certificates)
}

fn parse_proxy_url(text: &str) -> Result<Url> {
    let url = Url::parse(text).map_err(|e| {
        Error::invalid(format!("The proxy '{text}' is not a valid URL ({e}); expected e.g. http://proxy.contoso.com:8080."))
    })?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none_or(str::is_empty) {
        return Err(Error::invalid(format!("The proxy '{}' must be an http:// or https:// URL with a host.", redact_userinfo(&url))));
    }
    if !url.username().is_empty() || url.password().is_some() {
        // Credentials in a URL end up in logs and error messages: they go in proxy_username/proxy_password.
        return Err(Error::invalid(format!(
            "The proxy URL '{}' carries a user name or password: give them as transport.proxy_username/proxy_password instead.",
            redact_userinfo(&url)
        )));
    }
    Ok(url)
}

fn redact_userinfo(url: &Url) -> String {
    let mut clean = url.clone();
    let _ = clean.set_username("");
    let _ = clean.set_password(None);
    clean.to_string()
}

fn proxy_credentials(username: Option<String>, password: Option<SecretString>) -> Result<Option<(String, SecretString)>> {
    match (username, password) {
        (None, None) => Ok(None),
        (Some(user), Some(password)) if !user.is_empty() && !user.contains(':') => Ok(Some((user, password))),
        (Some(user), Some(_)) if user.contains(':') => {
            Err(Error::invalid("The proxy user name may not contain ':' (Basic authentication)."))
        }
        _ => Err(Error::invalid("A proxy credential needs both a user name and a password.")),
    }
}

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
    /// Extra trusted CAs and an explicit proxy (from the client configuration).
    pub transport: Arc<Transport>,
}

impl HttpOptions {
    /// A client for a service across the network (Dataverse, Entra).
    pub fn service(timeout: Duration, transport: Arc<Transport>) -> HttpOptions {
        HttpOptions { timeout, connect_timeout: Duration::from_secs(30), use_proxy: true, max_idle_per_host: 64, transport }
    }

    /// A client for an endpoint on this host (the managed identity endpoints): short
    /// timeouts and never through a proxy.
    pub fn host_local(connect_timeout: Duration, timeout: Duration) -> HttpOptions {
        HttpOptions { timeout, connect_timeout, use_proxy: false, max_idle_per_host: 4, transport: Arc::default() }
    }
}

pub fn build_client(options: &HttpOptions) -> Result<reqwest::Client> {
    install_crypto_provider();
    let mut builder = reqwest::Client::builder()
        .timeout(options.timeout)
        .connect_timeout(options.connect_timeout)
        .user_agent(concat!("crmsync/", env!("CARGO_PKG_VERSION")))
        .pool_max_idle_per_host(options.max_idle_per_host);
    if !options.transport.extra_roots.is_empty() {
        // Merged with the platform verifier's roots (rustls-platform-verifier "extra roots").
        builder = builder.tls_certs_merge(options.transport.extra_roots.iter().cloned());
    }
    match (&options.transport.proxy, options.use_proxy) {
        (_, false) => builder = builder.no_proxy(),
        (Some(explicit), true) => {
            let mut proxy = reqwest::Proxy::all(explicit.url.as_str())
                .map_err(|e| Error::invalid(format!("The proxy '{}' cannot be used: {e}", explicit.url)))?
                .no_proxy(reqwest::NoProxy::from_env());
            if let Some((user, password)) = &explicit.credentials {
                proxy = proxy.basic_auth(user, password.expose_secret());
            }
            builder = builder.proxy(proxy);
        }
        // The system proxy settings and HTTPS_PROXY/HTTP_PROXY/NO_PROXY (reqwest's system-proxy).
        (None, true) => {}
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

/// Why a connection failed when retrying cannot help: the server's certificate was refused or
/// the proxy demands authentication. `None` for other (possibly transient) failures.
pub fn refusal(error: &reqwest::Error) -> Option<String> {
    let host = error.url().and_then(|u| u.host_str()).unwrap_or("the server").to_owned();
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(cause) = source {
        if let Some(tls) = rustls_error(cause) {
            return Some(certificate_refusal(&host, tls));
        }
        if cause.to_string().contains("proxy authorization required") {
            return Some(format!(
                "the proxy refused the connection to {host}: it demands authentication (HTTP 407 Proxy Authentication Required)"
            ));
        }
        source = cause.source();
    }
    None
}

/// The rustls error behind `cause`, looking through the `io::Error`s the TLS stream and the
/// connector wrap it in (their `source()` skips the wrapped error itself).
fn rustls_error<'a>(cause: &'a (dyn std::error::Error + 'static)) -> Option<&'a rustls::Error> {
    let mut current = cause;
    loop {
        if let Some(tls) = current.downcast_ref::<rustls::Error>() {
            return Some(tls);
        }
        current = current.downcast_ref::<std::io::Error>()?.get_ref()?;
    }
}

fn certificate_refusal(host: &str, error: &rustls::Error) -> String {
    use rustls::CertificateError as C;
    let reason = match error {
        rustls::Error::InvalidCertificate(C::UnknownIssuer) => {
            "it is issued by a certificate authority this computer does not trust".to_owned()
        }
        rustls::Error::InvalidCertificate(C::NotValidForName | C::NotValidForNameContext { .. }) => {
            format!("it is not valid for the host name {host}")
        }
        rustls::Error::InvalidCertificate(C::Expired | C::ExpiredContext { .. }) => "it has expired".to_owned(),
        rustls::Error::InvalidCertificate(C::Revoked) => "it has been revoked".to_owned(),
        rustls::Error::InvalidCertificate(C::BadSignature) => "its signature is not valid".to_owned(),
        other => other.to_string(),
    };
    format!("the TLS certificate of {host} was refused: {reason} ({error})")
}

/// The error and its causes on one line, without the URL (which may carry query values).
pub fn describe_error(error: &reqwest::Error) -> String {
    use std::error::Error as _;
    if let Some(refusal) = refusal(error) {
        return refusal;
    }
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
