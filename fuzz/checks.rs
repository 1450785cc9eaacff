//! What every fuzz target checks, shared with tests/fuzz_regressions.rs so
//! that each crashing input found by fuzzing stays a regression test.
//! Each check panics when the library misbehaves; errors are fine.

use xencov_rs::dump::{Container, LegacyDump, encode_container};
use xencov_rs::gcda::Gcda;
use xencov_rs::gcno::Gcno;
use xencov_rs::merge::{OnConflict, merge_unit};

/// What we accept re-encodes to the same bytes.
pub fn gcda(data: &[u8]) {
    if let Ok(g) = Gcda::decode(data) {
        assert_eq!(g.encode(), data, "accepted gcda re-encodes differently");
    }
}

pub fn gcno(data: &[u8]) {
    let _ = Gcno::decode(data);
}

pub fn dump(data: &[u8]) {
    if let Ok(c) = Container::parse(data) {
        let again = encode_container(c.endian, c.units.iter().map(|u| (u.path, u.payload)));
        assert_eq!(again, data, "accepted dump re-encodes differently");
        for u in &c.units {
            if let Ok(g) = u.gcda() {
                assert_eq!(g.encode(), u.payload);
            }
        }
    }
}

pub fn legacy(data: &[u8]) {
    if let Ok(d) = LegacyDump::parse(data) {
        for u in &d.units {
            let bytes = u.to_gcda(d.endian).encode();
            let back = Gcda::decode(&bytes).expect("a converted legacy unit decodes");
            assert_eq!(back.encode(), bytes);
        }
    }
}

/// The first byte splits the rest into two gcda inputs; whatever merges
/// must encode to something that decodes and re-encodes to itself.
pub fn merge(data: &[u8]) {
    let Some((&cut, rest)) = data.split_first() else {
        return;
    };
    let at = (usize::from(cut) * rest.len()) / 256;
    let (a, b) = rest.split_at(at);
    let (Ok(a), Ok(b)) = (Gcda::decode(a), Gcda::decode(b)) else {
        return;
    };
    for policy in [OnConflict::Error, OnConflict::Skip, OnConflict::KeepNewest] {
        let mut m = a.clone();
        if merge_unit(&mut m, &b, policy).is_ok() {
            let bytes = m.encode();
            let back = Gcda::decode(&bytes).expect("a merged profile decodes");
            assert_eq!(back.encode(), bytes);
        }
    }
}

/// The first byte splits the rest into notes and data; coverage never panics.
pub fn coverage(data: &[u8]) {
    let Some((&cut, rest)) = data.split_first() else {
        return;
    };
    let at = (usize::from(cut) * rest.len()) / 256;
    let (n, d) = rest.split_at(at);
    if let Ok(notes) = Gcno::decode(n) {
        let gcda = Gcda::decode(d).ok();
        let unit = xencov_rs::coverage::compute(&notes, gcda.as_ref());
        let mut t = xencov_rs::lcov::Tracefile::default();
        t.add_unit(&unit);
        let _ = t.write("");
    }
}
