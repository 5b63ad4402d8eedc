//! The library's memory allocator: glibc's, except that large blocks are mapped from the
//! system on their own and unmapped when freed.
//!
//! Why: glibc serves a block from its heaps once a block of that size has been freed (its
//! mmap threshold rises to the largest freed mapping, up to 32 MB), and each thread of the
//! runtime has its own heap. The megabyte page bodies, `$batch` payloads and row vectors of a
//! 50,000-mailbox run then stay in every thread's heap after they are freed, and the
//! process (the PowerShell host, for the module) keeps them: measured on that run through the
//! module, a peak of 309–329 MB with glibc's rule against 268–291 MB with a fixed threshold.
//! A process-wide setting (`mallopt`, `MALLOC_MMAP_THRESHOLD_`) would also change the host's
//! own allocations; this one covers only what the library allocates.
//!
//! Elsewhere (Windows, macOS, musl) the system allocator already maps large blocks on
//! their own, and this is the system allocator.

#[cfg(all(target_os = "linux", target_env = "gnu"))]
pub use linux::LargeBlocksMapped as Allocator;
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub use std::alloc::System as Allocator;

#[cfg(all(target_os = "linux", target_env = "gnu"))]
mod linux {
    use std::alloc::{GlobalAlloc, Layout, System};
    use std::ptr;

    /// From this size a block is mapped on its own (glibc's own starting threshold).
    const LARGE: usize = 128 * 1024;
    /// Mappings are page-aligned; a block that asks for more stays with glibc.
    const PAGE: usize = 4096;

    pub struct LargeBlocksMapped;

    /// Whether a block of this layout is (or was) mapped on its own: the same answer for its
    /// allocation and its release, which get the same layout.
    fn mapped(layout: &Layout) -> bool {
        layout.size() >= LARGE && layout.align() <= PAGE
    }

    fn map(size: usize) -> *mut u8 {
        // SAFETY: an anonymous private mapping touches no existing memory.
        let p = unsafe {
            libc::mmap(ptr::null_mut(), size, libc::PROT_READ | libc::PROT_WRITE, libc::MAP_PRIVATE | libc::MAP_ANONYMOUS, -1, 0)
        };
        if p == libc::MAP_FAILED { ptr::null_mut() } else { p.cast() }
    }

    // SAFETY: every block is either glibc's (allocated, resized and freed by `System`) or a
    // mapping of exactly its size (mapped, remapped and unmapped here); `mapped` tells them
    // apart from the layout alone, which the caller passes unchanged to every call.
    unsafe impl GlobalAlloc for LargeBlocksMapped {
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            if mapped(&layout) { map(layout.size()) } else { unsafe { System.alloc(layout) } }
        }

        unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
            // A fresh anonymous mapping is zero-filled by the system.
            if mapped(&layout) { map(layout.size()) } else { unsafe { System.alloc_zeroed(layout) } }
        }

        unsafe fn dealloc(&self, block: *mut u8, layout: Layout) {
            if mapped(&layout) {
                // SAFETY: `block` is a mapping of `layout.size()` bytes made by `map`.
                unsafe { libc::munmap(block.cast(), layout.size()) };
            } else {
                unsafe { System.dealloc(block, layout) }
            }
        }

        unsafe fn realloc(&self, block: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
            // SAFETY (the whole body): `new_size` is non-zero and, with the alignment, a valid
            // layout (GlobalAlloc's contract).
            let new_layout = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
            match (mapped(&layout), mapped(&new_layout)) {
                (false, false) => unsafe { System.realloc(block, layout, new_size) },
                // The system moves the pages of a growing mapping instead of copying them.
                (true, true) => {
                    let p = unsafe { libc::mremap(block.cast(), layout.size(), new_size, libc::MREMAP_MAYMOVE) };
                    if p == libc::MAP_FAILED { ptr::null_mut() } else { p.cast() }
                }
                // Across the threshold: a new block, the bytes both hold, the old one freed.
                _ => {
                    let new = unsafe { self.alloc(new_layout) };
                    if !new.is_null() {
                        unsafe {
                            ptr::copy_nonoverlapping(block, new, layout.size().min(new_size));
                            self.dealloc(block, layout);
                        }
                    }
                    new
                }
            }
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn blocks_keep_their_bytes_when_they_grow_and_shrink_across_the_threshold() {
            let a = LargeBlocksMapped;
            let small = Layout::from_size_align(1000, 8).unwrap();
            unsafe {
                let p = a.alloc(small);
                assert!(!p.is_null());
                for i in 0..1000 {
                    *p.add(i) = (i % 251) as u8;
                }
                // Small to large (mapped), large to larger (remapped), back to small.
                let p = a.realloc(p, small, 3 * LARGE);
                let large = Layout::from_size_align(3 * LARGE, 8).unwrap();
                *p.add(3 * LARGE - 1) = 7;
                let p = a.realloc(p, large, 40 * LARGE);
                let larger = Layout::from_size_align(40 * LARGE, 8).unwrap();
                assert_eq!(*p.add(3 * LARGE - 1), 7);
                let p = a.realloc(p, larger, 500);
                assert!((0..500).all(|i| *p.add(i) == (i % 251) as u8));
                a.dealloc(p, Layout::from_size_align(500, 8).unwrap());
            }
        }

        #[test]
        fn a_large_zeroed_block_is_zero_and_an_over_aligned_one_stays_with_glibc() {
            let a = LargeBlocksMapped;
            let layout = Layout::from_size_align(2 * LARGE, 64).unwrap();
            let aligned = Layout::from_size_align(2 * LARGE, 2 * PAGE).unwrap();
            assert!(mapped(&layout) && !mapped(&aligned));
            unsafe {
                let p = a.alloc_zeroed(layout);
                assert!((0..layout.size()).all(|i| *p.add(i) == 0));
                a.dealloc(p, layout);
                let q = a.alloc(aligned);
                assert_eq!(q as usize % aligned.align(), 0);
                a.dealloc(q, aligned);
            }
        }
    }
}
