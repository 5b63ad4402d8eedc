//! A simulator of the Dataverse Web API (v9.2) for the tables that server-side synchronization
//! setup touches: `organizations`, `emailserverprofiles`, `mailboxes`, `systemusers`, `queues`
//! and `tracelogs`, plus `WhoAmI`, the privilege functions, and an Entra-like token endpoint.
//!
//! It follows `shared/docs/dataverse-reference.md`, strict where the real service's behaviour
//! is unknown. Use it in-process from tests:
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use dataverse_sim::{SimConfig, Simulator, fixtures};
//! let sim = Simulator::start(SimConfig::default()).await?;
//! let url = sim.url(); // org URL and authority host
//! let _ = (url, fixtures::ADMIN_TOKEN);
//! assert_eq!(sim.state().request_count(), 0);
//! sim.shutdown().await;
//! # Ok(()) }
//! ```
//! or as a process: `dataverse-sim --listen 127.0.0.1:0` prints `listening on http://127.0.0.1:<port>`
//! and then one JSON ready line when ready.

#![recursion_limit = "256"]

mod alerts;
mod app;
pub mod auth;
mod batch;
mod discovery;
mod entities;
pub mod errors;
pub mod fixtures;
mod functions;
mod guard;
pub mod health;
pub mod identity_provider;
pub mod limits;
mod net;
pub mod odata;
mod routes;
mod rules;
pub mod schema;
pub mod seed;
mod simroutes;
mod stats;
pub mod store;
pub mod sync;
pub mod testenable;
mod tls;
mod write;

use std::time::Duration;

use serde_json::Value;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use uuid::Uuid;

use crate::app::{App, Inner};
pub use crate::guard::FaultStats;
pub use crate::identity_provider::IdentityConfig;
pub use crate::seed::SeedIds;
use crate::store::{RequestRecord, Row, Store};
pub use crate::tls::TlsLog;

/// What a PATCH of `mailboxes(<id>)` with `emailrouteraccessapproval` does (the reference
/// leaves it open, §13.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MailboxApprovalMode {
    /// 400: approval must go through the owning user or queue.
    #[default]
    Rejected,
    /// Same as approving/rejecting the owner (same checks, same effects).
    Equivalent,
}

#[derive(Debug, Clone)]
pub struct SimConfig {
    /// Seeded users, each with a mailbox (principals have no mailbox).
    pub mailboxes: usize,
    /// Seeded queues, each with a mailbox.
    pub queues: usize,
    /// Also seed already-working (every 12th) and inactive (every 20th) user mailboxes
    /// (`seed::user_state`). Off by default.
    pub mixed_states: bool,
    /// Seed of the generated ids and names.
    pub seed: u64,
    /// Lifetime of tokens issued by the token endpoint.
    pub token_lifetime_secs: u64,
    /// Largest page (`Prefer: odata.maxpagesize` is clamped to it); also the default page.
    pub max_page_size: usize,
    /// 0 = ephemeral.
    pub port: u16,
    /// Address to bind (127.0.0.1). With an unspecified address (0.0.0.0), the URL still
    /// names 127.0.0.1.
    pub listen_ip: std::net::IpAddr,
    /// One line per request on stderr: method, path (no query), status, caller, duration.
    pub log_requests: bool,
    /// HTTP status when a caller without the M365 admin condition approves an address.
    /// Unknown for the real service (reference §5.2); 403 by default.
    pub approval_denied_status: u16,
    /// Error code for the same case (unknown for the real service).
    pub approval_denied_code: String,
    /// Whether rejecting (value 3) needs the same M365 admin condition as approving. The
    /// on-prem code checks "approve/reject"; strict default: true.
    pub approval_condition_applies_to_reject: bool,
    pub mailbox_approval: MailboxApprovalMode,
    /// Delay between scheduling Test & Enable (`testemailconfigurationscheduled: true`) and
    /// the simulated test run.
    pub test_delay_ms: u64,
    /// Share (0.0..=1.0) of mailboxes whose test fails with "no Exchange Online license";
    /// which mailboxes is deterministic per mailbox id and seed.
    pub unlicensed_share: f64,
    /// Interval of the synchronization cycle per mailbox and retry interval after a transient
    /// failure (0: no cycle).
    pub sync_interval_ms: u64,
    /// Consecutive transient failures after which a mailbox is disabled for processing.
    pub transient_attempts: u32,
    /// Seeded failures (`--health-mix`): kind and share of the mailboxes it applies to.
    pub health_mix: Vec<(health::FailureKind, f64)>,
    /// Most mailboxes one worker pass synchronizes.
    pub sync_slice: usize,
    /// Service-protection limits (429) per caller.
    pub limits_enabled: bool,
    /// Scales the window and both budgets (0.01: 3 s, 60 requests, 12,000 ms); not concurrency.
    pub limits_scale: f64,
    /// Unscaled limits: requests per window, execution time per window, window, concurrency.
    pub limit_requests: u64,
    pub limit_execution_ms: u64,
    pub limit_window_secs: u64,
    pub limit_concurrent: usize,
    /// Simulated execution time of one operation (a `$batch` adds one per inner operation).
    pub exec_cost_ms: u64,
    /// Latency slept by every Web API request (counts toward concurrency).
    pub latency_ms: u64,
    /// Value of the `x-ms-dop-hint` response header.
    pub dop_hint: u32,
    /// Most operations in one `$batch` (and in one change set).
    pub batch_max_operations: usize,
    /// Injected failures.
    pub faults: FaultConfig,
    /// Certificate, device code and managed identity flows of the identity provider.
    pub identity: IdentityConfig,
    /// Further environments the Global Discovery Service route lists after this one
    /// (`Instances` rows as the service spells them; `--discovery-instances`).
    pub discovery_instances: Vec<Value>,
}

