//! What the steps of one procedure read once and share: who is signed in, the organization row
//! (its name and email settings) and the email server profiles. The whole procedure (`setup`)
//! reads it at its start and hands it to each step; a step started alone by its own export
//! reads what it needs itself.

use crate::client::Client;
use crate::documents::Identity;
use crate::error::Result;
use crate::model::organization::MailboxDefaults;
use crate::model::profile::EmailServerProfile;

pub struct Context {
    pub identity: Identity,
    /// The organization's email settings, with the row's etag (the defaults' PATCH is
    /// guarded by it).
    pub defaults: MailboxDefaults,
    /// Every profile, the default marked.
    pub profiles: Vec<EmailServerProfile>,
}

impl Context {
    /// `WhoAmI` (once per connection), then the organization row and the profiles at once.
    pub async fn read(client: &Client) -> Result<Context> {
        let who = client.api.who_am_i(false).await?;
        let org_id = super::identity::organization_id_of(&who)?;
        let (row, profiles) = tokio::try_join!(super::org_defaults::read_row(client, org_id), super::profiles::read_all(client))?;
        let identity = super::identity::from_parts(client, &who, &row)?;
        let defaults = super::org_defaults::from_row(org_id, &row);
        let default_id = defaults.server_profile_id.as_deref();
        let profiles = profiles.into_iter().map(|p| p.with_default(default_id)).collect();
        Ok(Context { identity, defaults, profiles })
    }

    /// One profile by id or exact name, from those read.
    pub fn profile(&self, id_or_name: &str) -> Result<EmailServerProfile> {
        super::profiles::pick(&self.profiles, id_or_name)
    }
}
