//! Credentials: the `credential` object of the client configuration as it arrives (a tagged
//! JSON object), and the validated `Credential` every token source is built from. Loading a
//! certificate (from a file, inline PEM or base64 PFX) happens here, once, at Connect time.

use super::cloud::Cloud;
use super::{ClientCertificate, SigningAlgorithm, device_code, managed_identity};
use crate::error::{Error, Result};
use crate::transport::{parse_local_endpoint, parse_service_url};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use std::sync::Arc;
use url::Url;

/// The `credential` object as the caller wrote it.
#[derive(Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum CredentialDocument {
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
        /// A GUID the caller gives the connections of one sign-in to several environments: they
        /// share the person's refresh token, so only the first prompts for a code.
        #[serde(default)]
        sign_in_group: Option<String>,
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
        sign_in_group: Option<uuid::Uuid>,
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

    /// Validates the document for the organization at `org_url` (whose host decides the
    /// cloud when neither `cloud` nor `authority_host` is given).
    pub fn from_document(document: CredentialDocument, org_url: &Url) -> Result<Credential> {
        Ok(match document {
            CredentialDocument::AccessToken { access_token } => Credential::AccessToken(access_token),
            CredentialDocument::ClientSecret { tenant_id, client_id, client_secret, authority_host, cloud } => {
                require_guid_or_domain(&tenant_id, "tenant_id")?;
                require_client_id(&client_id, "client_id")?;
                let authority_host = authority(authority_host.as_deref(), cloud.as_deref(), org_url)?;
                Credential::ClientSecret { tenant_id, client_id, client_secret, authority_host }
            }
            CredentialDocument::ClientCertificate {
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
                let certificate = load_certificate(certificate_path, certificate_password, certificate_pem, certificate_pfx_base64)?;
                Credential::ClientCertificate { tenant_id, client_id, certificate: Arc::new(certificate), algorithm, authority_host }
            }
            CredentialDocument::ManagedIdentity { client_id, imds_endpoint, identity_endpoint, identity_header } => {
                if let Some(id) = &client_id {
                    require_client_id(id, "client_id")?;
                }
                let imds = imds_endpoint.as_deref().map(|u| parse_local_endpoint(u, "imds_endpoint")).transpose()?;
                let identity = identity_endpoint.as_deref().map(|u| parse_local_endpoint(u, "identity_endpoint")).transpose()?;
                Credential::ManagedIdentity { client_id, endpoint: managed_identity::Endpoint::resolve(identity, identity_header, imds)? }
            }
            CredentialDocument::DeviceCode { tenant_id, client_id, authority_host, cloud, sign_in_group } => {
                let tenant_id = tenant_id.unwrap_or_else(|| device_code::DEFAULT_TENANT.to_string());
                require_guid_or_domain(&tenant_id, "tenant_id")?;
                let client_id = client_id.unwrap_or_else(|| device_code::DEFAULT_PUBLIC_CLIENT_ID.to_string());
                require_client_id(&client_id, "client_id")?;
                let authority_host = authority(authority_host.as_deref(), cloud.as_deref(), org_url)?;
                let sign_in_group = sign_in_group
                    .map(|g| {
                        uuid::Uuid::parse_str(&g).map_err(|_| {
                            Error::invalid(format!("credential.sign_in_group '{g}' is not a GUID."))
                                .with_remedy("Give the same GUID to every connection of one sign-in, or leave sign_in_group out.")
                        })
                    })
                    .transpose()?;
                Credential::DeviceCode { tenant_id, client_id, authority_host, sign_in_group }
            }
        })
    }
}

/// Exactly one of the three certificate sources.
fn load_certificate(
    path: Option<String>,
    password: Option<SecretString>,
    pem: Option<SecretString>,
    pfx_base64: Option<SecretString>,
) -> Result<ClientCertificate> {
    match (path, pem, pfx_base64) {
        (Some(path), None, None) => ClientCertificate::from_file(std::path::Path::new(&path), password.as_ref()),
        (None, Some(pem), None) => ClientCertificate::from_pem(pem.expose_secret().as_bytes()),
        (None, None, Some(pfx)) => {
            use base64::Engine;
            let bytes = zeroize::Zeroizing::new(
                base64::engine::general_purpose::STANDARD
                    .decode(pfx.expose_secret().trim())
                    .map_err(|_| Error::invalid("certificate_pfx_base64 is not valid base64."))?,
            );
            ClientCertificate::from_pfx(&bytes, password.as_ref().map(|p| p.expose_secret()).unwrap_or(""))
        }
        _ => Err(Error::invalid(
            "A client_certificate credential needs exactly one of certificate_path, certificate_pem or certificate_pfx_base64.",
        )),
    }
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

fn require_guid_or_domain(value: &str, field: &str) -> Result<()> {
    let ok = uuid::Uuid::parse_str(value).is_ok()
        || (!value.is_empty() && value.chars().all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-'));
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(format!("{field} '{value}' is neither a GUID nor a domain name such as contoso.onmicrosoft.com.")))
    }
}
