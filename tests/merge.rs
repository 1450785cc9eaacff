//! `xencov-rs merge`: byte-identical to gcov-tool-N merge on real runs of
//! gcc-11 to gcc-16 (value profiling, GCC 14's condition and GCC 15's path
//! counters included; GCC 13-16 in the chroots of scripts/chroot), N-way
//! equal to chained gcov-tool merges,
//! conflicts never mixed silently, and the merge properties.

mod common;

use proptest::prelude::*;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use xencov::analysis::merge::{OnConflict, merge_unit, scale};
use xencov::gcov::gcda::{Gcda, Record, Values};

/// The little-endian sets gcov-tool writes byte-identically (it writes host order).
const SETS: [(&str, u8); 12] = [
    ("gcc-11/calc", 11),
    ("gcc-12/calc", 12),
    ("gcc-11-pg/vp", 11),
    ("gcc-12-pg/vp", 12),
    ("gcc-13/calc", 13),
    ("gcc-14/calc", 14),
    ("gcc-15/calc", 15),
    ("gcc-16/calc", 16),
    ("gcc-13-pg/vp", 13),
    ("gcc-14-pg/vp", 14),
    ("gcc-15-pg/vp", 15),
    ("gcc-16-pg/vp", 16),
];

/// The sets whose gcov-tool can run here (a missing chroot is reported).
fn sets() -> impl Iterator<Item = (&'static str, Gcc)> {
    SETS.into_iter()
        .map(|(set, major)| (set, gcc(major)))
        .filter(|(_, g)| g.available())
}

use common::{Gcc, Tmp, gcc};

/// Both tools run under umask 022, so output modes can be compared (a new
/// file is 0644 for gcov-tool; ours must be too).
fn umask_022(cmd: &mut Command) -> &mut Command {
    use std::os::unix::process::CommandExt;
    // SAFETY: umask is async-signal-safe and touches nothing else.
    unsafe {
        cmd.pre_exec(|| {
            libc::umask(0o022);
            Ok(())
        })
    }
}

fn xencov(args: &[&std::ffi::OsStr]) -> Output {
    umask_022(&mut Command::new(env!("CARGO_BIN_EXE_xencov-rs")))
        .args(args)
        .output()
        .unwrap()
}

fn ours(inputs: &[PathBuf], out: &Path, extra: &[&str]) -> Output {
    let mut args: Vec<&std::ffi::OsStr> = vec!["merge".as_ref()];
    args.extend(inputs.iter().map(|p| p.as_os_str()));
    args.extend([
        "--to".as_ref(),
        "gcda".as_ref(),
        "-o".as_ref(),
        out.as_os_str(),
    ]);
    args.extend(extra.iter().map(std::ffi::OsStr::new));
    xencov(&args)
}

