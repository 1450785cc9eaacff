//! The version word of every GCC release line from 3.4 to 16, and the format
//! facts that follow from it.

use xencov::gcov::version::{Family, LengthUnit, Status, Summaries, Version, VersionError};

fn word(chars: &str) -> u32 {
    u32::from_be_bytes(chars.as_bytes().try_into().unwrap())
}

/// (chars, major, minor, family, length unit, header checksum, compact zeros, summaries, kind names)
type Row = (
    &'static str,
    u8,
    u8,
    Family,
    LengthUnit,
    bool,
    bool,
    Summaries,
    &'static [&'static str],
);

const K34: &[&str] = &["arcs", "interval", "pow2", "single", "delta"];
const K43: &[&str] = &[
    "arcs",
    "interval",
    "pow2",
    "single",
    "delta",
    "indirect_call",
    "average",
    "ior",
];
const K49: &[&str] = &[
    "arcs",
    "interval",
    "pow2",
    "single",
    "delta",
    "indirect_call",
    "average",
    "ior",
    "time_profiler",
];
const K5: &[&str] = &[
    "arcs",
    "interval",
    "pow2",
    "single",
    "delta",
    "indirect_call",
    "average",
    "ior",
    "time_profiler",
    "indirect_call_topn",
];
const K7: &[&str] = &[
    "arcs",
    "interval",
    "pow2",
    "single",
    "indirect_call",
    "average",
    "ior",
    "time_profiler",
    "indirect_call_topn",
];
const K10: &[&str] = &[
    "arcs",
    "interval",
    "pow2",
    "topn",
    "indirect_call",
    "average",
    "ior",
    "time_profiler",
];
const K14: &[&str] = &[
    "arcs",
    "interval",
    "pow2",
    "topn",
    "indirect_call",
    "average",
    "ior",
    "time_profiler",
    "conditions",
];
const K15: &[&str] = &[
    "arcs",
    "interval",
    "pow2",
    "topn",
    "indirect_call",
    "average",
    "ior",
    "time_profiler",
    "conditions",
    // -fpath-coverage's counters: gcov-dump 15 and 16 call them "ior".
    "ior",
];

fn rows() -> Vec<Row> {
    use Family::*;
    use LengthUnit::*;
    use Summaries::*;
    let mut rows: Vec<Row> = vec![(
        "304*",
        3,
        4,
        Gcc34,
        Words,
        false,
        false,
        ObjectAndProgram,
        K34,
    )];
    for minor in 0..=9u8 {
        let chars: &'static str = Box::leak(format!("40{minor}*").into_boxed_str());
        let (family, summaries, kinds) = match minor {
            0..=2 => (Gcc34, ObjectAndProgram, K34),
            3..=6 => (Gcc34, ObjectAndProgram, K43),
            7 => (Gcc47, Program, K43),
            8 => (Gcc47, ProgramWithHistogram, K43),
            _ => (Gcc47, ProgramWithHistogram, K49),
        };
        rows.push((
            chars, 4, minor, family, Words, false, false, summaries, kinds,
        ));
    }
    // Later lines: every minor release of each major.
    let lines: &[(u8, u8, &'static [&'static str])] = &[
        (5, 5, K5),
        (6, 5, K5),
        (7, 5, K7),
        (8, 5, K7),
        (9, 5, K7),
        (10, 5, K10),
        (11, 5, K10),
        (12, 5, K10),
        (13, 4, K10),
        (14, 3, K14),
        (15, 2, K15),
        (16, 2, K15),
    ];
    for &(major, last, kinds) in lines {
        for minor in 1..=last {
            let chars = if major < 7 {
                format!("{major}0{minor}*")
            } else {
                format!("{}{}{minor}*", (b'A' + major / 10) as char, major % 10)
            };
            let summaries = if major >= 9 {
                ObjectRunsSumMax
            } else {
                ProgramWithHistogram
            };
            let unit = if major >= 12 { Bytes } else { Words };
            rows.push((
                Box::leak(chars.into_boxed_str()),
                major,
                minor,
                Gcc47,
                unit,
                major >= 12,
                major >= 11,
                summaries,
                kinds,
            ));
        }
    }
    rows
}

#[test]
fn every_release_line_decodes_and_encodes_back() {
    let rows = rows();
    assert_eq!(rows.len(), 1 + 10 + 5 * 8 + 4 + 3 + 2 + 2);
    for (chars, major, minor, family, unit, checksum, compact, summaries, kinds) in rows {
        let v = Version::from_word(word(chars)).unwrap_or_else(|e| panic!("{chars}: {e}"));
        assert_eq!(
            (v.major(), v.minor(), v.status()),
            (major, minor, Status::Release),
            "{chars}"
        );
        assert_eq!(v.word(), word(chars), "{chars} encodes back");
        assert_eq!(v.chars(), chars);
        let f = v.format();
        assert_eq!(f.family, family, "{chars}");
        assert_eq!(f.length_unit, unit, "{chars}");
        assert_eq!(f.header_checksum, checksum, "{chars}");
        assert_eq!(f.compact_zero_counters, compact, "{chars}");
        assert_eq!(f.summaries, summaries, "{chars}");
        let names: Vec<&str> = f.counter_kinds.iter().map(|k| k.name).collect();
        assert_eq!(names, kinds, "{chars}");
        for (i, k) in f.counter_kinds.iter().enumerate() {
            assert_eq!(k.index, i, "{chars} {}", k.name);
        }
    }
}

