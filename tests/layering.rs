//! The library's layers import one way only (docs/design.md, "What may import
//! what"): every `crate::…` and `super::…` path in `src/**/*.rs` is resolved to
//! the top-level module it names, and that module must be in the importing
//! layer's allowed list below. Test modules (`#[cfg(test)]` to the end of a
//! file, and `tests.rs` files) may import anything.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// What each top-level module of `src/` may import besides itself: the table
/// of docs/design.md. `lib.rs` (the crate root) may import anything.
const ALLOWED: &[(&str, &[&str])] = &[
    ("plural", &[]),
    // `error` wraps gcov's `VersionError`: the one import that points up,
    // checked to stay exactly that one (see `error_imports_only_version_error`).
    ("error", &["plural", "gcov"]),
    ("bytes", &["error", "plural"]),
    ("paths", &["error", "plural"]),
    ("gcov", &["bytes", "error", "plural"]),
    ("llvm", &["bytes", "error", "plural"]),
    ("xen", &["bytes", "gcov", "llvm", "error", "plural"]),
    ("check", &["bytes", "gcov", "llvm", "error", "plural"]),
    ("analysis", &["bytes", "gcov", "paths", "error", "plural"]),
    (
        "report",
        &["bytes", "gcov", "analysis", "paths", "error", "plural"],
    ),
    // Recognising any input: above every format it names.
    (
        "input",
        &["bytes", "gcov", "llvm", "xen", "error", "plural"],
    ),
];

/// The module path of a source file: `src/gcov/gcda.rs` → `[gcov, gcda]`,
/// `src/gcov/mod.rs` → `[gcov]`, `src/lib.rs` → `[]`.
fn module_path(rel: &Path) -> Vec<String> {
    let mut parts: Vec<String> = rel
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    if let Some(last) = parts.pop() {
        let stem = last.trim_end_matches(".rs");
        if stem != "mod" && stem != "lib" {
            parts.push(stem.to_string());
        }
    }
    parts
}

/// The code of a file without comments, string literals and test modules,
/// as (line number, text); a `use` that spans lines is joined into one.
fn code_lines(text: &str) -> Vec<(usize, String)> {
    let mut out: Vec<(usize, String)> = Vec::new();
    let mut in_use = false;
    for (i, line) in text.lines().enumerate() {
        let t = line.trim_start();
        if t.starts_with("#[cfg(test)]") {
            break;
        }
        if t.starts_with("//") {
            continue;
        }
        let code = line.split("//").next().unwrap_or("");
        // Drop string literals so that messages naming paths do not count.
        let mut kept = String::new();
        let mut in_str = false;
        for c in code.chars() {
            if c == '"' {
                in_str = !in_str;
            } else if !in_str {
                kept.push(c);
            }
        }
        match out.last_mut() {
            Some((_, joined)) if in_use => joined.push_str(&kept),
            _ => out.push((i + 1, kept.clone())),
        }
        let starts_use = ["use ", "pub use ", "pub(crate) use ", "pub(super) use "]
            .iter()
            .any(|p| kept.trim_start().starts_with(p));
        in_use = (in_use || starts_use) && !kept.contains(';');
    }
    out
}

fn ident(s: &str) -> String {
    s.trim_start()
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect()
}

/// The first name of each item of a `{…}` group (`s` starts after its `{`).
fn group_heads(s: &str) -> Vec<String> {
    let mut heads = Vec::new();
    let mut depth = 1;
    let mut item_start = true;
    for (i, c) in s.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    break;
                }
            }
            ',' if depth == 1 => item_start = true,
            c if c.is_whitespace() => {}
            _ if item_start && depth == 1 => {
                heads.push(ident(&s[i..]));
                item_start = false;
            }
            _ => {}
        }
    }
    heads
}

/// The top-level modules a path names when `rest` follows the crate root.
fn heads(rest: &str) -> Vec<String> {
    match rest.strip_prefix('{') {
        Some(group) => group_heads(group),
        None => vec![ident(rest)],
    }
}

