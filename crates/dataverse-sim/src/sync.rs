//! The synchronization cycle after Test & Enable (issue 12 part 4; README "Sync cycle").
//!
//! Mailboxes in the cycle wait in a due queue ordered by due time; a worker pass takes at most
//! [`crate::SimConfig::sync_slice`] due mailboxes, so a pass never scans all mailboxes and
//! never holds the store for long, whatever the number of mailboxes. Each cycle asks
//! [`health::diagnose`] (the same causes as Test & Enable) and writes the timing columns, the
//! item counts, or the failure columns and alert.

use std::collections::{BTreeSet, HashMap};
use std::time::{Duration, Instant};

use serde_json::json;
use uuid::Uuid;

use crate::SimConfig;
use crate::alerts::{self, MACHINE_NAME};
use crate::app::App;
use crate::health::{self, Facts, Failure, OrgFlags};
use crate::store::{Row, Store, now_string};

const STATUS_COLUMNS: [&str; 3] = ["incomingemailstatus", "outgoingemailstatus", "actstatus"];
const ENABLED_COLUMNS: [&str; 3] = ["enabledforincomingemail", "enabledforoutgoingemail", "enabledforact"];
/// `lastsyncerror` holds at most 2048 characters (MBX).
const MAX_ERROR_TEXT: usize = 2048;

/// Mailboxes in the cycle by due time.
#[derive(Debug, Default, Clone)]
pub struct SyncQueue {
    due: BTreeSet<(Instant, Uuid)>,
    at: HashMap<Uuid, Instant>,
    /// Cycles run per mailbox (for the deterministic item counts).
    runs: HashMap<Uuid, u64>,
}

impl SyncQueue {
    /// (Re)schedule `id` for `when`.
    pub fn schedule(&mut self, id: Uuid, when: Instant) {
        if let Some(old) = self.at.insert(id, when) {
            self.due.remove(&(old, id));
        }
        self.due.insert((when, id));
    }

    pub fn remove(&mut self, id: &Uuid) {
        if let Some(old) = self.at.remove(id) {
            self.due.remove(&(old, *id));
        }
    }

    pub fn contains(&self, id: &Uuid) -> bool {
        self.at.contains_key(id)
    }

    pub fn len(&self) -> usize {
        self.at.len()
    }

    pub fn is_empty(&self) -> bool {
        self.at.is_empty()
    }

    /// Ids in the cycle, in due order.
    pub fn ids(&self) -> Vec<Uuid> {
        self.due.iter().map(|(_, id)| *id).collect()
    }

    /// Take up to `limit` mailboxes due at `now` (they leave the queue until rescheduled).
    fn pop_due(&mut self, now: Instant, limit: usize) -> Vec<Uuid> {
        let mut out = Vec::new();
        while out.len() < limit {
            match self.due.first() {
                Some((when, _)) if *when <= now => {
                    let (_, id) = self.due.pop_first().expect("checked");
                    self.at.remove(&id);
                    out.push(id);
                }
                _ => break,
            }
        }
        out
    }

    fn next_run(&mut self, id: Uuid) -> u64 {
        let n = self.runs.entry(id).or_insert(0);
        *n += 1;
        *n
    }
}

fn interval(config: &SimConfig) -> Duration {
    Duration::from_millis(config.sync_interval_ms)
}

/// Put a mailbox into the cycle, first due one interval from now (no-op when the cycle is off).
pub fn enter(store: &mut Store, config: &SimConfig, id: Uuid) {
    if config.sync_interval_ms > 0 {
        store.sync.schedule(id, Instant::now() + interval(config));
    }
}

/// Columns every failure writes on the mailbox (Test & Enable and cycle alike).
pub fn failure_columns(failure: &Failure, facts: &Facts, now: &str) -> Row {
    let text: String = failure.alerts.first().map(|a| a.text.chars().take(MAX_ERROR_TEXT).collect()).unwrap_or_default();
    let mut c = Row::new();
    c.insert("lastsyncerror".into(), json!(text));
    c.insert("lastsyncerrorcode".into(), json!(failure.code));
    c.insert("lastsyncerrorcount".into(), json!(facts.error_count + 1));
    c.insert("lastsyncerroroccurredon".into(), json!(now));
    c.insert("lastsyncerrormachinename".into(), json!(MACHINE_NAME));
    c.insert("processinglastattemptedon".into(), json!(now));
    c
}

