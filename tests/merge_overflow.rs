//! `merge` (and `lcov`, which merges its inputs first) never wraps a count:
//! where libgcov and gcov-tool add and scale counters modulo 2^64, a count
//! past 2^63 - 1 (gcov_type's maximum, the largest one gcov reads as itself)
//! saturates there, a warning names the units and functions, and `--strict`
//! makes it an error with nothing written (formats/merge.md §14). Real
//! gcc-12 runs from `samples/`; gcov-tool-12 and gcov-dump-12 as oracles.

mod common;

use common::{Tmp, gcc};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use xencov::gcov::gcda::{Gcda, Record};
use xencov::gcov::tag::Tag;

/// gcov_type's maximum: what a saturated count holds.
const M: u64 = i64::MAX as u64;

fn xencov(args: &[&std::ffi::OsStr]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_xencov-rs"))
        .args(args)
        .output()
        .unwrap()
}

fn merge(inputs: &[&Path], out: &Path, extra: &[&str]) -> Output {
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

fn run(n: u32) -> PathBuf {
    common::samples().join(format!("gcc-12/calc/run{n}"))
}

const UNITS: [&str; 4] = ["main.gcda", "ops.gcda", "parse.gcda", "unused.gcda"];

fn read(p: &Path) -> Gcda {
    Gcda::decode(&std::fs::read(p).unwrap()).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// Each function's arcs counters, by ident.
fn arcs(g: &Gcda) -> Vec<(u32, Vec<u64>)> {
    g.functions()
        .filter_map(|f| {
            let c = f.counters.iter().find(|c| c.kind.name == "arcs")?;
            Some((f.id?.ident, c.values.iter().collect()))
        })
        .collect()
}

fn runs(g: &Gcda) -> u32 {
    g.records
        .iter()
        .find_map(|r| match r {
            Record::Other(o) if o.tag == Tag::OBJECT_SUMMARY => o.words.first().copied(),
            _ => None,
        })
        .unwrap()
}

/// The (unit, ident) pairs the warning names, from its indented lines.
fn named(stderr: &str) -> BTreeSet<(String, u32)> {
    stderr
        .lines()
        .filter_map(|l| {
            let (unit, rest) = l.strip_prefix("  ")?.split_once(": function ident ")?;
            let ident = rest.split(',').next()?.parse().ok()?;
            Some((unit.to_string(), ident))
        })
        .collect()
}

fn exact_or_max(exact: u128) -> u64 {
    u64::try_from(exact).ok().filter(|&v| v <= M).unwrap_or(M)
}

/// `-w 1,2^62`: every count of run2 of 2 or more passes 2^63 - 1 when
/// weighted, and so does every sum with a non-zero count of run1.
/// gcov-tool's rule (t + w·s modulo 2^64) would write 2·2^62 = 2^63 as
/// -9223372036854775808 for gcov, and 4·2^62 as 0.
#[test]
fn a_weight_past_gcov_types_range_saturates_and_names_every_function() {
    let t = Tmp::new("overflow-weight");
    let w: u64 = 1 << 62;
    let o = merge(&[&run(1), &run(2)], &t.p("out"), &["-w", &format!("1,{w}")]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{stderr}");
    assert!(
        stderr.contains("warning: counts saturated at 9223372036854775807"),
        "{stderr}"
    );

    let mut saturated = BTreeSet::new();
    let mut in_range = 0;
    for unit in UNITS {
        let (a, b, ours) = (
            read(&run(1).join(unit)),
            read(&run(2).join(unit)),
            read(&t.p("out").join(unit)),
        );
        // The summary is not weighted: 1 + 1 runs.
        assert_eq!(runs(&ours), 2, "{unit}");
        let (a, b, ours) = (arcs(&a), arcs(&b), arcs(&ours));
        assert_eq!(a.len(), ours.len(), "{unit}");
        for (((ident, x), (_, y)), (_, z)) in a.iter().zip(&b).zip(&ours) {
            for ((&x, &y), &z) in x.iter().zip(y).zip(z) {
                let exact = u128::from(x) + u128::from(y) * u128::from(w);
                assert_eq!(z, exact_or_max(exact), "{unit} {ident}: {x} + {y}·2^62");
                if exact > u128::from(M) {
                    saturated.insert((unit.to_string(), *ident));
                } else {
                    in_range += 1;
                }
            }
        }
    }
    // The data reaches both sides of the limit.
    assert!(saturated.len() > 5 && in_range > 5, "{saturated:?}");
    assert_eq!(named(&stderr), saturated, "{stderr}");

    // gcov-dump reads a counter as signed 64 bits: the saturated counts
    // print as themselves, none as a negative number.
    let g = gcc(12);
    let dump = common::run(g.tool("gcov-dump").arg("-l").arg(t.p("out/main.gcda")));
    let text = String::from_utf8_lossy(&dump.stdout);
    assert!(text.contains(" 9223372036854775807"), "{text}");
    assert!(!text.contains(" -"), "{text}");
}

/// The same data merged again and again: sums past 2^63 - 1 saturate
/// (libgcov would wrap them), the warning says which merge did it, and
/// `--strict` refuses with nothing written, in `merge` and in `lcov`.
#[test]
fn repeated_merges_saturate_and_strict_refuses_them() {
    let t = Tmp::new("overflow-repeat");
    // The largest weight that keeps every count of run1 in range.
    let max = UNITS
        .iter()
        .flat_map(|u| arcs(&read(&run(1).join(u))))
        .flat_map(|(_, v)| v)
        .max()
        .unwrap();
    let w = M / max;
    let input = format!("{}:{w}", run(1).display());
    let o = xencov(&[
        "merge".as_ref(),
        input.as_ref(),
        "--to".as_ref(),
        "gcda".as_ref(),
        "-o".as_ref(),
        t.p("a").as_os_str(),
    ]);
    assert!(o.status.success());
    assert!(!String::from_utf8_lossy(&o.stderr).contains("saturated"));

    let a = t.p("a");
    let o = merge(&[&a, &a, &a, &a], &t.p("four"), &[]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{stderr}");
    let mut saturated = BTreeSet::new();
    for unit in UNITS {
        let (one, four) = (read(&a.join(unit)), read(&t.p("four").join(unit)));
        assert_eq!(runs(&four), 4, "{unit}");
        for ((ident, x), (_, z)) in arcs(&one).iter().zip(&arcs(&four)) {
            for (&x, &z) in x.iter().zip(z) {
                // Each merge adds x to a sum held at M.
                let mut acc = x;
                for _ in 1..4 {
                    acc = exact_or_max(u128::from(acc) + u128::from(x));
                }
                assert_eq!(z, acc, "{unit} {ident}: 4 × {x}");
                if u128::from(x) * 4 > u128::from(M) {
                    saturated.insert((unit.to_string(), *ident));
                }
            }
        }
    }
    assert!(!saturated.is_empty());
    assert_eq!(named(&stderr), saturated, "{stderr}");
    assert!(
        stderr.contains(&format!("(adding {})", a.display())),
        "{stderr}"
    );

    let o = merge(&[&a, &a, &a, &a], &t.p("strict"), &["--strict"]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success());
    assert!(stderr.contains("error: counts saturated"), "{stderr}");
    assert!(!t.p("strict").exists());

    // lcov merges its inputs first: the same warning, the same refusal.
    let notes = run(1);
    let lcov = |out: &Path, extra: &[&str]| {
        let mut args: Vec<&std::ffi::OsStr> = vec!["lcov".as_ref()];
        args.extend([a.as_os_str(), a.as_os_str(), a.as_os_str(), a.as_os_str()]);
        args.extend(["--gcno-dir".as_ref(), notes.as_os_str()]);
        args.extend(["-o".as_ref(), out.as_os_str()]);
        args.extend(extra.iter().map(std::ffi::OsStr::new));
        xencov(&args)
    };
    let o = lcov(&t.p("t.info"), &[]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{stderr}");
    assert_eq!(named(&stderr), saturated, "{stderr}");
    assert!(t.p("t.info").exists());
    let o = lcov(&t.p("strict.info"), &["--strict"]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("error: counts saturated"));
    assert!(!t.p("strict.info").exists());
}

/// A summary whose runs reach 2^32 - 1 (a real file, edited): gcov-tool-12
/// wraps them to 0 runs; we hold them at 2^32 - 1 and say so. Everything
/// else is the bytes gcov-tool writes.
#[test]
fn runs_saturate_where_gcov_tool_wraps_them() {
    let t = Tmp::new("overflow-runs");
    let (d1, d2) = (t.p("d1"), t.p("d2"));
    std::fs::create_dir_all(&d1).unwrap();
    std::fs::create_dir_all(&d2).unwrap();
    let mut edited = read(&run(1).join("ops.gcda"));
    for r in &mut edited.records {
        if let Record::Other(o) = r
            && o.tag == Tag::OBJECT_SUMMARY
        {
            o.words[0] = u32::MAX;
        }
    }
    std::fs::write(d1.join("ops.gcda"), edited.encode()).unwrap();
    std::fs::copy(run(2).join("ops.gcda"), d2.join("ops.gcda")).unwrap();

    let g = gcc(12);
    let o = common::run(
        g.tool("gcov-tool")
            .arg("merge")
            .arg(&d1)
            .arg(&d2)
            .arg("-o")
            .arg(t.p("theirs")),
    );
    assert!(o.status.success());
    let o = merge(&[&d1, &d2], &t.p("ours"), &[]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{stderr}");
    assert!(
        stderr.contains("ops.gcda: object summary (runs, sum_max at 2^32 - 1): 1 value"),
        "{stderr}"
    );

    let mut theirs = read(&t.p("theirs/ops.gcda"));
    let ours = std::fs::read(t.p("ours/ops.gcda")).unwrap();
    assert_eq!(runs(&theirs), 0, "gcov-tool-12 wraps runs");
    assert_eq!(runs(&read(&t.p("ours/ops.gcda"))), u32::MAX);
    for r in &mut theirs.records {
        if let Record::Other(o) = r
            && o.tag == Tag::OBJECT_SUMMARY
        {
            o.words[0] = u32::MAX;
        }
    }
    assert!(theirs.encode() == ours, "only the runs word may differ");

    let o = merge(&[&d1, &d2], &t.p("strict"), &["--strict"]);
    assert!(!o.status.success());
    assert!(!t.p("strict").exists());
}

/// The sites of a GCC 11+ top-N section: (total, [(value, count)]).
fn topn_sites(v: &[u64]) -> Vec<(i64, Vec<(u64, i64)>)> {
    let mut out = Vec::new();
    let mut at = 0;
    while at < v.len() {
        let n = v[at + 1] as usize;
        let pairs = (0..n)
            .map(|j| (v[at + 2 + 2 * j], v[at + 3 + 2 * j] as i64))
            .collect();
        out.push((v[at] as i64, pairs));
        at += 2 + 2 * n;
    }
    out
}

fn clamp(x: i128) -> i64 {
    x.clamp(-i128::from(i64::MAX), i128::from(i64::MAX)) as i64
}

/// Value profiling (gcc-12 `-fprofile-generate` runs) at `-w 1,2^62`: counts
/// and top-N totals and counts saturate, an average's signed sum saturates
/// towards its sign, and what a weight does not touch (bit masks, times,
/// which values a top-N site tracks) is what gcov-tool-12 writes for the
/// plain merge (gcov-tool-12 itself cannot weight top-N data: section 8.1).
#[test]
fn value_profiles_saturate_kind_by_kind() {
    let t = Tmp::new("overflow-vp");
    let set = common::samples().join("gcc-12-pg/vp");
    let (r1, r2) = (set.join("run1"), set.join("run2"));
    let w: u64 = 1 << 62;
    let o = merge(&[&r1, &r2], &t.p("ours"), &["-w", &format!("1,{w}")]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{stderr}");
    let o = common::run(
        gcc(12)
            .tool("gcov-tool")
            .arg("merge")
            .arg(&r1)
            .arg(&r2)
            .arg("-o")
            .arg(t.p("plain")),
    );
    assert!(o.status.success());

    let mut seen = BTreeSet::new();
    for unit in common::files_with_suffix(&r1, ".gcda") {
        let unit = unit.file_name().unwrap().to_str().unwrap();
        let g = |d: &Path| read(&d.join(unit));
        let (a, b, ours, plain) = (g(&r1), g(&r2), g(&t.p("ours")), g(&t.p("plain")));
        let fs = |g: &Gcda| g.functions().cloned().collect::<Vec<_>>();
        for (((fa, fb), fo), fp) in fs(&a).iter().zip(&fs(&b)).zip(&fs(&ours)).zip(&fs(&plain)) {
            let ident = fa.id.unwrap().ident;
            for (((ca, cb), co), cp) in fa
                .counters
                .iter()
                .zip(&fb.counters)
                .zip(&fo.counters)
                .zip(&fp.counters)
            {
                let kind = ca.kind.name;
                let v = |c: &xencov::gcov::gcda::Counters| c.values.iter().collect::<Vec<u64>>();
                let (x, y, z, p) = (v(ca), v(cb), v(co), v(cp));
                let at = format!("{unit} {ident} {kind}");
                let mut over = false;
                match kind {
                    "arcs" | "interval" | "pow2" => {
                        for ((&x, &y), &z) in x.iter().zip(&y).zip(&z) {
                            let exact = u128::from(x) + u128::from(y) * u128::from(w);
                            over |= exact > u128::from(M);
                            assert_eq!(z, exact_or_max(exact), "{at}");
                        }
                    }
                    "average" => {
                        for ((&x, &y), &z) in x.iter().zip(&y).zip(&z) {
                            let exact = i128::from(x as i64) + i128::from(y as i64) * i128::from(w);
                            over |= clamp(exact) as i128 != exact;
                            assert_eq!(z as i64, clamp(exact), "{at}");
                        }
                    }
                    "topn" | "indirect_call" => {
                        let (sa, sb, so, sp) = (
                            topn_sites(&x),
                            topn_sites(&y),
                            topn_sites(&z),
                            topn_sites(&p),
                        );
                        for (((sa, sb), so), sp) in sa.iter().zip(&sb).zip(&so).zip(&sp) {
                            assert!(
                                sa.0 >= 0 && sb.0 >= 0,
                                "{at}: no value was lost in the runs"
                            );
                            let weighted = |c: i64| clamp(i128::from(c) * i128::from(w));
                            let total = i128::from(sa.0) + i128::from(weighted(sb.0));
                            over |= sb.0 > 1 || (sa.0 > 0 && sb.0 > 0 && total > i128::from(M));
                            assert_eq!(so.0, clamp(total), "{at}: total");
                            // The values tracked, in gcov-tool's order.
                            let values =
                                |s: &[(u64, i64)]| s.iter().map(|p| p.0).collect::<Vec<_>>();
                            assert_eq!(values(&so.1), values(&sp.1), "{at}: values");
                            for &(value, count) in &so.1 {
                                let c = |s: &[(u64, i64)]| {
                                    s.iter().find(|p| p.0 == value).map_or(0, |p| p.1)
                                };
                                let exact = i128::from(c(&sa.1)) + i128::from(weighted(c(&sb.1)));
                                assert_eq!(count, clamp(exact), "{at}: value {value}");
                            }
                        }
                    }
                    // Bit masks and first-run times do not scale.
                    _ => assert_eq!(z, p, "{at}"),
                }
                if over {
                    seen.insert(kind);
                }
                let named = stderr.contains(&format!(
                    "  {unit}: function ident {ident}, {kind} counters"
                ));
                assert_eq!(named, over, "{at}: {stderr}");
            }
        }
    }
    for kind in [
        "arcs",
        "interval",
        "pow2",
        "average",
        "topn",
        "indirect_call",
    ] {
        assert!(seen.contains(kind), "no {kind} saturated: {seen:?}");
    }
}
