//! Condition coverage (MC/DC as GCC 14+ measures it, `-fcondition-coverage`):
//! for a program of compound decisions (tests/mcdc: `&&`, `||`, `!`, nested,
//! in a macro, in loops, several decisions on one line, a decision in a
//! header's inline function compiled into two units) built and run here by
//! gcc-14, gcc-15 and gcc-16 (the chroots of scripts/chroot), the
//! `conditions` of `report --format json` equal those of the real
//! `gcov-N -t -g --json-format`, line by line and unit by unit, for each run
//! and for the three runs merged; and our merge of the runs is byte for byte
//! gcov-tool-N's. `lcov --dialect lcov2` equals lcov 2.5's tracefile text
//! for sid's gcc-13 (no conditions, no block ids) to gcc-16 builds, and
//! genhtml 2.5 renders it without a message.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{Gcc, Tmp, gcc, run};
use serde_json::Value;

const RUNS: [&[&str]; 3] = [
    &["1", "1", "0"],
    &["0", "1", "1", "5"],
    &["3", "-1", "7", "-20", "2"],
];
const UNITS: [&str; 2] = ["main", "util"];

/// (data file name, source file, line) -> the line's `conditions` array.
type Conditions = BTreeMap<(String, String, u64), Value>;

/// Every line with a non-empty `conditions` array in a stream of gcov JSON
/// documents, one per line.
fn conditions(text: &str) -> Conditions {
    let mut out = Conditions::new();
    for doc in text.lines().filter(|l| !l.trim().is_empty()) {
        let d: Value = serde_json::from_str(doc).unwrap();
        let unit = Path::new(d["data_file"].as_str().unwrap())
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        for f in d["files"].as_array().unwrap() {
            for l in f["lines"].as_array().unwrap() {
                match l.get("conditions") {
                    Some(Value::Array(c)) if !c.is_empty() => {
                        let key = (
                            unit.clone(),
                            f["file"].as_str().unwrap().to_string(),
                            l["line_number"].as_u64().unwrap(),
                        );
                        assert!(out.insert(key, l["conditions"].clone()).is_none());
                    }
                    _ => {}
                }
            }
        }
    }
    out
}

/// Builds tests/mcdc with `gcc-N` and runs it once per entry of RUNS, each
/// run's data files moved to `runK/` beside copies of the notes.
fn build(g: Gcc, t: &Tmp) -> Vec<PathBuf> {
    let src = common::root().join("tests/mcdc");
    let b = t.p("build");
    std::fs::create_dir_all(&b).unwrap();
    for f in ["main.c", "util.c", "mcdc.h"] {
        std::fs::copy(src.join(f), b.join(f)).unwrap();
    }
    let cc = format!("gcc-{}", g.major);
    // GCC 13 has no condition coverage (its build is the lcov 2 dialect's
    // oracle for data without block ids).
    let flags: &[&str] = if g.major >= 14 {
        &[
            "-Wall",
            "-Werror",
            "--coverage",
            "-fcondition-coverage",
            "-O0",
        ]
    } else {
        &["-Wall", "-Werror", "--coverage", "-O0"]
    };
    for u in UNITS {
        run(g
            .command(&cc)
            .args(flags)
            .arg("-c")
            .arg(b.join(format!("{u}.c")))
            .arg("-o")
            .arg(b.join(format!("{u}.o"))));
    }
    run(g
        .command(&cc)
        .arg("--coverage")
        .args(UNITS.map(|u| b.join(format!("{u}.o"))))
        .arg("-o")
        .arg(b.join("prog")));
    let mut dirs = Vec::new();
    for (k, args) in RUNS.iter().enumerate() {
        run(g.command(b.join("prog").to_str().unwrap()).args(*args));
        let d = t.p(&format!("run{}", k + 1));
        std::fs::create_dir_all(&d).unwrap();
        for u in UNITS {
            std::fs::rename(b.join(format!("{u}.gcda")), d.join(format!("{u}.gcda"))).unwrap();
            std::fs::copy(b.join(format!("{u}.gcno")), d.join(format!("{u}.gcno"))).unwrap();
        }
        dirs.push(d);
    }
    dirs
}

fn gcda_files(dir: &Path) -> Vec<PathBuf> {
    UNITS
        .iter()
        .map(|u| dir.join(format!("{u}.gcda")))
        .collect()
}

