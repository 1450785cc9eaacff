//! Oracle: for every real sample (gcc-11 to gcc-16, big-endian ppc64 gcc-12
//! and gcc-14, and the value-profiling builds), `xencov-rs dump --json`
//! reports the same values as the real `gcov-dump-N -l` of the compiler
//! that wrote it (GCC 13-16 in the chroots of scripts/chroot), and the
//! library re-encodes each file byte for byte. Values are compared, not text.

mod common;

use common::{Gcc, gcc};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;
use xencov::gcov::gcda::Gcda;

/// What gcov-dump printed about one file.
#[derive(Debug, Default, PartialEq)]
struct Dumped {
    version: String,
    swapped: bool,
    stamp: u64,
    checksum: Option<u64>,
    summaries: Vec<(String, u64, u64)>,
    functions: Vec<DumpedFunction>,
}

#[derive(Debug, Default, PartialEq)]
struct DumpedFunction {
    ident: u64,
    lineno_checksum: u64,
    cfg_checksum: u64,
    /// (tag, kind name, values, all zero)
    counters: Vec<(u64, String, Vec<u64>, bool)>,
}

fn num(s: &str) -> u64 {
    let s = s.trim().trim_end_matches(',');
    match s.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16).unwrap(),
        None => s.parse().unwrap_or_else(|_| panic!("not a number: {s:?}")),
    }
}

fn field<'a>(text: &'a str, name: &str) -> &'a str {
    let start = text
        .find(&format!("{name}="))
        .unwrap_or_else(|| panic!("{name} in {text}"))
        + name.len()
        + 1;
    text[start..].split([',', ' ']).next().unwrap()
}

fn gcov_dump(g: Gcc, path: &Path) -> Dumped {
    let out = g
        .tool("gcov-dump")
        .arg("-l")
        .arg(path)
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "gcov-dump-{} is needed for this test (scripts/setup): {e}",
                g.major
            )
        });
    assert!(
        out.status.success(),
        "gcov-dump-{} failed on {}: {}",
        g.major,
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let prefix = format!("{}:", path.display());
    let mut d = Dumped::default();
    for line in text.lines() {
        let rest = line
            .strip_prefix(&prefix)
            .unwrap_or_else(|| panic!("unexpected line {line}"));
        let trimmed = rest.trim_start();
        // gcov-dump shows the magic as read in host order: `adcg' means swapped.
        if let Some(v) = rest
            .strip_prefix("data:magic `gcda':version `")
            .or_else(|| rest.strip_prefix("data:magic `adcg':version `"))
        {
            d.version = v[..4].to_string();
            d.swapped = v.ends_with("(swapped endianness)");
        } else if let Some(v) = rest.strip_prefix("stamp ") {
            d.stamp = num(v);
        } else if let Some(v) = rest.strip_prefix("checksum ") {
            d.checksum = Some(num(v));
        } else if rest.starts_with("warning:") {
        } else if trimmed.contains(":OBJECT_SUMMARY") || trimmed.contains(":PROGRAM_SUMMARY") {
            let name = if trimmed.contains("OBJECT") {
                "OBJECT_SUMMARY"
            } else {
                "PROGRAM_SUMMARY"
            };
            d.summaries.push((
                name.into(),
                num(field(trimmed, "runs")),
                num(field(trimmed, "sum_max")),
            ));
        } else if trimmed.contains(":FUNCTION") {
            d.functions.push(DumpedFunction {
                ident: num(field(trimmed, "ident")),
                lineno_checksum: num(field(trimmed, "lineno_checksum")),
                cfg_checksum: num(field(trimmed, "cfg_checksum")),
                counters: Vec::new(),
            });
        } else if trimmed.contains(":COUNTERS ") {
            let tag = num(&format!("0x{}", &trimmed[..8]));
            let after = trimmed.split(":COUNTERS ").nth(1).unwrap();
            let mut words = after.split_whitespace();
            let kind = words.next().unwrap().to_string();
            let count = num(words.next().unwrap()) as usize;
            let zero = after.contains("(all zero)");
            let f = d.functions.last_mut().expect("counters before a function");
            f.counters
                .push((tag, kind, Vec::with_capacity(count), zero));
        } else if let Some((index, values)) = trimmed.split_once(": ") {
            let index = num(index) as usize;
            let (_, _, vals, _) = d.functions.last_mut().unwrap().counters.last_mut().unwrap();
            assert_eq!(vals.len(), index, "row index in {line}");
            vals.extend(values.split_whitespace().map(num));
        } else {
            panic!("gcov-dump line not understood: {line}");
        }
    }
    d
}

