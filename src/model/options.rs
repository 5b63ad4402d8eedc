//! Option sets of the mailbox (dataverse-reference §3.1, §3.2). Each is one table of
//! (wire value, name); the names are what the C ABI and the cmdlets use.

/// An option's name: static for the known values, formatted for unknown ones.
pub type Name = std::borrow::Cow<'static, str>;

/// One option set: parsing and naming go through the same table, so they cannot disagree.
pub struct OptionSet {
    pub column: &'static str,
    pub options: &'static [(i64, &'static str)],
}

impl OptionSet {
    /// Known values borrow their static name: rows read by the tens of thousands allocate
    /// nothing for their option columns.
    pub fn name(&self, value: Option<i64>) -> Name {
        match value {
            None => Name::Borrowed("Unknown"),
            Some(v) => self
                .options
                .iter()
                .find(|(n, _)| *n == v)
                .map(|(_, name)| Name::Borrowed(name))
                .unwrap_or_else(|| Name::Owned(format!("Unknown({v})"))),
        }
    }

    pub fn value(&self, name: &str) -> Option<i64> {
        self.options.iter().find(|(_, n)| n.eq_ignore_ascii_case(name)).map(|(v, _)| *v)
    }

    pub fn names(&self) -> Vec<&'static str> {
        self.options.iter().map(|(_, n)| *n).collect()
    }
}

pub const INCOMING_EMAIL: OptionSet = OptionSet {
    column: "incomingemaildeliverymethod",
    options: &[(0, "None"), (1, "Outlook"), (2, "ServerSideSync"), (3, "ForwardMailbox")],
};
pub const OUTGOING_EMAIL: OptionSet =
    OptionSet { column: "outgoingemaildeliverymethod", options: &[(0, "None"), (1, "Outlook"), (2, "ServerSideSync")] };
/// Note the order differs from incoming/outgoing: 0 is Outlook, 2 is None.
pub const APPOINTMENTS_CONTACTS_TASKS: OptionSet =
    OptionSet { column: "actdeliverymethod", options: &[(0, "Outlook"), (1, "ServerSideSync"), (2, "None")] };
pub const APPROVAL: OptionSet =
    OptionSet { column: "emailrouteraccessapproval", options: &[(0, "Empty"), (1, "Approved"), (2, "PendingApproval"), (3, "Rejected")] };
/// Shared by incomingemailstatus, outgoingemailstatus, actstatus and mailboxstatus.
pub const TEST_STATUS: OptionSet = OptionSet { column: "mailboxstatus", options: &[(0, "NotRun"), (1, "Success"), (2, "Failure")] };
pub const STATE: OptionSet = OptionSet { column: "statecode", options: &[(0, "Active"), (1, "Inactive")] };

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_values_round_trip_and_unknown_values_stay_visible() {
        for set in [&INCOMING_EMAIL, &OUTGOING_EMAIL, &APPOINTMENTS_CONTACTS_TASKS, &APPROVAL, &TEST_STATUS, &STATE] {
            for (value, name) in set.options {
                assert_eq!(set.value(name), Some(*value), "{}", set.column);
                assert_eq!(set.name(Some(*value)), *name);
            }
        }
        assert_eq!(APPOINTMENTS_CONTACTS_TASKS.value("serversidesync"), Some(1));
        assert_eq!(INCOMING_EMAIL.name(Some(9)), "Unknown(9)");
        assert_eq!(OUTGOING_EMAIL.value("ForwardMailbox"), None);
    }
}
