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

/// A function's source file is the last LINES file name when its bytes
/// are the same (found without the table of names), another one else.
#[test]
fn a_function_in_the_file_of_the_last_lines_record() {
    let [b0, b1] = file(b"b.c");
    let mut data = with_lines(&[(0, vec![0, b0, b1, 3, 0, 0])]);
    // The function of GCNO again, in a.c (not the last name, b.c), then
    // in b.c.
    data.extend_from_slice(&GCNO[12..52]);
    let mut in_b = GCNO[12..52].to_vec();
    in_b[32..36].copy_from_slice(b"b.c\0");
    data.extend_from_slice(&in_b);
    let g = Gcno::decode(&data).unwrap();
    let sources: Vec<&str> = g.functions().map(|f| f.source()).collect();
    assert_eq!(sources, ["a.c", "a.c", "b.c"]);
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

/// `data` through a [`Decoder`] as a reader with a buffer of `size` bytes
/// gives it: each piece holds the bytes from where the decoder stands, as
/// many as the buffer holds (grown to what the decoder needs); the last
/// one is fed, then given to `finish` once the reader finds the end.
fn in_pieces(data: &[u8], size: usize) -> Result<Gcno> {
    let mut d = Decoder::new();
    loop {
        let at = d.offset();
        let to = at.saturating_add(size.max(d.needed())).min(data.len());
        let used = d.feed(&data[at..to])?;
        assert_eq!(d.offset(), at + used);
        if to == data.len() {
            let at = d.offset();
            return d.finish(&data[at..]);
        }
        // Either a record was decoded or the decoder asks for more than it
        // had: a reader cannot loop on the same bytes forever.
        assert!(used > 0 || d.needed() > to - at, "stuck at {at}");
    }
}

/// `data` fed up to `cut`, then what follows what was consumed, then
/// finished with the rest: a record across the cut waits for it.
fn split(data: &[u8], cut: usize) -> Result<Gcno> {
    let mut d = Decoder::new();
    d.feed(&data[..cut])?;
    d.feed(&data[d.offset()..])?;
    let at = d.offset();
    d.finish(&data[at..])
}

/// Whole, in pieces of every size given and cut at every byte, `data`
/// decodes to the same model or fails with the same error.
fn same_in_pieces(data: &[u8]) -> Result<Gcno> {
    let whole = Gcno::decode(data);
    for size in [1, 3, 7, 64, 4096] {
        assert_eq!(in_pieces(data, size), whole, "pieces of {size}");
    }
    for cut in 0..=data.len() {
        assert_eq!(split(data, cut), whole, "cut at {cut}");
    }
    whole
}

#[test]
fn pieces_of_any_size_decode_as_the_whole() {
    let g = same_in_pieces(&GCNO).unwrap();
    assert_eq!(g.functions().count(), 1);
    let [a0, a1] = file(b"a.c");
    let [b0, b1] = file(b"b.c");
    let two = with_lines(&[
        (0, vec![0, a0, a1, 1, 2, 0, b0, b1, 3, 0, 0]),
        (2, vec![0, a0, a1, 4, 0, 0]),
        (0, vec![5, 0, b0, b1, 6, 0, 0]),
    ]);
    assert_eq!(same_in_pieces(&two).unwrap().files(), ["a.c", "b.c"]);
}

#[test]
fn cut_and_corrupt_files_fail_in_pieces_as_whole() {
    // A record cut by the end of the file, and a header cut short.
    for cut in [0, 3, 4, 10, 12, 14, 16, 20, 51, 52, 55, 60, 70, 86] {
        let boundary = [12, 52, 68].contains(&cut);
        assert_eq!(
            same_in_pieces(&GCNO[..cut]).is_ok(),
            boundary,
            "cut at {cut}"
        );
    }
    let e = same_in_pieces(&GCNO[..86]).unwrap_err();
    assert!(matches!(
        e.kind,
        ErrorKind::LengthPastEnd {
            claimed: 12,
            available: 10,
            ..
        }
    ));
    // A length past the end, and a negative one.
    let mut b = GCNO;
    b[72] = 0x40;
    let e = same_in_pieces(&b).unwrap_err();
    assert_eq!(
        (e.offset, &e.kind),
        (
            72,
            &ErrorKind::LengthPastEnd {
                tag: Tag::ARCS,
                claimed: 256,
                available: 12
            }
        )
    );
    b[72..76].copy_from_slice(&[0xfe, 0xff, 0xff, 0xff]);
    let e = same_in_pieces(&b).unwrap_err();
    assert_eq!(
        (e.offset, &e.kind),
        (
            72,
            &ErrorKind::NegativeLength {
                tag: Tag::ARCS,
                length: -2
            }
        )
    );
    // A content error, then more records.
    let mut b = GCNO.to_vec();
    b[80] = 0x02;
    b.extend_from_slice(&GCNO[52..]);
    assert_eq!(same_in_pieces(&b).unwrap_err().offset, 68);
    // A bad magic and an unknown version, refused from the first piece.
    let mut b = GCNO;
    b[0] = b'x';
    assert!(matches!(
        same_in_pieces(&b).unwrap_err().kind,
        ErrorKind::BadMagic { .. }
    ));
    b = GCNO;
    b[7] = b'!';
    assert!(matches!(
        same_in_pieces(&b).unwrap_err().kind,
        ErrorKind::Version(_)
    ));
}

#[test]
fn an_end_marker_ends_the_records_in_pieces_as_whole() {
    let mut b = GCNO[..68].to_vec();
    b.extend_from_slice(&[0; 4]);
    b.extend_from_slice(&GCNO[68..]);
    b.extend_from_slice(b"after");
    let g = same_in_pieces(&b).unwrap();
    let f = g.functions().next().unwrap();
    assert!(f.blocks().all(|b| b.arcs().is_empty()));
}

/// A notes file of GCC 4.9 whose records past its header make it `len`
/// bytes long, fed through a decoder in pieces of 1 MiB: records of a tag
/// the decoder skips, except where `first` puts its own record first.
fn of_length(first: &[u8], len: u64) -> Result<Gcno> {
    const MIB: usize = 1 << 20;
    // Records of 1 MiB of the PATHS tag, which notes of GCC 4.9 do not use.
    let mut skipped = Vec::with_capacity(MIB);
    skipped.extend_from_slice(&0x0149_0000u32.to_le_bytes());
    skipped.extend_from_slice(&((MIB as u32 - 8) / 4).to_le_bytes());
    skipped.resize(MIB, 0);
    let mut d = Decoder::new();
    assert_eq!(d.feed(&GCNO[..12])?, 12);
    assert_eq!(d.feed(first)?, first.len());
    let mut left = len - 12 - first.len() as u64;
    while left >= MIB as u64 {
        assert_eq!(d.feed(&skipped)?, MIB);
        left -= MIB as u64;
    }
    d.finish(&vec![0; left as usize])
}

/// The length of a file is known at its end, and a file of 4 GiB or more
/// is refused as the whole file's decoder refuses it first, whatever
/// came before: a record after the 4 GiB mark, an error before it, the
/// bytes after an end marker.
#[test]
fn four_gib_or_more_is_refused_at_the_end() {
    let four = 1u64 << 32;
    let too_large = |len: u64| {
        Error::new(
            0,
            NotesError::TooLarge {
                file_len: len as usize,
            }
            .into(),
        )
    };
    assert_eq!(of_length(&[], four + 12), Err(too_large(four + 12)));
    let before_function = GCNO[52..68].to_vec();
    assert_eq!(of_length(&before_function, four), Err(too_large(four)));
    assert_eq!(
        of_length(&before_function, four - 1).unwrap_err().kind,
        NotesError::BeforeFunction { tag: Tag::BLOCKS }.into()
    );
    let end = [0; 4];
    assert_eq!(of_length(&end, four), Err(too_large(four)));
    assert!(of_length(&end, four - 1).is_ok());
}

/// What the decoder shows of the files before the end is what the whole
/// model ends with, as far as it has gone: nothing before the header, the
/// first file once its LINES record is in, then both, in the same order.
#[test]
fn files_so_far_are_the_models_files_as_far_as_decoded() {
    let [a0, a1] = file(b"a.c");
    let [b0, b1] = file(b"b.c");
    let data = with_lines(&[
        (0, vec![0, a0, a1, 1, 2, 0, 0]),
        (2, vec![0, b0, b1, 4, 0, 0]),
    ]);
    let whole = Gcno::decode(&data).unwrap();
    let mut d = Decoder::new();
    assert_eq!(d.files_so_far(), (None, &[][..]));
    let mut seen = Vec::new();
    while d.offset() < data.len() {
        let at = d.offset();
        let to = (at + 4).max(at + d.needed()).min(data.len());
        d.feed(&data[at..to]).unwrap();
        let (cwd, files) = d.files_so_far();
        assert_eq!(cwd, whole.cwd.as_deref());
        assert!(whole.files().starts_with(files), "{files:?}");
        if seen.last() != Some(&files.len()) {
            seen.push(files.len());
        }
        if to == data.len() {
            break;
        }
    }
    assert_eq!(seen, [0, 1, 2], "no file, then a.c, then both");
}