/// Probabilities (0.0..=1.0) of injected failures per Web API request, drawn from a
/// deterministic RNG seeded from [`SimConfig::seed`].
#[derive(Debug, Clone, PartialEq)]
pub struct FaultConfig {
    /// 503 Service Unavailable with an OData error body (request not processed).
    pub unavailable: f64,
    /// Connection reset: the client gets no response (TCP RST).
    pub reset: f64,
    /// Whether a reset request is processed first (true: the write happened, the response is
    /// lost) or dropped before processing.
    pub reset_after_processing: bool,
    /// Extra delay of `slow_ms`.
    pub slow: f64,
    pub slow_ms: u64,
    /// A token issued by the token endpoint is expired early (401 "The access token is expired").
    pub token_expiry: f64,
    /// Also inject 503/reset/slow on the token endpoint.
    pub token_endpoint: bool,
    /// Injected 429 (Web API only, not processed): the request-count limit's code and message
    /// with `Retry-After: throttle_retry_after_secs`; not charged to the caller's window.
    pub throttle: f64,
    pub throttle_retry_after_secs: u64,
    /// Injected 500, 502 or 504 (chosen at random; Web API only, not processed).
    pub server_error: f64,
}

impl Default for FaultConfig {
    fn default() -> Self {
        FaultConfig {
            unavailable: 0.0,
            reset: 0.0,
            reset_after_processing: true,
            slow: 0.0,
            slow_ms: 2000,
            token_expiry: 0.0,
            token_endpoint: false,
            throttle: 0.0,
            throttle_retry_after_secs: 1,
            server_error: 0.0,
        }
    }
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            mailboxes: 25,
            queues: 5,
            mixed_states: false,
            seed: 1,
            token_lifetime_secs: 3600,
            max_page_size: 5000,
            port: 0,
            listen_ip: std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST),
            log_requests: false,
            approval_denied_status: 403,
            approval_denied_code: "0x80040225".to_string(),
            approval_condition_applies_to_reject: true,
            mailbox_approval: MailboxApprovalMode::Rejected,
            test_delay_ms: 2000,
            unlicensed_share: 0.0,
            sync_interval_ms: 300_000,
            transient_attempts: 10,
            health_mix: Vec::new(),
            sync_slice: 500,
            limits_enabled: true,
            limits_scale: 1.0,
            limit_requests: 6000,
            limit_execution_ms: 1_200_000,
            limit_window_secs: 300,
            limit_concurrent: 52,
            exec_cost_ms: 0,
            latency_ms: 0,
            dop_hint: 8,
            batch_max_operations: 1000,
            faults: FaultConfig::default(),
            identity: IdentityConfig::default(),
            discovery_instances: Vec::new(),
        }
    }
}

/// A running simulator bound to 127.0.0.1 (or [`SimConfig::listen_ip`]).
pub struct Simulator {
    state: SimState,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
    worker: JoinHandle<()>,
}

