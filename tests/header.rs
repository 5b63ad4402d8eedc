//! The C boundary stays minimal and single-sourced:
//! - every name `include/crmsync.h` declares (macros, typedefs, struct tags, enum variants,
//!   functions, globals) starts with `crmsync_` or `CRMSYNC_`;
//! - the numbers the interop and the module keep (the C# status enum, the expected ABI
//!   version) equal the header's, which cbindgen generates from the one Rust definition;
//! - the core's messages name no PowerShell cmdlet or parameter: the module adds its advice.

use std::collections::BTreeMap;
use std::path::Path;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn read(relative: &str) -> String {
    std::fs::read_to_string(root().join(relative)).unwrap_or_else(|e| panic!("cannot read {relative}: {e}"))
}

/// The header without comments and string literals (`extern "C"`).
fn code_of(header: &str) -> String {
    let mut out = String::with_capacity(header.len());
    let mut chars = header.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, chars.peek()) {
            ('/', Some('*')) => {
                let mut last = ' ';
                for n in chars.by_ref() {
                    if last == '*' && n == '/' {
                        break;
                    }
                    // Keep line structure for preprocessor lines.
                    if n == '\n' {
                        out.push('\n');
                    }
                    last = n;
                }
            }
            ('/', Some('/')) => {
                for n in chars.by_ref() {
                    if n == '\n' {
                        out.push('\n');
                        break;
                    }
                }
            }
            ('"', _) => {
                for n in chars.by_ref() {
                    if n == '"' {
                        break;
                    }
                }
            }
            _ => out.push(c),
        }
    }
    out
}

fn idents(text: &str) -> Vec<String> {
    text.split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty() && !w.starts_with(|c: char| c.is_ascii_digit()))
        .map(str::to_string)
        .collect()
}

/// Every name the header declares at file scope, with what it is.
fn declared_names(header: &str) -> Vec<(String, &'static str)> {
    let code = code_of(header);
    let mut names = Vec::new();
    let mut body = String::new();
    for line in code.lines() {
        let trimmed = line.trim();
        if let Some(rest) = trimmed.strip_prefix('#') {
            let words = idents(rest);
            if let (Some("define"), Some(name)) = (words.first().map(String::as_str), words.get(1)) {
                names.push((name.clone(), "macro"));
            }
            continue;
        }
        body.push_str(line);
        body.push('\n');
    }
    // `extern "C" {` … `}` only wraps declarations: drop its opening brace (the string is
    // gone already), so that the declarations inside are at file scope.
    while let Some(at) = body.find("extern").filter(|at| body[at + 6..].trim_start().starts_with('{')) {
        let brace = at + 6 + body[at + 6..].find('{').unwrap();
        body.replace_range(at..=brace, "");
    }
    // Split into file-scope statements at `;` outside parentheses and braces.
    let (mut depth, mut statement) = (0i32, String::new());
    let mut statements = Vec::new();
    for c in body.chars() {
        match c {
            '(' | '{' => depth += 1,
            ')' | '}' => depth -= 1,
            _ => {}
        }
        statement.push(c);
        if c == ';' && depth <= 0 {
            statements.push(std::mem::take(&mut statement));
            depth = 0;
        }
    }
    for statement in statements {
        let s = statement.trim().trim_start_matches('}').trim();
        let words = idents(s);
        for keyword in ["struct", "enum", "union"] {
            for (at, _) in s.match_indices(keyword) {
                let before = s[..at].chars().next_back();
                let after = s[at + keyword.len()..].trim_start();
                // `enum {` has no tag; `struct crmsync_client` has one.
                if before.is_none_or(|c| !c.is_alphanumeric() && c != '_') && after.starts_with(|c: char| c.is_alphabetic() || c == '_') {
                    names.push((idents(after)[0].clone(), "tag"));
                }
            }
        }
        if let (Some(open), Some(close)) = (s.find('{'), s.rfind('}')) {
            // An enum body: each variant is the first word of a comma-separated entry.
            for entry in s[open + 1..close].split(',') {
                if let Some(variant) = idents(entry).first() {
                    names.push((variant.clone(), "enum variant"));
                }
            }
        }
        if words.first().map(String::as_str) == Some("typedef") {
            if let Some(alias) = idents(s.trim_end_matches(';')).last() {
                names.push((alias.clone(), "typedef"));
            }
        } else if let Some(paren) = s.find('(') {
            if let Some(function) = idents(&s[..paren]).last() {
                names.push((function.clone(), "function"));
            }
        } else if let Some(global) = idents(s.trim_end_matches(';')).last() {
            names.push((global.clone(), "global"));
        }
    }
    names.sort();
    names.dedup();
    names
}

