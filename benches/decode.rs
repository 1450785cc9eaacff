//! Decoding speed of gcda and gcno files, in bytes per second (criterion
//! reports GiB/s; issue #16's target is ≥ 1 GB/s per core).
//!
//! ```sh
//! cargo bench --bench decode                      # samples only
//! XENCOV_LARGE=/tmp/xencov-large/build-gcc-12 cargo bench --bench decode
//! ```
//!
//! Groups: every `.gcda` and every `.gcno` of `samples/` (all GCC eras, both
//! byte orders, the Xen units split out of the sample dumps), and, when
//! `XENCOV_LARGE` names a `tests/large/build.sh` output (default
//! `/tmp/xencov-large/build-gcc-12`, skipped with a NOT RUN line when
//! missing), the SQLite and Lua trees' notes and counters. Each benchmark
//! decodes all files of its group once per iteration, from memory: reading
//! them is not timed. Files the decoder refuses (the samples hold a few
//! deliberately broken ones) are left out, and the group says how many.
//!
//! Single-threaded: the figure is per core.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use std::path::{Path, PathBuf};
use xencov::gcov::gcda::Gcda;
use xencov::gcov::gcno::Gcno;

fn files(dir: &Path, suffix: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.to_string_lossy().ends_with(suffix) {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// The files of `dir` ending in `suffix` that `ok` accepts, read into memory.
fn load(dir: &Path, suffix: &str, ok: fn(&[u8]) -> bool) -> (Vec<Vec<u8>>, usize) {
    let mut refused = 0;
    let mut kept = Vec::new();
    for p in files(dir, suffix) {
        let Ok(b) = std::fs::read(&p) else {
            continue;
        };
        if ok(&b) {
            kept.push(b);
        } else {
            refused += 1;
        }
    }
    (kept, refused)
}

fn gcda_ok(b: &[u8]) -> bool {
    Gcda::decode(b).is_ok()
}

fn gcno_ok(b: &[u8]) -> bool {
    Gcno::decode(b).is_ok()
}

/// The units of the sample Xen dumps, as payload bytes (what `merge` decodes).
fn xen_units(dir: &Path) -> Vec<Vec<u8>> {
    use xencov::xen::dump::Container;
    let mut out = Vec::new();
    for p in files(dir, ".xcov") {
        let Ok(b) = std::fs::read(&p) else { continue };
        let Ok(c) = Container::parse(&b) else {
            continue;
        };
        out.extend(
            c.units
                .iter()
                .map(|u| u.payload.to_vec())
                .filter(|b| gcda_ok(b)),
        );
    }
    out
}

fn group(
    c: &mut Criterion,
    name: &str,
    set: &[Vec<u8>],
    refused: usize,
    decode: fn(&[u8]) -> bool,
) {
    if set.is_empty() {
        eprintln!("NOT RUN: decode/{name}: no files");
        return;
    }
    let bytes: usize = set.iter().map(Vec::len).sum();
    eprintln!(
        "decode/{name}: {} files, {bytes} bytes{}",
        set.len(),
        if refused > 0 {
            format!(" ({refused} refused by the decoder, left out)")
        } else {
            String::new()
        }
    );
    let mut g = c.benchmark_group("decode");
    g.throughput(Throughput::Bytes(bytes as u64));
    g.bench_function(name, |b| {
        b.iter(|| {
            for f in set {
                black_box(decode(black_box(f)));
            }
        })
    });
    g.finish();
}

fn benches(c: &mut Criterion) {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let samples = root.join("samples");
    let (gcda, r) = load(&samples, ".gcda", gcda_ok);
    group(c, "samples-gcda", &gcda, r, gcda_ok);
    let (gcno, r) = load(&samples, ".gcno", gcno_ok);
    group(c, "samples-gcno", &gcno, r, gcno_ok);
    let xen = xen_units(&samples.join("xen"));
    group(c, "samples-xen-units", &xen, 0, gcda_ok);

    let large = std::env::var_os("XENCOV_LARGE")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/tmp/xencov-large/build-gcc-12"));
    for tree in ["sqlite", "lua"] {
        let d = large.join(tree);
        if !d.is_dir() {
            eprintln!(
                "NOT RUN: decode/{tree}-*: {} is missing (tests/large/build.sh makes it; \
                 set XENCOV_LARGE to its build-gcc-N directory)",
                d.display()
            );
            continue;
        }
        let (gcno, r) = load(&d, ".gcno", gcno_ok);
        group(c, &format!("{tree}-gcno"), &gcno, r, gcno_ok);
        let (gcda, r) = load(&d, ".gcda", gcda_ok);
        group(c, &format!("{tree}-gcda"), &gcda, r, gcda_ok);
    }
}

criterion_group!(decode, benches);
criterion_main!(decode);
