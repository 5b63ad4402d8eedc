//! The client configuration as it crosses the C ABI: a versioned JSON document.
//! Validation happens here, once, so that everything after it can trust the values.

use crate::error::{Error, Result};
use secrecy::SecretString;
use serde::Deserialize;
use std::net::IpAddr;
use std::time::Duration;
use url::Url;

const CONFIG_VERSION: u32 = 1;
/// The Web API version the product is written against (dataverse-reference §0).
pub const API_PATH: &str = "api/data/v9.2/";
pub const PUBLIC_AUTHORITY: &str = "https://login.microsoftonline.com";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    version: u32,
    url: String,
    credential: RawCredential,
    #[serde(default)]
    timeout_secs: Option<u64>,
    #[serde(default)]
    max_retries: Option<u32>,
    #[serde(default)]
    page_size: Option<u32>,
}

#[derive(Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
enum RawCredential {
    AccessToken {
        access_token: SecretString,
    },
    ClientSecret {
        tenant_id: String,
        client_id: String,
        client_secret: SecretString,
        #[serde(default)]
        authority_host: Option<String>,
    },
}

pub enum Credential {
    AccessToken(SecretString),
    ClientSecret { tenant_id: String, client_id: String, client_secret: SecretString, authority_host: Url },
}

impl Credential {
    pub fn kind_name(&self) -> &'static str {
        match self {
            Credential::AccessToken(_) => "AccessToken",
            Credential::ClientSecret { .. } => "ClientSecret",
        }
    }
}

pub struct ClientConfig {
    /// Organization root, e.g. `https://contoso.crm.dynamics.com/` (always ends with `/`).
    pub org_url: Url,
    pub credential: Credential,
    pub timeout: Duration,
    pub max_retries: u32,
    /// `Prefer: odata.maxpagesize`; 5000 is the service's maximum and default (S-PAGE).
    pub page_size: u32,
}

impl ClientConfig {
    pub fn from_json(bytes: &[u8]) -> Result<Self> {
        let value: serde_json::Value = serde_json::from_slice(bytes)
            .map_err(|e| Error::invalid(format!("The client configuration is not valid JSON: {}", redact_quoted(&e.to_string()))))?;
        Self::from_value(value)
    }

    pub fn from_value(value: serde_json::Value) -> Result<Self> {
        let raw: RawConfig = serde_json::from_value(value)
            .map_err(|e| Error::invalid(format!("The client configuration is not valid for crmsync: {}", redact_quoted(&e.to_string()))))?;
        if raw.version != CONFIG_VERSION {
            return Err(Error::invalid(format!(
                "The client configuration has version {}, this library understands version {CONFIG_VERSION}.",
                raw.version
            )));
        }
        let org_url = parse_service_url(&raw.url, "url")?;
        let credential = match raw.credential {
            RawCredential::AccessToken { access_token } => Credential::AccessToken(access_token),
            RawCredential::ClientSecret { tenant_id, client_id, client_secret, authority_host } => {
                require_guid_or_domain(&tenant_id, "tenant_id")?;
                uuid::Uuid::parse_str(&client_id).map_err(|_| {
                    Error::invalid(format!(
                        "client_id '{client_id}' is not a GUID: use the Application (client) ID of the app registration."
                    ))
                })?;
                let authority_host = parse_service_url(authority_host.as_deref().unwrap_or(PUBLIC_AUTHORITY), "authority_host")?;
                Credential::ClientSecret { tenant_id, client_id, client_secret, authority_host }
            }
        };
        let page_size = raw.page_size.unwrap_or(5000);
        if !(1..=5000).contains(&page_size) {
            return Err(Error::invalid(format!("page_size {page_size} is out of range: Dataverse pages hold 1 to 5000 rows.")));
        }
        Ok(ClientConfig {
            org_url,
            credential,
            timeout: Duration::from_secs(raw.timeout_secs.unwrap_or(120).clamp(1, 3600)),
            max_retries: raw.max_retries.unwrap_or(8).min(50),
            page_size,
        })
    }