fn theirs(g: Gcc, dir: &Path) -> Conditions {
    let o = run(g
        .tool("gcov")
        .args(["-t", "-g", "--json-format"])
        .args(gcda_files(dir)));
    conditions(&String::from_utf8(o.stdout).unwrap())
}

fn ours(inputs: &[PathBuf], notes: &Path, out: &Path) -> Conditions {
    run(Command::new(env!("CARGO_BIN_EXE_xencov-rs"))
        .arg("report")
        .args(inputs)
        .arg("--gcno-dir")
        .arg(notes)
        .args(["--format", "json", "-o"])
        .arg(out));
    conditions(&std::fs::read_to_string(out).unwrap())
}

/// Outcomes covered and in all, over every decision.
fn outcomes(c: &Conditions) -> (u64, u64) {
    c.values()
        .flat_map(|v| v.as_array().unwrap())
        .fold((0, 0), |(h, n), d| {
            (
                h + d["covered"].as_u64().unwrap(),
                n + d["count"].as_u64().unwrap(),
            )
        })
}

fn check(major: u8) {
    let g = gcc(major);
    if !g.available() {
        return;
    }
    let t = Tmp::new(&format!("mcdc-{major}"));
    let runs = build(g, &t);
    let mut single = Vec::new();
    for (k, d) in runs.iter().enumerate() {
        let theirs = theirs(g, d);
        let ours = ours(&gcda_files(d), d, &t.p(&format!("ours{k}.json")));
        assert_eq!(ours, theirs, "gcc-{major} run {}", k + 1);
        single.push(ours);
    }
    // Both units report the header's decision (inlined into each), and
    // several decisions share a line.
    let first = &single[0];
    assert!(
        first
            .keys()
            .any(|(u, f, _)| u == "main.gcda" && f.ends_with("/mcdc.h"))
    );
    assert!(
        first
            .keys()
            .any(|(u, f, _)| u == "util.gcda" && f.ends_with("/mcdc.h"))
    );
    assert!(first.values().any(|v| v.as_array().unwrap().len() >= 2));
    let (hit, all) = outcomes(first);
    assert!(hit > 0 && hit < all, "gcc-{major}: {hit}/{all}");

    // The three runs merged, by gcov-tool (two at a time) and by us.
    let m12 = t.p("m12");
    let m123 = t.p("m123");
    for (a, b, o) in [(&runs[0], &runs[1], &m12), (&m12, &runs[2], &m123)] {
        run(g
            .tool("gcov-tool")
            .arg("merge")
            .arg(a)
            .arg(b)
            .arg("-o")
            .arg(o));
    }
    let mine = t.p("ours-merged");
    run(Command::new(env!("CARGO_BIN_EXE_xencov-rs"))
        .arg("merge")
        .args(&runs)
        .args(["--to", "gcda", "-o"])
        .arg(&mine));
    for u in UNITS {
        let name = format!("{u}.gcda");
        assert!(
            std::fs::read(mine.join(&name)).unwrap() == std::fs::read(m123.join(&name)).unwrap(),
            "gcc-{major}: merged {name} differs from gcov-tool-{major}'s"
        );
        std::fs::copy(
            runs[0].join(format!("{u}.gcno")),
            m123.join(format!("{u}.gcno")),
        )
        .unwrap();
    }
    let theirs = theirs(g, &m123);
    // Our report reads the three runs and merges them itself.
    let inputs: Vec<PathBuf> = runs.iter().flat_map(|d| gcda_files(d)).collect();
    let merged = ours(&inputs, &runs[0], &t.p("ours-merged.json"));
    assert_eq!(merged, theirs, "gcc-{major} merged");
    // The merge is an OR of the runs' sets: it covers more than any run.
    let (mhit, mall) = outcomes(&merged);
    assert_eq!(mall, all);
    for s in &single {
        assert!(
            outcomes(s).0 < mhit,
            "gcc-{major}: {:?} vs {mhit}",
            outcomes(s)
        );
    }

    // The summary's condition column equals lcov 2.5's MCH/MCF (sid; the
    // trixie lcov 2.0 of gcc-14 has no --mcdc-coverage), for run 1 and for
    // the merge.
    if g.suite == Some("sid") {
        for (what, dir, inputs) in [
            ("run1", runs[0].clone(), gcda_files(&runs[0])),
            ("merged", m123.clone(), inputs.clone()),
        ] {
            let info = t.p(&format!("{what}.info"));
            run(g
                .command("lcov")
                .args(["--capture", "--quiet", "--mcdc-coverage", "--gcov-tool"])
                .arg(g.gcov())
                .arg("-d")
                .arg(&dir)
                .arg("-o")
                .arg(&info));
            let text = std::fs::read_to_string(&info).unwrap();
            let total = |key: &str| -> u64 {
                text.lines()
                    .filter_map(|l| l.strip_prefix(key))
                    .map(|v| v.parse::<u64>().unwrap())
                    .sum()
            };
            let (mch, mcf) = (total("MCH:"), total("MCF:"));
            assert!(mcf > 0 && mch < mcf, "{what}: {mch}/{mcf}");
            let o = run(Command::new(env!("CARGO_BIN_EXE_xencov-rs"))
                .arg("report")
                .args(&inputs)
                .arg("--gcno-dir")
                .arg(&runs[0]));
            let table = String::from_utf8(o.stdout).unwrap();
            let head = table.lines().next().unwrap();
            assert!(head.trim_end().ends_with("conditions"), "{table}");
            let row = table.lines().find(|l| l.starts_with("total")).unwrap();
            let cell = row.split_whitespace().last().unwrap();
            assert_eq!(cell, format!("{mch}/{mcf}"), "gcc-{major} {what}: {table}");
        }
    }
}