fn foreign_names(header: &str) -> Vec<String> {
    declared_names(header)
        .into_iter()
        .filter(|(name, _)| !(name.starts_with("crmsync_") || name.starts_with("CRMSYNC_")))
        .map(|(name, what)| format!("{what} {name}"))
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect()
}

#[test]
fn the_header_declares_only_crmsync_names() {
    let header = read("include/crmsync.h");
    let names = declared_names(&header);
    assert!(names.iter().any(|(n, w)| n == "crmsync_op_next_event" && *w == "function"), "the parser sees functions: {names:?}");
    assert!(names.iter().any(|(n, w)| n == "CRMSYNC_STATUS_OK" && *w == "enum variant"), "the parser sees variants: {names:?}");
    assert!(names.iter().any(|(n, w)| n == "CRMSYNC_ABI_VERSION" && *w == "macro"));
    assert!(names.iter().any(|(n, w)| n == "crmsync_client" && *w == "typedef"));
    let foreign = foreign_names(&header);
    assert!(foreign.is_empty(), "include/crmsync.h declares names without the crmsync_/CRMSYNC_ prefix: {foreign:?}");
}

#[test]
fn the_checker_catches_every_kind_of_foreign_name() {
    let header = "#define MAX_OPERATIONS 1000\n#define CRMSYNC_OK 1\n/* #define IN_COMMENT 1 */\n\
        typedef enum { CRMSYNC_A = 0, LEAKED = 1 } crmsync_status;\ntypedef enum { X_ONE } Other;\n\
        typedef struct Foo Foo;\ntypedef uint32_t counter_t;\n#ifdef __cplusplus\nextern \"C\" {\n#endif\n\
        uint32_t crmsync_abi_version(void);\nvoid helper(const crmsync_client *client, size_t len);\n\
        extern const int some_global;\n#ifdef __cplusplus\n}\n#endif\n";
    let foreign = foreign_names(header);
    assert_eq!(
        foreign,
        vec![
            "enum variant LEAKED",
            "enum variant X_ONE",
            "function helper",
            "global some_global",
            "macro MAX_OPERATIONS",
            "tag Foo",
            "typedef Foo",
            "typedef Other",
            "typedef counter_t",
        ],
        "parameter names (client, len) and standard types are not declarations"
    );
}

fn header_statuses() -> BTreeMap<String, i64> {
    let header = code_of(&read("include/crmsync.h"));
    let start = header.find("typedef enum").expect("the status enum");
    let body = &header[header[start..].find('{').unwrap() + start + 1..header[start..].find('}').unwrap() + start];
    body.split(',')
        .filter_map(|entry| entry.split_once('='))
        .map(|(name, value)| (name.trim().trim_start_matches("CRMSYNC_STATUS_").to_string(), value.trim().parse().unwrap()))
        .collect()
}

fn screaming_snake(pascal: &str) -> String {
    let mut out = String::new();
    for (i, c) in pascal.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            out.push('_');
        }
        out.push(c.to_ascii_uppercase());
    }
    out
}