/// Every top-level module a line's paths reach: `crate::a…`, `crate::{a…, b…}`,
/// and `super::…` chains that climb out of the file's top-level module.
fn targets(line: &str, module: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    let glued = |i: usize| {
        line[..i]
            .chars()
            .last()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
    };
    for (i, _) in line.match_indices("crate::") {
        if !glued(i) {
            out.extend(heads(&line[i + "crate::".len()..]));
        }
    }
    for (i, _) in line.match_indices("super::") {
        if glued(i) {
            continue; // counted with the chain it belongs to
        }
        let mut rest = &line[i..];
        let mut depth = module.len();
        while let Some(r) = rest.strip_prefix("super::") {
            depth = depth.saturating_sub(1);
            rest = r;
        }
        if depth == 0 {
            out.extend(heads(rest));
        }
    }
    out.retain(|m| !m.is_empty() && m != "self");
    out
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// Every import that breaks the table, as `file:line: a imports b`.
fn violations(files: &[(PathBuf, String)]) -> Vec<String> {
    let mut bad = Vec::new();
    for (rel, text) in files {
        let module = module_path(rel);
        let Some(top) = module.first() else {
            continue; // lib.rs
        };
        if rel.file_name().is_some_and(|n| n == "tests.rs") {
            continue;
        }
        let allowed = ALLOWED
            .iter()
            .find(|(m, _)| m == top)
            .map(|(_, a)| *a)
            .unwrap_or_else(|| {
                panic!(
                    "src/{} is in no layer: add `{top}` to ALLOWED and docs/design.md",
                    rel.display()
                )
            });
        for (n, line) in code_lines(text) {
            for target in targets(&line, &module) {
                if &target != top && !allowed.contains(&target.as_str()) {
                    bad.push(format!("src/{}:{n}: {top} imports {target}", rel.display()));
                }
            }
        }
    }
    bad
}

fn library_sources() -> Vec<(PathBuf, String)> {
    let src = common::root().join("src");
    let mut paths = Vec::new();
    rust_files(&src, &mut paths);
    paths
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p).unwrap();
            (p.strip_prefix(&src).unwrap().to_path_buf(), text)
        })
        .collect()
}

#[test]
fn every_import_follows_the_layers() {
    let files = library_sources();
    assert!(
        files.len() > 30,
        "found only {} files under src/",
        files.len()
    );
    let bad = violations(&files);
    assert!(
        bad.is_empty(),
        "imports against the layering of docs/design.md:\n{}",
        bad.join("\n")
    );
}

#[test]
fn every_top_level_module_is_in_a_layer() {
    let mut tops = BTreeSet::new();
    for (rel, _) in library_sources() {
        if let Some(top) = module_path(&rel).first() {
            tops.insert(top.clone());
        }
    }
    let known: BTreeSet<String> = ALLOWED.iter().map(|(m, _)| m.to_string()).collect();
    assert_eq!(tops, known, "src/ and the layer table disagree");
}

/// `error` may reach into `gcov` for what its errors carry and name — the
/// version (`Version`, `VersionError`) and the record tag (`Tag`) of the
/// framing and notes errors — and nothing else.
#[test]
fn error_imports_only_version_error() {
    const ALLOWED_FROM_GCOV: &[&str] = &[
        "crate::gcov::version::VersionError",
        "crate::gcov::version::Version",
        "crate::gcov::version::{Version, VersionError}",
        "crate::gcov::tag::Tag",
    ];
    let files = library_sources();
    let (_, text) = files
        .iter()
        .find(|(rel, _)| rel == Path::new("error.rs"))
        .expect("src/error.rs");
    for (n, line) in code_lines(text) {
        if let Some(at) = line.find("crate::gcov") {
            let rest = &line[at..];
            assert!(
                ALLOWED_FROM_GCOV.iter().any(|a| rest.starts_with(a)
                    && !rest[a.len()..].starts_with(|c: char| c.is_alphanumeric() || c == '_')),
                "src/error.rs:{n} imports more of gcov than the version and the record tag: {line}"
            );
        }
    }
}

/// The checker itself finds what it must: imports that point up, through
/// `crate::`, a `crate::{…}` group and a `super::` chain, and ignores
/// comments, strings and test modules.
#[test]
fn the_checker_catches_upward_imports() {
    let file = |path: &str, text: &str| (PathBuf::from(path), text.to_string());
    let files = vec![
        file("bytes/reader.rs", "use crate::gcov::version::Version;\n"),
        file(
            "gcov/gcda.rs",
            "use crate::{bytes::reader::Reader, report::lcov};\n",
        ),
        file("gcov/record.rs", "use super::super::xen::dump;\n"),
        file(
            "llvm/raw/decode.rs",
            "let x = crate::analysis::merge::MAX_COUNT;\n",
        ),
        file(
            "analysis/merge/mod.rs",
            "// crate::report is only mentioned\nlet s = \"crate::report\";\n\
             use crate::gcov::gcda::Gcda;\nuse super::counters;\n\
             #[cfg(test)]\nmod tests { use crate::report::lcov; }\n",
        ),
        file("report/mod.rs", "use crate::analysis::coverage;\n"),
        file(
            "xen/dump/legacy.rs",
            "use crate::{\n    bytes::{endian::Endian, reader::Reader},\n    report::lcov,\n};\n",
        ),
    ];
    let bad = violations(&files);
    assert_eq!(
        bad,
        [
            "src/bytes/reader.rs:1: bytes imports gcov",
            "src/gcov/gcda.rs:1: gcov imports report",
            "src/gcov/record.rs:1: gcov imports xen",
            "src/llvm/raw/decode.rs:1: llvm imports analysis",
            "src/xen/dump/legacy.rs:1: xen imports report",
        ]
    );
}
