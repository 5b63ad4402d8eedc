//! Who am I, and in which organization (WhoAmI + the organization row).

use crate::client::Client;
pub use crate::documents::Identity;
use crate::error::{Error, ErrorKind, Result};
use crate::model::text;

/// Who am I, asking the service (`Connect` and the C ABI's who-am-i: a sign-in check).
pub async fn who_am_i(client: &Client) -> Result<Identity> {
    identify(client, true).await
}

/// Who am I within a run: the connection's `WhoAmI` answer is reused (the steps of one run
/// ask several times); the organization row, whose default profile a run changes, is read.
pub async fn known(client: &Client) -> Result<Identity> {
    identify(client, false).await
}

/// The organization's id, from the connection's `WhoAmI` answer (no request once known).
pub async fn organization_id(client: &Client) -> Result<uuid::Uuid> {
    let who = client.api.who_am_i(false).await?;
    let id = text(&who, "OrganizationId").ok_or_else(|| Error::new(ErrorKind::Service, "WhoAmI answered without OrganizationId."))?;
    super::parse_guid(&id, "OrganizationId")
}

async fn identify(client: &Client, fresh: bool) -> Result<Identity> {
    let who = client.api.who_am_i(fresh).await?;
    let field = |name: &str| text(&who, name).ok_or_else(|| Error::new(ErrorKind::Service, format!("WhoAmI answered without {name}.")));
    let organization_id = field("OrganizationId")?;
    let org_id = super::parse_guid(&organization_id, "OrganizationId")?;
    let org = client.api.get(&format!("organizations({org_id})?$select=name,_defaultemailserverprofileid_value"), &[]).await?;
    Ok(Identity {
        user_id: field("UserId")?,
        business_unit_id: field("BusinessUnitId")?,
        organization_id,
        organization_name: text(&org, "name"),
        url: client.config.org_url.as_str().trim_end_matches('/').to_string(),
        default_email_server_profile_id: text(&org, "_defaultemailserverprofileid_value"),
    })
}