/// `mailboxstatus` from the channel statuses of the tested channels.
pub fn overall_status(tested: &[bool; 3], status: &[i64; 3]) -> i64 {
    let statuses: Vec<i64> = (0..3).filter(|i| tested[*i]).map(|i| status[i]).collect();
    if statuses.contains(&2) {
        2
    } else if statuses.contains(&1) {
        1
    } else {
        0
    }
}

/// Items "processed" by cycle `run` of `id`: 0..=20, deterministic.
fn items(seed: u64, id: &Uuid, run: u64) -> i64 {
    let mut h = seed ^ run.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    for b in id.as_bytes() {
        h = (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3);
    }
    (crate::seed::Rng::new(h).next_u64() % 21) as i64
}

/// What every cycle of one pass shares (computed once per pass).
struct Pass {
    org: OrgFlags,
    now: String,
    /// `postponemailboxprocessinguntil`: now + interval.
    next: String,
    /// `nextscheduledactsyncinseconds`.
    secs: u64,
}

impl Pass {
    fn new(store: &Store, config: &SimConfig) -> Pass {
        let next = chrono::Utc::now() + chrono::Duration::milliseconds(config.sync_interval_ms as i64);
        Pass {
            org: OrgFlags::read(store),
            now: now_string(),
            next: next.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            secs: (config.sync_interval_ms / 1000).max(1),
        }
    }
}

/// One cycle of one mailbox. Returns false (and drops it from the queue) when it is no longer
/// in the cycle.
fn cycle(store: &mut Store, config: &SimConfig, pass: &Pass, id: Uuid) -> bool {
    let (org, now) = (&pass.org, pass.now.as_str());
    let Some(f) = Facts::read(store, id).filter(Facts::in_cycle) else {
        store.sync.remove(&id);
        return false;
    };
    let active = f.active_channels();
    let failure = health::diagnose(store, config, org, &f).filter(|x| (0..3).any(|i| x.channels[i] && active[i]));
    let run = store.sync.next_run(id);
    store.health.cycles += 1;
    let mut c = Row::new();
    c.insert("lastsyncstartedon".into(), json!(now));
    c.insert("processinglastattemptedon".into(), json!(now));
    c.insert("processingstatecode".into(), json!(0));
    c.insert("hostid".into(), serde_json::Value::Null);
    c.insert("nextscheduledactsyncinseconds".into(), json!(pass.secs));
    c.insert("postponemailboxprocessinguntil".into(), json!(pass.next));
    let (mut status, mut enabled) = (f.status, f.enabled);
    let mut alerts = Vec::new();
    match failure {
        None => {
            let n = items(config.seed, &id, run);
            for i in (0..3).filter(|i| active[*i]) {
                status[i] = 1;
            }
            c.insert("lastsuccessfulsynccompletedon".into(), json!(now));
            c.insert("itemsprocessedforlastsync".into(), json!(n));
            c.insert("itemsfailedforlastsync".into(), json!(0));
            c.insert("noemailcount".into(), json!(if n == 0 { f.noemail_count + 1 } else { 0 }));
            c.insert("lastsyncerrorcount".into(), json!(0));
            c.insert("transientfailurecount".into(), json!(0));
        }
        Some(failure) => {
            let transient_count = f.transient_count + i64::from(failure.transient);
            // Permanent errors disable at once, transient ones after the configured attempts.
            let disable = !failure.transient || transient_count >= i64::from(config.transient_attempts);
            for i in 0..3 {
                if active[i] && failure.channels[i] {
                    status[i] = 2;
                    enabled[i] = !disable;
                } else if active[i] {
                    status[i] = 1;
                }
            }
            c.extend(failure_columns(&failure, &f, now));
            c.insert("transientfailurecount".into(), json!(transient_count));
            c.insert("itemsprocessedforlastsync".into(), json!(0));
            c.insert("itemsfailedforlastsync".into(), json!(1));
            let level = if disable { 3 } else { 2 };
            alerts = failure.alerts.into_iter().map(|a| alerts::Alert { level, ..a }).collect();
        }
    }
    for i in 0..3 {
        c.insert(STATUS_COLUMNS[i].into(), json!(status[i]));
        c.insert(ENABLED_COLUMNS[i].into(), json!(enabled[i]));
    }
    c.insert("mailboxstatus".into(), json!(overall_status(&f.tested, &status)));
    store.update("mailbox", &id, c, None);
    alerts::write(store, org, &alerts, now);
    let still = (0..3).any(|i| f.tested[i] && enabled[i] && status[i] != 0);
    if still {
        store.sync.schedule(id, Instant::now() + interval(config));
    } else {
        store.sync.remove(&id);
    }
    true
}

