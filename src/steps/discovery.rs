//! The environments the signed-in user can reach, from the Dataverse Global Discovery
//! Service (`GET {discovery}/api/discovery/v2.0/Instances`, OData v4.0). It is a separate
//! service with its own token audience: the connection's credential asks for a token for the
//! discovery host. Microsoft documents that it serves user (delegated) tokens; an application's
//! token is refused, and the error says that discovery needs a user's sign-in.

use crate::auth::Cloud;
use crate::client::Client;
use crate::documents::{Environment, EnvironmentQuery, EnvironmentsResult};
use crate::error::{Error, ErrorKind, Result};
use crate::model::{int, text};
use crate::transport::parse_service_url;
use serde_json::Value;

const INSTANCES_ROOT: &str = "api/discovery/v2.0/";

/// The Global Discovery Service of the cloud an organization host belongs to (Microsoft's
/// "Discover user organizations" table). GCC organizations (`*.crm9.dynamics.com`) have their own.
pub fn default_discovery_url(org_host: &str) -> &'static str {
    let host = org_host.trim_end_matches('.').to_ascii_lowercase();
    match Cloud::from_org_host(&host) {
        Cloud::UsGov => "https://globaldisco.crm.microsoftdynamics.us",
        Cloud::UsGovDoD => "https://globaldisco.crm.appsplatform.us",
        Cloud::China => "https://globaldisco.crm.dynamics.cn",
        Cloud::Public if host == "crm9.dynamics.com" || host.ends_with(".crm9.dynamics.com") => "https://globaldisco.crm9.dynamics.com",
        Cloud::Public => "https://globaldisco.crm.dynamics.com",
    }
}

pub async fn list(client: &Client, query: &EnvironmentQuery) -> Result<EnvironmentsResult> {
    let given = match &query.discovery_url {
        Some(url) => url.clone(),
        None => default_discovery_url(client.config.org_url.host_str().unwrap_or_default()).to_string(),
    };
    let root = parse_service_url(&given, "discovery_url")?;
    let base = root.join(INSTANCES_ROOT).map_err(|e| Error::invalid(format!("discovery_url '{given}': {e}")))?;
    let api = client.for_resource(&root, base)?;
    let body = api.get("Instances", &[]).await.map_err(|e| needs_user(e, client.config.credential.kind_name()))?;
    let rows = body
        .get("value")
        .and_then(Value::as_array)
        .ok_or_else(|| Error::new(ErrorKind::Service, "The discovery service answered without a list of instances (\"value\")."))?;
    let environments = rows.iter().map(environment).collect::<Result<Vec<_>>>()?;
    Ok(EnvironmentsResult { discovery_url: root.as_str().trim_end_matches('/').to_string(), environments })
}

/// A refused token (401 or 403: the references give neither for an application's token, so both
/// are read the same) becomes an error that says discovery needs a user's sign-in.
fn needs_user(error: Error, credential: &str) -> Error {
    if !matches!(error.kind, ErrorKind::Authentication | ErrorKind::PermissionDenied) {
        return error;
    }
    let signed_in = match credential {
        "ClientSecret" | "ClientCertificate" | "ManagedIdentity" => {
            format!("this connection signs in as an application ({credential}), which it does not accept")
        }
        _ => "the token was refused; an application's token (client credentials) is never accepted".to_string(),
    };
    Error {
        message: format!("The Global Discovery Service lists the environments of a signed-in user and needs a user (delegated) sign-in: {signed_in}. {}", error.message),
        remedy: Some(
            "Sign in as a user (the device code flow, or a user's access token for the discovery service) to list environments; an application connects to each environment by its URL.".into(),
        ),
        hint: Some("sign_in_as_user"),
        ..error
    }
}

