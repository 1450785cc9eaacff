use super::*;

#[test]
fn remove_dots_folds_parent_components() {
    assert_eq!(remove_dots("/a/b/../c/./d.c"), "/a/c/d.c");
    assert_eq!(remove_dots("/a/../../x.h"), "/x.h");
    assert_eq!(remove_dots("a/../../x.h"), "../x.h");
}

/// One unit with plain (uncompressed) names, version 6 layout: the
/// compilation directory first, a relative name joined to it.
#[test]
fn plain_filenames_join_the_compilation_dir() {
    // 2 names, uncompressed size 9, compressed size 0, "/w", "a.c"
    let bytes = [2, 9, 0, 2, b'/', b'w', 6, b'x', b'/', b'.', b'.', b'/'];
    // The second name claims 6 bytes but only 5 are left.
    assert!(filenames(&bytes, 100, 5).is_err());
    let bytes = [2, 9, 0, 2, b'/', b'w', 3, b'a', b'.', b'c'];
    assert_eq!(filenames(&bytes, 0, 5).unwrap(), vec!["/w", "/w/a.c"]);
    assert_eq!(filenames(&bytes, 0, 4).unwrap(), vec!["/w", "a.c"]);
}

/// A code region, a gap region (bit 31 of the end column) and a branch
/// with an expression on its false side.
#[test]
fn regions_of_each_kind() {
    let files = vec!["/w/a.c".to_string()];
    let bytes = [
        1, 0, // one file ID: unit file 0
        1, 5, 9, // one expression: #1 - #2 (counter 1 = 5, counter 2 = 9)
        3, // three regions
        5, 3, 12, 2, 2, // code #1 at 3:12 -> 5:2
        9, 1, 1, 0, 0x82, 0x80, 0x80, 0x80, 0x08, // gap #2 at 4:1 -> 4:2, bit 31 set
        0x20, 5, 2, 2, 2, 0, 7, // branch #1 / (#1 - #2) at 6:2 -> 6:7
    ];
    let (f, e, r) = mapping(&bytes, 0, &files).unwrap();
    assert_eq!(f, files);
    assert_eq!(e[0].kind, ExprKind::Subtract);
    assert_eq!(r[0].kind, RegionKind::Code);
    assert_eq!((r[0].start(), r[0].end()), ((3, 12), (5, 2)));
    assert_eq!(r[1].kind, RegionKind::Gap);
    assert_eq!((r[1].start(), r[1].end()), ((4, 1), (4, 2)));
    assert_eq!(r[2].kind, RegionKind::Branch);
    assert_eq!(r[2].count, Counter::Counter(1));
    assert_eq!(r[2].false_count, Counter::Expression(0));
    assert_eq!(r[2].start(), (6, 2));
}

/// The unit versions of a section: two units of field 6 (the second after
/// the first one's names and padding) are one version; a field 7 unit is
/// named even though the decoder refuses it; a cut header is an error at
/// its offset.
#[test]
fn unit_versions_walk_the_headers() {
    let unit = |v: u8, names: &[u8]| {
        let mut u = vec![
            0,
            0,
            0,
            0,
            names.len() as u8,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            v,
            0,
            0,
            0,
        ];
        u.extend_from_slice(names);
        while u.len() % 8 != 0 {
            u.push(0);
        }
        u
    };
    let mut s = unit(6, &[1, 2, 3]);
    s.extend(unit(6, &[4; 9]));
    assert_eq!(unit_versions((&s, 0), Endian::Little).unwrap(), vec![6]);
    s.extend(unit(7, &[]));
    assert_eq!(unit_versions((&s, 0), Endian::Little).unwrap(), vec![6, 7]);
    // An old layout (field 2) ends the walk after its header.
    let mut old = unit(2, &[]);
    old.extend_from_slice(&[0xff; 5]);
    assert_eq!(unit_versions((&old, 0), Endian::Little).unwrap(), vec![2]);
    let e = unit_versions((&s[..s.len() - 4], 1000), Endian::Little).unwrap_err();
    assert_eq!(e.offset, 1000 + s.len() - 16 + 12, "{e}");
}
