//! Shared state of a running simulator.

use std::sync::{Arc, Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard};

use crate::SimConfig;
use crate::guard::Faults;
use crate::limits::Limits;
use crate::stats::Counters;
use crate::store::Store;

pub struct Inner {
    pub config: SimConfig,
    /// `http://127.0.0.1:PORT` (organization URL and authority host).
    pub base_url: String,
    store: Mutex<Store>,
    /// Requests and the Test & Enable worker hold it shared while they touch the store; a
    /// `$batch` change set holds it exclusively so that its rollback cannot undo other writes.
    gate: RwLock<()>,
    limits: Mutex<Limits>,
    faults: Mutex<Faults>,
    counters: Mutex<Counters>,
    /// When the simulator started: logged requests say when they arrived, relative to it.
    pub started: std::time::Instant,
}

pub type App = Arc<Inner>;

impl Inner {
    pub fn new(config: SimConfig, base_url: String, store: Store) -> App {
        let limits = Limits::new(&config);
        let faults = Faults::new(config.seed);
        Arc::new(Inner {
            config,
            base_url,
            store: Mutex::new(store),
            gate: RwLock::new(()),
            limits: Mutex::new(limits),
            faults: Mutex::new(faults),
            counters: Mutex::new(Counters::default()),
            started: std::time::Instant::now(),
        })
    }

    /// Lock the store (a panic in another request does not poison the simulator).
    pub fn lock(&self) -> MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Shared access for one request or one worker pass (see `gate`).
    pub fn shared(&self) -> RwLockReadGuard<'_, ()> {
        self.gate.read().unwrap_or_else(|e| e.into_inner())
    }

    /// Exclusive access for one change set.
    pub fn exclusive(&self) -> RwLockWriteGuard<'_, ()> {
        self.gate.write().unwrap_or_else(|e| e.into_inner())
    }

    pub fn limits(&self) -> MutexGuard<'_, Limits> {
        self.limits.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn faults(&self) -> MutexGuard<'_, Faults> {
        self.faults.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn counters(&self) -> MutexGuard<'_, Counters> {
        self.counters.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Back to the seeded state: rows, roles, pending tests and request logs are re-seeded;
    /// the limits windows, fault RNG and counters start over. Tokens (fixture and issued) and
    /// the identity provider's state are kept, so connected clients stay connected.
    pub fn reset(&self) {
        let _gate = self.exclusive();
        let mut fresh = Store::new();
        crate::seed::seed(&mut fresh, &self.config);
        {
            let mut store = self.lock();
            fresh.tokens = std::mem::take(&mut store.tokens);
            *store = fresh;
        }
        self.limits().reset();
        *self.faults() = Faults::new(self.config.seed);
        self.counters().reset();
    }

    /// `http://127.0.0.1:PORT/api/data/v9.2`
    pub fn api_base(&self) -> String {
        format!("{}/api/data/v9.2", self.base_url)
    }
}
