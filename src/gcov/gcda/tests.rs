use super::*;
use crate::gcov::record::tests::GCDA;

#[test]
fn one_function_with_counters() {
    let g = Gcda::decode(&GCDA).unwrap();
    let [Record::Function(f)] = g.records.as_slice() else {
        panic!("{g:?}")
    };
    assert_eq!(
        f.id,
        Some(FunctionId {
            ident: 10,
            lineno_checksum: 11,
            cfg_checksum: Some(12)
        })
    );
    let [c] = f.counters.as_slice() else {
        panic!("{f:?}")
    };
    assert_eq!(c.values, Values::Stored(vec![5, 0x1_0000_0007]));
    assert!(g.end_marker);
    assert_eq!(g.encode(), GCDA);
}

#[test]
fn counters_outside_a_function_or_of_half_a_value() {
    let mut orphan = GCDA[..12].to_vec();
    orphan.extend_from_slice(&GCDA[32..]);
    let e = Gcda::decode(&orphan).unwrap_err();
    assert_eq!(e.offset, 12);
    assert_eq!(
        e.kind,
        ErrorKind::CounterOutsideFunction {
            tag: Tag::counter(0)
        }
    );
    let mut odd = GCDA;
    odd[36] = 0x03; // three words: a counter and a half
    let e = Gcda::decode(&odd).unwrap_err();
    assert_eq!(e.offset, 36);
    assert_eq!(
        e.kind,
        ErrorKind::LengthNotMultiple {
            tag: Tag::counter(0),
            bytes: 12,
            unit: 8
        }
    );
}

/// `GCDA` with every 32-bit word byte-swapped: the same file as a
/// big-endian host writes it (counters keep their low word first).
fn big_endian(le: &[u8]) -> Vec<u8> {
    le.chunks(4).flat_map(|w| w.iter().rev().copied()).collect()
}

#[test]
fn several_counter_records_in_both_byte_orders() {
    // The function of GCDA followed by three counter records (arcs,
    // interval, pow2), then a second function with extra words and none.
    let mut le = GCDA[..56].to_vec();
    for (kind, values) in [(1usize, &[9u64][..]), (2, &[0xdead_beef_0000_0001, 3])] {
        le.extend_from_slice(&Tag::counter(kind).raw().to_le_bytes());
        le.extend_from_slice(&(values.len() as u32 * 2).to_le_bytes());
        values
            .iter()
            .for_each(|v| le.extend_from_slice(&v.to_le_bytes()));
    }
    for word in [Tag::FUNCTION.raw(), 5, 20, 21, 22, 0xaa, 0xbb, 0] {
        le.extend_from_slice(&word.to_le_bytes());
    }
    for data in [le.clone(), big_endian(&le)] {
        let g = Gcda::decode(&data).unwrap();
        let [Record::Function(f), Record::Function(second)] = g.records.as_slice() else {
            panic!("{g:?}")
        };
        let values: Vec<(usize, Vec<u64>)> = f
            .counters
            .iter()
            .map(|c| (c.kind.index, c.values.iter().collect()))
            .collect();
        assert_eq!(
            values,
            [
                (0, vec![5, 0x1_0000_0007]),
                (1, vec![9]),
                (2, vec![0xdead_beef_0000_0001, 3])
            ]
        );
        // Room for the three was made when the first was read.
        assert_eq!(f.counters.capacity(), 3);
        assert_eq!(second.extra, [0xaa, 0xbb]);
        assert!(second.counters.is_empty());
        assert_eq!(g.encode(), data);
    }
}

#[test]
fn a_function_record_too_short_or_of_a_partial_word() {
    let mut short = GCDA;
    short[16] = 0x02; // two words where GCC 4.7+ has three
    let e = Gcda::decode(&short).unwrap_err();
    // The function's payload starts at 20; its length field is at 16.
    assert_eq!(e.offset, 20);
    assert_eq!(
        e.kind,
        ErrorKind::FunctionTooShort {
            words: 2,
            needed: 3
        }
    );
    let mut be = big_endian(&GCDA);
    // A GCC 12 file counts lengths in bytes: 11 bytes are not whole words.
    be[4..8].copy_from_slice(b"B22*");
    be.splice(12..12, [0, 0, 0, 0]); // GCC 12's header checksum
    be[20..24].copy_from_slice(&11u32.to_be_bytes());
    let e = Gcda::decode(&be).unwrap_err();
    assert_eq!(e.offset, 20);
    assert_eq!(
        e.kind,
        ErrorKind::LengthNotMultiple {
            tag: Tag::FUNCTION,
            bytes: 11,
            unit: 4
        }
    );
}
