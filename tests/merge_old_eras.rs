//! `xencov-rs merge` on the value-profiling counters of the GCC 9 and GCC 10
//! eras, against the real gcov-tool-9 and gcov-tool-10 (formats/merge.md §11):
//! the single-value votes (`single`, `indirect_call` of GCC 9), GCC 5–9's
//! `indirect_call_topn` and GCC 10's fixed top-N tables, weights included.
//!
//! The runs are real files written by gcc-9 and gcc-10 of Debian 11 running
//! samples/src/vp with divisors, copy lengths and indirect callees that change
//! between runs (samples/bullseye/, `scripts/gen-bullseye-samples`); beside
//! them is what gcov-tool-N merge wrote for each pair. Where the bullseye
//! chroot of `scripts/chroot setup bullseye` is usable (root), gcov-tool-N runs
//! again here and must write exactly the stored files, so the stored oracle
//! output stays the tool's.
//!
//! gcov-tool-9/10 do not merge object summaries (they write runs=1 and the
//! largest arc count); the counters are compared, function by function.

mod common;

use common::Tmp;
use std::path::{Path, PathBuf};
use std::process::Command;
use xencov::gcov::gcda::{FunctionId, Gcda, Record};
use xencov::gcov::kinds::MergeRule;

/// The bullseye chroot's root, as `scripts/chroot` places it.
fn chroot_root() -> PathBuf {
    let o =
        common::run(Command::new(common::root().join("scripts/chroot")).args(["path", "bullseye"]));
    PathBuf::from(String::from_utf8(o.stdout).unwrap().trim())
}

/// (set, gcov-tool version).
const SETS: [(&str, &str); 3] = [
    ("gcc-9-pg", "9"),
    ("gcc-9-pg-topn", "9"),
    ("gcc-10-pg", "10"),
];

fn set_dir(set: &str) -> PathBuf {
    common::samples().join("bullseye").join(set).join("vp")
}

/// A stored gcov-tool merge: its directory, the two runs and the weights
/// (from its name, `runA+runB` or `runA+runB-wX,Y`).
struct Pair {
    dir: PathBuf,
    a: String,
    b: String,
    weights: Option<String>,
}

fn pairs(set: &str) -> Vec<Pair> {
    let mut out: Vec<Pair> = std::fs::read_dir(set_dir(set).join("gcov-tool"))
        .unwrap()
        .map(|e| {
            let dir = e.unwrap().path();
            let name = dir.file_name().unwrap().to_string_lossy().into_owned();
            let (runs, weights) = match name.split_once("-w") {
                Some((r, w)) => (r.to_string(), Some(w.to_string())),
                None => (name.clone(), None),
            };
            let (a, b) = runs.split_once('+').unwrap();
            Pair {
                a: a.to_string(),
                b: b.to_string(),
                weights,
                dir,
            }
        })
        .collect();
    out.sort_by(|x, y| x.dir.cmp(&y.dir));
    assert!(out.len() >= 6, "{set}: {} stored merges", out.len());
    out
}

