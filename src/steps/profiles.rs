//! Reading email server profiles (step: verify the "Microsoft Exchange Online" profile).

use crate::client::Client;
use crate::documents::ProfileQuery;
use crate::error::{Error, Result};
use crate::model::profile::{COLUMNS, EmailServerProfile};
use crate::webapi::odata::{Query, eq_string};

pub async fn list(client: &Client, query: &ProfileQuery) -> Result<Vec<EmailServerProfile>> {
    let identity = super::identity::known(client).await?;
    read(client, query, identity.default_email_server_profile_id.as_deref()).await
}

/// The profiles of `query`, `is_default` set for `default_id`.
async fn read(client: &Client, query: &ProfileQuery, default_id: Option<&str>) -> Result<Vec<EmailServerProfile>> {
    let mut q = Query::default().select(COLUMNS).order_by("name");
    if let Some(name) = &query.name {
        q = q.filter(eq_string("name", name));
    }
    let rows: Vec<serde_json::Value> = client.api.get_all(&q.to_path("emailserverprofiles"), &[]).await?;
    Ok(rows.iter().filter_map(|row| EmailServerProfile::from_row(row, default_id)).collect())
}

/// Every profile of the organization (an organization has a handful), none marked default:
/// the whole procedure reads them once, beside the organization row that names the default.
pub(crate) async fn read_all(client: &Client) -> Result<Vec<EmailServerProfile>> {
    read(client, &ProfileQuery { version: 1, name: None }, None).await
}

/// Accepts a profile id or an exact name, and returns the id.
pub async fn resolve_id(client: &Client, id_or_name: &str) -> Result<uuid::Uuid> {
    if let Ok(id) = uuid::Uuid::parse_str(id_or_name.trim()) {
        return Ok(id);
    }
    super::parse_guid(&find(client, id_or_name).await?.profile_id, "emailserverprofileid")
}

/// One profile by id or exact name, with its state. Its `is_default` is not read (false):
/// that needs the organization row, which the steps finding a profile read themselves.
pub async fn find(client: &Client, id_or_name: &str) -> Result<EmailServerProfile> {
    let found = match uuid::Uuid::parse_str(id_or_name.trim()) {
        Ok(_) => read_all(client).await?,
        Err(_) => read(client, &ProfileQuery { version: 1, name: Some(id_or_name.to_string()) }, None).await?,
    };
    pick(&found, id_or_name)
}

/// The one profile of `profiles` with this id or name. Names compare as the service's
/// `name eq '…'` does (case-insensitively, Dataverse's default collation), so picking from
/// every profile read once finds what asking the service by name would.
pub(crate) fn pick(profiles: &[EmailServerProfile], id_or_name: &str) -> Result<EmailServerProfile> {
    let found: Vec<&EmailServerProfile> = match uuid::Uuid::parse_str(id_or_name.trim()) {
        Ok(id) => profiles.iter().filter(|p| p.profile_id.eq_ignore_ascii_case(&id.to_string())).collect(),
        Err(_) => {
            let wanted = id_or_name.to_lowercase();
            profiles.iter().filter(|p| p.name.as_deref().is_some_and(|n| n.to_lowercase() == wanted)).collect()
        }
    };
    match found.as_slice() {
        [one] => Ok((*one).clone()),
        [] => Err(Error::not_found(format!("No email server profile is named '{id_or_name}'."))
            .with_remedy("List the email server profiles, then pass an exact name or the profile id.")
            .with_hint("list_profiles")),
        many => Err(Error::invalid(format!("{} email server profiles are named '{id_or_name}'; pass the profile id instead.", many.len()))),
    }
}
