//! Fixed identities of the simulated tenant and organization.
//!
//! Everything here is constant so tests (in this crate and in `crmsync`) can refer to the
//! principals without discovering them first. Seeded business rows (profiles, users, mailboxes,
//! queues) get ids derived from [`crate::SimConfig::seed`] instead.

/// Entra tenant id of the simulated environment (also the path segment of the token endpoint).
pub const TENANT_ID: &str = "8f3c2a1e-4b5d-4c6e-9f70-1a2b3c4d5e6f";
/// `organizationid` of the single organization row (also returned by WhoAmI).
pub const ORGANIZATION_ID: &str = "0b7d6c5e-1f2a-4e3b-8c4d-5e6f7a8b9c0d";
/// Display name of the organization row.
pub const ORG_NAME: &str = "Contoso Simulated";
/// Root business unit of the organization.
pub const BUSINESS_UNIT_ID: &str = "3e1f2a3b-4c5d-4e6f-8a7b-9c0d1e2f3a4b";
/// Name of the root business unit (FormattedValue of `_businessunitid_value`).
pub const BUSINESS_UNIT_NAME: &str = "contososim";

/// System Administrator who also satisfies the Microsoft 365 Global/Exchange admin condition.
pub const ADMIN_TOKEN: &str = "sim-token-admin";
/// System Administrator without the Microsoft 365 admin condition.
pub const SYSADMIN_TOKEN: &str = "sim-token-sysadmin";
/// A user with read privileges only.
pub const READER_TOKEN: &str = "sim-token-reader";
/// Always rejected with 401 "The access token is expired" (it belongs to the admin).
pub const EXPIRED_TOKEN: &str = "sim-token-expired";

/// `systemuserid` of the principal behind [`ADMIN_TOKEN`].
pub const ADMIN_USER_ID: &str = "a1000000-0000-4000-8000-000000000001";
/// `systemuserid` of the principal behind [`SYSADMIN_TOKEN`].
pub const SYSADMIN_USER_ID: &str = "a1000000-0000-4000-8000-000000000002";
/// `systemuserid` of the principal behind [`READER_TOKEN`].
pub const READER_USER_ID: &str = "a1000000-0000-4000-8000-000000000003";
/// `systemuserid` of the application user "crmsync-app" (tokens issued by the token endpoint).
pub const APP_USER_ID: &str = "a1000000-0000-4000-8000-000000000004";

/// Entra application (client) id accepted by the token endpoint; the application user's
/// `applicationid`.
pub const CLIENT_ID: &str = "5c2e8f6a-0d8e-4b51-9a7e-2f1c3b4d5e6f";
/// Client secret accepted by the token endpoint for [`CLIENT_ID`].
pub const CLIENT_SECRET: &str = "sim-client-secret";
/// `fullname` of the application user.
pub const APP_USER_NAME: &str = "crmsync-app";

/// Role names known to the simulator.
pub const ROLE_SYSTEM_ADMINISTRATOR: &str = "System Administrator";
/// Read-only role held by the reader principal.
pub const ROLE_READER: &str = "Email Configuration Reader";
/// Dataverse role that satisfies the approval condition without an M365 admin role.
pub const ROLE_DELEGATED_MAILBOX_APPROVER: &str = "Delegated Mailbox Approver";

/// Name of the seeded Exchange Online profile.
pub const EXO_PROFILE_NAME: &str = "Microsoft Exchange Online";
/// Name of the seeded active POP3/SMTP profile.
pub const POP3_PROFILE_NAME: &str = "Legacy POP3 Profile";
/// Name of the seeded inactive hybrid profile.
pub const HYBRID_PROFILE_NAME: &str = "Exchange Hybrid (retired)";

/// Initial `defaultemailsettings` of the organization.
pub const DEFAULT_EMAIL_SETTINGS: &str = "<EmailSettings><IncomingEmailDeliveryMethod>0</IncomingEmailDeliveryMethod><OutgoingEmailDeliveryMethod>1</OutgoingEmailDeliveryMethod><ACTDeliveryMethod>2</ACTDeliveryMethod><SomeOtherSetting>keep</SomeOtherSetting></EmailSettings>";

/// Exact text of the platform error when the caller may not approve an email address.
pub const APPROVAL_DENIED_MESSAGE: &str = "This email address can only be approved by a user with the Global Administrator or Exchange Administrator role in Office 365 or the Delegated Mailbox Approver role in Dynamics 365.";

/// Public client id accepted for device code sign-in (the Dataverse tools' well-known public
/// client; [`CLIENT_ID`] is accepted too).
pub const PUBLIC_CLIENT_ID: &str = "51f81489-12ee-4a9e-aaae-a2591f45987d";
/// Value the managed identity endpoint (`/msi/token`) expects in `X-IDENTITY-HEADER`
/// (what Azure Automation puts in `IDENTITY_HEADER`).
pub const MANAGED_IDENTITY_HEADER: &str = "sim-identity-header";
/// Client id of the (user-assigned) managed identity; tokens map to the application user.
pub const MANAGED_IDENTITY_CLIENT_ID: &str = "7d9e1c2b-3a4f-4b5c-8d6e-9f0a1b2c3d4e";