/// Each function's id and its counters as (kind, values).
type Functions = Vec<(Option<FunctionId>, Vec<(&'static str, MergeRule, Vec<u64>)>)>;

fn functions(path: &Path) -> Functions {
    let g = Gcda::decode(&std::fs::read(path).unwrap())
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    g.records
        .iter()
        .filter_map(|r| match r {
            Record::Function(f) => Some((
                f.id,
                f.counters
                    .iter()
                    .map(|c| (c.kind.name, c.kind.merge, c.values.iter().collect()))
                    .collect(),
            )),
            _ => None,
        })
        .collect()
}

const UNITS: [&str; 4] = ["arith.gcda", "buffer.gcda", "main.gcda", "shapes.gcda"];

fn xencov_merge(a: &Path, b: &Path, weights: Option<&str>, out: &Path) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_xencov-rs"));
    cmd.arg("merge").arg(a).arg(b).args(["--to", "gcda", "-o"]);
    cmd.arg(out);
    if let Some(w) = weights {
        cmd.args(["-w", w]);
    }
    common::run(&mut cmd);
}

#[test]
fn merges_equal_gcov_tool_9_and_10_counter_for_counter() {
    for (set, _) in SETS {
        for p in pairs(set) {
            let t = Tmp::new(&format!("old-eras-{set}"));
            let (a, b) = (set_dir(set).join(&p.a), set_dir(set).join(&p.b));
            xencov_merge(&a, &b, p.weights.as_deref(), &t.p("ours"));
            for unit in UNITS {
                assert_eq!(
                    functions(&t.p("ours").join(unit)),
                    functions(&p.dir.join(unit)),
                    "{set} {}: {unit}",
                    p.dir.display()
                );
            }
        }
    }
}

/// Plain addition of the two inputs, site by site, gives another result
/// than gcov-tool for at least one site of every vote and top-N kind in the
/// data: the runs reach the rules, so a rule replaced by addition (or a
/// top-N merge switched off) fails the test above.
#[test]
fn the_runs_reach_every_vote_and_top_n_rule() {
    let mut reached: Vec<(&str, &str)> = Vec::new();
    for (set, _) in SETS {
        for p in pairs(set).iter().filter(|p| p.weights.is_none()) {
            for unit in UNITS {
                let fa = functions(&set_dir(set).join(&p.a).join(unit));
                let fb = functions(&set_dir(set).join(&p.b).join(unit));
                let theirs = functions(&p.dir.join(unit));
                for ((x, y), z) in fa.iter().zip(&fb).zip(&theirs) {
                    for ((cx, cy), cz) in x.1.iter().zip(&y.1).zip(&z.1) {
                        if matches!(cx.1, MergeRule::Add | MergeRule::Ior) {
                            continue;
                        }
                        let sum: Vec<u64> =
                            cx.2.iter()
                                .zip(&cy.2)
                                .map(|(u, v)| u.wrapping_add(*v))
                                .collect();
                        if sum != cz.2 && !reached.contains(&(set, cx.0)) {
                            reached.push((set, cx.0));
                        }
                    }
                }
            }
        }
    }
    reached.sort();
    assert_eq!(
        reached,
        [
            ("gcc-10-pg", "indirect_call"),
            ("gcc-10-pg", "time_profiler"),
            ("gcc-10-pg", "topn"),
            ("gcc-9-pg", "indirect_call"),
            ("gcc-9-pg", "single"),
            ("gcc-9-pg", "time_profiler"),
            ("gcc-9-pg-topn", "indirect_call_topn"),
            ("gcc-9-pg-topn", "single"),
            ("gcc-9-pg-topn", "time_profiler"),
        ]
    );
}

/// Runs gcov-tool-N inside the bullseye chroot; `None` where the chroot is
/// missing or cannot be entered (not root).
fn live_gcov_tool(v: &str, work: &str, args: &[&str]) -> Option<()> {
    let root = chroot_root();
    if !root.join(format!("usr/bin/gcov-tool-{v}")).exists() {
        return None;
    }
    let o = Command::new("chroot")
        .arg(root)
        .arg(format!("gcov-tool-{v}"))
        .arg("merge")
        .args(args)
        .current_dir("/")
        .env("PWD", work)
        .output()
        .ok()?;
    if !o.status.success() {
        let err = String::from_utf8_lossy(&o.stderr);
        // `chroot` itself fails without root; gcov-tool failing is a finding.
        assert!(
            err.contains("chroot:"),
            "gcov-tool-{v} merge {args:?}: {err}"
        );
        return None;
    }
    Some(())
}

/// A scratch directory inside the chroot, removed on drop.
struct ChrootTmp(PathBuf, String);

impl Drop for ChrootTmp {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap().path();
        std::fs::copy(&e, to.join(e.file_name().unwrap())).unwrap();
    }
}

