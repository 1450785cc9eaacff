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
    let fs: Vec<_> = g.functions().collect();
    let [f] = fs.as_slice() else { panic!("{g:?}") };
    assert_eq!((f.name.as_str(), f.source(), f.start_line), ("f", "a.c", 7));
    assert_eq!(f.id.cfg_checksum, Some(12));
    assert_eq!(f.blocks().len(), 2);
    assert_eq!(
        f.blocks().next().unwrap().arcs(),
        [Arc { dest: 1, flags: 0 }]
    );
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

/// A little-endian GCC 4.9 notes file: the function of [`GCNO`] with
/// three blocks, then LINES records, each `(block, words after it)`.
fn with_lines(records: &[(u32, Vec<u32>)]) -> Vec<u8> {
    let mut b = GCNO[..52].to_vec();
    let word = |b: &mut Vec<u8>, w: u32| b.extend_from_slice(&w.to_le_bytes());
    word(&mut b, 0x0141_0000); // BLOCKS
    word(&mut b, 3);
    for _ in 0..3 {
        word(&mut b, 0);
    }
    for (block, words) in records {
        word(&mut b, 0x0145_0000); // LINES
        word(&mut b, 1 + words.len() as u32);
        word(&mut b, *block);
        for &w in words {
            word(&mut b, w);
        }
    }
    b
}

/// A file name of one word ("a.c" and the like) in a LINES record.
fn file(name: &[u8; 3]) -> [u32; 2] {
    [1, u32::from_le_bytes([name[0], name[1], name[2], 0])]
}

/// Each block's locations as (file, lines).
fn locations(g: &Gcno) -> Vec<Vec<(String, Vec<u32>)>> {
    let f = g.functions().next().unwrap();
    f.blocks()
        .map(|b| {
            b.locations()
                .map(|l| (l.file.to_string(), l.lines.to_vec()))
                .collect()
        })
        .collect()
}

fn loc(file: &str, lines: &[u32]) -> (String, Vec<u32>) {
    (file.to_string(), lines.to_vec())
}

#[test]
fn lines_one_record_per_block() {
    let [a0, a1] = file(b"a.c");
    let [b0, b1] = file(b"b.c");
    let g = Gcno::decode(&with_lines(&[
        (0, vec![0, a0, a1, 1, 2, 0, b0, b1, 3, 0, 0]),
        (2, vec![0, a0, a1, 4, 0, 0]),
    ]))
    .unwrap();
    assert_eq!(
        locations(&g),
        [
            vec![loc("a.c", &[1, 2]), loc("b.c", &[3])],
            vec![],
            vec![loc("a.c", &[4])]
        ]
    );
    assert_eq!(g.files(), ["a.c", "b.c"]);
}

/// A block named again by a later record (GCC never writes it) keeps its
/// locations in record order, and a line before any file name continues
/// the block's last location, as when each block owned its lists:
/// right after the block's first record, and after another block's.
#[test]
fn lines_of_a_block_named_again() {
    let [a0, a1] = file(b"a.c");
    let [b0, b1] = file(b"b.c");
    let [c0, c1] = file(b"c.c");
    // Block 1 again right after itself: stored in place.
    let g = Gcno::decode(&with_lines(&[
        (1, vec![0, a0, a1, 1, 0, 0]),
        (1, vec![2, 0, b0, b1, 3, 0, 0]),
    ]))
    .unwrap();
    assert_eq!(
        locations(&g),
        [vec![], vec![loc("a.c", &[1, 2]), loc("b.c", &[3])], vec![]]
    );
    // Block 0 and 2 again after others: regrouped at the function's end.
    let g = Gcno::decode(&with_lines(&[
        (0, vec![0, a0, a1, 1, 2, 0, b0, b1, 3, 0, 0]),
        (2, vec![0, c0, c1, 9, 0, 0]),
        (0, vec![5, 6, 0, c0, c1, 7, 0, 0]),
        (1, vec![0, a0, a1, 8, 0, 0]),
        (2, vec![10, 0, 0]),
        (0, vec![11, 0, 0]),
    ]))
    .unwrap();
    assert_eq!(
        locations(&g),
        [
            vec![
                loc("a.c", &[1, 2]),
                loc("b.c", &[3, 5, 6]),
                loc("c.c", &[7, 11])
            ],
            vec![loc("a.c", &[8])],
            vec![loc("c.c", &[9, 10])]
        ]
    );
    // Regrouped when the next function starts, which starts clean.
    let mut two = with_lines(&[
        (2, vec![0, a0, a1, 1, 0, 0]),
        (0, vec![0, b0, b1, 2, 0, 0]),
        (2, vec![4, 0, 0]),
    ]);
    two.extend_from_slice(&with_lines(&[(1, vec![0, c0, c1, 5, 0, 0])])[12..]);
    let g = Gcno::decode(&two).unwrap();
    let fs: Vec<Vec<_>> = g
        .functions()
        .map(|f| f.blocks().map(|b| b.locations().count()).collect())
        .collect();
    assert_eq!(fs, [vec![1, 0, 1], vec![0, 1, 0]]);
    assert_eq!(
        locations(&g),
        [vec![loc("b.c", &[2])], vec![], vec![loc("a.c", &[1, 4])]]
    );
    two.extend_from_slice(&with_lines(&[(2, vec![3, 0, 0])])[12..]);
    let e = Gcno::decode(&two).unwrap_err();
    assert_eq!(
        e.kind,
        NotesError::LineBeforeFile {
            function: "f".into()
        }
        .into()
    );
}
