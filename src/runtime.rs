//! The one tokio runtime of the process: every client and operation shares it.

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