fn gcov_tool(g: Gcc, a: &Path, b: &Path, out: &Path, weights: Option<&str>) {
    let v = g.major;
    let mut cmd = g.tool("gcov-tool");
    umask_022(&mut cmd).arg("merge");
    if let Some(w) = weights {
        cmd.args(["-w", w]);
    }
    let o = cmd.arg(a).arg(b).arg("-o").arg(out).output().unwrap();
    assert!(
        o.status.success(),
        "gcov-tool-{v}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

fn run(set: &str, n: u32) -> PathBuf {
    common::samples().join(format!("{set}/run{n}"))
}

fn assert_same_trees(ours: &Path, theirs: &Path, what: &str) {
    let theirs_files = common::files_with_suffix(theirs, ".gcda");
    assert_eq!(theirs_files.len(), 4, "{what}");
    assert_eq!(common::files_with_suffix(ours, ".gcda").len(), 4, "{what}");
    for t in theirs_files {
        let o = ours.join(t.strip_prefix(theirs).unwrap());
        assert!(
            std::fs::read(&o).unwrap() == std::fs::read(&t).unwrap(),
            "{what}: {} differs",
            o.display()
        );
        let mode = |p: &Path| {
            use std::os::unix::fs::PermissionsExt;
            std::fs::metadata(p).unwrap().permissions().mode() & 0o7777
        };
        assert_eq!(mode(&o), mode(&t), "{what}: {} mode", o.display());
    }
}

#[test]
fn every_pair_of_runs_is_byte_identical_to_gcov_tool_merge() {
    for (set, v) in sets() {
        for a in 1..=4 {
            for b in 1..=4 {
                if a == b {
                    continue;
                }
                let t = Tmp::new(&format!("merge-pair-{}-{a}{b}", set.replace('/', "-")));
                gcov_tool(v, &run(set, a), &run(set, b), &t.p("theirs"), None);
                let o = ours(&[run(set, a), run(set, b)], &t.p("ours"), &[]);
                assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
                assert_same_trees(
                    &t.p("ours"),
                    &t.p("theirs"),
                    &format!("{set} run{a}+run{b}"),
                );
            }
        }
    }
}

/// gcov-tool merges two directories at a time; without top-N overflow its
/// rules are associative, so one 4-way merge equals the chained merges.
#[test]
fn n_way_merge_equals_chained_gcov_tool_merges() {
    for (set, v) in sets() {
        let t = Tmp::new(&format!("merge-nway-{}", set.replace('/', "-")));
        gcov_tool(v, &run(set, 1), &run(set, 2), &t.p("c12"), None);
        gcov_tool(v, &t.p("c12"), &run(set, 3), &t.p("c123"), None);
        gcov_tool(v, &t.p("c123"), &run(set, 4), &t.p("c1234"), None);
        let runs: Vec<PathBuf> = (1..=4).map(|n| run(set, n)).collect();
        let o = ours(&runs, &t.p("ours"), &[]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        assert_same_trees(&t.p("ours"), &t.p("c1234"), &format!("{set} 4-way"));
    }
}

#[test]
fn weights_scale_counters_like_gcov_tool() {
    for (set, v) in sets().filter(|(set, _)| set.ends_with("/calc")) {
        let t = Tmp::new(&format!("merge-w-{}", set.replace('/', "-")));
        gcov_tool(v, &run(set, 1), &run(set, 2), &t.p("theirs"), Some("1,3"));
        let o = ours(&[run(set, 1), run(set, 2)], &t.p("a"), &["-w", "1,3"]);
        assert!(o.status.success());
        assert_same_trees(&t.p("a"), &t.p("theirs"), &format!("{set} -w 1,3"));
        let r2w = format!("{}:3", run(set, 2).display());
        let o = ours(&[run(set, 1), PathBuf::from(r2w)], &t.p("b"), &[]);
        assert!(o.status.success());
        assert_same_trees(&t.p("b"), &t.p("theirs"), &format!("{set} INPUT:3"));
    }
}

/// `-w W1,0` (gcov-tool accepts a weight of 0: the second input's counts
/// add nothing, its runs still count, its top-N tables are ignored) is
/// byte-identical on every set, value profiling included.
#[test]
fn weight_zero_is_accepted_and_byte_identical_to_gcov_tool() {
    for (set, v) in sets() {
        for b in 2..=4 {
            let t = Tmp::new(&format!("merge-w0-{}-{b}", set.replace('/', "-")));
            gcov_tool(v, &run(set, 1), &run(set, b), &t.p("theirs"), Some("1,0"));
            let o = ours(&[run(set, 1), run(set, b)], &t.p("a"), &["-w", "1,0"]);
            assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
            assert_same_trees(
                &t.p("a"),
                &t.p("theirs"),
                &format!("{set} run1+run{b} -w 1,0"),
            );
        }
    }
}

/// The one documented exception (README, formats/merge.md section 8): with
/// W1 >= 2 gcov-tool merges DIR1 with itself first, which doubles its runs
/// and sum_max (whatever W1 is); we leave summaries unweighted. The
/// counters are the same values, function by function.
#[test]
fn a_first_weight_above_1_differs_from_gcov_tool_only_in_the_summary() {
    for (set, v) in [("gcc-11/calc", gcc(11)), ("gcc-12/calc", gcc(12))] {
        for w in ["3,2", "2,1", "5,1"] {
            let t = Tmp::new(&format!(
                "merge-w1-{}-{}",
                set.replace('/', "-"),
                w.replace(',', "")
            ));
            gcov_tool(v, &run(set, 1), &run(set, 2), &t.p("theirs"), Some(w));
            let o = ours(&[run(set, 1), run(set, 2)], &t.p("a"), &["-w", w]);
            assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
            for theirs in common::files_with_suffix(&t.p("theirs"), ".gcda") {
                let name = theirs.file_name().unwrap();
                let read = |p: &Path| Gcda::decode(&std::fs::read(p).unwrap()).unwrap();
                let (g, o, r1, r2) = (
                    read(&theirs),
                    read(&t.p("a").join(name)),
                    read(&run(set, 1).join(name)),
                    read(&run(set, 2).join(name)),
                );
                assert_eq!(functions(&o), functions(&g), "{set} -w {w} {name:?}");
                let sum = |g: &Gcda| {
                    g.records
                        .iter()
                        .find_map(|r| match r {
                            Record::Other(x) => x.summary().map(|s| (s.runs, s.sum_max)),
                            _ => None,
                        })
                        .unwrap()
                };
                let ((a, am), (b, bm)) = (sum(&r1), sum(&r2));
                assert_eq!(sum(&g), (2 * a + b, 2 * am + bm), "gcov-tool: DIR1 doubled");
                assert_eq!(sum(&o), (a + b, am + bm), "ours: unweighted");
            }
        }
    }
}

/// Each function's id and its counters as (kind index, values).
type Functions = Vec<(
    Option<xencov::gcov::gcda::FunctionId>,
    Vec<(usize, Vec<u64>)>,
)>;

fn functions(g: &Gcda) -> Functions {
    g.functions()
        .map(|f| {
            (
                f.id,
                f.counters
                    .iter()
                    .map(|c| (c.kind.index, c.values.iter().collect()))
                    .collect(),
            )
        })
        .collect()
}

/// gcov-tool writes host order; we keep the inputs' big-endian order, with the same values.
#[test]
fn big_endian_runs_merge_to_the_same_values_in_their_own_byte_order() {
    for (set, g) in [
        ("ppc64-gcc-12/calc", gcc(12)),
        ("ppc64-gcc-14/calc", gcc(14)),
    ] {
        if g.available() {
            big_endian_merge(set, g);
        }
    }
}

fn big_endian_merge(set: &str, g: Gcc) {
    let t = Tmp::new(&format!("merge-{}", set.replace('/', "-")));
    gcov_tool(g, &run(set, 1), &run(set, 3), &t.p("theirs"), None);
    assert!(
        ours(&[run(set, 1), run(set, 3)], &t.p("ours"), &[])
            .status
            .success()
    );
    let theirs_files = common::files_with_suffix(&t.p("theirs"), ".gcda");
    assert_eq!(theirs_files.len(), 4, "{set}");
    for f in theirs_files {
        let theirs = Gcda::decode(&std::fs::read(&f).unwrap()).unwrap();
        let ours = Gcda::decode(&std::fs::read(t.p("ours").join(f.file_name().unwrap())).unwrap())
            .unwrap();
        assert_eq!(ours.header.endian, xencov::Endian::Big);
        assert_eq!(functions(&ours), functions(&theirs), "{}", f.display());
        assert_eq!(ours.records[0], theirs.records[0], "summary");
    }
}

/// Xen's payloads carry no summary and a zero checksum; merging them with
/// libgcov's files of the same build is no conflict, and dumps merge to dumps.
#[test]
fn xen_dumps_merge_with_each_other_and_with_libgcov_files() {
    // GCC 14-16: the dumps of the 9- and 10-kind gcov_info layouts, with
    // their conditions counters.
    for (set, major) in [
        ("gcc-12", 12),
        ("gcc-14", 14),
        ("gcc-15", 15),
        ("gcc-16", 16),
    ] {
        let g = gcc(major);
        if g.available() {
            xen_dumps_merge(set, g);
        }
    }
}

fn xen_dumps_merge(set: &str, g: Gcc) {
    let t = Tmp::new(&format!("merge-xen-{set}"));
    let x = |rel: &str| common::samples().join("xen").join(set).join(rel);
    let dump = t.p("merged.xcov");
    let o = xencov(&[
        "merge".as_ref(),
        x("calc-run1.xcov").as_os_str(),
        x("calc-run2.xcov").as_os_str(),
        "-o".as_ref(),
        dump.as_os_str(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    gcov_tool(
        g,
        &x("libgcov-run1"),
        &x("libgcov-run2"),
        &t.p("theirs"),
        None,
    );
    let bytes = std::fs::read(&dump).unwrap();
    let merged = xencov::xen::dump::Container::parse(&bytes).unwrap();
    assert_eq!(merged.units.len(), 4);
    for u in &merged.units {
        let ours = u.gcda().unwrap();
        let name = Path::new(std::str::from_utf8(u.path).unwrap())
            .file_name()
            .unwrap();
        let theirs = Gcda::decode(&std::fs::read(t.p("theirs").join(name)).unwrap()).unwrap();
        assert_eq!(functions(&ours), functions(&theirs), "{}", u.path_lossy());
        // Still written as Xen writes: no summary, zeros written out, no end marker.
        assert!(
            ours.records
                .iter()
                .all(|r| matches!(r, Record::Function(_)))
        );
        assert!(!ours.end_marker);
    }
    // A Xen payload with libgcov's file of the same build: no conflict.
    let o = ours(
        &[x("calc-run1.xcov"), x("libgcov-run2")],
        &t.p("mixed"),
        &[
            "--prefix-map",
            &format!("/tmp/xencov-xen-build/{set}/calc="),
        ],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(!String::from_utf8_lossy(&o.stderr).contains("conflict"));
    for f in common::files_with_suffix(&t.p("theirs"), ".gcda") {
        let theirs = Gcda::decode(&std::fs::read(&f).unwrap()).unwrap();
        let mixed =
            Gcda::decode(&std::fs::read(t.p("mixed").join(f.file_name().unwrap())).unwrap())
                .unwrap();
        assert_eq!(functions(&mixed), functions(&theirs), "{}", f.display());
        assert_eq!(
            mixed.header.checksum, theirs.header.checksum,
            "the real checksum wins over Xen's 0"
        );
    }
}

fn err(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn two_builds_of_a_unit_are_a_conflict_naming_both_inputs_and_the_unit() {
    let t = Tmp::new("merge-stamps");
    let a = run("gcc-12/calc", 1);
    let b = common::samples().join("xen/gcc-12/libgcov-run1"); // another build of calc
    let o = ours(&[a.clone(), b.clone()], &t.p("x"), &[]);
    assert_eq!(o.status.code(), Some(1));
    let e = err(&o);
    assert!(
        e.contains("different object stamps")
            && e.contains(&a.display().to_string())
            && e.contains(&b.display().to_string())
            && e.contains("main.gcda"),
        "{e}"
    );
    assert!(!t.p("x").exists(), "nothing written on error");

    let o = ours(
        &[a.clone(), b.clone()],
        &t.p("skip"),
        &["--on-conflict", "skip"],
    );
    assert!(o.status.success());
    assert!(
        err(&o).contains("4 conflicts resolved") && err(&o).contains("skipped"),
        "{}",
        err(&o)
    );
    for f in common::files_with_suffix(&a, ".gcda") {
        assert_eq!(
            std::fs::read(t.p("skip").join(f.file_name().unwrap())).unwrap(),
            std::fs::read(&f).unwrap()
        );
    }
    let o = ours(
        &[a, b.clone()],
        &t.p("newest"),
        &["--on-conflict", "keep-newest"],
    );
    assert!(o.status.success());
    for f in common::files_with_suffix(&b, ".gcda") {
        assert_eq!(
            std::fs::read(t.p("newest").join(f.file_name().unwrap())).unwrap(),
            std::fs::read(&f).unwrap()
        );
    }
}

/// A copy of run2 with one function's record changed by `edit`.
fn edited_run2(t: &Tmp, edit: impl Fn(&mut Gcda)) -> PathBuf {
    let dir = t.p("edited");
    std::fs::create_dir_all(&dir).unwrap();
    for f in common::files_with_suffix(&run("gcc-12/calc", 2), ".gcda") {
        let mut g = Gcda::decode(&std::fs::read(&f).unwrap()).unwrap();
        if f.ends_with("ops.gcda") {
            edit(&mut g);
        }
        std::fs::write(dir.join(f.file_name().unwrap()), g.encode()).unwrap();
    }
    dir
}

#[test]
fn a_changed_function_and_a_changed_counter_section_are_conflicts() {
    let t = Tmp::new("merge-fn");
    let changed = edited_run2(&t, |g| {
        if let Some(Record::Function(f)) = g.records.get_mut(2) {
            f.id.as_mut().unwrap().cfg_checksum = Some(0xdead_beef);
        }
    });
    let o = ours(&[run("gcc-12/calc", 1), changed.clone()], &t.p("x"), &[]);
    assert_eq!(o.status.code(), Some(1));
    let e = err(&o);
    assert!(
        e.contains("ops.gcda")
            && e.contains("function ")
            && e.contains("checksums differ")
            && e.contains("0xdeadbeef"),
        "{e}"
    );
    let o = ours(
        &[run("gcc-12/calc", 1), changed],
        &t.p("skip"),
        &["--on-conflict", "skip"],
    );
    assert!(o.status.success());
    assert!(err(&o).contains("1 conflict resolved"), "{}", err(&o));

    let t = Tmp::new("merge-len");
    let shorter = edited_run2(&t, |g| {
        if let Some(Record::Function(f)) = g.records.get_mut(1) {
            let v: Vec<u64> = f.counters[0].values.iter().skip(1).collect();
            f.counters[0].values = Values::Stored(v);
        }
    });
    let o = ours(&[run("gcc-12/calc", 1), shorter], &t.p("x"), &[]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        err(&o).contains("arcs counters differ in length"),
        "{}",
        err(&o)
    );
}

#[test]
fn different_gcov_versions_are_a_conflict_and_mixed_units_a_warning() {
    let t = Tmp::new("merge-versions");
    let o = ours(
        &[run("gcc-11/calc", 1), run("gcc-12/calc", 1)],
        &t.p("x"),
        &[],
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(err(&o).contains("different gcov versions"), "{}", err(&o));
    // Different units of different compilers: merged, with a warning (an error with --strict).
    let mixed = t.p("mixed");
    std::fs::create_dir_all(&mixed).unwrap();
    std::fs::copy(
        run("gcc-11/calc", 1).join("ops.gcda"),
        mixed.join("ops.gcda"),
    )
    .unwrap();
    std::fs::copy(
        run("gcc-12/calc", 1).join("main.gcda"),
        mixed.join("main.gcda"),
    )
    .unwrap();
    let o = ours(std::slice::from_ref(&mixed), &t.p("y"), &[]);
    assert!(o.status.success());
    assert!(err(&o).contains("mixes gcov versions"), "{}", err(&o));
    let o = ours(&[mixed], &t.p("z"), &["--strict"]);
    assert_eq!(o.status.code(), Some(1));
}

#[test]
fn merging_one_input_alone_gives_it_back_byte_for_byte() {
    for set in ["gcc-11/calc", "gcc-12-pg/vp", "ppc64-gcc-12/calc"] {
        let t = Tmp::new(&format!("merge-one-{}", set.replace('/', "-")));
        assert!(ours(&[run(set, 3)], &t.p("o"), &[]).status.success());
        for f in common::files_with_suffix(&run(set, 3), ".gcda") {
            assert_eq!(
                std::fs::read(t.p("o").join(f.file_name().unwrap())).unwrap(),
                std::fs::read(&f).unwrap()
            );
        }
    }
    let t = Tmp::new("merge-one-dump");
    for dump in [
        "xen/gcc-11/calc-run1.xcov",
        "xen/ppc64-gcc-12/calc-run2.xcov",
    ] {
        let src = common::samples().join(dump);
        let out = t.p("d.xcov");
        let o = xencov(&[
            "merge".as_ref(),
            src.as_os_str(),
            "-o".as_ref(),
            out.as_os_str(),
        ]);
        assert!(o.status.success());
        assert_eq!(
            std::fs::read(&out).unwrap(),
            std::fs::read(&src).unwrap(),
            "{dump}"
        );
    }
}

// Properties, on real unit layouts with random counter values.

fn unit(set: &str, name: &str) -> Gcda {
    Gcda::decode(&std::fs::read(run(set, 1).join(name)).unwrap()).unwrap()
}

/// `g` with its additive, ior and time-profiler values replaced from `seed`,
/// and top-N sections dropped (their lists are order-dependent by design).
fn randomized(mut g: Gcda, values: &[u64]) -> Gcda {
    let mut next = values.iter().cycle().copied();
    for r in &mut g.records {
        if let Record::Function(f) = r {
            f.counters.retain(|c| {
                c.kind.merge.site_len().is_some() && c.kind.merge.site_len() == Some(1)
            });
            for c in &mut f.counters {
                let n = c.values.len();
                let v: Vec<u64> = (0..n)
                    .map(|_| next.next().unwrap_or(0) % 1_000_000)
                    .collect();
                c.values = Values::Stored(v);
            }
        }
    }
    g
}

fn merged(a: &Gcda, b: &Gcda) -> Gcda {
    let mut out = a.clone();
    merge_unit(&mut out, b, OnConflict::Error).unwrap();
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn merging_is_order_independent_and_associative(
        which in 0usize..4,
        va in prop::collection::vec(any::<u64>(), 1..64),
        vb in prop::collection::vec(any::<u64>(), 1..64),
        vc in prop::collection::vec(any::<u64>(), 1..64),
    ) {
        let (set, name) = [("gcc-12/calc", "ops.gcda"), ("gcc-11/calc", "main.gcda"),
                           ("gcc-12-pg/vp", "arith.gcda"), ("gcc-11-pg/vp", "buffer.gcda")][which];
        let base = unit(set, name);
        let (a, b, c) = (randomized(base.clone(), &va), randomized(base.clone(), &vb), randomized(base, &vc));
        prop_assert_eq!(merged(&a, &b).encode(), merged(&b, &a).encode());
        prop_assert_eq!(merged(&merged(&a, &b), &c).encode(), merged(&a, &merged(&b, &c)).encode());
    }

    #[test]
    fn merging_n_copies_equals_weighting_by_n(
        which in 0usize..2,
        va in prop::collection::vec(any::<u64>(), 1..64),
        n in 1u64..6,
    ) {
        let (set, name) = [("gcc-12/calc", "parse.gcda"), ("gcc-12-pg/vp", "buffer.gcda")][which];
        let a = randomized(unit(set, name), &va);
        let mut copies = a.clone();
        for _ in 1..n {
            copies = merged(&copies, &a);
        }
        let mut weighted = a.clone();
        scale(&mut weighted, n);
        // Weights scale counters only; the summary counts runs.
        prop_assert_eq!(functions(&copies), functions(&weighted));
    }
}

/// `-w 1,3` on value-profiling data. gcov-tool-11/12 crash there
/// (formats/merge.md §8.1), so the reference is what a weight means: the
/// second input merged three times, by gcov-tool itself (run1, then run2
/// three times). Top-N insertion is only order-dependent once a site tracks 32
/// values; no site here comes near that (checked), so the two must agree
/// counter for counter. The summaries differ by design: a weight scales
/// counters, and the summary counts the inputs (as gcov-tool -w writes it;
/// see weights_scale_counters_like_gcov_tool).
#[test]
fn weighted_top_n_equals_gcov_tool_merging_the_input_that_many_times() {
    for (set, v) in [("gcc-11-pg/vp", gcc(11)), ("gcc-12-pg/vp", gcc(12))] {
        let t = Tmp::new(&format!("merge-wtopn-{}", set.replace('/', "-")));
        gcov_tool(v, &run(set, 1), &run(set, 2), &t.p("c1"), None);
        gcov_tool(v, &t.p("c1"), &run(set, 2), &t.p("c2"), None);
        gcov_tool(v, &t.p("c2"), &run(set, 2), &t.p("c3"), None);
        let o = ours(&[run(set, 1), run(set, 2)], &t.p("ours"), &["-w", "1,3"]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let mut top_n_sites = 0;
        for theirs in common::files_with_suffix(&t.p("c3"), ".gcda") {
            let name = theirs.file_name().unwrap();
            let read = |p: &Path| Gcda::decode(&std::fs::read(p).unwrap()).unwrap();
            let (theirs, mine) = (read(&theirs), read(&t.p("ours").join(name)));
            for f in theirs.functions() {
                for c in f
                    .counters
                    .iter()
                    .filter(|c| c.kind.index == 3 || c.kind.index == 4)
                {
                    let v: Vec<u64> = c.values.iter().collect();
                    let mut at = 0;
                    while at + 1 < v.len() {
                        let n = v[at + 1] as usize;
                        assert!(n < 32, "{set}: a site tracks {n} values");
                        top_n_sites += usize::from(n > 0);
                        at += 2 + 2 * n;
                    }
                }
            }
            assert_eq!(functions(&mine), functions(&theirs), "{set} {name:?}");
        }
        assert!(
            top_n_sites >= 4,
            "{set}: only {top_n_sites} non-empty top-N sites"
        );
    }
}

/// Dumps of 1 MiB and more are read by every thread at once, each thread
/// its own piece of the buffer (crates/cli/src/merge.rs). Two such dumps,
/// made of 1,000 renamed copies of each unit of the calc samples, merge to
/// what one thread reading them gives, and every copy to what the merge of
/// the small samples gives (that merge is held to gcov-tool above).
#[test]
fn dumps_read_in_pieces_merge_as_whole_ones() {
    use xencov::xen::dump::{Container, encode_container};
    let t = Tmp::new("merge-pieces");
    let x = |rel: &str| common::samples().join("xen/gcc-12").join(rel);
    let copies = 1000;
    let mut big = Vec::new();
    for run in ["calc-run1.xcov", "calc-run2.xcov"] {
        let bytes = std::fs::read(x(run)).unwrap();
        let c = Container::parse(&bytes).unwrap();
        let paths: Vec<Vec<u8>> = (0..copies)
            .flat_map(|k| {
                c.units
                    .iter()
                    .map(move |u| [format!("/copy{k}").as_bytes(), u.path].concat())
            })
            .collect();
        let payloads = (0..copies).flat_map(|_| c.units.iter().map(|u| u.payload));
        let dump = encode_container(
            xencov::bytes::endian::Endian::Little,
            paths.iter().map(Vec::as_slice).zip(payloads),
        );
        assert!(
            dump.len() >= 1 << 20,
            "{} bytes: not read in pieces",
            dump.len()
        );
        let p = t.p(&format!("big-{run}"));
        std::fs::write(&p, dump).unwrap();
        big.push(p);
    }
    let merge = |threads: &str, inputs: &[PathBuf], out: &Path| {
        let o = umask_022(&mut Command::new(env!("CARGO_BIN_EXE_xencov-rs")))
            .env("RAYON_NUM_THREADS", threads)
            .arg("merge")
            .args(inputs)
            .arg("-o")
            .arg(out)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        std::fs::read(out).unwrap()
    };
    let pieces = merge("2", &big, &t.p("pieces.xcov"));
    let whole = merge("1", &big, &t.p("whole.xcov"));
    assert_eq!(pieces, whole, "read in pieces and whole, the merges differ");
    let small = merge(
        "1",
        &[x("calc-run1.xcov"), x("calc-run2.xcov")],
        &t.p("small.xcov"),
    );
    let small = Container::parse(&small).unwrap();
    let merged = Container::parse(&pieces).unwrap();
    assert_eq!(merged.units.len(), copies * small.units.len());
    for (i, u) in merged.units.iter().enumerate() {
        let s = &small.units[i % small.units.len()];
        assert!(u.path.ends_with(s.path), "{}", u.path_lossy());
        assert_eq!(u.payload, s.payload, "{}", u.path_lossy());
    }
}

/// A dump of the size of the one before is read a piece of units at a time
/// and added while it is read (crates/cli/src/merge.rs, `add_repeat`); one
/// that differs from the dump before in a count that saturates, in its
/// container's layout at the same size (two units swapped, a path
/// renamed) or in a unit's build is finished by the whole read, its units
/// added once. With one thread and with two, the merge equals the
/// library's road for whole inputs over the same dumps.
#[test]
fn dumps_added_while_read_merge_as_whole_ones() {
    use xencov::analysis::merge::profile::{Incoming, Profile};
    use xencov::bytes::endian::Endian;
    use xencov::xen::dump::{Container, ContainerWriter, encode_container};
    let t = Tmp::new("merge-repeat");
    let x = |rel: &str| common::samples().join("xen/gcc-12").join(rel);
    let copies = 1000;
    // (path, payload) of the 1,000 renamed copies of a sample dump's units.
    let big = |run: &str| -> Vec<(Vec<u8>, Vec<u8>)> {
        let bytes = std::fs::read(x(run)).unwrap();
        let c = Container::parse(&bytes).unwrap();
        (0..copies)
            .flat_map(|k| {
                c.units.iter().map(move |u| {
                    (
                        [format!("/copy{k}").as_bytes(), u.path].concat(),
                        u.payload.to_vec(),
                    )
                })
            })
            .collect()
    };
    let write = |name: &str, units: &[(Vec<u8>, Vec<u8>)]| -> PathBuf {
        let p = t.p(name);
        let dump = encode_container(
            Endian::Little,
            units.iter().map(|(a, b)| (a.as_slice(), b.as_slice())),
        );
        std::fs::write(&p, dump).unwrap();
        p
    };
    let (run1, run2) = (big("calc-run1.xcov"), big("calc-run2.xcov"));
    let size = |p: &Path| std::fs::metadata(p).unwrap().len();
    // Every count of one unit at the largest: the second add saturates.
    let mut saturating = run2.clone();
    let at = (2000..2004).max_by_key(|&i| run2[i].1.len()).unwrap();
    let mut g = Gcda::decode(&saturating[at].1).unwrap();
    for r in &mut g.records {
        if let Record::Function(f) = r {
            for c in &mut f.counters {
                if let Values::Stored(v) = &mut c.values {
                    v.iter_mut().for_each(|v| *v = u64::MAX);
                }
            }
        }
    }
    assert_eq!(g.encode().len(), saturating[at].1.len());
    saturating[at].1 = g.encode();
    // Two units of different sizes swapped: the same size, another layout.
    let mut swapped = run2.clone();
    assert_ne!(swapped[1600].1.len(), swapped[1601].1.len());
    swapped.swap(1600, 1601);
    // A path renamed (a unit new to the merge), the same size.
    let mut renamed = run2.clone();
    renamed[1200].0[1] = b'k';
    // Another build of one unit (its stamp): a conflict, skipped.
    let mut rebuilt = run2.clone();
    rebuilt[2800].1[8] ^= 0x40;
    let (a, b) = (write("run1.xcov", &run1), write("run2.xcov", &run2));
    let inputs = [
        a.clone(),
        b.clone(),
        write("saturating.xcov", &saturating),
        b.clone(),
        write("swapped.xcov", &swapped),
        b.clone(),
        write("renamed.xcov", &renamed),
        b.clone(),
        write("rebuilt.xcov", &rebuilt),
        b.clone(),
    ];
    assert!(size(&b) >= 4 << 18, "{} bytes: one piece", size(&b));
    assert!(inputs[1..].iter().all(|p| size(p) == size(&b)));
    // The library's road: every input read whole, batch, steps, finish.
    let mut profile = Profile::new();
    let plain = xencov::paths::PathMapping::default();
    for p in &inputs {
        let bytes = std::fs::read(p).unwrap();
        let c = Container::parse(&bytes).unwrap();
        let units = c
            .units
            .iter()
            .map(|u| Incoming::new(u.path, u.payload, &plain))
            .collect();
        let (batch, _) = profile.batch(1, units).unwrap();
        let done = profile
            .steps(&batch, OnConflict::Skip)
            .into_iter()
            .map(|s| s.run())
            .collect();
        profile.finish(batch, done).unwrap();
    }
    let mut want = ContainerWriter::new(Vec::new(), Endian::Little).unwrap();
    for u in profile.units() {
        want.unit(&u.path, &u.encoded()).unwrap();
    }
    let want = want.into_inner();
    assert_eq!(profile.len(), 4 * copies + 1);
    for threads in ["1", "2"] {
        let out = t.p(&format!("merged-{threads}.xcov"));
        let o = umask_022(&mut Command::new(env!("CARGO_BIN_EXE_xencov-rs")))
            .env("RAYON_NUM_THREADS", threads)
            .arg("merge")
            .args(&inputs)
            .args(["--on-conflict", "skip", "-o"])
            .arg(&out)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert!(o.status.success(), "{stderr}");
        assert!(stderr.contains("saturated"), "{stderr}");
        assert!(stderr.contains("different object stamps"), "{stderr}");
        assert!(
            std::fs::read(&out).unwrap() == want,
            "{threads} threads: the merge differs from the whole inputs'"
        );
    }
}
