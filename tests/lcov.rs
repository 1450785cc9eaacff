//! `xencov-rs lcov` and `report`: coverage computed from .gcno + counters
//! without gcov must equal what `lcov --capture --rc lcov_branch_coverage=1`
//! computes with the matching gcov-11/gcov-12 (combined per source file by
//! `lcov -a`), record by record (each source file's record holds the same
//! lines, in any order); Cobertura must validate; genhtml must render.
//! (`report --format json` against gcov: report_json.rs; Cobertura against
//! gcovr: cobertura_gcovr.rs.)

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::Tmp;

use common::{run, sorted_lines as sorted, tracefile_by_file as by_file};

fn lcov_capture(dir: &Path, gcov: &str, t: &Tmp) -> Vec<String> {
    common::lcov_capture(dir, gcov, &t.0)
}

fn ours(args: &[&std::ffi::OsStr], out: &Path) -> Output {
    let o = Command::new(env!("CARGO_BIN_EXE_xencov-rs"))
        .args(args)
        .arg("-o")
        .arg(out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    o
}

fn samples(rel: &str) -> PathBuf {
    common::samples().join(rel)
}

#[test]
fn tracefiles_equal_lcov_capture_on_every_sample_run() {
    let mut checked = 0;
    for (set, gcov) in [
        ("gcc-11/calc", "gcov-11"),
        ("gcc-12/calc", "gcov-12"),
        ("ppc64-gcc-12/calc", "gcov-12"),
        ("gcc-11-pg/vp", "gcov-11"),
        ("gcc-12-pg/vp", "gcov-12"),
    ] {
        for r in 1..=4 {
            let dir = samples(&format!("{set}/run{r}"));
            let t = Tmp::new(&format!("lcov-{}-{r}", set.replace('/', "-")));
            let theirs = lcov_capture(&dir, gcov, &t);
            let out = t.p("ours.info");
            ours(
                &[
                    "lcov".as_ref(),
                    dir.as_os_str(),
                    "--gcno-dir".as_ref(),
                    dir.as_os_str(),
                ],
                &out,
            );
            let ours = by_file(&out);
            assert!(
                theirs.iter().filter(|l| l.contains(": DA:")).count() > 30,
                "{set} run{r}"
            );
            assert_eq!(ours, theirs, "{set} run{r}");
            checked += 1;
        }
    }
    assert_eq!(checked, 20);
}

/// GCC 13-16 (the chroots' compilers): every run's tracefile has the counts
/// of that release's lcov 2.x capture with its gcov-N (lines, functions,
/// branches and the totals); lcov 2 writes other records (FNL/FNA, branch
/// ids), so the counts are compared, not the text.
fn counts_equal_lcov_2_capture(major: u8, sets: &[&str]) {
    let g = common::gcc(major);
    if !g.available() {
        return;
    }
    for set in sets {
        for r in 1..=4 {
            let dir = samples(&format!("{set}/run{r}"));
            let t = Tmp::new(&format!("lcov2-{}-{r}", set.replace('/', "-")));
            let theirs = common::lcov_capture_counts(g, &dir, &t.0);
            let out = t.p("ours.info");
            ours(
                &[
                    "lcov".as_ref(),
                    dir.as_os_str(),
                    "--gcno-dir".as_ref(),
                    dir.as_os_str(),
                ],
                &out,
            );
            let ours = common::tracefile_counts(&out);
            assert!(
                theirs.values().map(|f| f.lines.len()).sum::<usize>() > 30
                    && theirs.values().map(|f| f.branches.len()).sum::<usize>() > 5
                    && theirs
                        .values()
                        .all(|f| f.functions.values().all(|(_, hits)| !hits.is_empty())),
                "{set} run{r}: {theirs:?}"
            );
            assert_eq!(ours, theirs, "{set} run{r}");
        }
    }
}

#[test]
fn gcc_13_counts_equal_lcov_2_capture() {
    counts_equal_lcov_2_capture(13, &["gcc-13/calc", "gcc-13-pg/vp"]);
}

#[test]
fn gcc_14_counts_equal_lcov_2_capture() {
    counts_equal_lcov_2_capture(14, &["gcc-14/calc", "ppc64-gcc-14/calc", "gcc-14-pg/vp"]);
}

#[test]
fn gcc_15_counts_equal_lcov_2_capture() {
    counts_equal_lcov_2_capture(15, &["gcc-15/calc", "gcc-15-pg/vp"]);
}

#[test]
fn gcc_16_counts_equal_lcov_2_capture() {
    counts_equal_lcov_2_capture(16, &["gcc-16/calc", "gcc-16-pg/vp"]);
}

/// Runs 1 and 3 of `set` merged by gcov-tool-N (with the notes copied
/// beside the result, for lcov) and our tracefile of the same two runs.
fn gcov_tool_merge_and_ours(g: common::Gcc, set: &str, t: &Tmp) -> (PathBuf, PathBuf) {
    let (r1, r2) = (
        samples(&format!("{set}/run1")),
        samples(&format!("{set}/run3")),
    );
    let merged = t.p("merged");
    run(g
        .tool("gcov-tool")
        .arg("merge")
        .arg(&r1)
        .arg(&r2)
        .arg("-o")
        .arg(&merged));
    for gcno in common::files_with_suffix(&r1, ".gcno") {
        std::fs::copy(&gcno, merged.join(gcno.file_name().unwrap())).unwrap();
    }
    let out = t.p("ours.info");
    ours(
        &[
            "lcov".as_ref(),
            r1.as_os_str(),
            r2.as_os_str(),
            "--gcno-dir".as_ref(),
            r1.as_os_str(),
        ],
        &out,
    );
    (merged, out)
}

/// Several inputs are merged first: the result is the tracefile of the
/// gcov-tool merge of the same runs.
#[test]
fn merged_inputs_equal_lcov_of_the_gcov_tool_merge() {
    let t = Tmp::new("lcov-merged");
    let (merged, out) = gcov_tool_merge_and_ours(common::gcc(12), "gcc-12-pg/vp", &t);
    assert_eq!(by_file(&out), lcov_capture(&merged, "gcov-12", &t));
}

/// The same for GCC 14-16 (conditions and path counters merged too): the
/// counts of the gcov-tool-N merge captured by that release's lcov 2.x.
#[test]
fn merged_gcc_14_to_16_inputs_have_the_counts_of_the_gcov_tool_merge() {
    for (set, major) in [
        ("gcc-14/calc", 14),
        ("gcc-15/calc", 15),
        ("gcc-16-pg/vp", 16),
    ] {
        let g = common::gcc(major);
        if !g.available() {
            continue;
        }
        let t = Tmp::new(&format!("lcov-merged-{}", set.replace('/', "-")));
        let (merged, out) = gcov_tool_merge_and_ours(g, set, &t);
        let theirs = common::lcov_capture_counts(g, &merged, &t.0);
        assert_eq!(common::tracefile_counts(&out), theirs, "{set}");
    }
}

/// A Xen dump needs no split and no gcov: the notes are found under the
/// build tree after --prefix-map.
#[test]
fn a_xen_dump_gives_the_tracefile_of_libgcovs_files() {
    for (set, gcov) in [
        ("gcc-11", "gcov-11"),
        ("gcc-12", "gcov-12"),
        ("ppc64-gcc-12", "gcov-12"),
    ] {
        let t = Tmp::new(&format!("lcov-xen-{set}"));
        let lib = samples(&format!("xen/{set}/libgcov-run2"));
        let theirs = lcov_capture(&lib, gcov, &t);
        let dump = samples(&format!("xen/{set}/calc-run2.xcov"));
        let map = format!("/tmp/xencov-xen-build/{set}/calc=");
        let out = t.p("ours.info");
        ours(
            &[
                "lcov".as_ref(),
                dump.as_os_str(),
                "--gcno-dir".as_ref(),
                lib.as_os_str(),
                "--prefix-map".as_ref(),
                map.as_ref(),
            ],
            &out,
        );
        assert_eq!(by_file(&out), theirs, "{set}");
    }
}

#[test]
fn units_without_matching_notes_are_warnings_and_errors_with_strict() {
    let t = Tmp::new("lcov-notes");
    let data = samples("gcc-12/calc/run1");
    // Notes of another build (samples/xen's calc was compiled separately).
    let other = samples("xen/gcc-12/libgcov-run1");
    let o = Command::new(env!("CARGO_BIN_EXE_xencov-rs"))
        .arg("lcov")
        .arg(&data)
        .arg("--gcno-dir")
        .arg(&other)
        .arg("-o")
        .arg(t.p("a.info"))
        .output()
        .unwrap();
    // No unit left is an error (issue 10 item 4), and nothing is written.
    assert_eq!(o.status.code(), Some(1));
    assert!(!t.p("a.info").exists());
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(err.matches("belongs to another build").count(), 4, "{err}");
    // Missing notes: one unit's notes only, so three warnings.
    let empty = t.p("empty");
    std::fs::create_dir_all(&empty).unwrap();
    std::fs::copy(data.join("main.gcno"), empty.join("main.gcno")).unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_xencov-rs"))
        .arg("lcov")
        .arg(&data)
        .arg("--gcno-dir")
        .arg(&empty)
        .arg("--strict")
        .arg("-o")
        .arg(t.p("b.info"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("no notes file at") && err.contains("with --strict"),
        "{err}"
    );
    assert!(!t.p("b.info").exists());
    // Notes of another compiler.
    let o = Command::new(env!("CARGO_BIN_EXE_xencov-rs"))
        .arg("lcov")
        .arg(&data)
        .arg("--gcno-dir")
        .arg(samples("gcc-11/calc/run1"))
        .arg("-o")
        .arg(t.p("c.info"))
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&o.stderr)
            .contains("notes written by GCC 11.3 (B13*), counters by GCC 12.2 (B22*)")
    );
}

