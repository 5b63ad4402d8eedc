//! The one tokio runtime of the process (every client and operation shares it), and the
//! rustls crypto provider, installed once.

use once_cell::sync::Lazy;
use tokio::runtime::Runtime;

static RUNTIME: Lazy<Runtime> = Lazy::new(|| {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("crmsync-worker")
        .build()
        .expect("the crmsync runtime could not start (out of threads or memory)")
});

pub fn get() -> &'static Runtime {
    &RUNTIME
}

/// reqwest is built without a default provider (aws-lc needs a C toolchain on every
/// platform); ring is installed as the process default the first time a client is made.
pub fn install_crypto_provider() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // Another library in the process may already have installed one: that is fine.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}
