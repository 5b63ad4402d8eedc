//! In-memory rows of the six tables, plus security, tokens and the request log.
//!
//! Rows are `serde_json::Map`s keyed by id in a `BTreeMap` (stable iteration order). Every row
//! holds all of its table's columns (null when unset). `versionnumber` comes from one counter
//! for the whole organization, like SQL rowversion, and is bumped on every write.

use std::collections::BTreeMap;

use chrono::{SecondsFormat, Utc};
use serde_json::{Map, Value, json};
use uuid::Uuid;

use crate::auth::{Security, Tokens};
use crate::fixtures;
use crate::health::HealthState;
use crate::odata::format::LookupResolver;
use crate::schema::{Access, Schema, Table};
use crate::sync::SyncQueue;

pub type Row = Map<String, Value>;

/// One authenticated (or rejected) Web API request, for tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestRecord {
    pub method: String,
    /// Path and query as received.
    pub uri: String,
    /// The caller's systemuserid, when the token was valid.
    pub user: Option<Uuid>,
    pub status: u16,
}

/// A pending Test & Enable run of one mailbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestSchedule {
    /// When the test was scheduled (Web API format); becomes `testandenablelastattemptedon`.
    pub scheduled_on: String,
    /// Who scheduled it; becomes `testandenablelastattemptedby`.
    pub by: Uuid,
    /// Earliest run (scheduling time + `test_delay_ms`).
    pub due: std::time::Instant,
}

/// Rows and pending tests, for change-set rollback.
#[derive(Debug, Clone)]
pub struct Snapshot {
    tables: BTreeMap<String, BTreeMap<Uuid, Row>>,
    tests: BTreeMap<Uuid, TestSchedule>,
    /// A DELETE in a change set also takes a mailbox out of the cycle and the failure entries.
    health: HealthState,
    sync: SyncQueue,
}

#[derive(Debug, Default)]
pub struct Store {
    tables: BTreeMap<String, BTreeMap<Uuid, Row>>,
    version: i64,
    pub security: Security,
    pub tokens: Tokens,
    pub requests: Vec<RequestRecord>,
    /// Operations executed inside `$batch` requests.
    pub operations: Vec<RequestRecord>,
    /// Pending Test & Enable runs by mailbox id.
    pub tests: BTreeMap<Uuid, TestSchedule>,
    /// Injected and seeded day-two failures.
    pub health: HealthState,
    /// Mailboxes in the synchronization cycle.
    pub sync: SyncQueue,
}

/// Current UTC time in the Web API's format (`2024-01-01T00:00:00Z`).
pub fn now_string() -> String {
    Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true)
}

impl Store {
    pub fn new() -> Self {
        Store { version: 1000, ..Default::default() }
    }

    pub fn snapshot(&self) -> Snapshot {
        Snapshot { tables: self.tables.clone(), tests: self.tests.clone(), health: self.health.clone(), sync: self.sync.clone() }
    }

    /// Undo everything since `snapshot` (rows, pending tests, the cycle and failure entries). The version counter keeps
    /// increasing (like SQL rowversion) and the request logs stay.
    pub fn restore(&mut self, snapshot: Snapshot) {
        self.tables = snapshot.tables;
        self.tests = snapshot.tests;
        self.health = snapshot.health;
        self.sync = snapshot.sync;
    }

    pub fn next_version(&mut self) -> i64 {
        self.version += 1;
        self.version
    }

    pub fn rows(&self, logical: &str) -> impl Iterator<Item = &Row> {
        self.tables.get(logical).into_iter().flat_map(|t| t.values())
    }

    /// The rows of `ids` that exist, each once, in id order (the order of [`Store::rows`]).
    pub fn rows_with_ids(&self, logical: &str, mut ids: Vec<Uuid>) -> impl Iterator<Item = &Row> {
        ids.sort_unstable();
        ids.dedup();
        let table = self.tables.get(logical);
        ids.into_iter().filter_map(move |id| table?.get(&id))
    }

    pub fn get(&self, logical: &str, id: &Uuid) -> Option<&Row> {
        self.tables.get(logical)?.get(id)
    }

    pub fn get_mut(&mut self, logical: &str, id: &Uuid) -> Option<&mut Row> {
        self.tables.get_mut(logical)?.get_mut(id)
    }

    pub fn contains(&self, logical: &str, id: &Uuid) -> bool {
        self.get(logical, id).is_some()
    }

