//! Shared state of a running simulator.

use std::sync::{Arc, Mutex, MutexGuard};

use crate::SimConfig;
use crate::store::Store;

pub struct Inner {
    pub config: SimConfig,
    /// `http://127.0.0.1:PORT` (organization URL and authority host).
    pub base_url: String,
    store: Mutex<Store>,
}

pub type App = Arc<Inner>;

impl Inner {
    pub fn new(config: SimConfig, base_url: String, store: Store) -> App {
        Arc::new(Inner { config, base_url, store: Mutex::new(store) })
    }

    /// Lock the store (a panic in another request does not poison the simulator).
    pub fn lock(&self) -> MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// `http://127.0.0.1:PORT/api/data/v9.2`
    pub fn api_base(&self) -> String {
        format!("{}/api/data/v9.2", self.base_url)
    }
}