#[test]
fn gcc_14_conditions_equal_gcov_14() {
    check(14);
}

#[test]
fn gcc_15_conditions_equal_gcov_15() {
    check(15);
}

#[test]
fn gcc_16_conditions_equal_gcov_16() {
    check(16);
}

/// The calc samples of gcc-14, 15 and 16 (samples/README.md), every run,
/// and the big-endian ppc64 gcc-14 runs: the same `conditions` as gcov.
#[test]
fn calc_samples_conditions_equal_gcov() {
    for (set, major) in [
        ("gcc-14/calc", 14),
        ("ppc64-gcc-14/calc", 14),
        ("gcc-15/calc", 15),
        ("gcc-16/calc", 16),
    ] {
        let g = gcc(major);
        if !g.available() {
            continue;
        }
        let t = Tmp::new(&format!("mcdc-calc-{major}-{}", set.len()));
        for k in 1..=4 {
            let d = common::samples().join(format!("{set}/run{k}"));
            let files = common::files_with_suffix(&d, ".gcda");
            let o = run(g
                .tool("gcov")
                .args(["-t", "-g", "--json-format"])
                .args(&files));
            let theirs = conditions(&String::from_utf8(o.stdout).unwrap());
            let ours = ours(&files, &d, &t.p(&format!("ours{k}.json")));
            assert!(!theirs.is_empty(), "{set} run{k}");
            assert_eq!(ours, theirs, "{set} run{k}");
        }
    }
}