    /// A row with every column of `table` set to null and the primary id set.
    pub fn blank_row(table: &Table, id: &Uuid) -> Row {
        let mut row: Row = table.columns.keys().map(|c| (c.clone(), Value::Null)).collect();
        row.insert(table.primary_id.clone(), json!(id.to_string()));
        row
    }

    /// Insert (or replace) a row; fills missing columns with null and assigns a versionnumber.
    pub fn insert(&mut self, logical: &str, id: Uuid, values: Row) {
        let table = Schema::get().by_logical_name(logical).expect("known table");
        let mut row = Self::blank_row(table, &id);
        for (k, v) in values {
            debug_assert!(table.column(&k).is_some(), "unknown column {k} on {logical}");
            row.insert(k, v);
        }
        let v = self.next_version();
        row.insert("versionnumber".into(), json!(v));
        self.tables.entry(logical.to_string()).or_default().insert(id, row);
    }

    /// Set columns of an existing row as the platform would (no validation), bumping the
    /// version and `modifiedon`. Returns false when the row does not exist.
    pub fn update(&mut self, logical: &str, id: &Uuid, values: Row, modified_by: Option<Uuid>) -> bool {
        let v = self.next_version();
        let Some(row) = self.get_mut(logical, id) else {
            return false;
        };
        for (k, val) in values {
            row.insert(k, val);
        }
        row.insert("versionnumber".into(), json!(v));
        if row.contains_key("modifiedon") {
            row.insert("modifiedon".into(), json!(now_string()));
        }
        if let Some(by) = modified_by
            && row.contains_key("_modifiedby_value")
        {
            row.insert("_modifiedby_value".into(), json!(by.to_string()));
        }
        true
    }

    /// Delete a row; a mailbox also leaves the pending tests, the sync cycle and the failure
    /// entries. Returns false when it did not exist.
    pub fn remove(&mut self, logical: &str, id: &Uuid) -> bool {
        let removed = self.tables.get_mut(logical).and_then(|t| t.remove(id)).is_some();
        if removed && logical == "mailbox" {
            self.tests.remove(id);
            self.sync.remove(id);
            self.health.entries.remove(id);
        }
        removed
    }

    /// The row as a client may see it (write-only columns nulled).
    pub fn visible(&self, logical: &str, id: &Uuid) -> Option<Value> {
        let table = Schema::get().by_logical_name(logical)?;
        let row = self.get(logical, id)?;
        let mut out = row.clone();
        for (name, col) in &table.columns {
            if col.access == Access::WriteOnly {
                out.insert(name.clone(), Value::Null);
            }
        }
        Some(Value::Object(out))
    }

    /// The mailbox whose `_regardingobjectid_value` is `owner`: the owner's default mailbox
    /// (as the platform links them), else a scan.
    pub fn mailbox_of(&self, owner: &Uuid) -> Option<Uuid> {
        let linked = ["systemuser", "queue"]
            .into_iter()
            .find_map(|table| self.get(table, owner)?.get("_defaultmailbox_value")?.as_str()?.parse::<Uuid>().ok());
        if linked.is_some() {
            return linked;
        }
        let owner = owner.to_string();
        self.rows("mailbox")
            .find(|r| r.get("_regardingobjectid_value").and_then(Value::as_str).is_some_and(|v| v.eq_ignore_ascii_case(&owner)))
            .and_then(|r| r.get("mailboxid")?.as_str()?.parse().ok())
    }
}

impl LookupResolver for Store {
    fn resolve(&self, targets: &[String], id: &Uuid) -> Option<(String, String)> {
        for target in targets {
            if target == "businessunit" && id.to_string() == fixtures::BUSINESS_UNIT_ID {
                return Some((target.clone(), fixtures::BUSINESS_UNIT_NAME.to_string()));
            }
            // Teams are no simulated table; a principal lookup may point to one (`/_sim/teams`).
            if target == "systemuser"
                && let Some(team) = self.security.teams.get(id)
            {
                return Some(("team".to_string(), team.name.clone()));
            }
            let Some(table) = Schema::get().by_logical_name(target) else {
                continue;
            };
            if let Some(row) = self.get(target, id) {
                let name = row.get(&table.primary_name).and_then(Value::as_str).unwrap_or_default().to_string();
                return Some((target.clone(), name));
            }
        }
        None
    }
}
