//! Who am I, and in which organization (WhoAmI + the organization row).

use crate::client::Client;
pub use crate::documents::Identity;
use crate::error::{Error, ErrorKind, Result};
use crate::model::text;

pub async fn who_am_i(client: &Client) -> Result<Identity> {
    let who = client.api.get("WhoAmI", &[]).await?;
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