/// A Xen stand-in dump of gcc-14/15/16 `-fcondition-coverage` builds
/// (samples/xen) reports the same MC/DC as gcov -g on libgcov's files of the
/// same run, and merged dumps the same as gcov on gcov-tool's merge of those.
#[test]
fn xen_dumps_report_the_conditions_gcov_reports_on_libgcov_files() {
    for major in [14, 15, 16] {
        let g = gcc(major);
        if !g.available() {
            continue;
        }
        let set = common::samples().join(format!("xen/gcc-{major}"));
        let t = Tmp::new(&format!("mcdc-xen-{major}"));
        let prefix = format!("/tmp/xencov-xen-build/gcc-{major}/calc=");
        let report = |inputs: &[PathBuf], notes: &Path, out: &str| {
            run(Command::new(env!("CARGO_BIN_EXE_xencov-rs"))
                .arg("report")
                .args(inputs)
                .arg("--gcno-dir")
                .arg(notes)
                .args(["--prefix-map", &prefix, "--format", "json", "-o"])
                .arg(t.p(out)));
            conditions(&std::fs::read_to_string(t.p(out)).unwrap())
        };
        let libgcov = |k: u32| set.join(format!("libgcov-run{k}"));
        for k in 1..=2 {
            let dump = set.join(format!("calc-run{k}.xcov"));
            let ours = report(&[dump], &libgcov(k), &format!("ours{k}.json"));
            let o = run(g
                .tool("gcov")
                .args(["-t", "-g", "--json-format"])
                .args(common::files_with_suffix(&libgcov(k), ".gcda")));
            let theirs = conditions(&String::from_utf8(o.stdout).unwrap());
            assert!(!theirs.is_empty());
            assert_eq!(ours, theirs, "gcc-{major} run {k}");
        }
        let merged = t.p("merged");
        run(g
            .tool("gcov-tool")
            .arg("merge")
            .arg(libgcov(1))
            .arg(libgcov(2))
            .arg("-o")
            .arg(&merged));
        for n in common::files_with_suffix(&libgcov(1), ".gcno") {
            std::fs::copy(&n, merged.join(n.file_name().unwrap())).unwrap();
        }
        let o = run(g
            .tool("gcov")
            .args(["-t", "-g", "--json-format"])
            .args(common::files_with_suffix(&merged, ".gcda")));
        let theirs = conditions(&String::from_utf8(o.stdout).unwrap());
        let dumps = [1, 2].map(|k| set.join(format!("calc-run{k}.xcov")));
        let ours = report(&dumps, &libgcov(1), "ours-merged.json");
        assert_eq!(ours, theirs, "gcc-{major} merged");
    }
}

/// A CONDITIONS record that cannot be GCC's is refused with the file and
/// the record's byte offset: a block past the function's blocks, a decision
/// of 0 or of more than 64 terms, half a pair. Edits of a real gcc-14 file.
#[test]
fn bad_conditions_records_are_errors_naming_file_and_offset() {
    let path = common::samples().join("gcc-14/calc/run1/main.gcno");
    let real = std::fs::read(&path).unwrap();
    // `main`'s CONDITIONS record (formats/gcno.md §8): tag, length, then
    // (block, terms) pairs; the first pair is block 4 with 2 terms.
    let at = 1494;
    assert_eq!(&real[at..at + 8], &[0, 0, 0x47, 1, 0x20, 0, 0, 0]);
    let t = Tmp::new("mcdc-bad-notes");
    let word = |bytes: &mut Vec<u8>, off: usize, v: u32| {
        bytes[off..off + 4].copy_from_slice(&v.to_le_bytes());
    };
    // The record's offset, or for a cut pair the offset of the missing word.
    type Edit<'a> = Box<dyn Fn(&mut Vec<u8>) + 'a>;
    let cases: [(&str, Edit<'_>, &str, usize); 4] = [
        ("block", Box::new(|b| word(b, at + 8, 999)), "block 999", at),
        ("zero", Box::new(|b| word(b, at + 12, 0)), "0 terms", at),
        ("wide", Box::new(|b| word(b, at + 12, 65)), "65 terms", at),
        (
            "half",
            Box::new(|b| {
                // One word less in the record: the last pair is cut in two.
                word(b, at + 4, 0x1c);
                b.remove(at + 8 + 0x1c);
                b.remove(at + 8 + 0x1c);
                b.remove(at + 8 + 0x1c);
                b.remove(at + 8 + 0x1c);
            }),
            "input ends inside a condition's number of terms",
            at + 8 + 0x1c,
        ),
    ];
    for (name, edit, says, offset) in cases {
        let mut bytes = real.clone();
        edit(&mut bytes);
        let f = t.p(&format!("{name}.gcno"));
        std::fs::write(&f, &bytes).unwrap();
        let o = Command::new(env!("CARGO_BIN_EXE_xencov-rs"))
            .arg("dump")
            .arg(&f)
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(1), "{name}");
        let err = String::from_utf8(o.stderr).unwrap();
        assert!(
            err.contains(&format!("{}: at byte offset {offset} ", f.display()))
                && err.contains(says),
            "{name}: {err}"
        );
    }
}

