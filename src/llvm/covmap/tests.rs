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

/// (offset, kind) of an error.
fn at_kind(e: Error) -> (usize, ErrorKind) {
    (e.offset, e.kind)
}

/// The file names table's own failures, at file offsets from 0x10.
#[test]
fn filenames_that_lie() {
    let refusal = |bytes: &[u8]| at_kind(filenames(bytes, 0x10, 5).unwrap_err());
    // The name count in ten ULEB128 bytes, past 64 bits.
    let leb = LlvmError::LebOverflow {
        section: "__llvm_covmap",
        what: "the number of file names",
    };
    let ten = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f];
    assert_eq!(refusal(&ten), (0x10, leb.into()));
    // 5 names in no bytes at all.
    let size = LlvmError::SizePastEnd {
        section: "__llvm_covmap",
        what: "the number of file names",
        size: 5,
        left: 0,
    };
    assert_eq!(refusal(&[0x05]), (0x10, size.into()));
    assert_eq!(refusal(&[0x00]), (0x10, LlvmError::NoFileNames.into()));
    // 1 name, 16383 bytes claimed from 1 compressed byte.
    let ratio = LlvmError::InflateRatio {
        what: "__llvm_covmap: file names",
        claimed: 16383,
        compressed: 1,
    };
    assert_eq!(
        refusal(&[0x01, 0xff, 0x7f, 0x01, 0x00]),
        (0x14, ratio.into())
    );
    // 2 compressed bytes that are no zlib stream.
    let (at, kind) = refusal(&[0x01, 0x05, 0x02, 0x00, 0x00]);
    assert_eq!(at, 0x13);
    assert!(
        matches!(&kind, ErrorKind::Llvm(LlvmError::Inflate { what, .. })
            if *what == "__llvm_covmap: the compressed file names"),
        "{kind:?}"
    );
    // A plain name of one byte, 0xff.
    let utf8 = LlvmError::NotUtf8 {
        what: "__llvm_covmap: a file name",
    };
    assert_eq!(
        refusal(&[0x01, 0x02, 0x00, 0x01, 0xff]),
        (0x13, utf8.into())
    );
}

/// A mapping's own failures: one file, no expressions, one region whose
/// encoding (at 0x24 of a mapping at 0x20) is the lie.
#[test]
fn regions_that_lie() {
    let files = vec!["/w/a.c".to_string()];
    let refusal = |region: &[u8]| {
        let mut bytes = vec![0x01, 0x00, 0x00, 0x01];
        bytes.extend(region);
        at_kind(mapping(&bytes, 0x20, &files).unwrap_err())
    };
    // A counter and kind of 2^32 - 1, not below LLVM's limit.
    let range = LlvmError::LebRange {
        section: "__llvm_covfun",
        what: "a region's counter and kind",
        value: 0xffff_ffff,
        limit: 0xffff_ffff,
    };
    assert_eq!(
        refusal(&[0xff, 0xff, 0xff, 0xff, 0x0f]),
        (0x24, range.into())
    );
    // A subtraction of expression 0, of none.
    let expr = LlvmError::ExpressionPastEnd {
        id: 0,
        expressions: 0,
    };
    assert_eq!(refusal(&[0x02]), (0x24, expr.into()));
    // An expansion of file ID 1 (0x0c = 1 << 3 | 4) of one file.
    let expansion = LlvmError::ExpansionFile {
        file_id: 1,
        files: 1,
    };
    assert_eq!(refusal(&[0x0c]), (0x24, expansion.into()));
    // Kind 3 (0x18 = 3 << 3), which LLVM does not define.
    assert_eq!(
        refusal(&[0x18]),
        (0x24, LlvmError::RegionKind { kind: 3 }.into())
    );
    // Counter #0 on line 5 from column 12 to column 2.
    let backwards = LlvmError::RegionBackwards {
        start: (5, 12),
        end: (5, 2),
    };
    assert_eq!(
        refusal(&[0x01, 0x05, 0x0c, 0x00, 0x02]),
        (0x25, backwards.into())
    );
    assert_eq!(
        mapping(
            &[0x01, 0x00, 0x00, 0x01, 0x01, 0x05, 0x02, 0x00, 0x0c],
            0x20,
            &files
        )
        .unwrap()
        .2[0]
            .end(),
        (5, 12)
    );
}