/// The same facts, read from our `dump --json` output of one file.
fn ours(json: &Value) -> Dumped {
    let h = &json["header"];
    let mut d = Dumped {
        version: h["version"]["chars"].as_str().unwrap().into(),
        // On this little-endian host, a big-endian file is a swapped one.
        swapped: h["endian"] == "big",
        stamp: h["stamp"].as_u64().unwrap(),
        checksum: h["checksum"].as_u64(),
        ..Dumped::default()
    };
    for r in json["records"].as_array().unwrap() {
        match r["record"].as_str().unwrap() {
            "other" => d.summaries.push((
                r["name"].as_str().unwrap().into(),
                r["summary"]["runs"].as_u64().unwrap(),
                r["summary"]["sum_max"].as_u64().unwrap(),
            )),
            "function" => d.functions.push(DumpedFunction {
                ident: r["id"]["ident"].as_u64().unwrap(),
                lineno_checksum: r["id"]["lineno_checksum"].as_u64().unwrap(),
                cfg_checksum: r["id"]["cfg_checksum"].as_u64().unwrap(),
                counters: r["counters"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|c| {
                        (
                            num(c["tag"].as_str().unwrap()),
                            c["kind"].as_str().unwrap().into(),
                            c["values"]
                                .as_array()
                                .unwrap()
                                .iter()
                                .map(|v| v.as_u64().unwrap())
                                .collect(),
                            c["compact"].as_bool().unwrap(),
                        )
                    })
                    .collect(),
            }),
            other => panic!("record kind {other}"),
        }
    }
    d
}

fn sample_set(set: &str) -> Vec<PathBuf> {
    let files = common::files_with_suffix(&common::samples().join(set), ".gcda");
    assert!(
        files.len() >= 8,
        "samples/{set} holds only {} gcda files",
        files.len()
    );
    files
}

fn check_set(set: &str, g: Gcc, endian: &str) -> Vec<Dumped> {
    let files = sample_set(set);
    let out = Command::new(env!("CARGO_BIN_EXE_xencov-rs"))
        .arg("dump")
        .arg("--json")
        .args(&files)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    let docs = json.as_array().unwrap();
    assert_eq!(docs.len(), files.len());
    let mut all = Vec::new();
    for (path, doc) in files.iter().zip(docs) {
        assert_eq!(doc["file"].as_str().unwrap(), path.display().to_string());
        assert_eq!(doc["header"]["endian"], endian, "{}", path.display());
        let theirs = gcov_dump(g, path);
        assert!(
            !theirs.functions.is_empty(),
            "{}: gcov-dump printed no function",
            path.display()
        );
        assert_eq!(ours(doc), theirs, "{}", path.display());

        let bytes = std::fs::read(path).unwrap();
        let gcda = Gcda::decode(&bytes).unwrap();
        assert_eq!(
            gcda.encode(),
            bytes,
            "{} re-encodes byte for byte",
            path.display()
        );
        all.push(theirs);
    }
    all
}

#[test]
fn gcc_11_samples_agree_with_gcov_dump_11() {
    let dumps = check_set("gcc-11", gcc(11), "little");
    assert!(dumps.iter().all(|d| d.version == "B13*"));
    // The never-executed unit is written in the compact all-zero form.
    assert!(
        dumps
            .iter()
            .flat_map(|d| &d.functions)
            .flat_map(|f| &f.counters)
            .any(|c| c.3)
    );
}