#[test]
fn the_csharp_status_enum_equals_the_header() {
    let csharp = read("interop/CrmSync.Interop/CrmSyncStatus.cs");
    let body = &csharp[csharp.find("enum CrmSyncStatus").expect("enum CrmSyncStatus")..];
    let body = &body[body.find('{').unwrap() + 1..body.find('}').unwrap()];
    let statuses: BTreeMap<String, i64> = body
        .lines()
        .map(str::trim)
        .filter(|l| !l.starts_with("//") && l.contains('='))
        .map(|l| {
            let (name, value) = l.trim_end_matches(',').split_once('=').unwrap();
            (screaming_snake(name.trim()), value.trim().parse().unwrap())
        })
        .collect();
    let header = header_statuses();
    assert!(header.len() >= 17, "{header:?}");
    assert_eq!(statuses, header, "CrmSyncStatus.cs must list exactly the header's statuses with the same numbers");
}

#[test]
fn the_interop_and_the_module_expect_the_header_abi_version() {
    let header = read("include/crmsync.h");
    let line = header.lines().find(|l| l.starts_with("#define CRMSYNC_ABI_VERSION")).expect("the version macro");
    let version: u32 = line.split_whitespace().nth(2).unwrap().parse().unwrap();
    assert_eq!(crmsync::ffi::crmsync_abi_version(), version, "the library reports the header's version");
    let number_after = |text: &str, key: &str, file: &str| -> u32 {
        let at = text.find(key).unwrap_or_else(|| panic!("{file} has no {key}")) + key.len();
        // The value is the last number on the line (`[uint32]1`, `= 1;`).
        let line = text[at..].lines().next().unwrap_or_default();
        let value = line.split(|c: char| !c.is_ascii_digit()).rfind(|d| !d.is_empty());
        value.and_then(|d| d.parse().ok()).unwrap_or_else(|| panic!("{file}: no number after {key}"))
    };
    let places = [
        ("interop/CrmSync.Interop/Native.cs", "ExpectedAbiVersion ="),
        ("powershell/CrmServerSideSync/CrmServerSideSync.psm1", "$script:ExpectedAbiVersion ="),
        ("powershell/CrmServerSideSync/CrmServerSideSync.psd1", "CrmSyncAbiVersion ="),
    ];
    for (file, key) in places {
        assert_eq!(number_after(&read(file), key, file), version, "{file}: {key} differs from the header's CRMSYNC_ABI_VERSION");
    }
}

/// A PowerShell command (`Verb-CrmNoun`) or parameter (` -Name`) in the core's text.
fn powershell_words(line: &str) -> Vec<String> {
    let mut found = Vec::new();
    for word in line.split(|c: char| c.is_whitespace() || matches!(c, '"' | '(' | ')' | ',' | '`' | '\'' | ';' | ':' | '/')) {
        let word = word.trim_end_matches(['.', '!', '?']);
        let is_cmdlet = word.split_once("-Crm").is_some_and(|(verb, noun)| {
            verb.len() > 1 && verb.chars().all(|c| c.is_ascii_alphabetic()) && noun.starts_with(|c: char| c.is_ascii_uppercase())
        });
        let is_parameter = word.strip_prefix('-').is_some_and(|name| {
            name.len() > 2 && name.starts_with(|c: char| c.is_ascii_uppercase()) && name.chars().all(|c| c.is_ascii_alphanumeric())
        });
        if is_cmdlet || is_parameter {
            found.push(word.to_string());
        }
    }
    found
}

#[test]
fn the_core_names_no_cmdlet_or_powershell_parameter() {
    assert_eq!(powershell_words("\"Run Connect-CrmOnline -DeviceCode again\""), vec!["Connect-CrmOnline", "-DeviceCode"]);
    assert!(powershell_words("\"Check tenant_id; If-Match; x-ms-dop-hint; 30 -1\"").is_empty());
    let mut files = Vec::new();
    let mut dirs = vec![root().join("src")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                files.push(path);
            }
        }
    }
    let mut problems = Vec::new();
    for file in files {
        for (n, line) in std::fs::read_to_string(&file).unwrap().lines().enumerate() {
            let words = powershell_words(line);
            if !words.is_empty() {
                problems.push(format!("{}:{}: {}", file.display(), n + 1, words.join(", ")));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "the core's text names PowerShell commands or parameters (the module adds its own advice):\n{}",
        problems.join("\n")
    );
}
