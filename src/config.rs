//! The client configuration as it crosses the C ABI: a versioned JSON document.
//! Validation happens here, once, so that everything after it can trust the values.

use crate::auth::{ClientCertificate, Cloud, SigningAlgorithm, device_code, managed_identity};
use crate::error::{Error, Result};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use std::net::IpAddr;
use std::sync::Arc;
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
    /// The service-protection limits to pace against (defaults: the documented ones).
    #[serde(default)]
    limits: Option<crate::webapi::pacing::Limits>,
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
        #[serde(default)]
        cloud: Option<String>,
    },
    ClientCertificate {
        tenant_id: String,
        client_id: String,
        /// A .pfx/.p12 file, or a .pem file with the certificate and its unencrypted key.
        #[serde(default)]
        certificate_path: Option<String>,
        /// Password of the PFX (file or inline).
        #[serde(default)]
        certificate_password: Option<SecretString>,
        /// Inline PEM text (certificate + private key).
        #[serde(default)]
        certificate_pem: Option<SecretString>,
        /// Inline PFX, base64 (e.g. exported from the Windows certificate store).
        #[serde(default)]
        certificate_pfx_base64: Option<SecretString>,
        /// `PS256` (default) or `RS256`.
        #[serde(default)]
        signing_algorithm: Option<String>,
        #[serde(default)]
        authority_host: Option<String>,
        #[serde(default)]
        cloud: Option<String>,
    },
    ManagedIdentity {
        /// Client id of a user-assigned identity; absent = system-assigned.
        #[serde(default)]
        client_id: Option<String>,
        /// Base URL of the instance metadata service (default `http://169.254.169.254`).
        #[serde(default)]
        imds_endpoint: Option<String>,
        /// Overrides the `IDENTITY_ENDPOINT` / `IDENTITY_HEADER` environment variables.
        #[serde(default)]
        identity_endpoint: Option<String>,
        #[serde(default)]
        identity_header: Option<SecretString>,
    },
    DeviceCode {
        #[serde(default)]
        tenant_id: Option<String>,
        #[serde(default)]
        client_id: Option<String>,
        #[serde(default)]
        authority_host: Option<String>,
        #[serde(default)]
        cloud: Option<String>,
    },
}

pub enum Credential {
    AccessToken(SecretString),
    ClientSecret {
        tenant_id: String,
        client_id: String,
        client_secret: SecretString,
        authority_host: Url,
    },
    ClientCertificate {
        tenant_id: String,
        client_id: String,
        certificate: Arc<ClientCertificate>,
        algorithm: SigningAlgorithm,
        authority_host: Url,
    },
    ManagedIdentity {
        client_id: Option<String>,
        endpoint: managed_identity::Endpoint,
    },
    DeviceCode {
        tenant_id: String,
        client_id: String,
        authority_host: Url,
    },
}

impl Credential {
    pub fn kind_name(&self) -> &'static str {
        match self {
            Credential::AccessToken(_) => "AccessToken",
            Credential::ClientSecret { .. } => "ClientSecret",
            Credential::ClientCertificate { .. } => "ClientCertificate",
            Credential::ManagedIdentity { .. } => "ManagedIdentity",
            Credential::DeviceCode { .. } => "DeviceCode",
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
    pub limits: crate::webapi::pacing::Limits,
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
        let credential = credential(raw.credential, &org_url)?;
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
        })
    }

    pub fn api_base(&self) -> Url {
        self.org_url.join(API_PATH).expect("API_PATH is a valid relative URL")
    }
}

