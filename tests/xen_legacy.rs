//! Xen 4.3–4.8 legacy dumps (samples/xen-legacy/): SYNTHETIC containers
//! built by scripts/gen-legacy-dumps around REAL GCC 4.4 counter data from
//! the shared corpus (plus one with hand-written value-profile kinds).
//! `split` must give exactly the expected 3.4-family gcda files, which hold
//! the corpus files' functions and counters.

mod common;

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;
use xencov::Endian;
use xencov::gcov::gcda::{Gcda, Record};
use xencov::xen::dump::{Identified, LegacyDump, identify};

fn dir() -> PathBuf {
    common::samples().join("xen-legacy")
}

fn expected() -> Value {
    serde_json::from_slice(&std::fs::read(dir().join("expected.json")).unwrap()).unwrap()
}

fn split(dump: &Path, out: &Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_xencov-rs"))
        .arg("split")
        .arg(dump)
        .arg("-o")
        .arg(out)
        .output()
        .unwrap()
}

#[test]
fn split_gives_the_expected_gcda_of_every_unit() {
    let exp = expected();
    let dumps = exp["dumps"].as_array().unwrap();
    assert!(dumps.len() >= 5);
    for d in dumps {
        let name = d["file"].as_str().unwrap();
        let out = std::env::temp_dir().join(format!("xencov-legacy-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&out);
        let r = split(&dir().join(name), &out);
        assert!(
            r.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&r.stderr)
        );
        let bytes = std::fs::read(dir().join(name)).unwrap();
        let endian = if d["endian"] == "big" {
            Endian::Big
        } else {
            Endian::Little
        };
        assert_eq!(
            identify(&bytes).unwrap(),
            Identified::Legacy(endian),
            "{name}"
        );
        for u in d["units"].as_array().unwrap() {
            let path = u["path"].as_str().unwrap();
            let ours = std::fs::read(out.join(&path[1..])).unwrap();
            let want =
                std::fs::read(dir().join(u["converted_gcda"]["file"].as_str().unwrap())).unwrap();
            assert_eq!(ours, want, "{name}: {path}");
            let g = Gcda::decode(&ours).unwrap();
            assert_eq!(
                g.header.version.chars(),
                u["version_chars"].as_str().unwrap()
            );
            assert_eq!(u64::from(g.header.stamp), u["stamp"].as_u64().unwrap());
            let fns: Vec<_> = g.functions().collect();
            let want_fns = u["functions"].as_array().unwrap();
            assert_eq!(fns.len(), want_fns.len(), "{name}: {path}");
            for (f, w) in fns.iter().zip(want_fns) {
                let id = f.id.unwrap();
                assert_eq!(u64::from(id.ident), w["ident"].as_u64().unwrap());
                assert_eq!(
                    u64::from(id.lineno_checksum),
                    w["checksum"].as_u64().unwrap()
                );
                for (c, wc) in f.counters.iter().zip(w["counters"].as_array().unwrap()) {
                    assert_eq!(c.kind.name, wc["kind"].as_str().unwrap());
                    let want: Vec<u64> = wc["values"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|v| v.as_u64().unwrap())
                        .collect();
                    assert_eq!(c.values.iter().collect::<Vec<_>>(), want, "{name}: {path}");
                }
            }
        }
        std::fs::remove_dir_all(&out).unwrap();
    }
}

/// The converted gcda of a corpus unit holds the corpus file's functions and
/// counters: the real GCC 4.4 data went through the legacy container intact.
#[test]
fn converted_units_carry_the_real_gcc_4_4_counters() {
    let Some(corpus) = common::corpus_or_skip("converted_units_carry_the_real_gcc_4_4_counters")
    else {
        return;
    };
    let exp = expected();
    let mut compared = 0;
    for d in exp["dumps"].as_array().unwrap() {
        if d["units"][0]["source"].is_null() {
            continue; // the hand-written value-profile example
        }
        let dump = std::fs::read(dir().join(d["file"].as_str().unwrap())).unwrap();
        let parsed = LegacyDump::parse(&dump).unwrap();
        for (unit, u) in parsed.units.iter().zip(d["units"].as_array().unwrap()) {
            let source = u["source"]["file"]
                .as_str()
                .unwrap()
                .trim_start_matches("shared/corpus/");
            let real = Gcda::decode(&std::fs::read(corpus.join(source)).unwrap()).unwrap();
            let ours = unit.to_gcda(real.header.endian);
            let real_functions: Vec<_> = real
                .records
                .iter()
                .filter(|r| matches!(r, Record::Function(_)))
                .collect();
            let our_functions: Vec<_> = ours.records.iter().collect();
            assert_eq!(our_functions, real_functions, "{source}");
            assert_eq!(
                (ours.header.version, ours.header.stamp),
                (real.header.version, real.header.stamp)
            );
            compared += 1;
        }
    }
    assert!(compared >= 6);
}

#[test]
fn the_legacy_samples_are_what_the_generator_writes() {
    // The generator reads the real GCC 4.4 counters from the corpus.
    if common::corpus_or_skip("the_legacy_samples_are_what_the_generator_writes").is_none() {
        return;
    }
    let out = Command::new("python3")
        .arg(common::root().join("scripts/gen-legacy-dumps"))
        .arg("--check")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn invalid_legacy_dumps_are_refused_with_offsets() {
    let good = std::fs::read(dir().join("xen-4.5-test_c.dat")).unwrap();
    // A 4.7+ version word: the hypervisor misread its own gcov_info.
    let mut v47 = good.clone();
    v47[4..8].copy_from_slice(&u32::from_be_bytes(*b"407*").to_le_bytes());
    let e = LegacyDump::parse(&v47).unwrap_err();
    assert_eq!(e.offset, 4);
    assert!(e.to_string().contains("only understood GCC 3.4-4.6"), "{e}");
    // Cut inside: no END tag.
    for cut in [20, 100, good.len() - 4] {
        let e = LegacyDump::parse(&good[..cut]).unwrap_err();
        assert!(e.offset <= cut, "{e}");
    }
    // A counter count that does not match the functions' share.
    let parsed = LegacyDump::parse(&good).unwrap();
    let first = &parsed.units[0];
    let counter_at = (first.offset + 16 + first.path.len()).next_multiple_of(8);
    assert_eq!(
        &good[counter_at..counter_at + 4],
        &0x5854_4330u32.to_le_bytes(),
        "COUNTER(0) tag"
    );
    let num_at = counter_at + 4;
    let mut wrong = good.clone();
    let n = u32::from_le_bytes(wrong[num_at..num_at + 4].try_into().unwrap());
    // One value fewer, and the record shortened to match (by 8 bytes, so the
    // alignment holds): only the functions' sum is now wrong.
    wrong[num_at..num_at + 4].copy_from_slice(&(n - 1).to_le_bytes());
    wrong.drain(num_at + 4..num_at + 12);
    let e = LegacyDump::parse(&wrong).unwrap_err();
    assert!(e.to_string().contains("its functions use"), "{e}");
    // Bytes after END.
    let mut after = good.clone();
    after.extend_from_slice(&[0u8; 12]);
    assert!(
        LegacyDump::parse(&after)
            .unwrap_err()
            .to_string()
            .contains("follow the END tag")
    );
}

#[test]
fn an_llvm_raw_profile_is_recognised_and_not_split() {
    let profraw = common::samples().join("llvm/small.profraw");
    let bytes = std::fs::read(&profraw).unwrap();
    assert!(matches!(
        identify(&bytes).unwrap(),
        Identified::LlvmProfile { version: 8, .. }
    ));
    let out = std::env::temp_dir().join(format!("xencov-llvm-{}", std::process::id()));
    let r = split(&profraw, &out);
    assert_eq!(r.status.code(), Some(1));
    let err = String::from_utf8_lossy(&r.stderr);
    assert!(
        err.contains("raw LLVM profile, version 8") && err.contains("no gcda files to split"),
        "{err}"
    );
    assert!(!out.exists());
}
