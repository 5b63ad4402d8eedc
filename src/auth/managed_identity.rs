//! Managed identity (dataverse-reference §11, S-AAMI): the platform hands out tokens over a local
//! endpoint, with no secret in the script.
//!
//! - Azure Automation, App Service, Functions: `GET $IDENTITY_ENDPOINT?resource=…&api-version=2019-08-01`
//!   with `X-IDENTITY-HEADER: $IDENTITY_HEADER` (and `client_id=` for a user-assigned identity).
//! - Azure VMs (and Arc-less hybrid hosts with IMDS): `GET http://169.254.169.254/metadata/identity/oauth2/token?api-version=2018-02-01&resource=…`
//!   with `Metadata: true`.
//!
//! Answer: `{access_token, expires_on (epoch seconds, string or number), resource, token_type}`.

use super::{AccessToken, BoxFuture, TokenSource};
use crate::error::{Error, ErrorKind, Result};
use crate::transport;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use url::Url;

pub const DEFAULT_IMDS: &str = "http://169.254.169.254";
const IMDS_PATH: &str = "metadata/identity/oauth2/token";
/// An absent endpoint must fail fast: a runbook outside Azure should not hang for minutes.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

/// Where tokens come from.
#[derive(Clone)]
pub enum Endpoint {
    /// `IDENTITY_ENDPOINT` + `IDENTITY_HEADER` (Azure Automation, App Service, Functions).
    Platform { url: Url, header: SecretString },
    /// The instance metadata service (base URL, e.g. `http://169.254.169.254/`).
    Imds { base: Url },
}

impl Endpoint {
    /// Explicit configuration wins; then the environment; then the VM's IMDS.
    pub fn resolve(identity_endpoint: Option<Url>, identity_header: Option<SecretString>, imds: Option<Url>) -> Result<Endpoint> {
        match (identity_endpoint, identity_header) {
            (Some(url), Some(header)) => return Ok(Endpoint::Platform { url, header }),
            (Some(_), None) | (None, Some(_)) => {
                return Err(Error::invalid("identity_endpoint and identity_header go together: give both or neither."));
            }
            (None, None) => {}
        }
        if let Some(base) = imds {
            return Ok(Endpoint::Imds { base });
        }
        match (std::env::var("IDENTITY_ENDPOINT"), std::env::var("IDENTITY_HEADER")) {
            (Ok(url), Ok(header)) if !url.trim().is_empty() && !header.is_empty() => {
                let url =
                    Url::parse(url.trim()).map_err(|_| Error::invalid("The IDENTITY_ENDPOINT environment variable is not a valid URL."))?;
                Ok(Endpoint::Platform { url, header: SecretString::from(header) })
            }
            _ => Ok(Endpoint::Imds { base: Url::parse(DEFAULT_IMDS).expect("valid") }),
        }
    }

    fn describe(&self) -> String {
        match self {
            Endpoint::Platform { url, .. } => format!("the managed identity endpoint {} (IDENTITY_ENDPOINT)", without_query(url)),
            Endpoint::Imds { base } => format!("the instance metadata service {}", without_query(base)),
        }
    }
}

fn without_query(url: &Url) -> String {
    let mut u = url.clone();
    u.set_query(None);
    u.to_string()
}

pub struct ManagedIdentitySource {
    http: reqwest::Client,
    endpoint: Endpoint,
    client_id: Option<String>,
    /// The organization URL without the trailing slash (the v1-style resource).
    resource: String,
}

impl ManagedIdentitySource {
    pub fn new(endpoint: Endpoint, client_id: Option<String>, org_url: &Url) -> Result<Self> {
        // Its own HTTP client: a short connect timeout, and never through a proxy (the
        // endpoints are local to the host; a proxy would not reach them).
        let http = transport::build_client(&transport::HttpOptions::host_local(CONNECT_TIMEOUT, REQUEST_TIMEOUT))?;
        Ok(ManagedIdentitySource { http, endpoint, client_id, resource: org_url.as_str().trim_end_matches('/').to_string() })
    }

    fn request(&self) -> reqwest::RequestBuilder {
        let (mut url, api_version) = match &self.endpoint {
            Endpoint::Platform { url, .. } => (url.clone(), "2019-08-01"),
            Endpoint::Imds { base } => (base.join(IMDS_PATH).expect("constant path"), "2018-02-01"),
        };
        {
            let mut query = url.query_pairs_mut();
            query.append_pair("api-version", api_version).append_pair("resource", &self.resource);
            if let Some(id) = &self.client_id {
                query.append_pair("client_id", id);
            }
        }
        let request = self.http.get(url).header("Metadata", "true");
        match &self.endpoint {
            Endpoint::Platform { header, .. } => request.header("X-IDENTITY-HEADER", header.expose_secret()),
            Endpoint::Imds { .. } => request,
        }
    }

    fn remedy(&self) -> String {
        let which = match &self.client_id {
            Some(id) => format!("the user-assigned managed identity with client id {id}"),
            None => "the system-assigned managed identity".to_string(),
        };
        format!(
            "Check that {which} is enabled for this Azure Automation account, App Service or VM (Identity blade), that the runbook runs in Azure (not on a hybrid worker without an identity), and that the identity's application (client) id is an application user with a security role in this Dataverse environment."
        )
    }
}

#[derive(Deserialize)]
struct MiToken {
    access_token: SecretString,
    #[serde(default)]
    expires_on: Option<serde_json::Value>,
    #[serde(default)]
    expires_in: Option<serde_json::Value>,
}

fn number(v: &serde_json::Value) -> Option<u64> {
    v.as_u64().or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
}

impl TokenSource for ManagedIdentitySource {
    fn fetch(&self) -> BoxFuture<'_, Result<AccessToken>> {
        Box::pin(async move {
            let response = self.request().send().await.map_err(|e| {
                Error::new(
                    ErrorKind::Transport,
                    format!(
                        "Could not reach {} to get a managed identity token: {}",
                        self.endpoint.describe(),
                        transport::describe_error(&e)
                    ),
                )
                .with_remedy(self.remedy())
            })?;
            let status = response.status();
            let body = response.bytes().await.unwrap_or_default();
            if !status.is_success() {
                let detail = serde_json::from_slice::<serde_json::Value>(&body)
                    .ok()
                    .and_then(|v| {
                        let text = v
                            .get("error_description")
                            .or_else(|| v.get("message"))
                            .or_else(|| v.get("error"))
                            .and_then(|m| m.as_str().map(str::to_string))?;
                        Some(text.lines().next().unwrap_or_default().trim().to_string())
                    })
                    .unwrap_or_else(|| format!("HTTP {}", status.as_u16()));
                let mut err =
                    Error::new(ErrorKind::Authentication, format!("The managed identity endpoint refused to issue a token ({detail})."))
                        .with_remedy(self.remedy());
                err.http_status = Some(status.as_u16());
                return Err(err);
            }
            let token: MiToken = serde_json::from_slice(&body).map_err(|_| {
                Error::new(ErrorKind::Authentication, "The managed identity endpoint answered without a usable access token.")
            })?;
            let now = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or_default();
            let lifetime = token
                .expires_on
                .as_ref()
                .and_then(number)
                .map(|on| on.saturating_sub(now))
                .or_else(|| token.expires_in.as_ref().and_then(number))
                .unwrap_or(300);
            Ok(AccessToken { secret: token.access_token, expires_at: Some(Instant::now() + Duration::from_secs(lifetime)) })
        })
    }

    fn can_renew(&self) -> bool {
        true
    }
}
