//! The second oracle for older eras: real gcov outputs published beside
//! real notes and data in the shared corpus. gcov 6 (`gcov -i` text:
//! file/function/lcount lines) for GCC 6.2 units, and gcov 9.4's JSON for a
//! GCC 9.4 unit. Our coverage must give the same line and function counts.
//! Where no gcov output exists, third-party readings published beside real
//! files: the `cov` crate's (GCC 7.1, with branches) and the Eclipse gcov
//! plug-in's (GCC 4.4, lines).

mod common;

use std::collections::BTreeMap;
use xencov::analysis::coverage::{
    InTurn, Join, LineCoverage, UnitCoverage, compute, compute_owned, count_owned, count_owned_in,
};
use xencov::gcov::gcda::Gcda;
use xencov::gcov::gcno::Gcno;

fn unit(corpus: &std::path::Path, base: &str) -> UnitCoverage {
    let dir = corpus.join("grcov/test");
    let notes = Gcno::decode(&std::fs::read(dir.join(format!("{base}.gcno"))).unwrap()).unwrap();
    let data = Gcda::decode(&std::fs::read(dir.join(format!("{base}.gcda"))).unwrap()).unwrap();
    let u = compute(&notes, Some(&data));
    assert!(u.warnings.is_empty(), "{base}: {:?}", u.warnings);
    u
}

/// (file, line) -> count and (file, function) -> (start line, count), our side.
type Counts = (
    BTreeMap<(String, u32), i128>,
    BTreeMap<(String, String), (u32, i128)>,
);

fn ours(u: &UnitCoverage) -> Counts {
    let (mut lines, mut fns) = (BTreeMap::new(), BTreeMap::new());
    for f in &u.files {
        for l in &f.lines {
            *lines.entry((f.file.clone(), l.line_number)).or_insert(0) += l.count;
        }
        for x in &f.functions {
            fns.insert(
                (f.file.clone(), x.name.clone()),
                (x.start_line, x.execution_count),
            );
        }
    }
    (lines, fns)
}

#[test]
fn gcc_6_units_agree_with_gcov_6() {
    let Some(corpus) = common::corpus_or_skip("gcc_6_units_agree_with_gcov_6") else {
        return;
    };
    for base in ["64bit_count", "negative_counts"] {
        let (lines, fns) = ours(&unit(&corpus, base));
        let text = std::fs::read_to_string(corpus.join(format!("grcov/test/{base}.gcov"))).unwrap();
        let (mut their_lines, mut their_fns) = (BTreeMap::new(), BTreeMap::new());
        let mut file = String::new();
        for l in text.lines() {
            if let Some(f) = l.strip_prefix("file:") {
                file = f.to_string();
            } else if let Some(rest) = l.strip_prefix("lcount:") {
                let mut p = rest.split(',');
                let n: u32 = p.next().unwrap().parse().unwrap();
                let c: i128 = p.next().unwrap().parse().unwrap();
                *their_lines.entry((file.clone(), n)).or_insert(0) += c;
            } else if let Some(rest) = l.strip_prefix("function:") {
                let mut p = rest.splitn(3, ',');
                let n: u32 = p.next().unwrap().parse().unwrap();
                let c: i128 = p.next().unwrap().parse().unwrap();
                their_fns.insert((file.clone(), p.next().unwrap().to_string()), (n, c));
            }
        }
        // gcov printed absolute names; the notes record them as given to the compiler.
        let by_base = |m: &BTreeMap<(String, u32), i128>| -> BTreeMap<(String, u32), i128> {
            m.iter()
                .map(|((f, n), c)| ((f.rsplit('/').next().unwrap().to_string(), *n), *c))
                .collect()
        };
        assert!(their_lines.len() > 800, "{base}");
        assert_eq!(
            by_base(&lines),
            by_base(&their_lines),
            "{base}: line counts"
        );
        let fn_base =
            |m: &BTreeMap<(String, String), (u32, i128)>| -> BTreeMap<(String, String), (u32, i128)> {
                m.iter()
                    .map(|((f, n), v)| ((f.rsplit('/').next().unwrap().to_string(), n.clone()), *v))
                    .collect()
            };
        assert_eq!(
            fn_base(&fns),
            fn_base(&their_fns),
            "{base}: function counts"
        );
        // negative_counts carries a negative line count, as gcov 6 printed it.
        if base == "negative_counts" {
            assert!(their_lines.values().any(|&c| c < 0) && lines.values().any(|&c| c < 0));
        }
    }
}