#[test]
fn the_stored_merges_are_what_gcov_tool_writes() {
    let root = chroot_root();
    if !common::have_chroot("bullseye", "regenerating gcov-tool-9/10 output") {
        return;
    }
    let inside = format!("/tmp/xencov-old-eras-{}", std::process::id());
    let guard = ChrootTmp(root.join(inside.trim_start_matches('/')), inside.clone());
    let mut checked = 0;
    for (set, v) in SETS {
        for p in pairs(set) {
            let work = format!("{}/{set}", guard.1);
            let host = guard.0.join(set);
            let _ = std::fs::remove_dir_all(&host);
            copy_tree(&set_dir(set).join(&p.a), &host.join("a"));
            copy_tree(&set_dir(set).join(&p.b), &host.join("b"));
            let (a, b, out) = (
                format!("{work}/a"),
                format!("{work}/b"),
                format!("{work}/out"),
            );
            let mut args: Vec<&str> = Vec::new();
            if let Some(w) = &p.weights {
                args.extend(["-w", w]);
            }
            args.extend([a.as_str(), b.as_str(), "-o", out.as_str()]);
            if live_gcov_tool(v, &work, &args).is_none() {
                common::not_run(&format!(
                    "regenerating gcov-tool-9/10 output: cannot enter {} (root needed)",
                    root.display()
                ));
                return;
            }
            for unit in UNITS {
                assert!(
                    std::fs::read(host.join("out").join(unit)).unwrap()
                        == std::fs::read(p.dir.join(unit)).unwrap(),
                    "{set} {}: gcov-tool-{v} now writes another {unit}",
                    p.dir.display()
                );
            }
            checked += 1;
        }
    }
    assert!(checked >= 18, "{checked} merges checked");
}

/// SYNTHETIC, from our spec only (formats/merge.md §11, `__gcov_merge_delta`):
/// no compiler this project can run writes `delta` counters (GCC 3.4 – 6),
/// so this is the only evidence for that rule. A delta section is added to
/// the synthetic GCC 4.6 file: (last value, difference, count, total) per
/// site; the incoming last value is ignored, the (difference, count) pair
/// votes as `single` does, the totals add.
#[test]
fn delta_votes_follow_the_spec_synthetic() {
    use xencov::analysis::merge::{OnConflict, merge_unit};
    use xencov::gcov::gcda::{Counters, Values};
    let base =
        Gcda::decode(&std::fs::read(common::samples().join("synthetic/gcc-4.6.gcda")).unwrap())
            .unwrap();
    let delta = base
        .header
        .version
        .format()
        .counter_kinds
        .iter()
        .find(|k| k.name == "delta")
        .unwrap();
    assert_eq!(delta.merge, MergeRule::Delta);
    let with_delta = |sites: &[[u64; 4]]| {
        let mut g = base.clone();
        let f = g
            .records
            .iter_mut()
            .find_map(|r| match r {
                Record::Function(f) => Some(f),
                _ => None,
            })
            .unwrap();
        let at = f
            .counters
            .iter()
            .position(|c| c.kind.index > delta.index)
            .unwrap();
        f.counters.insert(
            at,
            Counters {
                kind: *delta,
                values: Values::Stored(sites.concat()),
            },
        );
        g
    };
    // (target site, incoming site, expected site), expected by the rule above.
    let cases: [([u64; 4], [u64; 4], [u64; 4]); 4] = [
        // The same difference: its votes add.
        ([10, 4, 5, 7], [20, 4, 2, 3], [10, 4, 7, 10]),
        // Another difference with more votes: it wins, keeping the margin.
        ([10, 4, 5, 7], [30, 6, 9, 12], [10, 6, 4, 19]),
        // Another difference with fewer votes: the target's loses that many.
        ([10, 4, 5, 7], [30, 6, 2, 12], [10, 4, 3, 19]),
        // A tie keeps the target's difference, with no votes left.
        ([10, 4, 5, 7], [30, 6, 5, 1], [10, 4, 0, 8]),
    ];
    let (mine, theirs, expected): (Vec<_>, Vec<_>, Vec<_>) = (
        cases.iter().map(|c| c.0).collect(),
        cases.iter().map(|c| c.1).collect(),
        cases.iter().map(|c| c.2).collect(),
    );
    let mut a = with_delta(&mine);
    merge_unit(&mut a, &with_delta(&theirs), OnConflict::Error).unwrap();
    let f = a.functions().next().unwrap();
    let got: Vec<u64> = f
        .counters
        .iter()
        .find(|c| c.kind.name == "delta")
        .unwrap()
        .values
        .iter()
        .collect();
    assert_eq!(got, expected.concat());
}
