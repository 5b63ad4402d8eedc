//! The client configuration as it crosses the C ABI: a versioned JSON document.
//! Validation happens here, once, so that everything after it can trust the values. The
//! credential inside it is parsed by `auth`, the service-protection limits by `webapi::pacing`.

use crate::auth::{Credential, CredentialDocument};
use crate::error::{Error, Result};
use crate::transport::{Transport, TransportDocument, parse_service_url};
use crate::webapi::pacing::Limits;
use serde::Deserialize;
use std::sync::Arc;
use std::time::Duration;
use url::Url;

const CONFIG_VERSION: u32 = 1;
/// The Web API version the product is written against (dataverse-reference §0).
pub const API_PATH: &str = "api/data/v9.2/";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    version: u32,
    url: String,
    credential: CredentialDocument,
    #[serde(default)]
    timeout_secs: Option<u64>,
    #[serde(default)]
    max_retries: Option<u32>,
    #[serde(default)]
    page_size: Option<u32>,
    /// The service-protection limits to pace against (defaults: the documented ones).
    #[serde(default)]
    limits: Option<Limits>,
    /// A CA to trust and an explicit proxy (see `transport::TransportDocument`).
    #[serde(default)]
    transport: Option<TransportDocument>,
}

pub struct ClientConfig {
    /// Organization root, e.g. `https://contoso.crm.dynamics.com/` (always ends with `/`).
    pub org_url: Url,
    pub credential: Credential,
    pub timeout: Duration,
    pub max_retries: u32,
    /// `Prefer: odata.maxpagesize`; 5000 is the service's maximum and default (S-PAGE).
    pub page_size: u32,
    pub limits: Limits,
    pub transport: Arc<Transport>,
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
        let credential = Credential::from_document(raw.credential, &org_url)?;
        let transport = Arc::new(Transport::from_document(raw.transport.unwrap_or_default())?);
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
            limits: raw.limits.unwrap_or_default(),
            transport,
        })
    }

    pub fn api_base(&self) -> Url {
        self.org_url.join(API_PATH).expect("API_PATH is a valid relative URL")
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::managed_identity;

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
        assert!(!crate::documents::to_value(crate::documents::ErrorDocument::from(&err)).to_string().contains("TOPSECRET"));
        let mistyped = br#"{"version":"TOPSECRET","url":"https://a.b","credential":{"kind":"access_token","access_token":"t"}}"#;
        let err = ClientConfig::from_json(mistyped).err().unwrap();
        assert!(err.message.contains("invalid type"), "{}", err.message);
        assert!(!err.message.contains("TOPSECRET"), "{}", err.message);
    }

    fn credential_of(url: &str, credential: serde_json::Value) -> Result<ClientConfig> {
        ClientConfig::from_value(serde_json::json!({"version": 1, "url": url, "credential": credential}))
    }

    fn authority_of(config: &ClientConfig) -> String {
        match &config.credential {
            Credential::ClientSecret { authority_host, .. } | Credential::DeviceCode { authority_host, .. } => authority_host.to_string(),
            _ => panic!("no authority"),
        }
    }

    #[test]
    fn the_authority_follows_the_organization_cloud_unless_overridden() {
        let device = serde_json::json!({"kind": "device_code"});
        let cases = [
            ("https://contoso.crm.dynamics.com", "https://login.microsoftonline.com/"),
            ("https://contoso.crm9.dynamics.com", "https://login.microsoftonline.com/"),
            ("https://contoso.crm.microsoftdynamics.us", "https://login.microsoftonline.us/"),
            ("https://contoso.crm.appsplatform.us", "https://login.microsoftonline.us/"),
            ("https://contoso.crm.dynamics.cn", "https://login.chinacloudapi.cn/"),
        ];
        for (url, authority) in cases {
            assert_eq!(authority_of(&credential_of(url, device.clone()).unwrap()), authority, "{url}");
        }
        let secret = |extra: serde_json::Value| {
            let mut c = serde_json::json!({"kind": "client_secret", "tenant_id": "contoso.onmicrosoft.com", "client_id": "5c2e8f6a-0d8e-4b51-9a7e-2f1c3b4d5e6f", "client_secret": "s"});
            for (k, v) in extra.as_object().unwrap() {
                c[k] = v.clone();
            }
            c
        };
        let cloud = credential_of("https://contoso.example.com", secret(serde_json::json!({"cloud": "China"}))).unwrap();
        assert_eq!(authority_of(&cloud), "https://login.chinacloudapi.cn/");
        let host =
            credential_of("https://contoso.crm.dynamics.cn", secret(serde_json::json!({"authority_host": "https://login.example.test"})))
                .unwrap();
        assert_eq!(authority_of(&host), "https://login.example.test/", "authority_host wins over the derived cloud");
        assert!(credential_of("https://contoso.crm.dynamics.com", secret(serde_json::json!({"cloud": "Mars"}))).is_err());
    }

    #[test]
    fn device_code_defaults_to_the_dataverse_public_client_and_organizations() {
        let config = credential_of("https://contoso.crm.dynamics.com", serde_json::json!({"kind": "device_code"})).unwrap();
        let Credential::DeviceCode { tenant_id, client_id, .. } = &config.credential else { panic!() };
        assert_eq!(tenant_id, "organizations");
        assert_eq!(client_id, "51f81489-12ee-4a9e-aaae-a2591f45987d");
    }

    #[test]
    fn managed_identity_endpoints_are_local_and_explicit_configuration_wins() {
        let ok = credential_of(
            "https://contoso.crm.dynamics.com",
            serde_json::json!({"kind": "managed_identity", "imds_endpoint": "http://127.0.0.1:1"}),
        )
        .unwrap();
        assert!(matches!(&ok.credential, Credential::ManagedIdentity { endpoint: managed_identity::Endpoint::Imds { .. }, .. }));
        assert!(
            credential_of(
                "https://contoso.crm.dynamics.com",
                serde_json::json!({"kind": "managed_identity", "imds_endpoint": "http://169.254.169.254"})
            )
            .is_ok()
        );
        let remote = credential_of(
            "https://contoso.crm.dynamics.com",
            serde_json::json!({"kind": "managed_identity", "imds_endpoint": "http://metadata.example.com"}),
        );
        assert!(remote.err().unwrap().message.contains("loopback"));
        let half = credential_of(
            "https://contoso.crm.dynamics.com",
            serde_json::json!({"kind": "managed_identity", "identity_endpoint": "http://127.0.0.1:1/msi/token"}),
        );
        assert!(half.is_err(), "an endpoint without its header is refused");
        let bad_id = credential_of("https://contoso.crm.dynamics.com", serde_json::json!({"kind": "managed_identity", "client_id": "x"}));
        assert!(bad_id.is_err());
    }

    #[test]
    fn certificate_errors_never_echo_the_inline_material() {
        let pem = "-----BEGIN PRIVATE KEY-----\nTOPSECRETKEYMATERIAL\n-----END PRIVATE KEY-----\n";
        let err = credential_of(
            "https://contoso.crm.dynamics.com",
            serde_json::json!({"kind": "client_certificate", "tenant_id": "contoso.onmicrosoft.com", "client_id": "5c2e8f6a-0d8e-4b51-9a7e-2f1c3b4d5e6f", "certificate_pem": pem}),
        )
        .err()
        .unwrap();
        assert_eq!(err.kind, crate::error::ErrorKind::InvalidArgument);
        assert!(!crate::documents::to_value(crate::documents::ErrorDocument::from(&err)).to_string().contains("TOPSECRET"));
        let err = credential_of(
            "https://contoso.crm.dynamics.com",
            serde_json::json!({"kind": "client_certificate", "tenant_id": "contoso.onmicrosoft.com", "client_id": "5c2e8f6a-0d8e-4b51-9a7e-2f1c3b4d5e6f", "certificate_pfx_base64": "TOPSECRET!!", "certificate_password": "PASSWORD"}),
        )
        .err()
        .unwrap();
        assert!(
            !crate::documents::to_value(crate::documents::ErrorDocument::from(&err)).to_string().contains("TOPSECRET")
                && !crate::documents::to_value(crate::documents::ErrorDocument::from(&err)).to_string().contains("PASSWORD")
        );
    }
}
