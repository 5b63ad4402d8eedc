//! A C program compiled with the system C compiler against `include/crmsync.h` and the built
//! library calls the version, client and operation functions against the simulator.
//! The library must have been built (`cargo build --release` or `build.ps1 -Task Build`).

mod common;

use common::Sim;
use std::path::PathBuf;
use std::process::Command;

fn profile_dir() -> PathBuf {
    // target/<profile>/deps/c_program-… → target/<profile>
    std::env::current_exe().unwrap().parent().unwrap().parent().unwrap().to_path_buf()
}

fn library(dir: &std::path::Path) -> PathBuf {
    let name = if cfg!(target_os = "windows") {
        "crmsync.dll"
    } else if cfg!(target_os = "macos") {
        "libcrmsync.dylib"
    } else {
        "libcrmsync.so"
    };
    dir.join(name)
}

#[test]
#[cfg(unix)]
fn a_c_program_lists_every_mailbox_through_the_abi() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let dir = profile_dir();
    let lib = library(&dir);
    assert!(lib.exists(), "{} is missing: build the library first (cargo build --release, or ./build.ps1 -Task Build)", lib.display());
    let exe = std::env::temp_dir().join(format!("crmsync-abi-smoke-{}", std::process::id()));
    let compiled = Command::new(std::env::var("CC").unwrap_or_else(|_| "cc".into()))
        .args(["-std=c11", "-Wall", "-Wextra", "-Werror", "-o"])
        .arg(&exe)
        .arg(root.join("tests/c/abi_smoke.c"))
        .arg(format!("-I{}", root.join("include").display()))
        .arg(format!("-L{}", dir.display()))
        .arg(format!("-Wl,-rpath,{}", dir.display()))
        .arg("-lcrmsync")
        .status()
        .expect("a C compiler (cc) is installed");
    assert!(compiled.success(), "the C program compiles against include/crmsync.h without warnings");

    let sim = Sim::start(40, 3);
    let output = Command::new(&exe).arg(&sim.url).output().unwrap();
    let _ = std::fs::remove_file(&exe);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "exit {:?}: {stdout} {}", output.status, String::from_utf8_lossy(&output.stderr));
    assert!(stdout.contains("\"organization_name\":\"Contoso Simulated\""), "{stdout}");
    assert!(stdout.contains("pages=7 mailboxes=43"), "{stdout}");
    assert!(stdout.contains("\"count\":43"), "{stdout}");
}
