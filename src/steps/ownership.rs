//! Cross-environment ownership in a multi-environment setup. One Exchange mailbox synchronizes
//! with one Dataverse environment: Test & Enable in a second environment turns synchronization
//! off in the first (day-two-reference §5). So before writing, the setups of one run compare the
//! mailboxes each has already read for its own selection and leave out of each environment the
//! addresses another one owns. The selection read costs nothing extra: it selects the delivery
//! methods, `orgmarkedasprimaryforexchangesync`, `isactsyncorgflagset` and the test status.
//!
//! When the selection is every active mailbox (the default), each environment's read holds every
//! address it could own, and no further request is made. A narrower selection (names, addresses,
//! ids, a filter, a profile) may leave out of one environment's read the mailbox that owns an
//! address another environment selected; then each environment also reads, by address, the
//! addresses the others selected that its own read did not return (a few `emailaddress eq`
//! conditions per query, the URLs bounded like every identity read).

use super::exchange::Member;
use crate::client::Client;
use crate::documents::{AddressOwnership, Event, MailboxSelection, RefusedEvent};
use crate::error::Result;
use crate::model::mailbox::Mailbox;
use crate::operation::EventSink;
use std::collections::{HashMap, HashSet};

const SSS: &str = "ServerSideSync";

/// The address as environments compare it (Exchange addresses are not case-sensitive).
fn key(m: &Mailbox) -> Option<String> {
    m.email_address.as_deref().map(str::trim).filter(|a| a.contains('@')).map(str::to_lowercase)
}

/// An environment owns a mailbox's address when the mailbox uses server-side synchronization
/// (any delivery method) and holds the organization-primary flag or passed Test & Enable. The
/// one place of the rule: the listing sends it with every row (`ListedMailbox`), and the
/// PowerShell module's ownership report and refusal read it from there.
pub fn ownership(m: &Mailbox) -> AddressOwnership {
    let synchronized = m.incoming_email == SSS || m.outgoing_email == SSS || m.appointments_contacts_tasks == SSS;
    let primary = m.sync_with_this_org_only || m.act_sync_org_flag;
    AddressOwnership { synchronized, primary, owner: synchronized && (primary || m.mailbox_status == "Success") }
}

pub fn owns(m: &Mailbox) -> bool {
    ownership(m).owner
}

/// `selected` without the mailboxes whose address another member owns (a `refused` event each,
/// naming the owners), after the two rounds of the group.
pub async fn leave_out_owned_elsewhere(
    member: &mut Member,
    client: &Client,
    selection: &MailboxSelection,
    selected: Vec<Mailbox>,
    sink: &EventSink,
) -> Result<Vec<Mailbox>> {
    let mine: HashSet<String> = selected.iter().filter_map(key).collect();
    // Round 1: with a narrow selection, the addresses each selected, so every other one can
    // read those its own read missed.
    let narrow = !selection.is_every_mailbox();
    let offered = if narrow { mine.iter().cloned().collect() } else { Vec::new() };
    let wanted: HashSet<String> = member.share(offered).await?.into_iter().flat_map(|s| s.values).filter(|a| !mine.contains(a)).collect();
    let extra = if wanted.is_empty() {
        Vec::new()
    } else {
        let mut addresses: Vec<String> = wanted.into_iter().collect();
        addresses.sort();
        MailboxSelection { mailboxes: Some(addresses), active_only: true, ..MailboxSelection::default() }.collect(client).await?
    };
    // Round 2: the addresses each owns.
    let owned: Vec<String> = selected.iter().chain(&extra).filter(|m| owns(m)).filter_map(key).collect();
    let mut owners: HashMap<String, Vec<String>> = HashMap::new();
    for shared in member.share(owned).await? {
        for address in shared.values {
            owners.entry(address).or_default().push(shared.environment.clone());
        }
    }
    let sink = sink.for_step("Ownership");
    let mut kept = Vec::with_capacity(selected.len());
    for m in selected {
        match key(&m).and_then(|k| owners.get(&k)) {
            Some(by) => {
                let refused = RefusedEvent {
                    key: m.mailbox_id.clone(),
                    name: m.name.clone(),
                    email_address: m.email_address.clone(),
                    owned_by: by.clone(),
                };
                sink.send(Event::Refused(refused)).await?;
            }
            None => kept.push(m),
        }
    }
    Ok(kept)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::options::Name;

    fn mailbox(address: &str, incoming: &'static str, primary: bool, status: &'static str) -> Mailbox {
        let mut m: Mailbox = serde_json::from_value(serde_json::json!({"mailboxid": "1", "emailaddress": address})).unwrap();
        m.incoming_email = Name::from(incoming);
        m.sync_with_this_org_only = primary;
        m.mailbox_status = Name::from(status);
        m
    }

    #[test]
    fn an_address_is_owned_when_synchronized_and_primary_or_tested() {
        assert!(owns(&mailbox("a@x", SSS, true, "NotRun")));
        assert!(owns(&mailbox("a@x", SSS, false, "Success")));
        assert!(!owns(&mailbox("a@x", SSS, false, "Failure")), "configured but neither primary nor tested");
        assert!(!owns(&mailbox("a@x", "None", true, "Success")), "not synchronized by server-side sync");
        assert_eq!(
            ownership(&mailbox("a@x", SSS, false, "Failure")),
            AddressOwnership { synchronized: true, primary: false, owner: false }
        );
        assert_eq!(
            ownership(&mailbox("a@x", "None", true, "Success")),
            AddressOwnership { synchronized: false, primary: true, owner: false }
        );
        assert_eq!(key(&mailbox(" A@X.example ", SSS, true, "Success")).as_deref(), Some("a@x.example"));
        assert_eq!(key(&mailbox("no address", SSS, true, "Success")), None);
    }
}
