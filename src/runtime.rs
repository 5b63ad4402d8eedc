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

/// Gives the memory the process freed back to the system, where the allocator keeps it
/// otherwise. A step of tens of thousands of mailboxes frees most of what it read (page bodies,
/// rows, batch bodies) before the next step starts; glibc's malloc keeps such memory in each
/// worker thread's arena and reuses it only for that arena, so without this the process (the
/// PowerShell host, for the module) stays at the sum of every step's peak. Called between the
/// steps of a large run; a no-op where the allocator returns memory by itself (Windows, macOS,
/// musl).
pub fn release_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        unsafe extern "C" {
            /// glibc: releases free memory at the top of the heap and, since 2.8, the free
            /// pages inside every arena (`madvise(MADV_DONTNEED)`); returns whether any was.
            fn malloc_trim(pad: usize) -> std::os::raw::c_int;
        }
        // SAFETY: malloc_trim only returns free pages to the system; it takes each arena's
        // lock, so it is safe beside other threads' allocations.
        unsafe {
            malloc_trim(0);
        }
    }
}
