//! The second oracle for older eras: real gcov outputs published beside
//! real notes and data in the shared corpus. gcov 6 (`gcov -i` text:
//! file/function/lcount lines) for GCC 6.2 units, and gcov 9.4's JSON for a
//! GCC 9.4 unit. Our coverage must give the same line and function counts.

mod common;

use std::collections::BTreeMap;
use xencov_rs::coverage::{UnitCoverage, compute};
use xencov_rs::gcda::Gcda;
use xencov_rs::gcno::Gcno;

fn unit(base: &str) -> UnitCoverage {
    let dir = common::corpus().join("grcov/test");
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
    for base in ["64bit_count", "negative_counts"] {
        let (lines, fns) = ours(&unit(base));
        let text =
            std::fs::read_to_string(common::corpus().join(format!("grcov/test/{base}.gcov")))
                .unwrap();
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
    let u = unit("mozillavpn_serverconnection");
    let path = common::corpus().join("grcov/test/mozillavpn_serverconnection.gcno.gcov.json.gz");
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
                    l.function_name.clone().unwrap_or_default(),
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