/// gcov 9 wrote counts through a double: those above 2^20 may be rounded
/// in its JSON (`1.37297e+06`), so a float there is compared with that precision.
#[test]
fn a_gcc_9_unit_agrees_with_gcov_9_json() {
    let Some(corpus) = common::corpus_or_skip("a_gcc_9_unit_agrees_with_gcov_9_json") else {
        return;
    };
    let u = unit(&corpus, "mozillavpn_serverconnection");
    let path = corpus.join("grcov/test/mozillavpn_serverconnection.gcno.gcov.json.gz");
    let out = std::process::Command::new("gzip")
        .arg("-dc")
        .arg(&path)
        .output()
        .unwrap();
    let theirs: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(theirs["gcc_version"], "9.4.0");
    let close = |ours: i128, v: &serde_json::Value| match v.as_i64() {
        Some(t) => i128::from(t) == ours,
        None => (v.as_f64().unwrap() - ours as f64).abs() <= 1e-5 * ours as f64,
    };
    let mut compared = 0;
    let files = theirs["files"].as_array().unwrap();
    assert_eq!(files.len(), u.files.len());
    for tf in files {
        let name = tf["file"].as_str().unwrap();
        let of = u
            .files
            .iter()
            .find(|f| f.file == name)
            .unwrap_or_else(|| panic!("{name}"));
        // gcov sorts functions of one start line unstably: compare as sets.
        let mut ours_lines: Vec<_> = of
            .lines
            .iter()
            .map(|l| {
                (
                    l.line_number,
                    l.function_name.as_deref().unwrap_or_default().to_string(),
                    l.count,
                    l.unexecuted_block,
                )
            })
            .collect();
        let mut their_lines: Vec<_> = tf["lines"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| {
                (
                    l["line_number"].as_u64().unwrap() as u32,
                    l["function_name"].as_str().unwrap_or_default().to_string(),
                    l["count"].clone(),
                    l["unexecuted_block"].as_bool().unwrap(),
                )
            })
            .collect();
        ours_lines.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
        their_lines.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
        assert_eq!(ours_lines.len(), their_lines.len(), "{name}");
        for (o, t) in ours_lines.iter().zip(&their_lines) {
            assert!(
                o.0 == t.0 && o.1 == t.1 && o.3 == t.3 && close(o.2, &t.2),
                "{name}: {o:?} vs {t:?}"
            );
            compared += 1;
        }
        for tfn in tf["functions"].as_array().unwrap() {
            let n = tfn["name"].as_str().unwrap();
            let f = of
                .functions
                .iter()
                .find(|f| f.name == n)
                .unwrap_or_else(|| panic!("{n}"));
            assert_eq!(u64::from(f.start_line), tfn["start_line"].as_u64().unwrap());
            assert_eq!(
                u64::from(f.blocks_executed),
                tfn["blocks_executed"].as_u64().unwrap(),
                "{n}"
            );
            assert!(close(f.execution_count, &tfn["execution_count"]), "{n}");
        }
    }
    assert!(compared > 1000);
}