/// One worker pass: the due mailboxes, at most `sync_slice` of them. Returns how many ran.
pub fn run_pass(app: &App) -> usize {
    if app.config.sync_interval_ms == 0 {
        return 0;
    }
    let _shared = app.shared();
    let mut store = app.lock();
    let due = store.sync.pop_due(Instant::now(), app.config.sync_slice.max(1));
    run_cycles(&mut store, &app.config, &due)
}

fn run_cycles(store: &mut Store, config: &SimConfig, ids: &[Uuid]) -> usize {
    if ids.is_empty() {
        return 0;
    }
    let pass = Pass::new(store, config);
    ids.iter().filter(|id| cycle(store, config, &pass, **id)).count()
}

/// Run one cycle now for `ids` (those in the cycle) or for every mailbox in the cycle.
pub fn run_now(app: &App, ids: Option<&[Uuid]>) -> usize {
    let _shared = app.shared();
    let mut store = app.lock();
    run_now_locked(&mut store, &app.config, ids)
}

/// [`run_now`] with the store already locked.
pub fn run_now_locked(store: &mut Store, config: &SimConfig, ids: Option<&[Uuid]>) -> usize {
    // A given mailbox that is not in the cycle is skipped (and not counted) by `cycle`.
    match ids {
        Some(ids) => run_cycles(store, config, ids),
        None => {
            let all = store.sync.ids();
            run_cycles(store, config, &all)
        }
    }
}

/// Put the mailboxes seeded as already tested into the cycle.
pub fn seed(store: &mut Store, config: &SimConfig) {
    let ids: Vec<Uuid> = store
        .rows("mailbox")
        .filter(|r| r.get("testmailboxaccesscompletedon").is_some_and(|v| !v.is_null()))
        .filter_map(|r| r.get("mailboxid")?.as_str()?.parse::<Uuid>().ok())
        .collect();
    for id in ids {
        if Facts::read(store, id).is_some_and(|f| f.in_cycle()) {
            enter(store, config, id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queue_pops_in_due_order_and_by_slices() {
        let mut q = SyncQueue::default();
        let t0 = Instant::now();
        let ids: Vec<Uuid> = (0..5u32).map(|i| crate::auth::name_guid(&format!("q{i}"))).collect();
        for (i, id) in ids.iter().enumerate() {
            q.schedule(*id, t0 + Duration::from_millis(10 * (5 - i as u64)));
        }
        q.schedule(ids[0], t0); // rescheduling moves it, no duplicate
        assert_eq!(q.len(), 5);
        let later = t0 + Duration::from_secs(1);
        assert_eq!(q.pop_due(later, 2), vec![ids[0], ids[4]]);
        assert_eq!(q.pop_due(later, 10), vec![ids[3], ids[2], ids[1]]);
        assert!(q.is_empty() && q.pop_due(later, 10).is_empty());
        q.schedule(ids[1], later);
        assert!(q.pop_due(t0, 10).is_empty(), "not due yet");
        q.remove(&ids[1]);
        assert!(!q.contains(&ids[1]));
    }

    #[test]
    fn overall_status_of_the_tested_channels() {
        assert_eq!(overall_status(&[true, true, false], &[1, 1, 2]), 1, "ACT not tested");
        assert_eq!(overall_status(&[true, true, true], &[1, 1, 2]), 2);
        assert_eq!(overall_status(&[false, false, false], &[1, 1, 1]), 0);
    }

    #[test]
    fn items_are_deterministic_and_bounded() {
        let id = crate::auth::name_guid("m");
        assert_eq!(items(1, &id, 3), items(1, &id, 3));
        assert!((1..200).map(|r| items(1, &id, r)).all(|n| (0..=20).contains(&n)));
        assert!((1..200).map(|r| items(1, &id, r)).collect::<BTreeSet<_>>().len() > 5);
    }
}