#[test]
fn gcc_12_samples_agree_with_gcov_dump_12() {
    let dumps = check_set("gcc-12", gcc(12), "little");
    assert!(
        dumps
            .iter()
            .all(|d| d.version == "B22*" && d.checksum.is_some())
    );
}

#[test]
fn big_endian_ppc64_samples_agree_with_gcov_dump_12() {
    let files = sample_set("ppc64-gcc-12");
    for f in &files {
        assert_eq!(
            &std::fs::read(f).unwrap()[..4],
            b"gcda",
            "{} is big-endian",
            f.display()
        );
    }
    check_set("ppc64-gcc-12", gcc(12), "big");
}

/// Every value-profiling kind of GCC 10-16 appears in the -fprofile-generate builds.
#[test]
fn value_profiling_samples_agree_with_gcov_dump() {
    for (set, major) in [
        ("gcc-11-pg", 11),
        ("gcc-12-pg", 12),
        ("gcc-13-pg", 13),
        ("gcc-14-pg", 14),
        ("gcc-15-pg", 15),
        ("gcc-16-pg", 16),
    ] {
        let g = gcc(major);
        if !g.available() {
            continue;
        }
        let dumps = check_set(set, g, "little");
        let mut kinds: Vec<&str> = dumps
            .iter()
            .flat_map(|d| &d.functions)
            .flat_map(|f| &f.counters)
            .filter(|c| c.2.iter().any(|&v| v != 0))
            .map(|c| c.1.as_str())
            .collect();
        kinds.sort();
        kinds.dedup();
        assert_eq!(
            kinds,
            [
                "arcs",
                "average",
                "indirect_call",
                "interval",
                "ior",
                "pow2",
                "time_profiler",
                "topn"
            ],
            "{set}"
        );
    }
}

/// Non-zero counter kinds of a set's runs 1-3, sorted.
fn nonzero_kinds(dumps: &[Dumped]) -> Vec<String> {
    let mut kinds: Vec<String> = dumps
        .iter()
        .flat_map(|d| &d.functions)
        .flat_map(|f| &f.counters)
        .filter(|c| c.2.iter().any(|&v| v != 0))
        .map(|c| format!("{:08x} {}", c.0, c.1))
        .collect();
    kinds.sort();
    kinds.dedup();
    kinds
}

/// GCC 13-16 (real files of Debian's compilers, run in the chroots): the
/// version word, and the condition (GCC 14+) and path (GCC 15+) counters
/// with the names their gcov-dump prints.
#[test]
fn gcc_13_to_16_samples_agree_with_their_gcov_dump() {
    let arcs = "01a10000 arcs";
    let conds = "01b10000 conditions";
    // -fpath-coverage's counters: gcov-dump 15 and 16 call them "ior".
    let paths = "01b30000 ior";
    let table: [(&str, u8, &str, &str, &[&str]); 5] = [
        ("gcc-13", 13, "B35*", "little", &[arcs]),
        ("gcc-14", 14, "B42*", "little", &[arcs, conds]),
        ("ppc64-gcc-14", 14, "B42*", "big", &[arcs, conds]),
        ("gcc-15", 15, "B53*", "little", &[arcs, conds, paths]),
        ("gcc-16", 16, "B62*", "little", &[arcs, conds, paths]),
    ];
    for (set, major, word, endian, kinds) in table {
        let g = gcc(major);
        if !g.available() {
            continue;
        }
        let dumps = check_set(set, g, endian);
        assert!(dumps.iter().all(|d| d.version == word), "{set}");
        assert_eq!(nonzero_kinds(&dumps), kinds, "{set}");
        // Every unit written by the big-endian program is swapped here.
        assert!(
            dumps.iter().all(|d| d.swapped == (endian == "big")),
            "{set}"
        );
    }
}
