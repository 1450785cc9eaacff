//! Real Xen-style dumps ("a hypervisor in a test", samples/xen/): C programs
//! built by gcc-11, gcc-12, big-endian ppc64 gcc-12, and gcc-14, gcc-15 and
//! gcc-16 (in the chroots of scripts/chroot, with condition coverage: the
//! 9- and 10-kind `gcov_info` layouts of Xen 4.21+), linked without
//! libgcov against tests/xen-hv/xen_gcov.c, which serialises the compiler's
//! real gcov_info structures exactly as Xen does. The same objects linked
//! with libgcov wrote the gcda files of the same runs.
//!
//! `split` of every dump must give payloads equal to libgcov's files up to
//! what the hypervisor leaves out (summaries, the GCC 12 checksum, the
//! compact zero form, the end marker), and gcov and `lcov --capture` must
//! report the same line counts for both.

mod common;

use common::{Gcc, gcc};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;
use xencov::gcov::gcda::{Gcda, Record, Values};

const SETS: [(&str, u8); 6] = [
    ("gcc-11", 11),
    ("gcc-12", 12),
    ("ppc64-gcc-12", 12),
    ("gcc-14", 14),
    ("gcc-15", 15),
    ("gcc-16", 16),
];

/// libgcov's file as the hypervisor would have written it.
fn as_xen_writes_it(mut g: Gcda) -> Gcda {
    g.records.retain(|r| matches!(r, Record::Function(_)));
    for r in &mut g.records {
        if let Record::Function(f) = r {
            for c in &mut f.counters {
                if let Values::Zero(n) = c.values {
                    c.values = Values::Stored(vec![0; n as usize]);
                }
            }
        }
    }
    g.header.checksum = g.header.checksum.map(|_| 0);
    g.end_marker = false;
    g.after_end.clear();
    g
}

fn split(test: &str, set: &str, run: u32) -> PathBuf {
    let out =
        std::env::temp_dir().join(format!("xencov-{test}-{set}-{run}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    let dump = common::samples().join(format!("xen/{set}/calc-run{run}.xcov"));
    let status = Command::new(env!("CARGO_BIN_EXE_xencov-rs"))
        .arg("split")
        .arg(&dump)
        .arg("-o")
        .arg(&out)
        .args([
            "--strip-prefix",
            &format!("/tmp/xencov-xen-build/{set}/calc"),
        ])
        .args(["--strict"])
        .status()
        .unwrap();
    assert!(status.success(), "split {}", dump.display());
    out
}

fn libgcov_dir(set: &str, run: u32) -> PathBuf {
    common::samples().join(format!("xen/{set}/libgcov-run{run}"))
}

#[test]
fn split_payloads_equal_libgcov_files_but_for_what_xen_leaves_out() {
    for (set, _) in SETS {
        for run in [1, 2] {
            let out = split("payloads", set, run);
            let theirs = common::files_with_suffix(&libgcov_dir(set, run), ".gcda");
            assert_eq!(theirs.len(), 4);
            for lib in &theirs {
                let ours = std::fs::read(out.join(lib.file_name().unwrap())).unwrap();
                let decoded = Gcda::decode(&ours).unwrap();
                assert!(!decoded.end_marker && decoded.header.checksum.is_none_or(|c| c == 0));
                let expected =
                    as_xen_writes_it(Gcda::decode(&std::fs::read(lib).unwrap()).unwrap());
                assert_eq!(
                    ours,
                    expected.encode(),
                    "{set} run {run}: {}",
                    lib.display()
                );
            }
            std::fs::remove_dir_all(&out).unwrap();
        }
    }
}

/// `gcov --json-format --stdout` of one unit: its per-file line records.
fn gcov_json(g: Gcc, dir: &Path, unit: &str) -> Value {
    let out = g
        .tool("gcov")
        .args(["--json-format", "--stdout", "-o"])
        .arg(dir)
        .arg(dir.join(format!("{unit}.gcda")))
        .output()
        .unwrap_or_else(|e| panic!("gcov-{}: {e}", g.major));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && err.trim().is_empty(),
        "gcov-{} on {}: {err}",
        g.major,
        dir.display(),
    );
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    json["files"].clone()
}

fn lcov_lines(g: Gcc, dir: &Path) -> Vec<String> {
    let info = dir.join("capture.info");
    let mut cmd = g.command("lcov");
    cmd.args(["--capture", "--quiet", "-d"])
        .arg(dir)
        .arg("--gcov-tool")
        .arg(g.gcov())
        .arg("-o")
        .arg(&info);
    if g.lcov2() {
        // lcov 2 stops on sources it cannot open; the build tree is gone.
        cmd.args(["--ignore-errors", "source,source"]);
    }
    let out = cmd.output().expect("lcov is needed for this test");
    assert!(
        out.status.success(),
        "lcov: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&info).unwrap();
    std::fs::remove_file(&info).unwrap();
    // One line per record, tagged with its source file, sorted.
    let mut sf = String::new();
    let mut lines: Vec<String> = text
        .lines()
        .filter_map(|l| {
            if let Some(f) = l.strip_prefix("SF:") {
                sf = f.to_string();
                None
            } else if ["DA:", "FNDA:", "FN:", "FNL:", "FNA:"]
                .iter()
                .any(|p| l.starts_with(p))
            {
                Some(format!("{sf} {l}"))
            } else {
                None
            }
        })
        .collect();
    lines.sort();
    lines
}

#[test]
fn gcov_and_lcov_read_the_split_files_with_libgcov_line_counts() {
    for (set, major) in &SETS[..3] {
        gcov_and_lcov_agree(set, *major);
    }
}

/// The GCC 14-16 sets, one test each so that they run in parallel.
#[test]
fn gcc_14_split_files_read_by_gcov_14_and_lcov_2() {
    gcov_and_lcov_agree("gcc-14", 14);
}

#[test]
fn gcc_15_split_files_read_by_gcov_15_and_lcov_2() {
    gcov_and_lcov_agree("gcc-15", 15);
}

#[test]
fn gcc_16_split_files_read_by_gcov_16_and_lcov_2() {
    gcov_and_lcov_agree("gcc-16", 16);
}

fn gcov_and_lcov_agree(set: &str, major: u8) {
    let g = gcc(major);
    if !g.available() {
        return;
    }
    for run in [1, 2] {
        let out = split("gcov", set, run);
        let lib = libgcov_dir(set, run);
        for gcno in common::files_with_suffix(&lib, ".gcno") {
            std::fs::copy(&gcno, out.join(gcno.file_name().unwrap())).unwrap();
        }
        let mut executed = 0;
        for unit in ["main", "ops", "parse", "unused"] {
            let ours = gcov_json(g, &out, unit);
            assert_eq!(ours, gcov_json(g, &lib, unit), "{set} run{run} {unit}");
            executed += ours
                .as_array()
                .unwrap()
                .iter()
                .flat_map(|f| f["lines"].as_array().unwrap())
                .filter(|l| l["count"].as_u64().unwrap() > 0)
                .count();
        }
        assert!(
            executed > 50,
            "{set} run{run}: only {executed} executed lines"
        );
        let ours = lcov_lines(g, &out);
        assert!(
            ours.len() > 100,
            "{set}: lcov found only {} records",
            ours.len()
        );
        assert_eq!(ours, lcov_lines(g, &lib), "{set} run{run}");
        std::fs::remove_dir_all(&out).unwrap();
    }
}