/// Branches of notes older than GCC 8, which no gcov here can read: the
/// oracle is the `cov` crate's reading of its own GCC 7.1 fixtures
/// (`cov/test-data/*.gcc7/x.json`, published beside the files), a third
/// implementation of gcov's algorithm, not gcov itself. Per line: the count
/// and the branch counts (as a multiset: the order of gcov 7's output is
/// not established by this oracle). `loops.gcc7` has its branches on blocks
/// without lines, which gcov 7 gave to the line of the block before.
#[test]
fn gcc_7_branches_agree_with_the_cov_crates_reading() {
    let Some(corpus) = common::corpus_or_skip("gcc_7_branches_agree_with_the_cov_crates_reading")
    else {
        return;
    };
    let mut branches = 0;
    for case in ["branches.gcc7", "loops.gcc7", "trivial.gcc7"] {
        let dir = corpus.join("cov/cov/test-data").join(case);
        let notes = Gcno::decode(&std::fs::read(dir.join("x.gcno")).unwrap()).unwrap();
        assert!(!notes.header.version.at_least(8, 0), "{case}");
        let data = Gcda::decode(&std::fs::read(dir.join("x.gcda")).unwrap()).unwrap();
        let u = compute(&notes, Some(&data));
        assert!(u.warnings.is_empty(), "{case}: {:?}", u.warnings);
        let mut ours: BTreeMap<(String, u32), (i128, Vec<i128>)> = BTreeMap::new();
        for f in &u.files {
            for l in &f.lines {
                let mut b: Vec<i128> = l.branches.iter().map(|b| b.count).collect();
                b.sort_unstable();
                ours.insert((f.file.clone(), l.line_number), (l.count, b));
            }
        }
        let json: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dir.join("x.json")).unwrap()).unwrap();
        let mut theirs = BTreeMap::new();
        for (file, f) in json["files"].as_object().unwrap() {
            for (line, l) in f["lines"].as_object().unwrap() {
                let mut b: Vec<i128> = l["branches"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|b| i128::from(b["count"].as_i64().unwrap()))
                    .collect();
                b.sort_unstable();
                branches += b.len();
                theirs.insert(
                    (file.clone(), line.parse::<u32>().unwrap()),
                    (i128::from(l["count"].as_i64().unwrap()), b),
                );
            }
        }
        assert_eq!(ours, theirs, "{case}");
    }
    assert_eq!(branches, 8);
}

/// The GCC 4.4 files beside the Eclipse gcov plug-in's expected views
/// (`testView.ref`: per source file, instrumented and executed lines, and
/// their sum) — the plug-in's own reading of gcc 4.4.1 files, the only
/// oracle for that era.
#[test]
fn gcc_4_4_files_agree_with_the_eclipse_plugins_listing() {
    let Some(corpus) =
        common::corpus_or_skip("gcc_4_4_files_agree_with_the_eclipse_plugins_listing")
    else {
        return;
    };
    let base = corpus.join("org.eclipse.linuxtools/gcov/org.eclipse.linuxtools.gcov.test");
    let mut rows_checked = 0;
    for case in ["test_c", "test_cpp"] {
        let dir = base.join(case);
        // (file name) -> (instrumented lines, executed lines), ours.
        let mut ours: BTreeMap<String, (usize, usize)> = BTreeMap::new();
        for gcda in common::files_with_suffix(&dir, ".gcda") {
            let notes = Gcno::decode(&std::fs::read(gcda.with_extension("gcno")).unwrap()).unwrap();
            assert_eq!(notes.header.version.chars(), "404*");
            let data = Gcda::decode(&std::fs::read(&gcda).unwrap()).unwrap();
            let u = compute(&notes, Some(&data));
            for f in &u.files {
                let name = f.file.rsplit('/').next().unwrap().to_string();
                let e = ours.entry(name).or_default();
                e.0 += f.lines.len();
                e.1 += f.lines.iter().filter(|l| l.count > 0).count();
            }
        }
        let text = std::fs::read_to_string(dir.join("testView.ref")).unwrap();
        let mut theirs = BTreeMap::new();
        let mut summary = None;
        for row in text.lines().skip(1) {
            let cols: Vec<&str> = row.split(';').collect();
            let (instrumented, executed) = (cols[3].parse().unwrap(), cols[4].parse().unwrap());
            match cols[0] {
                "+-" => summary = Some((instrumented, executed)),
                "  +-" => {
                    theirs.insert(cols[1].to_string(), (instrumented, executed));
                }
                _ => {} // functions
            }
        }
        assert_eq!(ours, theirs, "{case}");
        let total = ours.values().fold((0, 0), |(a, b), (x, y)| (a + x, b + y));
        assert_eq!(Some(total), summary, "{case}");
        rows_checked += theirs.len();
    }
    assert_eq!(rows_checked, 12);
}

