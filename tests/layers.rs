//! The import checker: every module of `src/` may import only from the layers below it (the
//! layout in `src/lib.rs`). It reads each file's `crate::…` paths (in `use` items and inline)
//! and fails naming the file, the line and the upward import.

use std::path::{Path, PathBuf};

/// Top to bottom, as `src/lib.rs` describes them. A new module must be placed here.
const LAYERS: &[&str] = &[
    "ffi",
    "steps",
    "engine",
    "client",
    "config",
    "webapi",
    "auth",
    "transport",
    "journal",
    "operation",
    "runtime",
    "documents",
    "model",
    "error",
    "allocator",
];

#[derive(Debug, PartialEq)]
struct Upward {
    line: usize,
    from: String,
    to: String,
}

fn rank(module: &str) -> Option<usize> {
    LAYERS.iter().position(|m| *m == module)
}

/// The top-level modules a piece of source names through `crate::`, with their line numbers.
fn crate_paths(source: &str) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    for (index, line) in source.lines().enumerate() {
        // Comments (and doc comments) may mention paths without importing them.
        let code = match line.find("//") {
            Some(at) => &line[..at],
            None => line,
        };
        let mut rest = code;
        while let Some(at) = rest.find("crate::") {
            // `crmsync::` or `my_crate::` are not `crate::`.
            let before = rest[..at].chars().next_back();
            rest = &rest[at + "crate::".len()..];
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                continue;
            }
            if let Some(group) = rest.strip_prefix('{') {
                let end = group.find('}').unwrap_or(group.len());
                // Top-level names of a group; nested groups (`a::{b, c}`) have a path before them.
                let mut depth = 0;
                let mut start = 0;
                let inner = &group[..end];
                for (i, c) in inner.char_indices() {
                    match c {
                        '{' => depth += 1,
                        '}' => depth -= 1,
                        ',' if depth == 0 => {
                            found.push((index + 1, first_ident(&inner[start..])));
                            start = i + 1;
                        }
                        _ => {}
                    }
                }
                found.push((index + 1, first_ident(&inner[start..])));
            } else {
                found.push((index + 1, first_ident(rest)));
            }
        }
    }
    found.retain(|(_, name)| !name.is_empty());
    found
}

fn first_ident(text: &str) -> String {
    text.trim_start().chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect()
}

fn upward_imports(module: &str, source: &str) -> Vec<Upward> {
    let Some(own) = rank(module) else { return Vec::new() };
    crate_paths(source)
        .into_iter()
        .filter(|(_, target)| {
            // Re-exports at the crate root (`crate::Error`, `crate::Client`) are the modules'
            // own items under another name: judge them by the module that defines them.
            let target = match target.as_str() {
                "Error" | "ErrorKind" | "Result" => "error",
                "Client" => "client",
                other => other,
            };
            rank(target).is_some_and(|r| r < own)
        })
        .map(|(line, to)| Upward { line, from: module.to_string(), to })
        .collect()
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display())) {
        let path = entry.expect("directory entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// `src/auth/entra.rs` → `auth`; `src/config.rs` → `config`; `src/lib.rs` → none.
fn module_of(src: &Path, file: &Path) -> Option<String> {
    let relative = file.strip_prefix(src).ok()?;
    let first = relative.components().next()?.as_os_str().to_str()?.to_string();
    let name = first.trim_end_matches(".rs").to_string();
    (name != "lib").then_some(name)
}

#[test]
fn no_module_imports_from_a_layer_above_it() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    let mut problems = Vec::new();
    for file in &files {
        let Some(module) = module_of(&src, file) else { continue };
        if rank(&module).is_none() {
            problems.push(format!("{}: module `{module}` has no layer: add it to LAYERS here and to src/lib.rs", file.display()));
            continue;
        }
        let source = std::fs::read_to_string(file).expect("readable source");
        for up in upward_imports(&module, &source) {
            problems.push(format!("{}:{}: `{}` imports `crate::{}`, a layer above it", file.display(), up.line, up.from, up.to));
        }
    }
    assert!(files.len() > 20, "the checker found only {} files under {}", files.len(), src.display());
    assert!(problems.is_empty(), "upward imports:\n{}", problems.join("\n"));
}

#[test]
fn the_checker_sees_use_items_groups_and_inline_paths() {
    let source = "use crate::error::Result;\nuse crate::{model::Mailbox, steps};\n// crate::ffi in a comment\nfn f() { crate::ffi::Status::Ok; crmsync::ffi::x(); }\n";
    let found = upward_imports("webapi", source);
    assert_eq!(
        found,
        vec![Upward { line: 2, from: "webapi".into(), to: "steps".into() }, Upward { line: 4, from: "webapi".into(), to: "ffi".into() },]
    );
    assert!(upward_imports("ffi", source).is_empty(), "the top layer may import everything");
}

#[test]
fn every_layer_is_a_module_that_exists_and_the_layout_in_lib_rs_lists_them_in_this_order() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let lib = std::fs::read_to_string(root.join("lib.rs")).expect("src/lib.rs");
    // The layout's entries: `//! - [`name`]: …` or `//! - `name`: …`.
    let described: Vec<String> = lib
        .lines()
        .filter_map(|l| l.strip_prefix("//! - "))
        .map(|entry| entry.trim_start_matches('[').trim_start_matches('`').split('`').next().unwrap_or_default().to_string())
        .collect();
    assert_eq!(described, LAYERS, "the layout in src/lib.rs lists the layers top to bottom, exactly these");
    for module in LAYERS {
        assert!(root.join(format!("{module}.rs")).exists() || root.join(module).join("mod.rs").exists(), "no module {module}");
        assert!(
            lib.lines().any(|l| l.starts_with("pub") || l.starts_with("mod"))
                && lib.lines().any(|l| l.trim_end_matches(';').ends_with(&format!(" {module}"))),
            "src/lib.rs does not declare `{module}`"
        );
    }
}
