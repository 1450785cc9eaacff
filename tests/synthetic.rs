//! SYNTHETIC files for releases no compiler here can produce (GCC 3.4, 4.1,
//! 4.6 in both byte orders; 13.2, 14.1, 15.1), built by `scripts/gen-synthetic`
//! from the spec in formats/gcda.md, independently of this crate. Their values
//! are listed in samples/synthetic/expected.json; we must decode exactly those.

mod common;

use serde_json::Value;
use xencov::Endian;
use xencov::gcov::gcda::{Gcda, Record, Summary};
use xencov::gcov::tag::Tag;
use xencov::gcov::version::Family;

#[test]
fn synthetic_files_decode_to_the_values_they_were_built_from() {
    let dir = common::samples().join("synthetic");
    let expected: Value =
        serde_json::from_slice(&std::fs::read(dir.join("expected.json")).unwrap()).unwrap();
    let files = expected["files"].as_object().unwrap();
    assert!(files.len() >= 7);
    for (name, want) in files {
        let bytes = std::fs::read(dir.join(name)).unwrap();
        let g = Gcda::decode(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(g.encode(), bytes, "{name} re-encodes byte for byte");
        let h = &g.header;
        assert_eq!(
            h.version.chars(),
            want["version"].as_str().unwrap(),
            "{name}"
        );
        assert_eq!(h.version.gcc(), want["gcc"].as_str().unwrap(), "{name}");
        let endian = if want["endianness"] == "big" {
            Endian::Big
        } else {
            Endian::Little
        };
        assert_eq!(h.endian, endian, "{name}");
        assert_eq!(
            u64::from(h.stamp),
            want["stamp"].as_u64().unwrap(),
            "{name}"
        );
        assert_eq!(
            h.checksum.map(u64::from),
            want["checksum"].as_u64(),
            "{name}"
        );
        assert_eq!(
            g.end_marker,
            want["trailing_zero"].as_bool().unwrap(),
            "{name}"
        );
        let family = h.version.format().family;
        assert_eq!(family == Family::Gcc34, want["family"] == "3.4", "{name}");

        let want_fns = want["functions"].as_array().unwrap();
        let fns: Vec<_> = g.functions().collect();
        assert_eq!(fns.len(), want_fns.len(), "{name}");
        for (f, w) in fns.iter().zip(want_fns) {
            if w["placeholder"].as_bool().unwrap() {
                assert!(f.id.is_none() && f.counters.is_empty(), "{name}");
                continue;
            }
            let id = f.id.unwrap();
            assert_eq!(u64::from(id.ident), w["ident"].as_u64().unwrap(), "{name}");
            assert_eq!(
                u64::from(id.lineno_checksum),
                w["lineno_checksum"].as_u64().unwrap()
            );
            assert_eq!(
                id.cfg_checksum.map(u64::from),
                w["cfg_checksum"].as_u64(),
                "{name}"
            );
            let want_counters = w["counters"].as_array().unwrap();
            assert_eq!(f.counters.len(), want_counters.len(), "{name}");
            for (c, wc) in f.counters.iter().zip(want_counters) {
                assert_eq!(c.kind.name, wc["kind"].as_str().unwrap(), "{name}");
                assert_eq!(u64::from(c.kind.tag().raw()), wc["tag"].as_u64().unwrap());
                assert_eq!(
                    c.values.is_compact(),
                    wc["compact"].as_bool().unwrap(),
                    "{name}"
                );
                let values: Vec<u64> = c.values.iter().collect();
                let want_values: Vec<u64> = wc["values"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|v| v.as_u64().unwrap())
                    .collect();
                assert_eq!(values, want_values, "{name} {}", c.kind.name);
            }
        }
        let summaries: Vec<(Tag, Summary)> = g
            .records
            .iter()
            .filter_map(|r| match r {
                Record::Other(o) => Some((o.tag, o.summary().expect("a summary"))),
                Record::Function(_) => None,
            })
            .collect();
        for (key, tag) in [
            ("object_summary", Tag::OBJECT_SUMMARY),
            ("program_summary", Tag::PROGRAM_SUMMARY),
        ] {
            let Some(want) = want.get(key).filter(|s| !s.is_null()) else {
                continue;
            };
            let (_, got) = summaries
                .iter()
                .find(|(t, _)| *t == tag)
                .unwrap_or_else(|| panic!("{name}: no {key}"));
            assert_eq!(
                u64::from(got.runs),
                want["runs"].as_u64().unwrap(),
                "{name} {key}"
            );
            assert_eq!(
                got.sum_max,
                want["sum_max"].as_u64().unwrap(),
                "{name} {key}"
            );
            assert_eq!(got.sum_all, want["sum_all"].as_u64(), "{name} {key}");
            assert_eq!(got.run_max, want["run_max"].as_u64(), "{name} {key}");
            assert_eq!(got.num.map(u64::from), want["num"].as_u64(), "{name} {key}");
            assert_eq!(
                got.checksum.map(u64::from),
                want["checksum"].as_u64(),
                "{name} {key}"
            );
        }
    }
}

/// The committed files are exactly what the generator builds from the spec.
#[test]
fn synthetic_files_are_what_the_generator_writes() {
    let out = std::process::Command::new("python3")
        .arg(common::root().join("scripts/gen-synthetic"))
        .arg("--check")
        .output()
        .expect("python3 runs scripts/gen-synthetic");
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
