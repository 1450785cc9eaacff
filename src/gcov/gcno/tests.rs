use super::*;
use crate::error::ErrorKind;

/// A little-endian GCC 4.9 gcno: one function of two blocks, one arc.
const GCNO: [u8; 88] = [
    0x6f, 0x6e, 0x63, 0x67, // "gcno", little-endian (offset 0)
    0x2a, 0x39, 0x30, 0x34, // version "409*": GCC 4.9 (4)
    0x01, 0x00, 0x00, 0x00, // stamp 1 (8)
    0x00, 0x00, 0x00, 0x01, // FUNCTION tag (12)
    0x08, 0x00, 0x00, 0x00, // length: 8 words (16)
    0x0a, 0x00, 0x00, 0x00, // ident 10 (20)
    0x0b, 0x00, 0x00, 0x00, // line-number checksum (24)
    0x0c, 0x00, 0x00, 0x00, // CFG checksum (28)
    0x01, 0x00, 0x00, 0x00, // name: 1 word (32)
    b'f', 0x00, 0x00, 0x00, // "f" (36)
    0x01, 0x00, 0x00, 0x00, // source: 1 word (40)
    b'a', b'.', b'c', 0x00, // "a.c" (44)
    0x07, 0x00, 0x00, 0x00, // start line 7 (48)
    0x00, 0x00, 0x41, 0x01, // BLOCKS tag (52)
    0x02, 0x00, 0x00, 0x00, // length: 2 words, one per block (56)
    0x00, 0x00, 0x00, 0x00, // flags of block 0 (60)
    0x00, 0x00, 0x00, 0x00, // flags of block 1 (64)
    0x00, 0x00, 0x43, 0x01, // ARCS tag (68)
    0x03, 0x00, 0x00, 0x00, // length: 3 words (72)
    0x00, 0x00, 0x00, 0x00, // from block 0 (76)
    0x01, 0x00, 0x00, 0x00, // to block 1 (80)
    0x00, 0x00, 0x00, 0x00, // arc flags (84)
];

#[test]
fn one_function() {
    let g = Gcno::decode(&GCNO).unwrap();
    assert_eq!((g.cwd.as_deref(), g.has_unexecuted_blocks), (None, None));
    let [f] = g.functions.as_slice() else {
        panic!("{g:?}")
    };
    assert_eq!(
        (f.name.as_str(), f.source.as_str(), f.start_line),
        ("f", "a.c", 7)
    );
    assert_eq!(f.id.cfg_checksum, Some(12));
    assert_eq!(f.blocks.len(), 2);
    assert_eq!(f.blocks[0].arcs, vec![Arc { dest: 1, flags: 0 }]);
}

#[test]
fn an_arc_to_no_block_and_a_cut_record() {
    let mut b = GCNO;
    b[80] = 0x02; // to block 2 of 2
    let e = Gcno::decode(&b).unwrap_err();
    assert_eq!(e.offset, 68);
    assert_eq!(
        e.kind,
        NotesError::ArcDestination {
            block: 2,
            blocks: 2,
            function: "f".into()
        }
        .into()
    );
    let e = Gcno::decode(&GCNO[..86]).unwrap_err();
    assert_eq!(e.offset, 72);
    assert!(matches!(
        e.kind,
        ErrorKind::LengthPastEnd {
            claimed: 12,
            available: 10,
            ..
        }
    ));
}

#[test]
fn blocks_before_a_function_and_a_name_not_utf8() {
    let mut orphan = GCNO[..12].to_vec();
    orphan.extend_from_slice(&GCNO[52..]);
    let e = Gcno::decode(&orphan).unwrap_err();
    assert_eq!(e.offset, 12);
    assert_eq!(
        e.kind,
        NotesError::BeforeFunction { tag: Tag::BLOCKS }.into()
    );
    let mut b = GCNO;
    b[36] = 0xff;
    let e = Gcno::decode(&b).unwrap_err();
    assert_eq!(e.offset, 32);
    assert_eq!(
        e.kind,
        NotesError::NotUtf8 {
            what: "a function name"
        }
        .into()
    );
}
