//! National (sovereign) clouds: which Microsoft Entra authority issues tokens for an
//! organization.
//!
//! Dataverse host suffixes per cloud, as Microsoft lists them:
//! - Public and GCC: `*.crm[N].dynamics.com`; GCC environments are on `crm9.dynamics.com`
//!   ("North America 2 (GCC)") and sign in at the public authority.
//! - GCC High: `*.crm.microsoftdynamics.us`; DoD: `*.crm.appsplatform.us`; both sign in at
//!   `https://login.microsoftonline.us`.
//! - China (operated by 21Vianet): `*.crm.dynamics.cn`, signing in at `https://login.chinacloudapi.cn`.
//!
//! Sources: "Power Apps US Government" (learn.microsoft.com/power-platform/admin/powerapps-us-government,
//! the service URL table for GCC, GCC High and DoD); Microsoft's Dataverse ServiceClient / XrmTooling
//! discovery-server list (`disco.crm9.dynamics.com` = "North America 2 (GCC)",
//! `disco.crm.microsoftdynamics.us` = "US Gov High", `disco.crm.appsplatform.us` = "US Gov DoD",
//! `disco.crm.dynamics.cn` = "China"); Entra national-cloud authorities
//! (learn.microsoft.com/entra/identity-platform/authentication-national-cloud).

use crate::error::{Error, Result};

/// The authority of the public cloud (and GCC).
pub const PUBLIC_AUTHORITY: &str = "https://login.microsoftonline.com";
/// GCC High and DoD.
pub const US_GOVERNMENT_AUTHORITY: &str = "https://login.microsoftonline.us";
/// China, operated by 21Vianet.
pub const CHINA_AUTHORITY: &str = "https://login.chinacloudapi.cn";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cloud {
    Public,
    /// GCC High.
    UsGov,
    /// Department of Defense.
    UsGovDoD,
    China,
}

impl Cloud {
    pub fn parse(text: &str) -> Result<Cloud> {
        match text.trim().to_ascii_lowercase().as_str() {
            "public" | "commercial" | "gcc" => Ok(Cloud::Public),
            "usgov" | "usgovhigh" | "gcchigh" => Ok(Cloud::UsGov),
            "usgovdod" | "dod" => Ok(Cloud::UsGovDoD),
            "china" => Ok(Cloud::China),
            _ => Err(Error::invalid(format!("cloud '{text}' is not known: use Public, USGov (GCC High), USGovDoD or China."))),
        }
    }

    pub fn authority_host(self) -> &'static str {
        match self {
            Cloud::Public => PUBLIC_AUTHORITY,
            Cloud::UsGov | Cloud::UsGovDoD => US_GOVERNMENT_AUTHORITY,
            Cloud::China => CHINA_AUTHORITY,
        }
    }

    /// The cloud an organization URL belongs to; unknown hosts (a simulator, a custom domain)
    /// are treated as the public cloud.
    pub fn from_org_host(host: &str) -> Cloud {
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        let under = |suffix: &str| host == suffix || host.ends_with(&format!(".{suffix}"));
        if under("crm.microsoftdynamics.us") {
            Cloud::UsGov
        } else if under("crm.appsplatform.us") {
            Cloud::UsGovDoD
        } else if under("crm.dynamics.cn") {
            Cloud::China
        } else {
            Cloud::Public
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn org_hosts_map_to_their_authority() {
        let host = |h: &str| Cloud::from_org_host(h).authority_host();
        assert_eq!(host("contoso.crm.dynamics.com"), "https://login.microsoftonline.com");
        assert_eq!(host("contoso.crm4.dynamics.com"), "https://login.microsoftonline.com");
        assert_eq!(host("contoso.crm9.dynamics.com"), "https://login.microsoftonline.com", "GCC signs in at the public authority");
        assert_eq!(host("contoso.crm.microsoftdynamics.us"), "https://login.microsoftonline.us");
        assert_eq!(host("contoso.crm.appsplatform.us"), "https://login.microsoftonline.us");
        assert_eq!(host("contoso.crm.dynamics.cn"), "https://login.chinacloudapi.cn");
        assert_eq!(host("contoso.crm.dynamics.cn.evil.test"), "https://login.microsoftonline.com");
        assert_eq!(host("127.0.0.1"), "https://login.microsoftonline.com");
    }

    #[test]
    fn cloud_names_parse() {
        assert_eq!(Cloud::parse("USGov").unwrap(), Cloud::UsGov);
        assert_eq!(Cloud::parse("usgovdod").unwrap(), Cloud::UsGovDoD);
        assert_eq!(Cloud::parse("China").unwrap(), Cloud::China);
        assert_eq!(Cloud::parse("Public").unwrap(), Cloud::Public);
        assert!(Cloud::parse("Germany").is_err());
    }
}
