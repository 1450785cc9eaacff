//! Raw LLVM profiles written by real clang runtimes (samples/llvm/), decoded
//! and compared with `llvm-profdata show --all-functions --counts` of the
//! matching LLVM release (its output is stored beside each profile by
//! scripts/gen-llvm-samples; when the trixie chroot is there, the tool is also
//! run live and must still print the same).

use std::path::{Path, PathBuf};
use std::process::Command;

use xencov::llvm::raw::RawProfile;

fn sample(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("samples/llvm")
        .join(rel)
}

/// (name, hash, counters) of each function of a `show --counts` listing.
fn parse_show(text: &str) -> Vec<(String, u64, Vec<u64>)> {
    let mut out = Vec::new();
    let mut lines = text.lines().peekable();
    while let Some(line) = lines.next() {
        let Some(name) = line.strip_prefix("  ").and_then(|l| l.strip_suffix(':')) else {
            continue;
        };
        if name.starts_with(' ') {
            continue;
        }
        let mut hash = None;
        let mut counters = Vec::new();
        let mut n = None;
        while let Some(l) = lines.peek() {
            let Some(l) = l.strip_prefix("    ") else {
                break;
            };
            if let Some(h) = l.strip_prefix("Hash: 0x") {
                hash = Some(u64::from_str_radix(h, 16).unwrap());
            } else if let Some(c) = l.strip_prefix("Counters: ") {
                n = Some(c.parse::<usize>().unwrap());
            } else if let Some(c) = l.strip_prefix("Function count: ") {
                counters.push(c.parse().unwrap());
            } else if let Some(c) = l.strip_prefix("Block counts: [") {
                let c = c.strip_suffix(']').unwrap();
                counters.extend(
                    c.split(", ")
                        .filter(|s| !s.is_empty())
                        .map(|s| s.parse::<u64>().unwrap()),
                );
            }
            lines.next();
        }
        assert_eq!(Some(counters.len()), n, "{name}: counter count");
        out.push((name.to_string(), hash.unwrap(), counters));
    }
    assert!(!out.is_empty(), "no function in the listing");
    out
}

fn ours(profile: &RawProfile) -> Vec<(String, u64, Vec<u64>)> {
    let mut v: Vec<_> = profile
        .functions
        .iter()
        .map(|f| (f.name.clone(), f.hash, f.counters.clone()))
        .collect();
    v.sort();
    v
}

/// The sets of scripts/gen-llvm-samples: clang 18 (trixie, raw version 9),
/// 19 (trixie) and 21 (sid), both version 10.
const SETS: [(&str, &str, u32, u32); 3] = [
    ("clang-18", "trixie", 18, 9),
    ("clang-19", "trixie", 19, 10),
    ("clang-21", "sid", 21, 10),
];
const RUNS: [&str; 4] = ["calc-run1", "calc-run2", "mcdc-run1", "mcdc-run2"];

#[test]
fn clang_profiles_equal_llvm_profdata_show() {
    for (set, _, _, version) in SETS {
        for name in RUNS {
            let bytes = std::fs::read(sample(&format!("{set}/{name}.profraw"))).unwrap();
            let p = RawProfile::decode(&bytes).unwrap();
            assert_eq!(p.header.version, version, "{set}/{name}");
            assert_eq!(
                p.binary_ids.len(),
                1,
                "{set}/{name}: compiler-rt writes the build ID"
            );
            let show = std::fs::read_to_string(sample(&format!("{set}/{name}.show"))).unwrap();
            let mut want = parse_show(&show);
            want.sort();
            assert_eq!(ours(&p), want, "{set}/{name}");
        }
    }
}