/// lcov 2.5 (sid) on `dir` with `g`'s gcov: `--capture --rc
/// branch_coverage=1 --mcdc-coverage`, as a user runs it (without
/// `--mcdc-coverage` for gcov 13, which lcov refuses it with).
fn lcov_2_5(g: Gcc, dir: &Path, out: &Path) -> String {
    let mcdc: &[&str] = if g.major >= 14 {
        &["--mcdc-coverage"]
    } else {
        &[]
    };
    run(g
        .command("lcov")
        .args(["--capture", "--quiet", "--rc", "branch_coverage=1"])
        .args(mcdc)
        .arg("--gcov-tool")
        .arg(g.gcov())
        .arg("-d")
        .arg(dir)
        .arg("-o")
        .arg(out));
    std::fs::read_to_string(out).unwrap()
}

/// Our `lcov --dialect lcov2` of `inputs`, notes under `notes`.
fn ours_lcov2(inputs: &[PathBuf], notes: &Path, out: &Path) -> String {
    run(Command::new(env!("CARGO_BIN_EXE_xencov-rs"))
        .arg("lcov")
        .args(["--dialect", "lcov2"])
        .args(inputs)
        .arg("--gcno-dir")
        .arg(notes)
        .arg("-o")
        .arg(out));
    std::fs::read_to_string(out).unwrap()
}

/// Record by record, with the first difference shown.
fn same_records(ours: &str, theirs: &str, what: &str) {
    for (k, (a, b)) in ours.lines().zip(theirs.lines()).enumerate() {
        assert_eq!(a, b, "{what}: record {} differs", k + 1);
    }
    assert_eq!(ours.lines().count(), theirs.lines().count(), "{what}");
}

/// `--dialect lcov2` equals lcov 2.5's own tracefile, text for text, for
/// each run of tests/mcdc (gcc-13: without conditions) and for the three runs merged (gcov-tool's merge
/// for lcov, ours for us). Nothing is normalised: both write `TN:` with the
/// empty test name and the absolute source paths the notes record. All
/// builds are sid's (gcc-14 too): lcov 2.5 runs the gcov of its chroot, and
/// sid's gcov-14 is a later 14.x than trixie's, whose data it would read
/// with a version warning.
fn lcov2_equals_lcov_2_5(major: u8) {
    let g = Gcc {
        major,
        suite: Some("sid"),
    };
    if !g.available() {
        return;
    }
    let t = Tmp::new(&format!("mcdc-lcov2-{major}"));
    let runs = build(g, &t);
    for (k, d) in runs.iter().enumerate() {
        let theirs = lcov_2_5(g, d, &t.p(&format!("theirs{k}.info")));
        let ours = ours_lcov2(&gcda_files(d), d, &t.p(&format!("ours{k}.info")));
        assert!(theirs.contains("\nFNL:") && theirs.contains("\nBRDA:"));
        assert_eq!(theirs.contains("\nMCDC:"), major >= 14);
        // gcov 14+ gives block ids, which lcov writes as branch ids.
        assert_eq!(theirs.contains(" -> "), major >= 14);
        same_records(&ours, &theirs, &format!("gcc-{major} run {}", k + 1));
    }
    let m12 = t.p("m12");
    let m123 = t.p("m123");
    for (a, b, o) in [(&runs[0], &runs[1], &m12), (&m12, &runs[2], &m123)] {
        run(g
            .tool("gcov-tool")
            .arg("merge")
            .arg(a)
            .arg(b)
            .arg("-o")
            .arg(o));
    }
    for u in UNITS {
        std::fs::copy(
            runs[0].join(format!("{u}.gcno")),
            m123.join(format!("{u}.gcno")),
        )
        .unwrap();
    }
    let theirs = lcov_2_5(g, &m123, &t.p("theirs-merged.info"));
    let inputs: Vec<PathBuf> = runs.iter().flat_map(|d| gcda_files(d)).collect();
    let ours = ours_lcov2(&inputs, &runs[0], &t.p("ours-merged.info"));
    same_records(&ours, &theirs, &format!("gcc-{major} merged"));

    if major < 14 {
        return;
    }
    // genhtml 2.5 renders it with branches and MC/DC, without a warning.
    let html = t.p("html");
    let o = run(g
        .command("genhtml")
        .args(["--branch-coverage", "--mcdc-coverage", "-o"])
        .arg(&html)
        .arg(t.p("ours-merged.info")));
    let err = String::from_utf8_lossy(&o.stderr);
    let out = String::from_utf8_lossy(&o.stdout);
    // lcov's own note on its JSON module is about the Perl install, not
    // the tracefile.
    let warnings: Vec<&str> = err
        .lines()
        .chain(out.lines())
        .filter(|l| l.contains("WARNING") || l.contains("ERROR"))
        .filter(|l| !l.contains("JSON module"))
        .collect();
    assert!(warnings.is_empty(), "gcc-{major} genhtml: {warnings:?}");
    assert!(out.contains("no messages were reported"), "{out}");
    // The MC/DC totals it shows are the tracefile's MCH/MCF.
    let total = |key: &str| -> u64 {
        ours.lines()
            .filter_map(|l| l.strip_prefix(key))
            .map(|v| v.parse::<u64>().unwrap())
            .sum()
    };
    let shown = format!("({} of {} MC/DCs)", total("MCH:"), total("MCF:"));
    assert!(out.contains(&shown), "gcc-{major}: {shown} not in {out}");
    let index = std::fs::read_to_string(html.join("index.html")).unwrap();
    assert!(index.contains("MC/DC Coverage"), "no MC/DC column");
}

