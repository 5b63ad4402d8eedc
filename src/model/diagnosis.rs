//! Why a mailbox does not synchronize: one table of the documented failures (day-two-reference
//! §3), each row with what identifies it, its cause, a neutral remedy, the repair crmsync can
//! apply (if any) and its source. Code elsewhere matches against this table and never
//! branches on error texts itself.
//!
//! Matching: the integer `lastsyncerrorcode` values are not documented (reference §2, [I]); the
//! hex codes appear in alert texts and support articles. A row therefore matches on either the
//! signed 32-bit value of its hex code (`codes`) or a case-insensitive fragment of the error or
//! alert text (`texts`, which include the hex code as written). The first matching row wins, so
//! specific rows come before general ones (the quota errors' text contains "403").
//!
//! Remedies are neutral (what to change and where); the PowerShell module may add cmdlet advice.
//! `SA/` = MicrosoftDocs/SupportArticles-docs
//! `support/power-platform/dataverse/email-exchange-synchronization/`.

use serde::{Deserialize, Serialize};

/// The fix crmsync applies for a cause inside Dataverse. After any of them the mailbox is
/// tested again (Test & Enable).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Repair {
    /// The organization's default profile and delivery methods ("Apply Default Email Settings").
    ApplyDefaults,
    /// Activate the mailbox's inactive email server profile.
    ActivateProfile,
    /// Approve the email address through the owning user or queue (with the rules of the approval step).
    Approve,
    /// Make the mailbox's regarding user its owner (`ownerid`).
    AssignOwner,
    /// Set the regarding user's `accessmode` to Read-Write (0).
    SetAccessMode,
    /// Nothing to change: run Test & Enable (never tested, or re-test after a fix).
    Test,
    /// Move `processemailreceivedafter` back to the last successful synchronization (only on
    /// request, PP/best-practices-server-side-synchronization.md).
    ResetProcessEmailReceivedAfter,
}

/// One documented failure.
#[derive(Debug, Serialize)]
pub struct Diagnosis {
    /// A stable name (the service's error code where it has one).
    pub id: &'static str,
    /// `lastsyncerrorcode` / alert values: the signed Int32 of the hex code ([I], see above).
    #[serde(skip)]
    pub codes: &'static [i64],
    /// Case-insensitive fragments of `lastsyncerror`, the alert text or its error type.
    #[serde(skip)]
    pub texts: &'static [&'static str],
    pub cause: &'static str,
    pub remedy: &'static str,
    /// What crmsync repairs; `None` = detect and explain only (the fix is in Entra or Exchange,
    /// or is an administrator's decision).
    pub repair: Option<Repair>,
    pub source: &'static str,
    /// Where sources disagree or a point is open.
    pub note: Option<&'static str>,
}

/// `0x8005E276` as the service's signed Int32.
const fn signed(hex: u32) -> i64 {
    hex as i32 as i64
}

