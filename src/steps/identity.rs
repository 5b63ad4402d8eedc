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
    organization_id_of(&client.api.who_am_i(false).await?)
}

/// The organization's id in a `WhoAmI` answer.
pub(crate) fn organization_id_of(who: &serde_json::Value) -> Result<uuid::Uuid> {
    let id = text(who, "OrganizationId").ok_or_else(|| Error::new(ErrorKind::Service, "WhoAmI answered without OrganizationId."))?;
    super::parse_guid(&id, "OrganizationId")
}

async fn identify(client: &Client, fresh: bool) -> Result<Identity> {
    let who = client.api.who_am_i(fresh).await?;
    let org_id = organization_id_of(&who)?;
    let org = client.api.get(&format!("organizations({org_id})?$select=name,_defaultemailserverprofileid_value"), &[]).await?;
    from_parts(client, &who, &org)
}

/// The identity from a `WhoAmI` answer and the organization row (its `name` and
/// `_defaultemailserverprofileid_value`, read with whatever other columns).
pub(crate) fn from_parts(client: &Client, who: &serde_json::Value, org: &serde_json::Value) -> Result<Identity> {
    let field = |name: &str| text(who, name).ok_or_else(|| Error::new(ErrorKind::Service, format!("WhoAmI answered without {name}.")));
    Ok(Identity {
        user_id: field("UserId")?,
        business_unit_id: field("BusinessUnitId")?,
        organization_id: field("OrganizationId")?,
        organization_name: text(org, "name"),
        url: client.config.org_url.as_str().trim_end_matches('/').to_string(),
        default_email_server_profile_id: text(org, "_defaultemailserverprofileid_value"),
    })
}
