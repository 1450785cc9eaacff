//! Hostile dumps (issue: reliability): each gives a clear error naming the
//! record and its offset, writes nothing outside the output directory, and
//! runs in bounded memory — checked under `ulimit -v`.

mod common;

use std::path::Path;
use std::process::{Command, Output};
use xencov::Endian;
use xencov::gcov::tag::Tag;
use xencov::xen::dump::encode_container;

use common::Tmp;

/// `xencov-rs ARGS` with its address space limited to `mib` MiB.
fn limited(mib: u64, args: &[&Path]) -> Output {
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg(format!("ulimit -v {} && exec \"$0\" \"$@\"", mib * 1024));
    cmd.arg(env!("CARGO_BIN_EXE_xencov-rs"));
    cmd.args(args);
    cmd.output().unwrap()
}

fn real_gcda() -> Vec<u8> {
    std::fs::read(common::samples().join("gcc-12/calc/run1/ops.gcda")).unwrap()
}

fn refused(name: &str, dump: &[u8], expect: &[&str]) {
    let t = Tmp::new(name);
    let d = t.p("d");
    std::fs::write(&d, dump).unwrap();
    for cmd in ["split", "merge"] {
        let out = t.p(&format!("out-{cmd}"));
        let args: Vec<&Path> = if cmd == "split" {
            vec![Path::new("split"), &d, Path::new("-o"), &out]
        } else {
            vec![Path::new("merge"), &d, Path::new("-o"), &out]
        };
        let o = limited(256, &args);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{name} {cmd}: {err}");
        for e in expect {
            assert!(err.contains(e), "{name} {cmd}: expected {e:?} in {err}");
        }
        assert!(
            !out.exists() || common::files_with_suffix(&out, "").is_empty(),
            "{name} {cmd}: wrote output"
        );
    }
}

#[test]
fn a_million_tiny_records() {
    let mut units: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
    for i in 0..1_000_000u32 {
        units.push((format!("/b/{i}.gcda").into_bytes(), Vec::new()));
    }
    let dump = encode_container(
        Endian::Little,
        units.iter().map(|(p, b)| (p.as_slice(), b.as_slice())),
    );
    refused(
        "million",
        &dump,
        &[
            "byte offset 14",
            "record 0 (/b/0.gcda): a payload of 0 bytes cannot hold a gcda",
        ],
    );
}

#[test]
fn a_claimed_2_gib_section() {
    let g = real_gcda();
    let mut dump = encode_container(Endian::Little, [(&b"/b/ok.gcda"[..], &g[..])]);
    dump.extend_from_slice(b"/b/huge.gcda\0");
    dump.extend_from_slice(&0x8000_0000u32.to_le_bytes());
    dump.extend_from_slice(&[0u8; 64]);
    let at = 4 + 11 + 4 + g.len() + 13;
    refused(
        "2gib",
        &dump,
        &[
            &format!("byte offset {at}"),
            "record 1 (/b/huge.gcda): payload size 2147483648 but only 64 bytes remain",
        ],
    );

    // Inside a payload: a counter record claiming 2 GiB.
    let mut bad = g.clone();
    let (h, r) = xencov::gcov::record::read_header(&g, b"gcda").unwrap();
    let first_counter = xencov::gcov::record::Records::new(r, h.version)
        .map(Result::unwrap)
        .find(|r| r.tag == Tag::counter(0))
        .unwrap();
    let at = first_counter.offset + 4;
    bad[at..at + 4].copy_from_slice(&0x7fff_fff8u32.to_le_bytes());
    let t = Tmp::new("hostile-2gib-gcda");
    std::fs::write(t.p("x.gcda"), &bad).unwrap();
    let o = limited(256, &[Path::new("dump"), &t.p("x.gcda")]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains(&format!("byte offset {at}")) && err.contains("claims 2147483640 bytes"),
        "{err}"
    );
}

#[test]
fn legacy_counts_that_would_multiply_past_memory() {
    let good = std::fs::read(common::samples().join("xen-legacy/xen-4.5-test_c.dat")).unwrap();
    let parsed = xencov::xen::dump::LegacyDump::parse(&good).unwrap();
    let u = &parsed.units[0];
    let counter_at = (u.offset + 16 + u.path.len()).next_multiple_of(8);
    let mut huge = good.clone();
    huge[counter_at + 4..counter_at + 8].copy_from_slice(&u32::MAX.to_le_bytes());
    refused(
        "legacy-num",
        &huge,
        &[
            &format!("byte offset {}", counter_at + 4),
            "claims 4294967295 values",
        ],
    );
    // The FUNC count: n functions of (2 + kinds) words each.
    let func_at = {
        let n = parsed.units[0].counters[0].1.len();
        (counter_at + 8 + 8 * n).next_multiple_of(8)
    };
    assert_eq!(&good[func_at..func_at + 4], &0x5854_4366u32.to_le_bytes());
    let mut many = good.clone();
    many[func_at + 4..func_at + 8].copy_from_slice(&u32::MAX.to_le_bytes());
    refused(
        "legacy-func",
        &many,
        &[
            &format!("byte offset {}", func_at + 4),
            "FUNC claims 4294967295 functions",
        ],
    );
}