    pub fn api_base(&self) -> Url {
        self.org_url.join(API_PATH).expect("API_PATH is a valid relative URL")
    }
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

/// serde_json quotes offending string values in its messages ("invalid type: string \"…\""),
/// and such a value may be a secret: keep the message, drop the quoted text.
fn redact_quoted(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut inside = false;
    for c in message.chars() {
        if c == '"' {
            if !inside {
                out.push_str("\"…\"");
            }
            inside = !inside;
        } else if !inside {
            out.push(c);
        }
    }
    out
}

fn is_loopback(host: &str) -> bool {
    let trimmed = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost") || trimmed.parse::<IpAddr>().map(|ip| ip.is_loopback()).unwrap_or(false)
}

fn require_guid_or_domain(value: &str, field: &str) -> Result<()> {
    let ok = uuid::Uuid::parse_str(value).is_ok()
        || (!value.is_empty() && value.chars().all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-'));
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(format!("{field} '{value}' is neither a GUID nor a domain name such as contoso.onmicrosoft.com.")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(url: &str) -> Result<ClientConfig> {
        ClientConfig::from_json(
            format!(r#"{{"version":1,"url":"{url}","credential":{{"kind":"access_token","access_token":"t"}}}}"#).as_bytes(),
        )
    }

    #[test]
    fn https_and_loopback_http_are_accepted() {
        assert_eq!(cfg("https://contoso.crm.dynamics.com").unwrap().api_base().as_str(), "https://contoso.crm.dynamics.com/api/data/v9.2/");
        assert!(cfg("http://127.0.0.1:8080").is_ok());
        assert!(cfg("http://localhost:1").is_ok());
        assert!(cfg("http://[::1]:1").is_ok());
    }

    #[test]
    fn plain_http_to_a_network_host_is_refused() {
        let err = cfg("http://contoso.crm.dynamics.com").err().unwrap();
        assert_eq!(err.kind, crate::error::ErrorKind::InvalidArgument);
        assert!(err.message.contains("only https"), "{}", err.message);
        assert!(cfg("ftp://x").is_err());
        assert!(cfg("https://contoso.crm.dynamics.com/?a=b").is_err());
    }

    #[test]
    fn unknown_fields_wrong_version_and_bad_ids_are_refused() {
        assert!(
            ClientConfig::from_json(
                br#"{"version":1,"url":"https://a.b","credential":{"kind":"access_token","access_token":"t"},"colour":1}"#
            )
            .is_err()
        );
        assert!(
            ClientConfig::from_json(br#"{"version":2,"url":"https://a.b","credential":{"kind":"access_token","access_token":"t"}}"#)
                .is_err()
        );
        let bad_client = br#"{"version":1,"url":"https://a.b","credential":{"kind":"client_secret","tenant_id":"contoso.onmicrosoft.com","client_id":"nope","client_secret":"s"}}"#;
        assert!(ClientConfig::from_json(bad_client).err().unwrap().message.contains("client_id"));
    }

    #[test]
    fn a_bad_config_error_never_echoes_the_secret() {
        let text = br#"{"version":1,"url":"https://a.b","credential":{"kind":"client_secret","tenant_id":"t t","client_id":"x","client_secret":"TOPSECRET"}}"#;
        let err = ClientConfig::from_json(text).err().unwrap();
        assert!(!err.to_json().to_string().contains("TOPSECRET"));
        let mistyped = br#"{"version":"TOPSECRET","url":"https://a.b","credential":{"kind":"access_token","access_token":"t"}}"#;
        let err = ClientConfig::from_json(mistyped).err().unwrap();
        assert!(err.message.contains("invalid type"), "{}", err.message);
        assert!(!err.message.contains("TOPSECRET"), "{}", err.message);
    }
}