/// Our merge of two runs, shown by llvm-profdata, equals llvm-profdata's
/// own merge of the same runs (calc-merged.show).
#[test]
fn merged_runs_equal_llvm_profdata_merge() {
    for (set, _, _, _) in SETS {
        let a = std::fs::read(sample(&format!("{set}/calc-run1.profraw"))).unwrap();
        let b = std::fs::read(sample(&format!("{set}/calc-run2.profraw"))).unwrap();
        let merged = xencov::llvm::raw::merge(&[(&a, 1), (&b, 1)]).unwrap();
        let p = RawProfile::decode(&merged).unwrap();
        let mut want = parse_show(
            &std::fs::read_to_string(sample(&format!("{set}/calc-merged.show"))).unwrap(),
        );
        want.sort();
        assert_eq!(ours(&p), want, "{set}");
        // Weights multiply, as `llvm-profdata merge -weighted-input` does.
        let twice = xencov::llvm::raw::merge(&[(&a, 2)]).unwrap();
        let one = RawProfile::decode(&a).unwrap();
        let two = RawProfile::decode(&twice).unwrap();
        for (x, y) in one.functions.iter().zip(&two.functions) {
            let doubled: Vec<u64> = x.counters.iter().map(|c| c * 2).collect();
            assert_eq!(y.counters, doubled);
        }
        // Another build (the mcdc program) is refused.
        let m = std::fs::read(sample(&format!("{set}/mcdc-run1.profraw"))).unwrap();
        let e = xencov::llvm::raw::merge(&[(&a, 1), (&m, 1)]).unwrap_err();
        assert_eq!(e.input, 1);
        assert!(e.to_string().contains("another build"), "{e}");
    }
}

#[test]
fn merged_bitmaps_are_ored_and_counts_never_wrap() {
    let a = std::fs::read(sample("clang-19/mcdc-run1.profraw")).unwrap();
    let b = std::fs::read(sample("clang-19/mcdc-run2.profraw")).unwrap();
    let (pa, pb) = (
        RawProfile::decode(&a).unwrap(),
        RawProfile::decode(&b).unwrap(),
    );
    let m = RawProfile::decode(&xencov::llvm::raw::merge(&[(&a, 1), (&b, 1)]).unwrap()).unwrap();
    for ((x, y), z) in pa.functions.iter().zip(&pb.functions).zip(&m.functions) {
        let or: Vec<u8> = x.bitmap.iter().zip(&y.bitmap).map(|(p, q)| p | q).collect();
        assert_eq!(z.bitmap, or, "{}", x.name);
    }
    // A weight that makes a counter overflow 64 bits is an error naming it.
    let e = xencov::llvm::raw::merge(&[(&a, u64::MAX), (&a, 1)]).unwrap_err();
    assert!(e.to_string().contains("overflows 64 bits"), "{e}");
}

#[test]
fn mcdc_profiles_carry_bitmap_bytes() {
    // -fcoverage-mcdc: `decide` and `range` each have one decision whose
    // test vectors fit in one bitmap byte; `main`'s loop condition has one
    // condition and no bitmap.
    let bytes = std::fs::read(sample("clang-19/mcdc-run1.profraw")).unwrap();
    let p = RawProfile::decode(&bytes).unwrap();
    assert_eq!(p.header.num_bitmap_bytes, Some(2));
    let bitmap = |n: &str| {
        p.functions
            .iter()
            .find(|f| f.name == n)
            .unwrap()
            .bitmap
            .clone()
    };
    assert_eq!(bitmap("main"), Vec::<u8>::new());
    // Bytes at 0x1d0 and 0x1d1 of the file.
    assert_eq!(bitmap("mcdc.c:decide"), vec![0x13]);
    assert_eq!(bitmap("mcdc.c:range"), vec![0x09]);
    // The calc build has no MC/DC: no bitmap section at all.
    let bytes = std::fs::read(sample("clang-19/calc-run1.profraw")).unwrap();
    let p = RawProfile::decode(&bytes).unwrap();
    assert_eq!(p.header.num_bitmap_bytes, Some(0));
}

#[test]
fn clang_14_profile_equals_its_documented_listing() {
    // samples/llvm/README.md records llvm-profdata 14's listing of it.
    let bytes = std::fs::read(sample("small.profraw")).unwrap();
    let p = RawProfile::decode(&bytes).unwrap();
    assert_eq!(p.header.version, 8);
    assert!(p.names_compressed);
    let want = vec![
        ("main".to_string(), 0x011b_44a6_d245_835f, vec![1, 5, 0, 1]),
        ("small.c:never".to_string(), 0x18, vec![0]),
        ("small.c:square".to_string(), 0x18, vec![5]),
    ];
    assert_eq!(ours(&p), want);
}