/// Microsoft's OrganizationType (Web API reference, "OrganizationType EnumType", the type of
/// the discovery service's OrganizationDetail) as the Power Platform environment type the
/// non-production guard speaks of: 0 Customer and 4 Secondary are production instances, 5
/// CustomerTest and 6 CustomerFreeTest sandbox instances, 13 Developer, 9 TestDrive and 14
/// Trial trials, 12 Default. Any other value (support, preview, Teams, internal ones, or one
/// added later) is `None`: the type is not known, and a front end asks the administrator to
/// declare it.
pub fn environment_type(organization_type: Option<i64>) -> Option<&'static str> {
    match organization_type? {
        0 | 4 => Some("Production"),
        5 | 6 => Some("Sandbox"),
        13 => Some("Developer"),
        9 | 14 => Some("Trial"),
        12 => Some("Default"),
        _ => None,
    }
}

fn environment(row: &Value) -> Result<Environment> {
    let required = |name: &str| {
        text(row, name).ok_or_else(|| Error::new(ErrorKind::Service, format!("The discovery service listed an instance without {name}.")))
    };
    let state = match int(row, "State") {
        Some(0) => "Enabled".to_string(),
        Some(1) => "Disabled".to_string(),
        Some(other) => other.to_string(),
        None => "Unknown".to_string(),
    };
    Ok(Environment {
        url: required("Url")?.trim_end_matches('/').to_string(),
        api_url: text(row, "ApiUrl"),
        unique_name: required("UniqueName")?,
        url_name: text(row, "UrlName"),
        friendly_name: text(row, "FriendlyName"),
        state,
        version: text(row, "Version"),
        region: text(row, "Region"),
        organization_type: int(row, "OrganizationType"),
        environment_type: environment_type(int(row, "OrganizationType")).map(str::to_string),
        organization_id: text(row, "Id"),
        environment_id: text(row, "EnvironmentId"),
        tenant_id: text(row, "TenantId"),
        last_updated: text(row, "LastUpdated"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_cloud_has_its_discovery_service() {
        assert_eq!(default_discovery_url("contoso.crm4.dynamics.com"), "https://globaldisco.crm.dynamics.com");
        assert_eq!(default_discovery_url("agency.crm9.dynamics.com"), "https://globaldisco.crm9.dynamics.com");
        assert_eq!(default_discovery_url("agency.crm.microsoftdynamics.us"), "https://globaldisco.crm.microsoftdynamics.us");
        assert_eq!(default_discovery_url("agency.crm.appsplatform.us"), "https://globaldisco.crm.appsplatform.us");
        assert_eq!(default_discovery_url("contoso.crm.dynamics.cn"), "https://globaldisco.crm.dynamics.cn");
    }

    #[test]
    fn documented_organization_types_name_the_environment_type_and_others_stay_unknown() {
        assert_eq!(environment_type(Some(0)), Some("Production"));
        assert_eq!(environment_type(Some(4)), Some("Production"));
        assert_eq!(environment_type(Some(5)), Some("Sandbox"));
        assert_eq!(environment_type(Some(6)), Some("Sandbox"));
        assert_eq!(environment_type(Some(13)), Some("Developer"));
        assert_eq!(environment_type(Some(14)), Some("Trial"));
        assert_eq!(environment_type(Some(12)), Some("Default"));
        for unknown in [1, 2, 7, 15, 16, 99] {
            assert_eq!(environment_type(Some(unknown)), None, "{unknown}");
        }
        assert_eq!(environment_type(None), None);
    }

    #[test]
    fn a_refused_token_says_discovery_needs_a_user() {
        let refused = Error::new(ErrorKind::Authentication, "The service rejected a freshly issued access token.");
        let app = needs_user(refused.clone(), "ClientSecret");
        assert!(
            app.message.contains("user (delegated) sign-in") && app.message.contains("as an application (ClientSecret)"),
            "{}",
            app.message
        );
        assert_eq!(app.kind, ErrorKind::Authentication);
        assert!(needs_user(refused, "AccessToken").message.contains("application's token"));
        let other = needs_user(Error::new(ErrorKind::Transport, "timed out"), "ClientSecret");
        assert_eq!(other.message, "timed out", "other failures are left as they are");
    }

    #[test]
    fn an_instance_without_a_url_is_a_service_error() {
        let err = environment(&serde_json::json!({"UniqueName": "x", "State": 0})).unwrap_err();
        assert!(err.to_string().contains("without Url"), "{err}");
    }
}