/// `compute_owned` frees the notes before the output is made, and
/// `Lines::next_into` fills one record: the same coverage as `compute`, on
/// every sample unit with notes and data.
#[test]
fn compute_owned_gives_what_compute_gives() {
    let mut units = 0;
    for (gcda, notes, data) in units_below(&[common::samples()]) {
        let want = compute(&notes, Some(&data));
        // The lines filled into one record again and again (what lcov's
        // fold reads) are those the iterator makes, field for field.
        let counted = count_owned(notes.clone(), Some(&data));
        for (src, file) in counted.files().zip(&want.files) {
            let (mut lines, mut l) = (src.lines(), LineCoverage::default());
            let mut filled = Vec::new();
            while lines.next_into(&mut l) {
                filled.push(l.clone());
            }
            assert_eq!(filled, file.lines, "{}: {}", gcda.display(), file.file);
        }
        let got = compute_owned(notes, Some(&data));
        assert_eq!(got, want, "{}", gcda.display());
        units += usize::from(want.files.iter().any(|f| !f.lines.is_empty()));
    }
    assert!(units >= 8, "{units} sample units with lines");
}

/// Every data file below `dirs` with its notes beside it, both decoded
/// (those that do not decode are left to the decoders' own tests).
fn units_below(dirs: &[std::path::PathBuf]) -> Vec<(std::path::PathBuf, Gcno, Gcda)> {
    let mut out = Vec::new();
    for gcda in dirs
        .iter()
        .flat_map(|d| common::files_with_suffix(d, ".gcda"))
    {
        let Ok(notes) = std::fs::read(gcda.with_extension("gcno")) else {
            continue;
        };
        if let (Ok(notes), Ok(data)) = (
            Gcno::decode(&notes),
            Gcda::decode(&std::fs::read(&gcda).unwrap()),
        ) {
            out.push((gcda, notes, data));
        }
    }
    out
}

/// [`Join`] on two threads, as the CLI lends it.
struct Threads;

impl Join for Threads {
    fn join<A, B, RA, RB>(&self, a: A, b: B) -> (RA, RB)
    where
        A: FnOnce() -> RA + Send,
        B: FnOnce() -> RB + Send,
        RA: Send,
        RB: Send,
    {
        std::thread::scope(|s| {
            let b = s.spawn(b);
            let ra = a();
            (ra, b.join().unwrap())
        })
    }
}

/// A unit's functions counted in two parts and joined (what `lcov` does
/// with a large unit on two threads) count what one part counts, wherever
/// they are cut: every sample unit and every unit of the shared corpus
/// with notes and data beside each other (GCC 4.4 to 16, C and C++ with
/// group functions, counts from before GCC 8 as the sum of a line's
/// blocks and from 8 on as its flow), cut everywhere in a small unit and
/// at about 40 places in a large one, in turn and on two threads.
#[test]
fn a_unit_counted_in_two_parts_is_counted_as_in_one() {
    let mut dirs = vec![common::samples()];
    match common::corpus_or_skip("a_unit_counted_in_two_parts_is_counted_as_in_one") {
        Some(c) => dirs.push(c),
        None => return,
    }
    let (mut units, mut cuts, mut grouped, mut summed) = (0, 0, 0, 0);
    for (gcda, notes, data) in units_below(&dirs) {
        let n = notes.functions().len();
        if n < 2 {
            continue;
        }
        let want = compute(&notes, Some(&data));
        units += 1;
        // Group functions start on one line of one file (C++ templates
        // instantiated twice, constructors); their lines are kept apart.
        let mut starts = std::collections::HashSet::new();
        grouped += usize::from(
            notes
                .functions()
                .filter(|f| !f.artificial)
                .any(|f| !starts.insert((f.source_index(), f.start_line))),
        );
        summed += usize::from(!notes.header.version.at_least(8, 0));
        let step = (n / 40).max(1);
        for k in (1..n).step_by(step).chain([n - 1]) {
            let got = count_owned_in(notes.clone(), Some(&data), &InTurn, Some(k));
            assert_eq!(
                got.into_coverage(),
                want,
                "{}: cut at {k} of {n}",
                gcda.display()
            );
            cuts += 1;
        }
        let got = count_owned_in(notes, Some(&data), &Threads, None);
        assert_eq!(
            got.into_coverage(),
            want,
            "{}: halved, on two threads",
            gcda.display()
        );
    }
    assert!(units >= 100 && cuts >= 1000, "{units} units, {cuts} cuts");
    assert!(grouped >= 2, "{grouped} units with group functions");
    assert!(summed >= 2, "{summed} units from before GCC 8");
}