impl Simulator {
    /// Seed the data, bind `127.0.0.1:<port>` and serve in a background task.
    pub async fn start(config: SimConfig) -> std::io::Result<Simulator> {
        let listener = TcpListener::bind((config.listen_ip, config.port)).await?;
        let mut addr = listener.local_addr()?;
        if addr.ip().is_unspecified() {
            addr.set_ip(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST));
        }
        let mut store = Store::new();
        let ids = seed::seed(&mut store, &config);
        let app = Inner::new(config, format!("http://{addr}"), store);
        let router = routes::router(app.clone()).into_make_service_with_connect_info::<net::ConnHandle>();
        let (stop, stopped) = oneshot::channel::<()>();
        let worker = tokio::spawn(testenable::worker(app.clone()));
        let listener = net::SimListener(listener);
        let task = tokio::spawn(async move {
            let serve = axum::serve(listener, router).with_graceful_shutdown(async {
                let _ = stopped.await;
            });
            if let Err(e) = serve.await {
                eprintln!("dataverse-sim: server error: {e}");
            }
        });
        Ok(Simulator { state: SimState { app, ids }, stop: Some(stop), task, worker })
    }

    /// `http://127.0.0.1:PORT`: the organization URL and the authority host.
    pub fn url(&self) -> String {
        self.state.app.base_url.clone()
    }

    /// Handle to inspect and change the simulated data.
    pub fn state(&self) -> SimState {
        self.state.clone()
    }

    /// Stop serving and wait for the server task.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = (&mut self.task).await;
        self.worker.abort();
    }
}

/// Test handle on a running simulator. Entity sets are named as in URLs (`"mailboxes"`).
#[derive(Clone)]
pub struct SimState {
    app: App,
    ids: SeedIds,
}

fn logical(entity_set: &str) -> String {
    let s = schema::Schema::get();
    s.by_entity_set(entity_set)
        .or_else(|| s.by_logical_name(entity_set))
        .unwrap_or_else(|| panic!("unknown entity set {entity_set}"))
        .logical_name
        .clone()
}

impl SimState {
    pub fn url(&self) -> String {
        self.app.base_url.clone()
    }

    pub fn config(&self) -> &SimConfig {
        &self.app.config
    }

    /// Ids of the seeded profiles, users and queues.
    pub fn seed_ids(&self) -> &SeedIds {
        &self.ids
    }

    pub fn organization_id(&self) -> Uuid {
        fixtures::ORGANIZATION_ID.parse().expect("valid")
    }

    /// A row as stored (write-only columns nulled), or None.
    pub fn row(&self, entity_set: &str, id: Uuid) -> Option<Value> {
        self.app.lock().visible(&logical(entity_set), &id)
    }

    /// All rows of a table, in id order.
    pub fn rows(&self, entity_set: &str) -> Vec<Value> {
        let l = logical(entity_set);
        let store = self.app.lock();
        store.rows(&l).map(|r| Value::Object(r.clone())).collect()
    }

    /// The mailbox whose regarding object is `owner` (a systemuser or queue id).
    pub fn mailbox_of(&self, owner: Uuid) -> Option<Uuid> {
        self.app.lock().mailbox_of(&owner)
    }

    /// Set columns as the platform would (no validation, no rules); bumps versionnumber.
    /// Setting `testemailconfigurationscheduled` schedules or cancels a test like a PATCH.
    /// Returns false when the row does not exist.
    pub fn set(&self, entity_set: &str, id: Uuid, values: Value) -> bool {
        let Value::Object(values) = values else { panic!("values must be a JSON object") };
        simroutes::set_row(&self.app, &logical(entity_set), id, values)
    }

    /// Insert or replace a row (missing columns null).
    pub fn insert(&self, entity_set: &str, id: Uuid, values: Value) {
        let Value::Object(values) = values else { panic!("values must be a JSON object") };
        let l = logical(entity_set);
        let table = schema::Schema::get().by_logical_name(&l).expect("known");
        let mut row: Row = values;
        row.insert(table.primary_id.clone(), Value::String(id.to_string()));
        self.app.lock().insert(&l, id, row);
    }

    /// Number of Web API requests received (including rejected ones).
    pub fn request_count(&self) -> usize {
        self.app.lock().requests.len()
    }

    /// Number of Web API requests made by one principal (valid token).
    pub fn request_count_for(&self, user: Uuid) -> usize {
        self.app.lock().requests.iter().filter(|r| r.user == Some(user)).count()
    }

    /// The request log.
    pub fn requests(&self) -> Vec<RequestRecord> {
        self.app.lock().requests.clone()
    }