/// The file names of one unit: one name, the compilation directory "a".
const UNIT_FILES: [u8; 5] = [0x01, 0x02, 0x00, 0x01, b'a'];

/// `__llvm_covmap` of one unit of version field `v` with `nrecords`.
fn covmap(v: u8, nrecords: u8) -> Vec<u8> {
    let mut b = vec![
        nrecords, 0, 0, 0, // records (none from version field 3)
        0x05, 0, 0, 0, // file names: 5 bytes
        0, 0, 0, 0, // mapping bytes
        v, 0, 0, 0, // version field
    ];
    b.extend(UNIT_FILES);
    b.extend([0, 0, 0]); // to 8
    b
}

/// `__llvm_covfun` of one record of `f`, of the unit of file names `fref`:
/// one region, counter #0 at 1:1-1:2.
fn covfun(fref: u64) -> Vec<u8> {
    let mut b = Vec::new();
    b.extend(md5_low(b"f").to_le_bytes());
    b.extend(9u32.to_le_bytes());
    b.extend(0x18u64.to_le_bytes());
    b.extend(fref.to_le_bytes());
    b.extend([0x01, 0x00, 0x00, 0x01, 0x01, 0x01, 0x01, 0x00, 0x02]);
    b.extend([0, 0, 0]); // 28 + 9 bytes, to 40
    b
}

/// Decodes the sections at 0x1000 (covmap), 0x2000 (covfun), 0x3000 (names).
fn decode(covmap: &[u8], covfun: &[u8], names: &[u8]) -> Result<CoverageMapping> {
    CoverageMapping::decode(&Sections {
        covmap: (covmap, 0x1000),
        covfun: (covfun, 0x2000),
        names: vec![(names, 0x3000)],
        endian: Endian::Little,
    })
}

#[test]
fn unit_headers_and_records_that_lie() {
    let fref = md5_low(&UNIT_FILES);
    let names = [0x01, 0x00, b'f'];
    let m = decode(&covmap(5, 0), &covfun(fref), &names).unwrap();
    assert_eq!((m.version, m.functions.len()), (5, 1));
    assert_eq!(m.functions[0].name, "f");
    let refusal = |covmap: &[u8], covfun: &[u8], names: &[u8]| {
        at_kind(decode(covmap, covfun, names).unwrap_err())
    };
    // Version field 7 (LLVM's Version8): not read.
    let version = LlvmError::MappingVersion {
        field: 7,
        first: 3,
        last: 6,
    };
    assert_eq!(
        refusal(&covmap(7, 0), &covfun(fref), &names),
        (0x100c, version.into())
    );
    // A second unit of version field 4 after one of 5.
    let mut two = covmap(5, 0);
    two.extend(covmap(4, 0));
    let mixed = LlvmError::MixedMappingVersions { first: 5, found: 4 };
    assert_eq!(
        refusal(&two, &covfun(fref), &names),
        (0x1000 + 24 + 12, mixed.into())
    );
    // One record in the header, where version 3 on has them in covfun.
    let records = LlvmError::RecordsInHeader {
        field: 5,
        records: 1,
        bytes: 0,
    };
    assert_eq!(
        refusal(&covmap(5, 1), &covfun(fref), &names),
        (0x1000, records.into())
    );
    // A record of the file names of no unit (its reference at +20).
    assert_eq!(
        refusal(&covmap(5, 0), &covfun(fref ^ 1), &names),
        (
            0x2014,
            LlvmError::UnknownFileNames { hash: fref ^ 1 }.into()
        )
    );
    // A record whose name is in no names section.
    let md5 = md5_low(b"f");
    assert_eq!(
        refusal(&covmap(5, 0), &covfun(fref), &[0x01, 0x00, b'g']),
        (0x2000, LlvmError::UnknownFunctionName { md5 }.into())
    );
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
