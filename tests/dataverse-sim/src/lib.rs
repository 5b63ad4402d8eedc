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
//! or as a process: `dataverse-sim --port 0` prints one JSON line with the URL when ready.

#![recursion_limit = "256"]

mod app;
pub mod auth;
mod entities;
pub mod errors;
pub mod fixtures;
mod functions;
pub mod odata;
mod routes;
mod rules;
pub mod schema;
pub mod seed;
pub mod store;
mod write;

use std::time::Duration;

use serde_json::Value;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use uuid::Uuid;

use crate::app::{App, Inner};
pub use crate::seed::SeedIds;
use crate::store::{RequestRecord, Row, Store};

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
    /// Seed of the generated ids and names.
    pub seed: u64,
    /// Lifetime of tokens issued by the token endpoint.
    pub token_lifetime_secs: u64,
    /// Largest page (`Prefer: odata.maxpagesize` is clamped to it); also the default page.
    pub max_page_size: usize,
    /// 0 = ephemeral.
    pub port: u16,
    /// HTTP status when a caller without the M365 admin condition approves an address.
    /// Unknown for the real service (reference §5.2); 403 by default.
    pub approval_denied_status: u16,
    /// Error code for the same case (unknown for the real service).
    pub approval_denied_code: String,
    /// Whether rejecting (value 3) needs the same M365 admin condition as approving. The
    /// on-prem code checks "approve/reject"; strict default: true.
    pub approval_condition_applies_to_reject: bool,
    pub mailbox_approval: MailboxApprovalMode,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            mailboxes: 25,
            queues: 5,
            seed: 1,
            token_lifetime_secs: 3600,
            max_page_size: 5000,
            port: 0,
            approval_denied_status: 403,
            approval_denied_code: "0x80040225".to_string(),
            approval_condition_applies_to_reject: true,
            mailbox_approval: MailboxApprovalMode::Rejected,
        }
    }
}

/// A running simulator bound to 127.0.0.1.
pub struct Simulator {
    state: SimState,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
}

impl Simulator {
    /// Seed the data, bind `127.0.0.1:<port>` and serve in a background task.
    pub async fn start(config: SimConfig) -> std::io::Result<Simulator> {
        let listener = TcpListener::bind(("127.0.0.1", config.port)).await?;
        let addr = listener.local_addr()?;
        let mut store = Store::new();
        let ids = seed::seed(&mut store, &config);
        let app = Inner::new(config, format!("http://{addr}"), store);
        let router = routes::router(app.clone());
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let serve = axum::serve(listener, router).with_graceful_shutdown(async {
                let _ = stopped.await;
            });
            if let Err(e) = serve.await {
                eprintln!("dataverse-sim: server error: {e}");
            }
        });
        Ok(Simulator { state: SimState { app, ids }, stop: Some(stop), task })
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
    /// Returns false when the row does not exist.
    pub fn set(&self, entity_set: &str, id: Uuid, values: Value) -> bool {
        let Value::Object(values) = values else { panic!("values must be a JSON object") };
        self.app.lock().update(&logical(entity_set), &id, values, None)
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

    /// Run `f` with the store locked (anything the helpers above do not cover).
    pub fn with_store<R>(&self, f: impl FnOnce(&mut Store) -> R) -> R {
        f(&mut self.app.lock())
    }
}