    pub fn clear_requests(&self) {
        self.app.lock().requests.clear();
    }

    /// Mint a bearer token for `user` (any systemuserid).
    pub fn issue_token(&self, user: Uuid, lifetime: Duration) -> String {
        self.app.lock().tokens.issue(user, lifetime)
    }

    /// Make a token expired from now on.
    pub fn expire_token(&self, token: &str) -> bool {
        self.app.lock().tokens.expire(token)
    }

    /// Give a user a role by name (see [`fixtures`] for the role names).
    pub fn assign_role(&self, user: Uuid, role: &str) -> bool {
        self.app.lock().security.assign_role(user, role)
    }

    pub fn remove_role(&self, user: Uuid, role: &str) {
        self.app.lock().security.remove_role(user, role)
    }

    /// Grant or revoke the Microsoft 365 Global/Exchange administrator condition.
    pub fn set_m365_admin(&self, user: Uuid, admin: bool) {
        let mut s = self.app.lock();
        if admin {
            s.security.m365_admins.insert(user);
        } else {
            s.security.m365_admins.remove(&user);
        }
    }

    /// Requests made inside `$batch` requests (the batch itself is in [`Self::requests`]).
    pub fn batch_operations(&self) -> Vec<RequestRecord> {
        self.app.lock().operations.clone()
    }

    /// Service-protection counters of one caller (systemuserid).
    pub fn limit_stats(&self, user: Uuid) -> limits::CallerStats {
        self.app.limits().stats(&user)
    }

    /// Service-protection counters of every caller seen so far.
    pub fn all_limit_stats(&self) -> std::collections::BTreeMap<Uuid, limits::CallerStats> {
        self.app.limits().all_stats()
    }

    /// Forget the service-protection windows and counters (e.g. between test phases).
    pub fn reset_limits(&self) {
        self.app.limits().reset()
    }

    /// Counts of injected faults.
    pub fn fault_stats(&self) -> guard::FaultStats {
        self.app.faults().stats.clone()
    }

    /// The `GET /_sim/stats` document (requests by method and status, write operations,
    /// 429s, concurrency, injected faults).
    pub fn stats(&self) -> Value {
        stats::document(&self.app)
    }

    /// What `POST /_sim/reset` does: rows, roles, pending tests and request logs back to the
    /// seed; limits windows, fault RNG and every counter start over; tokens are kept.
    pub fn reset(&self) {
        self.app.reset()
    }

    /// Pending Test & Enable runs: mailbox id → time the test was scheduled.
    pub fn scheduled_tests(&self) -> Vec<(Uuid, String)> {
        self.app.lock().tests.iter().map(|(id, t)| (*id, t.scheduled_on.clone())).collect()
    }

    /// Run every due Test & Enable now (ignores the remaining delay, honours the postpone
    /// column); returns the mailboxes tested.
    pub fn run_due_tests(&self, ignore_delay: bool) -> Vec<Uuid> {
        testenable::run_due(&self.app, ignore_delay)
    }

    /// The `GET /_sim/health` document: seeded and injected failures, cycle counters.
    pub fn health(&self) -> Value {
        health::document(&self.app.lock(), &self.app.config)
    }

    /// What `POST /_sim/mailboxes/{id}/failure` does (with `sync`: one cycle at once).
    pub fn inject_failure(
        &self,
        mailbox: Uuid,
        kind: health::FailureKind,
        opts: &health::InjectOptions,
        sync: bool,
    ) -> Result<Value, String> {
        simroutes::inject(&self.app, mailbox, kind, opts, sync)
    }

    /// What `DELETE /_sim/mailboxes/{id}/failure` does; false when the mailbox does not exist.
    pub fn clear_failure(&self, mailbox: Uuid) -> bool {
        health::clear(&mut self.app.lock(), mailbox)
    }

    /// One sync cycle now for `mailboxes` (those in the cycle) or every mailbox in the cycle;
    /// returns how many ran.
    pub fn run_sync_cycle(&self, mailboxes: Option<&[Uuid]>) -> usize {
        sync::run_now(&self.app, mailboxes)
    }

    /// Mailboxes in the synchronization cycle, in due order.
    pub fn sync_queue(&self) -> Vec<Uuid> {
        self.app.lock().sync.ids()
    }

    /// Run `f` with the store locked (anything the helpers above do not cover).
    pub fn with_store<R>(&self, f: impl FnOnce(&mut Store) -> R) -> R {
        f(&mut self.app.lock())
    }
}
