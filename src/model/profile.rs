//! The email server profile as this product reads it, and how the "Microsoft Exchange
//! Online" profile is recognised (dataverse-reference §1.2).

use super::{int, text};
use serde::Serialize;
use serde_json::Value;

pub const EXCHANGE_ONLINE_NAME: &str = "Microsoft Exchange Online";
/// servertype 0 is shown as "Exchange Online" in online orgs; 2 = server-to-server auth.
const SERVER_TYPE_EXCHANGE: i64 = 0;
const CREDENTIALS_SERVER_TO_SERVER: i64 = 2;

pub const COLUMNS: &[&str] = &[
    "emailserverprofileid",
    "name",
    "servertype",
    "emailservertypename",
    "statecode",
    "statuscode",
    "incomingcredentialretrieval",
    "outgoingcredentialretrieval",
];

#[derive(Debug, Clone, Serialize)]
pub struct EmailServerProfile {
    pub profile_id: String,
    pub name: Option<String>,
    pub server_type: Option<i64>,
    pub server_type_name: Option<String>,
    pub state: super::options::Name,
    pub incoming_credential_retrieval: Option<i64>,
    pub is_exchange_online: bool,
    pub is_default: bool,
}

impl EmailServerProfile {
    pub fn from_row(row: &Value, default_profile_id: Option<&str>) -> Option<Self> {
        let profile_id = text(row, "emailserverprofileid")?;
        let name = text(row, "name");
        let server_type = int(row, "servertype");
        let credentials = int(row, "incomingcredentialretrieval");
        let is_exchange_online = name.as_deref() == Some(EXCHANGE_ONLINE_NAME)
            || (server_type == Some(SERVER_TYPE_EXCHANGE) && credentials == Some(CREDENTIALS_SERVER_TO_SERVER));
        let profile = EmailServerProfile {
            is_default: false,
            profile_id,
            name,
            server_type,
            server_type_name: text(row, "emailservertypename"),
            state: super::options::STATE.name(int(row, "statecode")),
            incoming_credential_retrieval: credentials,
            is_exchange_online,
        };
        Some(profile.with_default(default_profile_id))
    }

    /// This profile, marked as the organization's default when `default_profile_id` is its id
    /// (the organization row names the default; profiles are read apart from it).
    pub fn with_default(mut self, default_profile_id: Option<&str>) -> Self {
        self.is_default = default_profile_id.is_some_and(|d| d.eq_ignore_ascii_case(&self.profile_id));
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exchange_online_is_found_by_name_or_by_type_and_credentials() {
        let by_name = serde_json::json!({"emailserverprofileid": "A", "name": EXCHANGE_ONLINE_NAME, "servertype": 0, "statecode": 0});
        let renamed = serde_json::json!({"emailserverprofileid": "b", "name": "EXO (renamed)", "servertype": 0, "incomingcredentialretrieval": 2, "statecode": 1});
        let pop = serde_json::json!({"emailserverprofileid": "c", "name": "POP", "servertype": 1, "incomingcredentialretrieval": 1, "statecode": 0});
        assert!(EmailServerProfile::from_row(&by_name, Some("a")).unwrap().is_default);
        let renamed = EmailServerProfile::from_row(&renamed, None).unwrap();
        assert!(renamed.is_exchange_online);
        assert_eq!(renamed.state, "Inactive");
        assert!(!EmailServerProfile::from_row(&pop, None).unwrap().is_exchange_online);
    }
}
