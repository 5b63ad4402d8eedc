//! Regenerates include/crmsync.h from the C ABI in src/ffi. The header is committed; CI
//! rebuilds and fails if the committed copy differs (see .ci/run).
//!
//! cbindgen reads `src/ffi` only, not the whole crate: it emits every `pub` constant and
//! `#[repr(C)]` type it sees, whatever the module's visibility, so a public constant elsewhere
//! (the `$batch` limit, a retry count) would otherwise leak into the C header as a macro.

use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-changed=src");
    println!("cargo:rerun-if-changed=cbindgen.toml");
    let crate_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let config = cbindgen::Config::from_file(crate_dir.join("cbindgen.toml")).expect("cbindgen.toml is valid");
    let header = crate_dir.join("include").join("crmsync.h");
    match cbindgen::Builder::new().with_src(crate_dir.join("src").join("ffi").join("mod.rs")).with_config(config).generate() {
        // write_to_file leaves the file untouched when the content is the same.
        Ok(bindings) => {
            bindings.write_to_file(&header);
        }
        Err(e) => panic!("cbindgen could not generate {}: {e}", header.display()),
    }
}