#[test]
fn truncated_copies_are_refused_with_an_offset() {
    for rel in [
        "small.profraw",
        "clang-19/calc-run1.profraw",
        "clang-19/mcdc-run1.profraw",
    ] {
        let bytes = std::fs::read(sample(rel)).unwrap();
        for len in [40, 88, bytes.len() / 2, bytes.len() - 1] {
            let e = RawProfile::decode(&bytes[..len]).unwrap_err();
            assert!(e.offset <= len, "{rel} cut to {len}: {e}");
        }
        // A hypervisor's zero-filled buffer is accepted.
        let mut filled = bytes.clone();
        filled.resize(bytes.len() + 4096, 0);
        assert_eq!(RawProfile::decode(&filled).unwrap().used_bytes, bytes.len());
    }
}

#[test]
fn live_llvm_profdata_still_agrees() {
    for (set, suite, major, _) in SETS {
        let tool = format!("llvm-profdata-{major}");
        let root = Path::new("/var/cache/xencov-rs/chroots").join(suite);
        if !root.join("usr/bin").join(&tool).exists() {
            eprintln!("NOT RUN: no {tool} in the {suite} chroot (scripts/setup makes it)");
            continue;
        }
        let dir = sample(set);
        for name in RUNS {
            let o = Command::new(Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/chroot"))
                .args(["run", suite])
                .arg(&dir)
                .args([tool.as_str(), "show", "--all-functions", "--counts"])
                .arg(format!("{name}.profraw"))
                .output()
                .unwrap();
            assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
            let mut want = parse_show(&String::from_utf8(o.stdout).unwrap());
            want.sort();
            let p =
                RawProfile::decode(&std::fs::read(dir.join(format!("{name}.profraw"))).unwrap())
                    .unwrap();
            assert_eq!(ours(&p), want, "{set}/{name}");
        }
        // Our merge is a raw profile llvm-profdata reads, with its own
        // merge's counts.
        let tmp =
            std::env::temp_dir().join(format!("xencov-llvm-merge-{set}-{}", std::process::id()));
        std::fs::create_dir_all(&tmp).unwrap();
        let a = std::fs::read(dir.join("calc-run1.profraw")).unwrap();
        let b = std::fs::read(dir.join("calc-run2.profraw")).unwrap();
        let merged = xencov::llvm::raw::merge(&[(&a, 1), (&b, 1)]).unwrap();
        std::fs::write(tmp.join("merged.profraw"), merged).unwrap();
        let o = Command::new(Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/chroot"))
            .args(["run", suite])
            .arg(&tmp)
            .args([
                tool.as_str(),
                "show",
                "--all-functions",
                "--counts",
                "merged.profraw",
            ])
            .output()
            .unwrap();
        let _ = std::fs::remove_dir_all(&tmp);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let mut got = parse_show(&String::from_utf8(o.stdout).unwrap());
        got.sort();
        let mut want = parse_show(&std::fs::read_to_string(dir.join("calc-merged.show")).unwrap());
        want.sort();
        assert_eq!(got, want, "{set}: llvm-profdata show of our merge");
    }
}

/// Every single byte of each real profile replaced by several values, and
/// every prefix: decoding never panics, and whatever it accepts still has
/// every counter inside the input (bounded work, no wild offsets).
#[test]
fn corrupted_copies_never_panic() {
    for rel in [
        "small.profraw",
        "clang-19/mcdc-run1.profraw",
        "clang-21/calc-run1.profraw",
    ] {
        let bytes = std::fs::read(sample(rel)).unwrap();
        for len in 0..bytes.len() {
            let _ = RawProfile::decode(&bytes[..len]);
        }
        for at in 0..bytes.len() {
            for v in [0x00, 0x01, 0x7f, 0x80, 0xff, bytes[at] ^ 0x08] {
                let mut b = bytes.clone();
                b[at] = v;
                if let Ok(p) = RawProfile::decode(&b) {
                    for f in &p.functions {
                        assert!(
                            f.counters_offset + 8 * f.counters.len() <= b.len(),
                            "{rel} @{at}={v}"
                        );
                        assert!(f.offset < b.len());
                    }
                    assert!(p.used_bytes <= b.len());
                }
            }
        }
    }
}

/// The clang 19 MC/DC profile laid out as Xen's `llvm.c` writes one: no
/// build ID, every padding field 0 (the 2 bitmap bytes directly followed by
/// the names), the total rounded up to 8 and the caller's buffer zero-filled
/// after it. Built here from the real file's sections (so derived, not
/// written by a hypervisor); the pointers stay valid because they are
/// relative to the data section.
fn xen_layout(real: &[u8]) -> Vec<u8> {
    let p = RawProfile::decode(real).unwrap();
    let h = &p.header;
    let u = |v: u64| v.to_le_bytes();
    let data_at = 128 + h.binary_ids_size.unwrap() as usize;
    let data_len = 64 * h.num_data as usize;
    let counters_len = 8 * h.num_counters as usize;
    let bitmap_len = h.num_bitmap_bytes.unwrap() as usize;
    let bitmap_at = data_at + data_len + counters_len; // compiler-rt pads nothing before it
    let names_at = bitmap_at + bitmap_len + h.padding_bytes_after_bitmap_bytes.unwrap() as usize;
    let mut b = Vec::new();
    for v in [
        h.magic,
        10,
        0, // binary_ids_size
        h.num_data,
        0,
        h.num_counters,
        0,
        h.num_bitmap_bytes.unwrap(),
        0, // padding_bytes_after_bitmap_bytes
        h.names_size,
        h.counters_delta,
        h.bitmap_delta.unwrap(),
        h.names_delta,
        0,
        0,
        2,
    ] {
        b.extend(u(v));
    }
    b.extend(&real[data_at..data_at + data_len + counters_len]);
    b.extend(&real[bitmap_at..bitmap_at + bitmap_len]);
    b.extend(&real[names_at..names_at + h.names_size as usize]);
    b.resize(b.len().div_ceil(8) * 8, 0);
    // The buffer the caller offered: zero-filled past the profile.
    b.resize(b.len() + 1000, 0);
    b
}

#[test]
fn a_profile_in_xens_layout_reads_like_the_original() {
    let real = std::fs::read(sample("clang-19/mcdc-run1.profraw")).unwrap();
    let xen = xen_layout(&real);
    let (a, b) = (
        RawProfile::decode(&real).unwrap(),
        RawProfile::decode(&xen).unwrap(),
    );
    assert!(b.binary_ids.is_empty());
    assert_eq!(ours(&a), ours(&b));
    let bitmaps = |p: &RawProfile| {
        p.functions
            .iter()
            .map(|f| f.bitmap.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(bitmaps(&a), bitmaps(&b));
    // llvm-profdata-19 reads the same layout the same way.
    let root = Path::new("/var/cache/xencov-rs/chroots/trixie");
    if !root.join("usr/bin/llvm-profdata-19").exists() {
        eprintln!("NOT RUN (llvm-profdata part): no llvm-profdata-19 in the trixie chroot");
        return;
    }
    let tmp = std::env::temp_dir().join(format!("xencov-llvm-xen-layout-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).unwrap();
    std::fs::write(tmp.join("xen.profraw"), &xen).unwrap();
    let o = Command::new(Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/chroot"))
        .args(["run", "trixie"])
        .arg(&tmp)
        .args([
            "llvm-profdata-19",
            "show",
            "--all-functions",
            "--counts",
            "xen.profraw",
        ])
        .output()
        .unwrap();
    let _ = std::fs::remove_dir_all(&tmp);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let mut want = parse_show(&String::from_utf8(o.stdout).unwrap());
    want.sort();
    assert_eq!(ours(&b), want);
}

/// The clang 14 profile against the host's llvm-profdata-14 (Debian 12's
/// llvm-14, installed by scripts/setup).
#[test]
fn live_llvm_profdata_14_agrees_on_the_clang_14_profile() {
    let tool = Path::new("/usr/bin/llvm-profdata-14");
    if !tool.exists() {
        eprintln!(
            "NOT RUN: no {} (scripts/setup installs llvm-14)",
            tool.display()
        );
        return;
    }
    let path = sample("small.profraw");
    let tmp = std::env::temp_dir().join(format!("xencov-llvm14-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).unwrap();
    // merge, then show: the two steps samples/llvm/README.md records.
    let indexed = tmp.join("x.profdata");
    let o = Command::new(tool)
        .args(["merge", "-o"])
        .arg(&indexed)
        .arg(&path)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let o = Command::new(tool)
        .args(["show", "--all-functions", "--counts"])
        .arg(&indexed)
        .output()
        .unwrap();
    let _ = std::fs::remove_dir_all(&tmp);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let mut want = parse_show(&String::from_utf8(o.stdout).unwrap());
    want.sort();
    let p = RawProfile::decode(&std::fs::read(&path).unwrap()).unwrap();
    assert_eq!(ours(&p), want);
}
