//! Platform behaviour triggered by writes: assigning an owner, email address approval, approval reset when the
//! address changes, computed names. Rules look at the validated changes of one PATCH, may add
//! columns to them, and return updates of other rows (the owner's mailbox, or the owner).

use serde_json::{Value, json};
use uuid::Uuid;

use crate::auth::{PRV_APPROVE, require};
use crate::errors::{ApiError, ApiResult};
use crate::schema::{Schema, Table};
use crate::store::{Row, Store, now_string};
use crate::{MailboxApprovalMode, SimConfig, fixtures};

/// An update of another row caused by the PATCH.
#[derive(Debug, Clone, PartialEq)]
pub struct Effect {
    pub logical: &'static str,
    pub id: Uuid,
    pub changes: Row,
}

fn effect_for<'a>(effects: &'a mut Vec<Effect>, logical: &'static str, id: Uuid) -> &'a mut Row {
    if let Some(i) = effects.iter().position(|e| e.logical == logical && e.id == id) {
        return &mut effects[i].changes;
    }
    effects.push(Effect { logical, id, changes: Row::new() });
    &mut effects.last_mut().expect("just pushed").changes
}

fn int(v: Option<&Value>) -> Option<i64> {
    v.and_then(Value::as_i64)
}

/// The caller may set `emailrouteraccessapproval` to `value`.
fn check_approval(cfg: &SimConfig, store: &Store, caller: &Uuid, table: &Table, value: i64) -> ApiResult<()> {
    require(store, caller, PRV_APPROVE, table)?;
    let needs_condition = value == 1 || (value == 3 && cfg.approval_condition_applies_to_reject);
    if needs_condition && !store.security.may_approve_email(caller) {
        let status = axum::http::StatusCode::from_u16(cfg.approval_denied_status).unwrap_or(axum::http::StatusCode::FORBIDDEN);
        return Err(ApiError::new(status, &cfg.approval_denied_code, fixtures::APPROVAL_DENIED_MESSAGE));
    }
    Ok(())
}

/// Mailbox columns that mirror the owner's approval state.
fn mailbox_approval(value: i64, caller: &Uuid) -> Row {
    let approved = value == 1;
    let mut m = Row::new();
    m.insert("emailrouteraccessapproval".into(), json!(value));
    m.insert("isemailaddressapprovedbyo365admin".into(), json!(approved));
    m.insert("_emailaddressapprovedby_value".into(), if approved { json!(caller.to_string()) } else { Value::Null });
    m.insert("emailaddressapprovedon".into(), if approved { json!(now_string()) } else { Value::Null });
    m
}

/// Apply the rules for a PATCH of `table(id)` whose validated columns are `changes`.
pub fn apply(
    cfg: &SimConfig,
    store: &Store,
    caller: &Uuid,
    table: &Table,
    id: &Uuid,
    current: &Row,
    changes: &mut Row,
) -> ApiResult<Vec<Effect>> {
    let mut effects = Vec::new();
    // `ownerid@odata.bind` is the Assign message: prvAssign…, and the owning user follows.
    if let Some(owner) = changes.get("_ownerid_value").cloned()
        && current.get("_ownerid_value") != Some(&owner)
    {
        require(store, caller, &format!("prvAssign{}", table.privilege_entity), table)?;
        if owner.is_null() {
            return Err(ApiError::invalid(format!(
                "A record of type '{}' must have an owner; ownerid cannot be null.",
                table.logical_name
            )));
        }
        changes.insert("_owninguser_value".into(), owner);
    }
    let requested_approval =
        int(changes.get("emailrouteraccessapproval")).filter(|v| Some(*v) != int(current.get("emailrouteraccessapproval")));
    match table.logical_name.as_str() {
        owner @ ("systemuser" | "queue") => {
            let owner: &'static str = if owner == "systemuser" { "systemuser" } else { "queue" };
            let mailbox = store.mailbox_of(id);
            if owner == "systemuser" && (changes.contains_key("firstname") || changes.contains_key("lastname")) {
                let part = |c: &str| changes.get(c).or(current.get(c)).and_then(Value::as_str).unwrap_or_default().to_string();
                let full = format!("{} {}", part("firstname"), part("lastname")).trim().to_string();
                changes.insert("fullname".into(), json!(full));
            }
            // Changing the address resets approval (U-DECOMP-SU): 2 Pending, or 0 when cleared.
            let email_col = if owner == "systemuser" { "internalemailaddress" } else { "emailaddress" };
            if let Some(new_email) = changes.get(email_col).cloned()
                && current.get(email_col) != Some(&new_email)
            {
                let reset = if new_email.is_null() { 0 } else { 2 };
                if requested_approval.is_none() {
                    changes.insert("emailrouteraccessapproval".into(), json!(reset));
                    changes.insert("isemailaddressapprovedbyo365admin".into(), json!(false));
                }
                if let Some(mbx) = mailbox {
                    let m = effect_for(&mut effects, "mailbox", mbx);
                    m.insert("emailaddress".into(), new_email);
                    m.extend(mailbox_approval(reset, caller));
                }
            }
            if let Some(value) = requested_approval {
                check_approval(cfg, store, caller, table, value)?;
                changes.insert("isemailaddressapprovedbyo365admin".into(), json!(value == 1));
                if let Some(mbx) = mailbox {
                    effect_for(&mut effects, "mailbox", mbx).extend(mailbox_approval(value, caller));
                }
            }
        }
        "mailbox" => {
            if let Some(value) = requested_approval {
                match cfg.mailbox_approval {
                    MailboxApprovalMode::Rejected => {
                        return Err(ApiError::invalid(
                            "The email address of a mailbox cannot be approved or rejected on the mailbox record; update emailrouteraccessapproval on the owning user (systemusers) or queue (queues) instead.",
                        ));
                    }
                    MailboxApprovalMode::Equivalent => {
                        let owner_id =
                            current.get("_regardingobjectid_value").and_then(Value::as_str).and_then(|s| Uuid::parse_str(s).ok());
                        let owner =
                            owner_id.and_then(|o| ["systemuser", "queue"].into_iter().find(|l| store.contains(l, &o)).map(|l| (l, o)));
                        let Some((owner_logical, owner_id)) = owner else {
                            return Err(ApiError::invalid("The mailbox has no owning user or queue to approve."));
                        };
                        let owner_table = Schema::get().by_logical_name(owner_logical).expect("known table");
                        check_approval(cfg, store, caller, owner_table, value)?;
                        changes.extend(mailbox_approval(value, caller));
                        let o = effect_for(&mut effects, owner_logical, owner_id);
                        o.insert("emailrouteraccessapproval".into(), json!(value));
                        o.insert("isemailaddressapprovedbyo365admin".into(), json!(value == 1));
                    }
                }
            }
        }
        _ => {}
    }
    Ok(effects)
}