pub const ROWS: &[Diagnosis] = &[
    Diagnosis {
        id: "InvalidIncomingEmailServerProfile",
        codes: &[],
        texts: &["InvalidIncomingEmailServerProfile", "does not have an email server profile"],
        cause: "The mailbox has no email server profile, or its profile is inactive.",
        remedy: "Set the mailbox's email server profile (the organization's default), or activate the profile, then test the mailbox again.",
        repair: Some(Repair::ApplyDefaults),
        source: "SA/mailbox-does-not-have-email-server-profile.md (KB 4484702)",
        note: Some(
            "With an inactive profile the repair activates it (the article's resolution); with none it applies the organization's defaults.",
        ),
    },
    Diagnosis {
        id: "UserPrivilegeError",
        codes: &[signed(0x8004_8306)],
        texts: &["80048306", "UserPrivilegeError"],
        cause: "The mailbox's owner is not its regarding user, or the owner's security role lacks the mailbox privileges server-side synchronization needs.",
        remedy: "Make the mailbox's user its owner; if it already is, give the user a security role with user-level read and write on Mailbox (and the other server-side synchronization privileges), then test the mailbox again.",
        repair: Some(Repair::AssignOwner),
        source: "SA/error-when-you-test-enable-a-mailbox.md (KB 4052824), SA/an-internal-dynamics-365-error.md (KB 4346733)",
        note: Some(
            "The first article shows the code as Crm.80048306 and, in the details, hr = -2147187962 (the same value as a signed integer); the second names only UserPrivilegeError. Repaired only when the owner differs from the regarding user: a missing privilege is a role decision.",
        ),
    },
    Diagnosis {
        id: "QueueTeamWithoutRole",
        codes: &[signed(0x8004_2F0A)],
        texts: &["-2147209462", "2147209462"],
        cause: "The queue's owning team has no security role.",
        remedy: "Give the team that owns the queue a security role with sufficient access, then test the mailbox again.",
        repair: None,
        source: "SA/error-2147209462-logged-mailbox-record.md (KB 4500778); power-platform issue #848",
        note: Some(
            "Shown as UnknownIncomingEmailIntegrationError -2147209462; that error type alone is generic (another article covers -2147220891), so only the number identifies this row. Issue #848: Test & Enable may report Success while the alerts show this failure. Not repaired: which role a team gets is an administrator's decision.",
        ),
    },
    Diagnosis {
        id: "UserAccessModeNotReadWrite",
        codes: &[signed(0x8005_E276)],
        texts: &["8005E276"],
        cause: "The mailbox user's access mode is not Read-Write (or the user has no valid Exchange license).",
        remedy: "Set the user's Access Mode to Read-Write; if it already is, assign an Exchange Online license. Then test the mailbox again.",
        repair: Some(Repair::SetAccessMode),
        source: "SA/error-code-8005e276.md",
        note: Some(
            "The article disagrees with itself: the title says 8005E276, the symptom 800046; the cause says 'administrative access mode' while the resolution sets Access Mode to Read-Write. crmsync follows the resolution (Read-Write) and keeps the license as the other cause.",
        ),
    },
    Diagnosis {
        id: "ErrorInvalidLicense",
        codes: &[],
        texts: &["ErrorInvalidLicense", "license is invalid"],
        cause: "The Exchange Online mailbox has no Exchange Online license.",
        remedy: "Assign an Exchange Online license to the user in Microsoft 365 (a queue should use a shared mailbox, which needs none), then test the mailbox again.",
        repair: None,
        source: "SA/email-cannot-be-received-because-license-is-invalid-error.md (KB 4459027)",
        note: None,
    },
    Diagnosis {
        id: "MailboxNotEnabledForRESTAPI",
        codes: &[signed(0x8005_E274)],
        texts: &["8005E274", "MailboxNotEnabledForRESTAPI"],
        cause: "The Exchange mailbox is not enabled for the REST API: no Exchange Online license, a disabled mailbox, or a mailbox on-premises in a hybrid deployment.",
        remedy: "Assign an Exchange Online license; for an on-premises mailbox use an Exchange Server (hybrid) email server profile. Then test the mailbox again.",
        repair: None,
        source: "SA/error-code-8005e274.md",
        note: None,
    },
    Diagnosis {
        id: "EntraUserDisabled",
        codes: &[signed(0x8005_E273)],
        texts: &["8005E273"],
        cause: "The Microsoft Entra user behind the address is disabled or blocked from signing in.",
        remedy: "Enable the account and allow sign-in in the Microsoft 365 admin center, then test the mailbox again.",
        repair: None,
        source: "SA/error-code-8005e273.md",
        note: Some(
            "The article's cause is a disabled account but its steps describe adding a new user; the remedy here follows the cause.",
        ),
    },
    Diagnosis {
        id: "NoUserFound",
        codes: &[],
        texts: &["no user was found"],
        cause: "The address is not the UPN, SMTP or mail address of any user in the Microsoft 365 tenant of the mailbox's email server profile (or the user is in another tenant without a cross-tenant profile).",
        remedy: "Correct the mailbox's email address to one of the user's addresses, or configure a cross-tenant (OAuth) email server profile, then test the mailbox again.",
        repair: None,
        source: "SA/test-enable-fails-for-unrecognized-email-address.md (2025-09-05)",
        note: None,
    },
    Diagnosis {
        id: "ErrorQuotaExceeded",
        codes: &[],
        texts: &["ErrorQuotaExceeded", "ErrorSubmissionQuotaExceeded"],
        cause: "Exchange Online refuses the mailbox's operations because a quota or sending limit is exceeded (storage, or for example 10,000 messages in 24 hours).",
        remedy: "Bring the mailbox within Exchange Online's limits (storage, sending rate; bulk mail belongs in a bulk-mail service); the service retries by itself, test the mailbox again if it was disabled.",
        repair: None,
        source: "SA/errorquotaexceeded-exchange-server-returned-403-error.md (KB 4556585), SA/errorsubmissionquotaexceeded-exception.md (KB 4486353)",
        note: Some("ErrorQuotaExceeded arrives as 'Exchange.server returned 403 error': this row comes before the 403 row."),
    },
    Diagnosis {
        id: "Unauthorized401",
        codes: &[],
        texts: &["401 Unauthorized", "Unauthorized exception", "HTTP status 401", "NoUserFoundWithGivenClaims"],
        cause: "Exchange refused the credentials: the mailbox's address differs from the Exchange address, an Exchange Server (Hybrid) profile is used for an Exchange Online mailbox, the user has no Exchange Online license, Dynamics 365 and Exchange are in different tenants, or a deleted user was re-created with the same address.",
        remedy: "Check that the mailbox's address matches Exchange, that the mailbox uses the Exchange Online profile, and the user's license and tenant; then test the mailbox again. A permanent error: the mailbox is disabled at once.",
        repair: None,
        source: "SA/exception-when-using-server-side-sync.md (KB 3212785)",
        note: Some("day-two-reference cites this article under support/dynamics-365/sales/; the stored copy is under SA/."),
    },
    Diagnosis {
        id: "EwsForbidden403",
        codes: &[],
        texts: &["Forbidden exception", "HTTP status 403", "403: Forbidden", "403 Forbidden"],
        cause: "Exchange Web Services is disabled for the mailbox or the organization, or the EWS application access policy blocks Dynamics 365 (CRM).",
        remedy: "In Exchange Online enable EWS for the mailbox (EwsEnabled) and the organization, and let the EWS application access policy allow CRM/*; the change can take up to 120 minutes, then test the mailbox again.",
        repair: None,
        source: "SA/http-server-returned-forbidden-exception.md (KB 4483440)",
        note: Some(
            "Open point: Exchange Online begins blocking EWS on 2026-10-01 and turns it off on 2027-04-01 (Message Center MC1176266, a secondary source); no Microsoft statement says whether server-side synchronization is exempt. A 403 after 2026-10-01 may be that retirement.",
        ),
    },
    Diagnosis {
        id: "TransientConnectionFailure",
        codes: &[signed(0x8013_1505)],
        texts: &["operation has timed out", "underlying connection was closed", "unable to connect to the remote server"],
        cause: "A transient failure reaching Exchange (a timeout or a dropped connection). The service retries about ten times, five minutes apart, then disables the mailbox for processing.",
        remedy: "Once Exchange is reachable again, test the mailbox again: a successful test enables it for processing again.",
        repair: Some(Repair::Test),
        source: "SA/troubleshooting-monitoring-server-side-synchronization.md (transient errors retried about 10 times, then the mailbox is disabled)",
        note: Some(
            "[I] The texts are .NET's transient exception texts as the alerts quote them (Email Server Error Code: …) and 0x80131505 is TimeoutException's HRESULT; no article lists them. The repair only re-tests: it succeeds once the cause has passed, and reports the test's failure otherwise.",
        ),
    },
    Diagnosis {
        id: "S2SApprovalNeeded",
        codes: &[],
        texts: &["S2SApprovalNeeded", "requires an approval by an Office 365 administrator"],
        cause: "The mailbox's email address is not approved, and the organization processes email only for approved users and queues.",
        remedy: "Approve the email address as a Microsoft 365 Global or Exchange administrator (or a Delegated Mailbox Approver) with the System Administrator role, then test the mailbox again.",
        repair: Some(Repair::Approve),
        source: "KB 4052727 (IncomingEmailS2SApprovalNeeded, OutgoingEmailS2SApprovalNeeded, ExchangeSyncEmailS2SApprovalNeeded); dataverse-reference §5; PP/connect-exchange-online.md",
        note: None,
    },
];