#[test]
fn the_compilers_here_write_the_words_we_expect() {
    // gcc-11.3 and gcc-12.2 (Debian 12) as seen in their files.
    assert_eq!(Version::from_word(word("B13*")).unwrap().gcc(), "11.3");
    assert_eq!(Version::from_word(word("B22*")).unwrap().gcc(), "12.2");
    // gcc-13.5 and gcc-15.3, gcc-16.2 (Debian sid), gcc-14.2 (Debian 13).
    for (chars, gcc) in [
        ("B35*", "13.5"),
        ("B42*", "14.2"),
        ("B53*", "15.3"),
        ("B62*", "16.2"),
    ] {
        assert_eq!(Version::from_word(word(chars)).unwrap().gcc(), gcc);
    }
    assert_eq!(
        Version::new(12, 2, Status::Release).unwrap().chars(),
        "B22*"
    );
    assert_eq!(Version::new(4, 9, Status::Release).unwrap().chars(), "409*");
}

#[test]
fn status_characters() {
    let e = Version::from_word(word("B50e")).unwrap();
    assert_eq!(
        (e.major(), e.minor(), e.status()),
        (15, 0, Status::Experimental)
    );
    assert_eq!(e.word(), word("B50e"));
    let p = Version::from_word(word("B41p")).unwrap();
    assert_eq!(
        (p.major(), p.minor(), p.status()),
        (14, 1, Status::Prerelease)
    );
    assert_eq!(p.word(), word("B41p"));
}

/// Unknown words are errors that say what they look like, never a guess.
#[test]
fn unknown_words_are_errors_that_say_what_they_look_like() {
    let cases: &[(&[u8; 4], &str)] = &[
        (b"B71*", "looks like GCC 17.1, newer than the newest format"),
        (b"C02*", "looks like GCC 20.2, newer than the newest format"),
        (
            b"Z99*",
            "looks like GCC 259.9, newer than the newest format",
        ),
        (
            b"A45*",
            "looks like GCC 4.5, but GCC releases before 7 wrote the digit form",
        ),
        (
            b"710*",
            "looks like GCC 7.10, but GCC 7 and later write the letter form",
        ),
        (b"303*", "looks like GCC 3.3, older than GCC 3.4"),
        (b"410*", "looks like GCC 4.10, a release that never existed"),
        (b"B13x", "is not a gcov version: the status character"),
        (b"\0\0\0\0", "is not a gcov version"),
        (b"#13*", "is not a gcov version: the first character"),
        (b"B1x*", "is not a gcov version: the middle characters"),
    ];
    for (bytes, expected) in cases {
        let err = Version::from_word(u32::from_be_bytes(**bytes)).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains(expected), "{bytes:?}: {msg}");
        match err {
            VersionError::Malformed { .. } | VersionError::Unsupported { .. } => {}
        }
    }
}

/// The words GCC's scheme gives the release lines 3.4 to 16 (gcov-io.h):
/// the digit form `M` `m/10` `m%10` before GCC 7 (3.4, 4.0 – 4.9, and 5 and 6
/// with a two-digit minor), the letter form `'A' + M/10` `M%10` `m` from 7,
/// each with the status `*` (release), `e` (experimental) or `p` (prerelease).
fn release_line_words() -> std::collections::BTreeSet<u32> {
    let mut lines: Vec<(u8, u8)> = vec![(3, 4)];
    lines.extend((0..=9).map(|m| (4, m)));
    lines.extend((5..=6).flat_map(|major| (0..=99).map(move |m| (major, m))));
    lines.extend((7..=16).flat_map(|major| (0..=9).map(move |m| (major, m))));
    let mut out = std::collections::BTreeSet::new();
    for (major, minor) in lines {
        let chars = if major < 7 {
            [b'0' + major, b'0' + minor / 10, b'0' + minor % 10]
        } else {
            [b'A' + major / 10, b'0' + major % 10, b'0' + minor]
        };
        for status in [b'*', b'e', b'p'] {
            out.insert(u32::from_be_bytes([chars[0], chars[1], chars[2], status]));
        }
    }
    out
}

#[test]
fn every_possible_word_either_round_trips_or_is_refused() {
    // All printable 4-character words in the ranges GCC uses: exactly the
    // words of the release lines are accepted, each round-trips, and every
    // other word is refused.
    let mut accepted = std::collections::BTreeSet::new();
    for a in (b'0'..=b'9').chain(b'A'..=b'Z') {
        for b in b'0'..=b'9' {
            for c in b'0'..=b'9' {
                for d in [b'*', b'e', b'p', b'x'] {
                    let w = u32::from_be_bytes([a, b, c, d]);
                    if let Ok(v) = Version::from_word(w) {
                        assert_eq!(v.word(), w);
                        assert!(v.major() >= 3 && v.major() <= 16);
                        accepted.insert(w);
                    }
                }
            }
        }
    }
    let expected = release_line_words();
    assert_eq!(expected.len(), (1 + 10 + 200 + 100) * 3);
    assert_eq!(accepted, expected);
    // The words real compilers wrote into this project's files are among them.
    for real in ["404*", "A93*", "B02*", "B13*", "B22*"] {
        assert!(accepted.contains(&word(real)), "{real}");
    }
}
