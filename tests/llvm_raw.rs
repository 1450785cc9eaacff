//! Raw LLVM profiles written by real clang runtimes (samples/llvm/), decoded
//! and compared with `llvm-profdata show --all-functions --counts` of the
//! matching LLVM release (its output is stored beside each profile by
//! scripts/gen-llvm-samples; when the trixie chroot is there, the tool is also
//! run live and must still print the same).

use std::path::{Path, PathBuf};
use std::process::Command;

use xencov_rs::llvmprof::RawProfile;

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

const CLANG19: [(&str, u32); 4] = [
    ("calc-run1", 10),
    ("calc-run2", 10),
    ("mcdc-run1", 10),
    ("mcdc-run2", 10),
];

#[test]
fn clang_19_profiles_equal_llvm_profdata_show() {
    for (name, version) in CLANG19 {
        let bytes = std::fs::read(sample(&format!("clang-19/{name}.profraw"))).unwrap();
        let p = RawProfile::decode(&bytes).unwrap();
        assert_eq!(p.header.version, version);
        assert_eq!(
            p.binary_ids.len(),
            1,
            "{name}: compiler-rt writes the build ID"
        );
        let show = std::fs::read_to_string(sample(&format!("clang-19/{name}.show"))).unwrap();
        let mut want = parse_show(&show);
        want.sort();
        assert_eq!(ours(&p), want, "{name}");
    }
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
fn live_llvm_profdata_19_still_agrees() {
    let root = Path::new("/var/cache/xencov-rs/chroots/trixie");
    if !root.join("usr/bin/llvm-profdata-19").exists() {
        eprintln!("NOT RUN: no llvm-profdata-19 in the trixie chroot (scripts/setup makes it)");
        return;
    }
    let dir = sample("clang-19");
    for (name, _) in CLANG19 {
        let o = Command::new(Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/chroot"))
            .args(["run", "trixie"])
            .arg(&dir)
            .args(["llvm-profdata-19", "show", "--all-functions", "--counts"])
            .arg(format!("{name}.profraw"))
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let mut want = parse_show(&String::from_utf8(o.stdout).unwrap());
        want.sort();
        let p = RawProfile::decode(&std::fs::read(dir.join(format!("{name}.profraw"))).unwrap())
            .unwrap();
        assert_eq!(ours(&p), want, "{name}");
    }
}