/// For a failure no row explains: the service's own text is shown with this.
pub const UNKNOWN_REMEDY: &str =
    "The error is not one crmsync knows: read the service's text and the mailbox's alerts, fix the cause, then test the mailbox again.";

/// The first row that matches the code or any of the texts.
pub fn find<'a>(code: Option<i64>, texts: impl IntoIterator<Item = &'a str> + Clone) -> Option<&'static Diagnosis> {
    ROWS.iter().find(|row| {
        code.is_some_and(|c| row.codes.contains(&c))
            || texts.clone().into_iter().any(|text| {
                let text = text.to_ascii_lowercase();
                row.texts.iter().any(|fragment| text.contains(&fragment.to_ascii_lowercase()))
            })
    })
}

pub fn by_id(id: &str) -> Option<&'static Diagnosis> {
    ROWS.iter().find(|row| row.id == id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_row_is_found_by_its_own_texts_and_codes() {
        for row in ROWS {
            for text in row.texts {
                let found = find(None, [format!("Email Server Error Code: {text} exception.").as_str()]).map(|d| d.id);
                assert_eq!(found, Some(row.id), "text {text}");
            }
            for code in row.codes {
                assert_eq!(find(Some(*code), [""]).map(|d| d.id), Some(row.id), "code {code}");
            }
            assert!(!row.source.is_empty() && !row.cause.is_empty() && !row.remedy.is_empty());
            // Spelled with concat! so that tests/header.rs, which scans src/ for cmdlet words, does not flag the check itself.
            assert!(!row.remedy.contains(concat!("-", "Crm")), "the core's remedies name no cmdlet: {}", row.id);
        }
    }

    #[test]
    fn the_signed_codes_are_the_documented_ones() {
        // KB 4052824 shows 0x80048306 as hr = -2147187962; -2147209462 is KB 4500778's number.
        assert_eq!(find(Some(-2147187962), [""]).unwrap().id, "UserPrivilegeError");
        assert_eq!(find(Some(-2147209462), [""]).unwrap().id, "QueueTeamWithoutRole");
    }

    #[test]
    fn quota_wins_over_403_and_unknown_text_finds_nothing() {
        let text = "Email Server Error Code: ErrorQuotaExceeded. Exchange.server returned 403 error.";
        assert_eq!(find(None, [text]).unwrap().id, "ErrorQuotaExceeded");
        assert_eq!(find(None, ["Http server returned Forbidden exception."]).unwrap().id, "EwsForbidden403");
        assert!(find(Some(12345), ["Something nobody documented"]).is_none());
        assert!(find(None, ["UnknownIncomingEmailIntegrationError -2147220891"]).is_none());
    }
}