/// `report --format json` of a sample run directory (its own notes):
/// one document per unit, one to a line, as `gcov -t` prints them.
fn report_json(dir: &Path, t: &Tmp) -> Vec<serde_json::Value> {
    let out = t.p("report.json");
    ours(
        &[
            "report".as_ref(),
            dir.as_os_str(),
            "--gcno-dir".as_ref(),
            dir.as_os_str(),
            "--format".as_ref(),
            "json".as_ref(),
        ],
        &out,
    );
    std::fs::read_to_string(&out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// gcov 14 and later add per-line `block_ids`, `calls` and `conditions` and
/// the block ids of each branch (JSON format version 2), gcov 15 the prime
/// path figures of each function; our document has the fields of format
/// version 1, which are compared.
const GCOV_14_FIELDS: [&str; 8] = [
    "block_ids",
    "calls",
    "conditions",
    "source_block_id",
    "destination_block_id",
    "covered_prime_paths",
    "total_prime_paths",
    "prime_path_coverage",
];

fn drop_gcov_14_fields(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::Object(o) => {
            for k in GCOV_14_FIELDS {
                o.remove(k);
            }
            o.values_mut().for_each(drop_gcov_14_fields);
        }
        serde_json::Value::Array(a) => a.iter_mut().for_each(drop_gcov_14_fields),
        _ => {}
    }
}

#[test]
fn report_json_equals_gcov_json_format() {
    for (set, major) in [
        ("gcc-12-pg/vp/run2", 12),
        ("gcc-11/calc/run3", 11),
        ("gcc-13/calc/run3", 13),
        ("gcc-13-pg/vp/run1", 13),
        ("gcc-14/calc/run2", 14),
        ("ppc64-gcc-14/calc/run3", 14),
        ("gcc-14-pg/vp/run3", 14),
        ("gcc-15/calc/run1", 15),
        ("gcc-15-pg/vp/run2", 15),
        ("gcc-16/calc/run3", 16),
        ("gcc-16-pg/vp/run1", 16),
    ] {
        let g = common::gcc(major);
        if !g.available() {
            continue;
        }
        let t = Tmp::new(&format!("lcov-json-{}", set.replace('/', "-")));
        let dir = samples(set);
        let docs = report_json(&dir, &t);
        assert_eq!(docs.len(), 4);
        for doc in docs {
            let data = PathBuf::from(doc["data_file"].as_str().unwrap());
            let gcda = dir.join(data.file_name().unwrap());
            let o = run(g
                .tool("gcov")
                .args(["--json-format", "--stdout", "-b", "-o"])
                .arg(&dir)
                .arg(&gcda));
            let mut theirs: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
            drop_gcov_14_fields(&mut theirs);
            // gcov 11/12 print some function fields we compute too, and "demangled_name".
            let mut ours_files = doc["files"].clone();
            // Our `conditions` (GCC 14+ data) are checked against gcov -g's
            // in tests/mcdc.rs; this gcov runs without -g.
            drop_gcov_14_fields(&mut ours_files);
            let mut theirs_files = theirs["files"].clone();
            for files in [&mut ours_files, &mut theirs_files] {
                for f in files.as_array_mut().unwrap() {
                    for func in f["functions"].as_array_mut().unwrap() {
                        func.as_object_mut().unwrap().remove("demangled_name");
                    }
                }
            }
            assert_eq!(ours_files, theirs_files, "{set} {}", gcda.display());
            assert_eq!(
                doc["current_working_directory"],
                theirs["current_working_directory"]
            );
        }
    }
}

#[test]
fn summary_table_counts_what_the_tracefile_holds() {
    let t = Tmp::new("lcov-summary");
    let dir = samples("gcc-12/calc/run2");
    let out = t.p("summary.txt");
    ours(
        &[
            "report".as_ref(),
            dir.as_os_str(),
            "--gcno-dir".as_ref(),
            dir.as_os_str(),
        ],
        &out,
    );
    let text = std::fs::read_to_string(&out).unwrap();
    let info = t.p("t.info");
    ours(
        &[
            "lcov".as_ref(),
            dir.as_os_str(),
            "--gcno-dir".as_ref(),
            dir.as_os_str(),
        ],
        &info,
    );
    let lines = sorted(&info);
    let sum = |tag: &str| -> usize {
        lines
            .iter()
            .filter_map(|l| l.strip_prefix(tag))
            .map(|n| n.parse::<usize>().unwrap())
            .sum()
    };
    let total = text.lines().find(|l| l.starts_with("total")).unwrap();
    assert!(
        total.contains(&format!("{}/{}", sum("LH:"), sum("LF:"))),
        "{text}"
    );
    assert!(
        total.contains(&format!("{}/{}", sum("FNH:"), sum("FNF:"))),
        "{text}"
    );
    assert!(
        total.contains(&format!("{}/{}", sum("BRH:"), sum("BRF:"))),
        "{text}"
    );
    assert!(
        text.lines()
            .any(|l| l.starts_with("/tmp/xencov-samples-build/gcc-12/calc ")),
        "{text}"
    );
}

#[test]
fn genhtml_renders_the_tracefile_without_warnings() {
    let t = Tmp::new("lcov-genhtml");
    let dir = samples("gcc-12/calc/run1");
    let info = t.p("t.info");
    ours(
        &[
            "lcov".as_ref(),
            dir.as_os_str(),
            "--gcno-dir".as_ref(),
            dir.as_os_str(),
        ],
        &info,
    );
    // genhtml reads the sources: put them where the build recorded them.
    let text = std::fs::read_to_string(&info).unwrap().replace(
        "/tmp/xencov-samples-build/gcc-12/calc",
        &t.p("src").display().to_string(),
    );
    std::fs::write(&info, text).unwrap();
    std::fs::create_dir_all(t.p("src")).unwrap();
    for f in std::fs::read_dir(samples("src/calc")).unwrap() {
        let f = f.unwrap().path();
        std::fs::copy(&f, t.p("src").join(f.file_name().unwrap())).unwrap();
    }
    let o = run(Command::new("genhtml")
        .args(["--branch-coverage", "-o"])
        .arg(t.p("html"))
        .arg(&info));
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(!all.contains("WARNING") && !all.contains("ERROR"), "{all}");
    assert!(t.p("html/index.html").exists());
}

#[test]
fn cobertura_validates_against_the_dtd() {
    let dtd = common::root().join("tests/cobertura/coverage-04.dtd");
    for set in ["gcc-12/calc/run1", "gcc-11-pg/vp/run2"] {
        let t = Tmp::new(&format!("lcov-cob-{}", set.replace('/', "-")));
        let dir = samples(set);
        let out = t.p("coverage.xml");
        ours(
            &[
                "report".as_ref(),
                dir.as_os_str(),
                "--gcno-dir".as_ref(),
                dir.as_os_str(),
                "--format".as_ref(),
                "cobertura".as_ref(),
            ],
            &out,
        );
        run(Command::new("xmllint")
            .args(["--noout", "--nonet"])
            .arg("--dtdvalid")
            .arg(&dtd)
            .arg(&out));
        let xml = std::fs::read_to_string(&out).unwrap();
        assert!(
            xml.contains("<class name=\"ops.c\"") || xml.contains("<class name=\"arith.c\""),
            "{xml}"
        );
    }
}

/// The comparison above is per source file: a DA line moved from one file's
/// record to another's goes unnoticed by sorting all lines together, and is
/// a difference here.
#[test]
fn the_tracefile_comparison_notices_a_line_moved_to_another_file() {
    let t = Tmp::new("lcov-moved");
    let dir = samples("gcc-12/calc/run1");
    let out = t.p("ours.info");
    ours(
        &[
            "lcov".as_ref(),
            dir.as_os_str(),
            "--gcno-dir".as_ref(),
            dir.as_os_str(),
        ],
        &out,
    );
    let mut lines: Vec<String> = std::fs::read_to_string(&out)
        .unwrap()
        .lines()
        .map(String::from)
        .collect();
    let da = lines.iter().position(|l| l.starts_with("DA:")).unwrap();
    let moved = lines.remove(da);
    let second_sf = lines
        .iter()
        .enumerate()
        .filter(|(_, l)| l.starts_with("SF:"))
        .nth(1)
        .unwrap()
        .0;
    lines.insert(second_sf + 1, moved);
    let other = t.p("moved.info");
    std::fs::write(&other, lines.join("\n") + "\n").unwrap();
    assert_eq!(sorted(&out), sorted(&other));
    assert_ne!(by_file(&out), by_file(&other));
}

/// Notes and counters of GCC 9 and 10 (real runs of the gcc-9 and gcc-10 of
/// Debian 11, samples/bullseye/): `report --format json` equals what the
/// real gcov-9/gcov-10 `--json-format -b` wrote for every unit of every run
/// (stored beside the runs by scripts/gen-bullseye-samples).
#[test]
fn report_json_equals_gcov_9_and_10_json_format() {
    let mut compared = 0;
    for set in ["gcc-9-pg", "gcc-9-pg-topn", "gcc-10-pg"] {
        let base = samples(&format!("bullseye/{set}/vp"));
        for r in 1..=4 {
            let dir = base.join(format!("run{r}"));
            let t = Tmp::new(&format!("lcov-json-old-{set}-{r}"));
            let docs = report_json(&dir, &t);
            assert_eq!(docs.len(), 4, "{set} run{r}");
            for doc in docs {
                let data = PathBuf::from(doc["data_file"].as_str().unwrap());
                let unit = data.file_stem().unwrap().to_string_lossy().into_owned();
                let path = base.join(format!("gcov-json/run{r}/{unit}.json"));
                let theirs: serde_json::Value =
                    serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
                assert_eq!(doc["files"], theirs["files"], "{}", path.display());
                assert_eq!(
                    doc["current_working_directory"],
                    theirs["current_working_directory"]
                );
                compared += 1;
            }
        }
    }
    assert_eq!(compared, 48);
}

/// `lcov` decodes each notes file as it reads it, through a buffer of 256
/// KiB: a notes file with a record longer than that (one of a tag GCC 12
/// does not use, of 600,000 bytes, which the decoder skips) gives the
/// tracefile of the file without it.
#[test]
fn a_notes_record_longer_than_the_read_buffer_is_read_whole() {
    let t = Tmp::new("lcov-long-record");
    let data = samples("gcc-12/calc/run1");
    let long = t.p("long");
    std::fs::create_dir(&long).unwrap();
    for unit in ["main", "ops", "parse", "unused"] {
        let name = format!("{unit}.gcno");
        let mut b = std::fs::read(data.join(&name)).unwrap();
        if unit == "ops" {
            // After the header (16 bytes), the compilation directory (a
            // length in bytes, then the bytes) and the flag: the first record.
            let cwd = u32::from_le_bytes(b[16..20].try_into().unwrap()) as usize;
            let at = 20 + cwd + 4;
            let mut record = 0x0149_0000u32.to_le_bytes().to_vec();
            record.extend_from_slice(&600_000u32.to_le_bytes());
            record.resize(8 + 600_000, 0);
            b.splice(at..at, record);
        }
        std::fs::write(long.join(&name), b).unwrap();
    }
    let (plain, longer) = (t.p("plain.info"), t.p("long.info"));
    let lcov = std::ffi::OsStr::new("lcov");
    let gcno_dir = std::ffi::OsStr::new("--gcno-dir");
    let o = ours(
        &[lcov, data.as_os_str(), gcno_dir, data.as_os_str()],
        &plain,
    );
    let o2 = ours(
        &[lcov, data.as_os_str(), gcno_dir, long.as_os_str()],
        &longer,
    );
    let stderr = |o: &Output| String::from_utf8_lossy(&o.stderr).into_owned();
    assert_eq!(stderr(&o), stderr(&o2));
    let plain = std::fs::read(plain).unwrap();
    assert!(plain.len() > 1000);
    assert_eq!(plain, std::fs::read(longer).unwrap());
}