/// gcov 13 writes no block ids: lcov 2.5's branch ids are then numbers.
#[test]
fn gcc_13_lcov2_tracefile_equals_lcov_2_5() {
    lcov2_equals_lcov_2_5(13);
}

#[test]
fn gcc_14_lcov2_tracefile_equals_lcov_2_5() {
    lcov2_equals_lcov_2_5(14);
}

#[test]
fn gcc_15_lcov2_tracefile_equals_lcov_2_5() {
    lcov2_equals_lcov_2_5(15);
}

#[test]
fn gcc_16_lcov2_tracefile_equals_lcov_2_5() {
    lcov2_equals_lcov_2_5(16);
}

/// Counters without the `conditions` counters of functions whose notes
/// record decisions (a gcda of another build, or a dumper that drops them)
/// used to be reported as all conditions never covered, silently. They are
/// still reported as gcov-14 reports the same files (its JSON is the
/// oracle), but with a warning naming the unit and the function, and
/// `--strict` makes it an error. Edit of a real gcc-14 file: every
/// `conditions` counter record of `main.gcda` removed.
#[test]
fn counters_without_conditions_counters_are_a_warning() {
    use xencov::gcov::gcda::{Gcda, Record};
    let src = common::samples().join("gcc-14/calc/run1");
    let t = Tmp::new("mcdc-no-conditions");
    let d = t.p("data");
    std::fs::create_dir_all(&d).unwrap();
    std::fs::copy(src.join("main.gcno"), d.join("main.gcno")).unwrap();
    let mut g = Gcda::decode(&std::fs::read(src.join("main.gcda")).unwrap()).unwrap();
    let mut dropped = 0;
    for r in &mut g.records {
        if let Record::Function(f) = r {
            let before = f.counters.len();
            f.counters.retain(|c| c.kind.name != "conditions");
            dropped += before - f.counters.len();
        }
    }
    assert!(dropped > 0);
    std::fs::write(d.join("main.gcda"), g.encode()).unwrap();
    let files = vec![d.join("main.gcda")];
    let report = |strict: bool| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_xencov-rs"));
        c.arg("report").args(&files).arg("--gcno-dir").arg(&d);
        if strict {
            c.arg("--strict");
        }
        c.args(["--format", "json", "-o"]).arg(t.p("ours.json"));
        c.output().unwrap()
    };
    let o = report(false);
    assert!(o.status.success());
    let err = String::from_utf8(o.stderr).unwrap();
    assert!(
        err.contains("main.gcda: 'main': the notes record")
            && err.contains("no conditions counters"),
        "{err}"
    );
    let ours = conditions(&std::fs::read_to_string(t.p("ours.json")).unwrap());
    assert!(
        ours.values()
            .flat_map(|v| v.as_array().unwrap())
            .all(|c| c["covered"] == 0)
    );
    let g14 = gcc(14);
    if g14.available() {
        let o = run(g14
            .tool("gcov")
            .args(["-t", "-g", "--json-format"])
            .args(&files));
        let theirs = conditions(&String::from_utf8(o.stdout).unwrap());
        assert_eq!(ours, theirs);
    }
    let o = report(true);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        String::from_utf8(o.stderr)
            .unwrap()
            .contains("with --strict")
    );
}