fn credential(raw: RawCredential, org_url: &Url) -> Result<Credential> {
    Ok(match raw {
        RawCredential::AccessToken { access_token } => Credential::AccessToken(access_token),
        RawCredential::ClientSecret { tenant_id, client_id, client_secret, authority_host, cloud } => {
            require_guid_or_domain(&tenant_id, "tenant_id")?;
            require_client_id(&client_id, "client_id")?;
            let authority_host = authority(authority_host.as_deref(), cloud.as_deref(), org_url)?;
            Credential::ClientSecret { tenant_id, client_id, client_secret, authority_host }
        }
        RawCredential::ClientCertificate {
            tenant_id,
            client_id,
            certificate_path,
            certificate_password,
            certificate_pem,
            certificate_pfx_base64,
            signing_algorithm,
            authority_host,
            cloud,
        } => {
            require_guid_or_domain(&tenant_id, "tenant_id")?;
            require_client_id(&client_id, "client_id")?;
            let authority_host = authority(authority_host.as_deref(), cloud.as_deref(), org_url)?;
            let algorithm = signing_algorithm.as_deref().map(SigningAlgorithm::parse).transpose()?.unwrap_or(SigningAlgorithm::Ps256);
            let certificate = match (certificate_path, certificate_pem, certificate_pfx_base64) {
                (Some(path), None, None) => ClientCertificate::from_file(std::path::Path::new(&path), certificate_password.as_ref())?,
                (None, Some(pem), None) => ClientCertificate::from_pem(pem.expose_secret().as_bytes())?,
                (None, None, Some(pfx)) => {
                    use base64::Engine;
                    let bytes = zeroize::Zeroizing::new(
                        base64::engine::general_purpose::STANDARD
                            .decode(pfx.expose_secret().trim())
                            .map_err(|_| Error::invalid("certificate_pfx_base64 is not valid base64."))?,
                    );
                    ClientCertificate::from_pfx(&bytes, certificate_password.as_ref().map(|p| p.expose_secret()).unwrap_or(""))?
                }
                _ => {
                    return Err(Error::invalid(
                        "A client_certificate credential needs exactly one of certificate_path, certificate_pem or certificate_pfx_base64.",
                    ));
                }
            };
            Credential::ClientCertificate { tenant_id, client_id, certificate: Arc::new(certificate), algorithm, authority_host }
        }
        RawCredential::ManagedIdentity { client_id, imds_endpoint, identity_endpoint, identity_header } => {
            if let Some(id) = &client_id {
                require_client_id(id, "client_id")?;
            }
            let imds = imds_endpoint.as_deref().map(|u| parse_local_endpoint(u, "imds_endpoint")).transpose()?;
            let identity = identity_endpoint.as_deref().map(|u| parse_local_endpoint(u, "identity_endpoint")).transpose()?;
            Credential::ManagedIdentity { client_id, endpoint: managed_identity::Endpoint::resolve(identity, identity_header, imds)? }
        }
        RawCredential::DeviceCode { tenant_id, client_id, authority_host, cloud } => {
            let tenant_id = tenant_id.unwrap_or_else(|| device_code::DEFAULT_TENANT.to_string());
            require_guid_or_domain(&tenant_id, "tenant_id")?;
            let client_id = client_id.unwrap_or_else(|| device_code::DEFAULT_PUBLIC_CLIENT_ID.to_string());
            require_client_id(&client_id, "client_id")?;
            let authority_host = authority(authority_host.as_deref(), cloud.as_deref(), org_url)?;
            Credential::DeviceCode { tenant_id, client_id, authority_host }
        }
    })
}

/// The Entra authority: `authority_host` if given, else the one of `cloud`, else derived from
/// the organization's host (see `auth::cloud`).
fn authority(authority_host: Option<&str>, cloud: Option<&str>, org_url: &Url) -> Result<Url> {
    if let Some(host) = authority_host {
        return parse_service_url(host, "authority_host");
    }
    let cloud = match cloud {
        Some(name) => Cloud::parse(name)?,
        None => Cloud::from_org_host(org_url.host_str().unwrap_or_default()),
    };
    parse_service_url(cloud.authority_host(), "authority_host")
}

fn require_client_id(client_id: &str, field: &str) -> Result<()> {
    uuid::Uuid::parse_str(client_id).map(|_| ()).map_err(|_| {
        Error::invalid(format!(
            "{field} '{client_id}' is not a GUID: use the Application (client) ID of the app registration or managed identity."
        ))
    })
}

/// Managed identity endpoints are local to the host and plain http by design: loopback
/// (Azure Automation, App Service) or the link-local metadata address 169.254.169.254.
fn parse_local_endpoint(text: &str, field: &str) -> Result<Url> {
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
        assert!(!err.to_json().to_string().contains("TOPSECRET"));
        let err = credential_of(
            "https://contoso.crm.dynamics.com",
            serde_json::json!({"kind": "client_certificate", "tenant_id": "contoso.onmicrosoft.com", "client_id": "5c2e8f6a-0d8e-4b51-9a7e-2f1c3b4d5e6f", "certificate_pfx_base64": "TOPSECRET!!", "certificate_password": "PASSWORD"}),
        )
        .err()
        .unwrap();
        assert!(!err.to_json().to_string().contains("TOPSECRET") && !err.to_json().to_string().contains("PASSWORD"));
    }
}
