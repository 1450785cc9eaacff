//! Every input that once crashed a fuzz target (fuzz/regressions/<target>/)
//! goes through the same checks as the fuzz targets (fuzz/checks.rs), and so
//! do the real samples the fuzzers were seeded with.
//!
//! Each input is bounded in memory (the checks' counting allocator: peak
//! heap linear in the input) and in time: libFuzzer reports a "slow unit"
//! past 10 seconds, and so does this test. The recorded slow units now run
//! in microseconds, so the bound detects a regression to seconds or
//! hanging, not a speed target.

mod common;

#[path = "../fuzz/checks.rs"]
mod checks;

use std::path::Path;
use std::time::{Duration, Instant};

/// libFuzzer's `-report_slow_units` default.
const SLOW_UNIT: Duration = Duration::from_secs(10);

fn run_bounded(target: &str, input: &Path) {
    let data = std::fs::read(input).unwrap();
    let start = Instant::now();
    run(target, &data);
    let took = start.elapsed();
    assert!(
        took < SLOW_UNIT,
        "{}: a slow unit ({took:?}, libFuzzer's bound is {SLOW_UNIT:?})",
        input.display()
    );
}

fn run(target: &str, data: &[u8]) {
    match target {
        "gcda" => checks::gcda(data),
        "gcno" => checks::gcno(data),
        "dump" => checks::dump(data),
        "legacy" => checks::legacy(data),
        "merge" => checks::merge(data),
        "coverage" => checks::coverage(data),
        other => panic!("unknown fuzz target {other}"),
    }
}

#[test]
fn every_recorded_crash_input_is_handled() {
    let dir = common::root().join("fuzz/regressions");
    assert!(
        dir.join("README.md").exists(),
        "fuzz/regressions is where crash inputs are kept"
    );
    let mut inputs = 0;
    for target in std::fs::read_dir(&dir).unwrap() {
        let target = target.unwrap().path();
        if !target.is_dir() {
            continue;
        }
        let name = target.file_name().unwrap().to_string_lossy().into_owned();
        for input in common::files_with_suffix(&target, "") {
            if input.extension().is_some_and(|e| e == "md") {
                continue;
            }
            run_bounded(&name, &input);
            inputs += 1;
        }
    }
    assert!(inputs >= 5, "only {inputs} regression inputs found");
}

fn with_split(a: &[u8], b: &[u8]) -> Vec<u8> {
    let cut = (a.len() * 256 / (a.len() + b.len()) + 1).min(255) as u8;
    [&[cut][..], a, b].concat()
}

#[test]
fn the_seed_inputs_pass_the_fuzz_checks() {
    let samples = common::samples();
    for f in common::files_with_suffix(&samples, ".gcda") {
        checks::gcda(&std::fs::read(&f).unwrap());
    }
    for f in common::files_with_suffix(&samples, ".gcno") {
        checks::gcno(&std::fs::read(&f).unwrap());
    }
    for f in common::files_with_suffix(&samples, ".xcov") {
        checks::dump(&std::fs::read(&f).unwrap());
    }
    for f in common::files_with_suffix(&samples.join("xen-legacy"), ".dat") {
        checks::legacy(&std::fs::read(&f).unwrap());
    }
    for set in ["gcc-12/calc", "gcc-11-pg/vp", "ppc64-gcc-12/calc"] {
        for g in common::files_with_suffix(&samples.join(set).join("run1"), ".gcda") {
            let unit = g.file_stem().unwrap().to_string_lossy().into_owned();
            let read = |p: &Path| std::fs::read(p).unwrap();
            let a = read(&g);
            let b = read(&samples.join(set).join("run2").join(format!("{unit}.gcda")));
            let n = read(&samples.join(set).join("run1").join(format!("{unit}.gcno")));
            checks::merge(&with_split(&a, &b));
            checks::coverage(&with_split(&n, &a));
        }
    }
}