#[test]
fn paths_that_point_elsewhere_stay_inside_the_output_directory() {
    let t = Tmp::new("hostile-paths");
    let g = real_gcda();
    let target = t.p("victim.gcda");
    std::fs::write(&target, b"precious").unwrap();
    let absolute = target.display().to_string();
    let dump = encode_container(
        Endian::Little,
        [
            (absolute.as_bytes(), &g[..]),
            (&b"//etc//passwd-copy.gcda"[..], &g[..]),
        ],
    );
    std::fs::write(t.p("d"), &dump).unwrap();
    let out = t.p("out");
    let o = Command::new(env!("CARGO_BIN_EXE_xencov-rs"))
        .arg("split")
        .arg(t.p("d"))
        .arg("-o")
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(
        std::fs::read(&target).unwrap(),
        b"precious",
        "the absolute path was not written"
    );
    assert_eq!(
        std::fs::read(out.join(absolute.trim_start_matches('/'))).unwrap(),
        g
    );
    assert_eq!(std::fs::read(out.join("etc/passwd-copy.gcda")).unwrap(), g);
}

/// A gcc-12 notes file that repeats one empty function `count` times, each
/// with a BLOCKS record claiming as many blocks as one function of a file of
/// that size may claim. Returns the file and the offset of every BLOCKS record.
fn repeated_function_gcno(count: usize) -> (Vec<u8>, Vec<usize>) {
    let real = std::fs::read(common::samples().join("gcc-12/calc/run1/ops.gcno")).unwrap();
    assert_eq!(&real[..4], b"oncg", "a little-endian gcc-12 notes file");
    let word = |v: u32| v.to_le_bytes();
    // magic, version, stamp, checksum; an empty compilation directory, no flag.
    let mut head = real[..16].to_vec();
    head.extend(word(0));
    head.extend(word(0));
    // FUNCTION: ident, two checksums, empty name, artificial, empty source, 4 positions.
    let function_len = 4 * 10;
    let per_function = 8 + function_len + 8 + 4;
    let len = head.len() + count * per_function;
    let blocks = (len / 8 + 2) as u32;
    let mut f = head;
    let mut at = Vec::new();
    for i in 0..count as u32 {
        f.extend(word(Tag::FUNCTION.raw()));
        f.extend(word(function_len as u32));
        for v in [i, 1, 2, 0, 0, 0, 1, 1, 2, 1] {
            f.extend(word(v));
        }
        at.push(f.len());
        f.extend(word(Tag::BLOCKS.raw()));
        f.extend(word(4));
        f.extend(word(blocks));
    }
    assert_eq!(f.len(), len);
    (f, at)
}

/// Issue 12, defect 1: per-function block counts were bounded, their sum was
/// not, so 108 KB of notes cost 1.6 GB. The second function already claims
/// more than the file can hold in all, and is refused at its BLOCKS record.
#[test]
fn notes_repeating_a_function_with_the_largest_block_count() {
    let (small, at) = repeated_function_gcno(100);
    let e = xencov::gcov::gcno::Gcno::decode(&small).unwrap_err();
    assert_eq!(e.offset, at[1], "{e}");
    assert!(e.to_string().contains("more than a"), "{e}");

    let t = Tmp::new("hostile-gcno-blocks");
    let data = common::samples().join("gcc-12/calc/run1/ops.gcda");
    std::fs::create_dir_all(t.p("notes")).unwrap();
    std::fs::copy(&data, t.p("ops.gcda")).unwrap();
    for count in [1_800, 3_600] {
        // 108 KB and 216 KB: 1.6 GB and 6.5 GB before the fix.
        let (notes, at) = repeated_function_gcno(count);
        std::fs::write(t.p("notes/ops.gcno"), &notes).unwrap();
        let (gcda, dir) = (t.p("ops.gcda"), t.p("notes"));
        let args: [&Path; 5] = [
            Path::new("lcov"),
            &gcda,
            Path::new("--gcno-dir"),
            &dir,
            Path::new("--strict"),
        ];
        let o = limited(256, &args);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{count} functions: {err}");
        assert!(
            err.contains(&format!("ops.gcno: at byte offset {}", at[1])),
            "{count} functions: {err}"
        );
    }
}
