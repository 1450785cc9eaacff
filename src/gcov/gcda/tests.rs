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
