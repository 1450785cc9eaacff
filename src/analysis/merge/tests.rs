//! Unit tests of the merge: top-N tables, saturation, the fast road's
//! equal, and the accumulated profile. Over 400 lines as one file of tests
//! of one module (each group in its own `mod`).

use super::topn::{MAX_TRACKED, insert, merge_variable};

/// formats/merge.md 6.4: gcc-12-pg/vp run1 + run2, as gcov-tool-12 merged them.
#[test]
fn top_n_sites_merge_as_gcov_tool_merged_the_samples() {
    assert_eq!(
        merge_variable(&[48, 1, 8, 48], &[48, 1, 5, 48]),
        [96, 2, 8, 48, 5, 48]
    );
    let (a, b, c, d) = (2130531669, 1578091795, 236412669, 274439871);
    let run1 = [6, 4, a, 2, b, 2, c, 1, d, 1];
    let run2 = [6, 3, c, 3, b, 1, d, 2];
    assert_eq!(
        merge_variable(&run1, &run2),
        [12, 4, a, 2, b, 3, c, 4, d, 3]
    );
    assert_eq!(
        merge_variable(&run2, &run1),
        [12, 4, c, 4, b, 3, d, 3, a, 2]
    );
    // Two sites.
    assert_eq!(
        merge_variable(&[5, 1, 40, 5, 5, 1, 40, 5], &[3, 1, 100, 3, 3, 1, 100, 3]),
        [8, 2, 40, 5, 100, 3, 8, 2, 40, 5, 100, 3]
    );
}

/// formats/merge.md 10: a site at 32 values evicts and negates its total;
/// a second eviction negates it back (the flag is not sticky in libgcov).
#[test]
fn a_full_site_evicts_the_first_least_value_and_negates_the_total() {
    let mut w = vec![1536u64, 32];
    for v in 3..35 {
        w.extend([v, 48]);
    }
    let wa = merge_variable(&w, &[48, 1, 35, 48]);
    assert_eq!(wa[0] as i64, -1584);
    assert_eq!(&wa[1..4], &[32, 35, 48]); // 3 decayed to 47 < 48: replaced in place
    assert_eq!(&wa[4..6], &[4, 48]);
    let wab = merge_variable(&wa, &[48, 1, 36, 48]);
    assert_eq!(wab[0] as i64, 1536);
    assert_eq!(&wab[2..4], &[36, 48]);
    // Merging A+B first gives another total: not associative at the cap.
    let ab = merge_variable(&[48, 1, 35, 48], &[48, 1, 36, 48]);
    assert_eq!(ab, [96, 2, 35, 48, 36, 48]);
    assert_eq!(merge_variable(&w, &ab)[0] as i64, -1632);
}

#[test]
fn insert_decays_without_replacing_a_stronger_value() {
    let mut list: Vec<(i64, i64)> = (0..MAX_TRACKED as i64).map(|v| (v, 10)).collect();
    assert!(insert(&mut list, 99, 5));
    assert_eq!(list[0], (0, 9)); // decayed, kept
    assert!(!list.iter().any(|p| p.0 == 99));
    assert!(!insert(&mut list, 7, 1));
    assert_eq!(list[7], (7, 11));
}

mod overflow {
    //! Each rule saturates where libgcov wraps, and reports how many
    //! values it held; values in range merge as libgcov merges them.
    use super::super::counters::scale_counters;
    use super::super::{MAX_COUNT, Overflow, merge_counters, merge_unit, scale};
    use crate::gcov::gcda::{Counters, Gcda, Record, Values};
    use crate::gcov::kinds::{CounterKind, MergeRule};
    use crate::gcov::tag::Tag;

    const M: u64 = MAX_COUNT;
    const fn neg(x: u64) -> u64 {
        (x as i64).wrapping_neg() as u64
    }

    fn counters(name: &'static str, merge: MergeRule, v: &[u64]) -> Counters {
        Counters {
            kind: CounterKind {
                name,
                index: 0,
                merge,
            },
            values: Values::Stored(v.to_vec()),
        }
    }

    /// Merges `b` into `a` of one kind: the values and the saturated count.
    fn merge(name: &'static str, rule: MergeRule, a: &[u64], b: &[u64]) -> (Vec<u64>, usize) {
        let mut d = counters(name, rule, a);
        let mut n = 0;
        merge_counters(&mut d, &counters(name, rule, b), &mut n);
        (d.values.iter().collect(), n)
    }

    fn scaled(name: &'static str, rule: MergeRule, a: &[u64], w: u64) -> (Vec<u64>, usize) {
        let mut d = counters(name, rule, a);
        let mut n = 0;
        scale_counters(&mut d, w, &mut n);
        (d.values.iter().collect(), n)
    }

    #[test]
    fn add_saturates_counts_at_gcov_types_maximum() {
        // libgcov: M-1 + 2 = 2^63, which gcov prints as -9223372036854775808.
        let (v, n) = merge(
            "arcs",
            MergeRule::Add,
            &[5, M - 1, u64::MAX, 0, M],
            &[3, 2, 1, 7, 0],
        );
        assert_eq!(v, [8, M, u64::MAX, 7, M]);
        assert_eq!(n, 2);
        // In range: the plain sum, nothing reported.
        assert_eq!(merge("arcs", MergeRule::Add, &[M - 3], &[3]), (vec![M], 0));
    }

    #[test]
    fn average_sums_are_signed_and_saturate_both_ways() {
        // (sum of values, count) per site; a negative sum is no overflow.
        let (v, n) = merge(
            "average",
            MergeRule::Add,
            &[neg(M - 1), 10, neg(4), 1],
            &[neg(5), 1, 3, M],
        );
        assert_eq!(v, [neg(M), 11, neg(1), M]);
        assert_eq!(n, 2);
    }

    #[test]
    fn weights_saturate_products() {
        let w = 1 << 62;
        assert_eq!(
            scaled("arcs", MergeRule::Add, &[3, 0, 1, 2], w),
            (vec![M, 0, w, M], 2)
        );
        assert_eq!(
            scaled("average", MergeRule::Add, &[neg(3), 2, neg(1), 1], w),
            (vec![neg(M), M, neg(w), w], 2)
        );
        // Single: the value (a target) does not scale, count and total do.
        assert_eq!(
            scaled("single", MergeRule::Single, &[7, 2, 1], w),
            (vec![7, M, w], 1)
        );
        // GCC 11+ top-N: total and counts scale, n and the values do not;
        // a negative total (lost values) stays negative.
        assert_eq!(
            scaled("topn", MergeRule::TopnVariable, &[neg(3), 1, 9, 2], w),
            (vec![neg(M), 1, 9, M], 2)
        );
        // Weight 0 and 1 never overflow.
        assert_eq!(scaled("arcs", MergeRule::Add, &[u64::MAX], 0), (vec![0], 0));
        assert_eq!(
            scaled("arcs", MergeRule::Add, &[u64::MAX], 1),
            (vec![u64::MAX], 0)
        );
    }

    #[test]
    fn votes_saturate_their_sums_and_keep_libgcovs_differences() {
        // Same value: votes and totals add (saturating).
        let (v, n) = merge("single", MergeRule::Single, &[7, M - 1, M - 1], &[7, 5, 5]);
        assert_eq!((v, n), (vec![7, M, M], 2));
        // Another value with more votes wins by the difference: no overflow.
        let (v, n) = merge("single", MergeRule::Single, &[7, 10, 20], &[9, 15, 15]);
        assert_eq!((v, n), (vec![9, 5, 35], 0));
        // Delta: (last, value, count, total).
        let (v, n) = merge("delta", MergeRule::Delta, &[1, 4, M, 3], &[2, 4, 1, M]);
        assert_eq!((v, n), (vec![1, 4, M, M], 2));
    }

    #[test]
    fn fixed_top_n_tables_saturate_totals_and_counts() {
        // GCC 5-9 indirect calls: a callee in both tables adds its counts.
        let a = [0, 11, M - 1, 12, 3, 0, 0, 0, 0];
        let (v, n) = merge(
            "indirect_call_topn",
            MergeRule::IcallTopn,
            &a,
            &[0, 11, 9, 0, 0, 0, 0, 0, 0],
        );
        assert_eq!((v[1], v[2], n), (11, M, 1));
        // GCC 10: the total and the value's count add.
        let a = [M - 1, 11, M - 1, 0, 0, 0, 0, 0, 0];
        let (v, n) = merge(
            "topn",
            MergeRule::TopnFixed,
            &a,
            &[4, 11, 4, 0, 0, 0, 0, 0, 0],
        );
        assert_eq!((v[0], v[1], v[2], n), (M, 11, M, 2));
    }

    #[test]
    fn variable_top_n_tables_saturate_totals_and_counts() {
        let (v, n) = merge(
            "topn",
            MergeRule::TopnVariable,
            &[M - 1, 1, 8, M - 1],
            &[5, 1, 8, 5],
        );
        assert_eq!((v, n), (vec![M, 1, 8, M], 2));
        // In range, as gcov-tool merged the samples (see the test above).
        let (v, n) = merge(
            "topn",
            MergeRule::TopnVariable,
            &[48, 1, 8, 48],
            &[48, 1, 5, 48],
        );
        assert_eq!((v, n), (vec![96, 2, 8, 48, 5, 48], 0));
    }

    fn sample(run: u32) -> Gcda {
        let bytes: &[u8] = match run {
            1 => include_bytes!("../../../samples/gcc-12/calc/run1/ops.gcda"),
            _ => include_bytes!("../../../samples/gcc-12/calc/run2/ops.gcda"),
        };
        Gcda::decode(bytes).unwrap_or_else(|e| panic!("{e}"))
    }

    fn set_runs(g: &mut Gcda, runs: u32) {
        for r in &mut g.records {
            if let Record::Other(o) = r
                && o.tag == Tag::OBJECT_SUMMARY
                && let [r, _] = o.words.as_mut_slice()
            {
                *r = runs;
            }
        }
    }

    fn runs(g: &Gcda) -> Vec<u32> {
        g.records
            .iter()
            .filter_map(|r| match r {
                Record::Other(o) if o.tag == Tag::OBJECT_SUMMARY => o.words.first().copied(),
                _ => None,
            })
            .collect()
    }

    /// Real gcc-12 data: the summary's runs saturate at 2^32 - 1 (gcov-tool
    /// wraps them to 0), and a merge reports every saturated section by
    /// function ident and kind.
    #[test]
    fn a_real_unit_reports_its_saturated_summary_and_functions() {
        let mut a = sample(1);
        set_runs(&mut a, u32::MAX);
        let b = sample(2);
        let out = merge_unit(&mut a, &b, super::super::OnConflict::Error)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(runs(&a), [u32::MAX]);
        assert_eq!(
            out.overflows,
            [Overflow {
                function: None,
                kind: "summary",
                values: 1
            }]
        );

        // Every count of run2 weighted by 2^62: the values of 2 or more
        // saturate, and so do their sums with run1's.
        let mut a = sample(1);
        let mut b = sample(2);
        let weighted = scale(&mut b, 1 << 62);
        assert!(!weighted.is_empty());
        let out = merge_unit(&mut a, &b, super::super::OnConflict::Error)
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(out.conflicts.is_empty());
        let functions = |g: &Gcda| -> Vec<(u32, Vec<u64>)> {
            g.functions()
                .filter_map(|f| Some((f.id?.ident, f.counters.first()?.values.iter().collect())))
                .collect()
        };
        let (r1, r2, merged) = (functions(&sample(1)), functions(&sample(2)), functions(&a));
        let mut expected = Vec::new();
        for (((ident, x), (_, y)), (_, m)) in r1.iter().zip(&r2).zip(&merged) {
            let mut over = 0;
            for ((&x, &y), &m) in x.iter().zip(y).zip(m) {
                let exact = u128::from(x) + (u128::from(y) << 62);
                let want = if exact > u128::from(M) {
                    M
                } else {
                    exact as u64
                };
                assert_eq!(m, want, "function {ident}: {x} + {y} * 2^62");
                over += usize::from(x > 0 && y > 0 && exact > u128::from(M));
            }
            if over > 0 {
                expected.push(Overflow {
                    function: Some(*ident),
                    kind: "arcs",
                    values: over,
                });
            }
        }
        assert!(!expected.is_empty());
        assert_eq!(out.overflows, expected);
    }
}

mod profile {
    //! The accumulated profile: units matched by path, merged as
    //! `merge_unit` merges them, and what it meets returned as values.

    use crate::analysis::merge::profile::{
        Incoming, InputWarning, Profile, ProfileError, ProfileWarning, Side,
    };
    use crate::analysis::merge::{ConflictKind, OnConflict, Resolution, merge_unit};
    use crate::gcov::gcda::Gcda;
    use crate::paths::PathMapping;

    const OPS1: &[u8] = include_bytes!("../../../samples/gcc-12/calc/run1/ops.gcda");
    const OPS2: &[u8] = include_bytes!("../../../samples/gcc-12/calc/run2/ops.gcda");
    const MAIN1: &[u8] = include_bytes!("../../../samples/gcc-12/calc/run1/main.gcda");

    /// Adds one input of `units` (recorded path, bytes), running the steps
    /// in order.
    fn add(
        p: &mut Profile,
        weight: u64,
        units: &[(&str, &[u8])],
        policy: OnConflict,
    ) -> Result<(Option<InputWarning>, Vec<super::super::profile::Resolved>), ProfileError> {
        let plain = PathMapping::default();
        let units = units
            .iter()
            .map(|(path, bytes)| Incoming::new(path.as_bytes(), bytes, &plain))
            .collect();
        let (batch, warning) = p.batch(weight, units)?;
        let done = p
            .steps(&batch, policy)
            .into_iter()
            .map(|s| s.run())
            .collect();
        Ok((warning, p.finish(batch, done)?))
    }

    #[test]
    fn a_dump_path_and_a_tree_path_are_one_unit_merged_as_merge_unit_merges() {
        let mut p = Profile::new();
        let (w, r) = add(&mut p, 1, &[("/ops.gcda", OPS1)], OnConflict::Error).unwrap();
        assert_eq!((w, r.len()), (None, 0));
        let (w, r) = add(
            &mut p,
            1,
            &[("./ops.gcda", OPS2), ("main.gcda", MAIN1)],
            OnConflict::Error,
        )
        .unwrap();
        assert_eq!((w, r.len()), (None, 0));
        let mut expected = Gcda::decode(OPS1).unwrap();
        merge_unit(
            &mut expected,
            &Gcda::decode(OPS2).unwrap(),
            OnConflict::Error,
        )
        .unwrap();
        let units = p.units();
        assert_eq!(units.len(), 2);
        assert_eq!(*units[0].gcda().unwrap(), expected);
        assert_eq!(&units[0].path[..], b"/ops.gcda");
        assert_eq!(units[0].origins(), [0, 1]);
        assert_eq!(units[1].origins(), [1]);
        assert!(p.warnings().is_empty());
    }

    /// Inputs listing the units of the input before, in its order, are
    /// matched from what that one left (see `LastMatch`); others, and units
    /// new since, are looked up again: each lands on its own unit.
    #[test]
    fn the_same_units_again_and_others_land_on_their_units() {
        let mut p = Profile::new();
        let ab = [("a.gcda", OPS1), ("b.gcda", MAIN1)];
        let ac = [("a.gcda", OPS2), ("c.gcda", MAIN1)];
        let ca = [("c.gcda", MAIN1), ("a.gcda", OPS2)];
        for (input, units) in [&ab, &ab, &ac, &ac, &ca, &ab].iter().enumerate() {
            let (w, r) = add(&mut p, 1, &units[..], OnConflict::Error).unwrap();
            assert_eq!((w, r.len()), (None, 0), "input {input}");
        }
        let origins: Vec<(&[u8], Vec<usize>)> = p
            .units()
            .iter()
            .map(|u| (&u.path[..], u.origins()))
            .collect();
        assert_eq!(
            origins,
            [
                (&b"a.gcda"[..], vec![0, 1, 2, 3, 4, 5]),
                (b"b.gcda", vec![0, 1, 5]),
                (b"c.gcda", vec![2, 3, 4]),
            ]
        );
        // Twins are refused even right after an input of other units.
        let e = add(
            &mut p,
            1,
            &[("a.gcda", OPS1), ("./a.gcda", OPS2)],
            OnConflict::Error,
        )
        .unwrap_err();
        assert!(
            matches!(e, ProfileError::TwoUnits { input: 6, .. }),
            "{e:?}"
        );
    }

    #[test]
    fn a_weight_scales_before_the_merge() {
        let mut p = Profile::new();
        add(&mut p, 1, &[("ops.gcda", OPS1)], OnConflict::Error).unwrap();
        add(&mut p, 3, &[("ops.gcda", OPS2)], OnConflict::Error).unwrap();
        let mut expected = Gcda::decode(OPS1).unwrap();
        let mut two = Gcda::decode(OPS2).unwrap();
        assert!(crate::analysis::merge::scale(&mut two, 3).is_empty());
        merge_unit(&mut expected, &two, OnConflict::Error).unwrap();
        assert_eq!(*p.units()[0].gcda().unwrap(), expected);
    }

    #[test]
    fn two_units_of_one_path_in_one_input_are_refused() {
        let mut p = Profile::new();
        let e = add(
            &mut p,
            1,
            &[("a/ops.gcda", OPS1), ("a//./ops.gcda", OPS2)],
            OnConflict::Error,
        )
        .unwrap_err();
        assert!(
            matches!(&e, ProfileError::TwoUnits { input: 0, lookup } if lookup == b"a//./ops.gcda"),
            "{e:?}"
        );
    }

    #[test]
    fn an_empty_input_and_one_that_matches_nothing_are_said() {
        let mut p = Profile::new();
        let (w, _) = add(&mut p, 1, &[], OnConflict::Error).unwrap();
        assert_eq!(w, Some(InputWarning::Empty));
        add(
            &mut p,
            1,
            &[("/build/calc/ops.gcda", OPS1)],
            OnConflict::Error,
        )
        .unwrap();
        let (w, _) = add(&mut p, 1, &[("ops.gcda", OPS2)], OnConflict::Error).unwrap();
        let Some(InputWarning::Disjoint { pair: Some(pair) }) = w else {
            panic!("{w:?}");
        };
        assert_eq!(pair.earlier, b"/build/calc/ops.gcda");
        assert_eq!(pair.earlier_origins, [1]);
        assert_eq!(pair.this, b"ops.gcda");
        let (old, new, side) = pair.hint.unwrap();
        assert_eq!(
            (old.as_slice(), new.as_slice(), side),
            (&b"/build/calc"[..], &b""[..], Side::Earlier)
        );
        assert_eq!(p.len(), 2, "both kept side by side");
    }

    #[test]
    fn another_build_is_refused_or_resolved_as_asked() {
        let mut other = Gcda::decode(OPS2).unwrap();
        other.header.stamp ^= 1;
        let other = other.encode();
        let mut p = Profile::new();
        add(&mut p, 1, &[("ops.gcda", OPS1)], OnConflict::Error).unwrap();
        let e = add(&mut p, 1, &[("ops.gcda", &other)], OnConflict::Error).unwrap_err();
        assert!(
            matches!(&e, ProfileError::Refused { input: 1, unit, earlier, kind: ConflictKind::Stamp { .. } }
                if unit == b"ops.gcda" && *earlier == [0]),
            "{e:?}"
        );
        assert_eq!(
            *p.units()[0].gcda().unwrap(),
            Gcda::decode(OPS1).unwrap(),
            "untouched"
        );

        let mut p = Profile::new();
        add(&mut p, 1, &[("ops.gcda", OPS1)], OnConflict::Error).unwrap();
        let (_, r) = add(&mut p, 1, &[("ops.gcda", &other)], OnConflict::KeepNewest).unwrap();
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].earlier, [0]);
        assert_eq!(r[0].conflict.resolution, Resolution::Replaced);
        assert_eq!(
            p.units()[0].origins(),
            [1],
            "the unit starts again from the newest"
        );
        assert_eq!(p.units()[0].gcda().unwrap().encode(), other);
    }

    #[test]
    fn a_unit_that_does_not_decode_names_its_input_and_path() {
        let mut p = Profile::new();
        let e = add(&mut p, 1, &[("x/ops.gcda", &OPS1[..20])], OnConflict::Error).unwrap_err();
        assert!(
            matches!(&e, ProfileError::Decode { input: 0, lookup, .. } if lookup == b"x/ops.gcda"),
            "{e:?}"
        );
    }

    /// The units of a sample Xen dump: (recorded path, payload).
    fn dump_units(bytes: &[u8]) -> Vec<(&str, &[u8])> {
        crate::xen::dump::Container::parse(bytes)
            .unwrap()
            .units
            .iter()
            .map(|u| (std::str::from_utf8(u.path).unwrap(), u.payload))
            .collect()
    }

    /// An input repeating the last one's units, any of them added to their
    /// images through `repeat` and the rest through `batch_after`, gives
    /// the profile that adding it whole gives: the same counts (none added
    /// twice or left out), origins and inputs; units not at their places
    /// are refused.
    #[test]
    fn a_repeat_added_in_part_is_the_input_added_whole() {
        const RUN1: &[u8] = include_bytes!("../../../samples/xen/gcc-12/calc-run1.xcov");
        const RUN2: &[u8] = include_bytes!("../../../samples/xen/gcc-12/calc-run2.xcov");
        let (run1, run2) = (dump_units(RUN1), dump_units(RUN2));
        let plain = PathMapping::default();
        let state = |p: &Profile| -> Vec<_> {
            p.units()
                .iter()
                .map(|u| (u.path.to_vec(), u.encoded().into_owned(), u.origins()))
                .collect()
        };
        let mut whole = Profile::new();
        for units in [&run1, &run2, &run1] {
            add(&mut whole, 1, units, OnConflict::Error).unwrap();
        }
        for mask in 0..1u32 << run2.len() {
            let mut p = Profile::new();
            add(&mut p, 1, &run1, OnConflict::Error).unwrap();
            let images = p.repeat().expect("the units kept as images");
            assert_eq!(images.len(), run2.len());
            let mut added = Vec::new();
            for (i, (image, (_, bytes))) in images.into_iter().zip(&run2).enumerate() {
                let take = mask & (1 << i) != 0;
                added.push(take && image.add_exact(bytes));
            }
            assert_eq!(
                added.iter().filter(|&&a| a).count(),
                mask.count_ones() as usize
            );
            if let Some(rest) = p.repeated(&added) {
                assert_ne!(mask, (1 << run2.len()) - 1);
                let units = run2
                    .iter()
                    .map(|(path, bytes)| Incoming::new(path.as_bytes(), bytes, &plain))
                    .collect();
                let (batch, warning) = p.batch_after(1, units, rest).unwrap();
                assert_eq!(warning, None);
                let done = p
                    .steps(&batch, OnConflict::Error)
                    .into_iter()
                    .map(|s| s.run())
                    .collect();
                assert!(p.finish(batch, done).unwrap().is_empty());
            }
            // The next input is counted as the third.
            add(&mut p, 1, &run1, OnConflict::Error).unwrap();
            assert_eq!(state(&p), state(&whole), "mask {mask:#b}");
        }
        // Units that are not at the places added: refused, nothing added.
        let mut p = Profile::new();
        add(&mut p, 1, &run1, OnConflict::Error).unwrap();
        let images = p.repeat().unwrap();
        let mut added = vec![false; run2.len()];
        for ((image, (_, bytes)), a) in images.into_iter().zip(&run2).zip(&mut added).take(1) {
            *a = image.add_exact(bytes);
        }
        let rest = p.repeated(&added).unwrap();
        let mut moved: Vec<_> = run2
            .iter()
            .map(|(path, bytes)| Incoming::new(path.as_bytes(), bytes, &plain))
            .collect();
        moved.rotate_left(1);
        let e = p.batch_after(1, moved, rest).unwrap_err();
        assert!(matches!(e, ProfileError::Changed { input: 1 }), "{e:?}");
    }

    #[test]
    fn mixed_compilers_and_saturation_are_profile_warnings() {
        let mut p = Profile::new();
        add(&mut p, 1, &[("ops.gcda", OPS1)], OnConflict::Error).unwrap();
        add(&mut p, u64::MAX, &[("ops.gcda", OPS2)], OnConflict::Error).unwrap();
        let w = p.warnings();
        let [ProfileWarning::Saturated(s)] = w.as_slice() else {
            panic!("{w:?}");
        };
        assert!(!s.is_empty());
        assert!(s.iter().all(|s| s.unit == b"ops.gcda"));

        let old: &[u8] = include_bytes!("../../../samples/gcc-11/calc/run1/ops.gcda");
        let mut p = Profile::new();
        add(
            &mut p,
            1,
            &[("a.gcda", OPS1), ("b.gcda", old)],
            OnConflict::Error,
        )
        .unwrap();
        let w = p.warnings();
        let [ProfileWarning::MixedVersions(v)] = w.as_slice() else {
            panic!("{w:?}");
        };
        assert_eq!(v.len(), 2);
    }
}

/// Units match by the normal components of their paths, joined by one `/`.
#[test]
fn match_keys() {
    use super::profile::match_key;
    for (path, key) in [
        (&b"/build/calc/main.gcda"[..], &b"build/calc/main.gcda"[..]),
        (b"main.gcda", b"main.gcda"),
        (b"./a//b/./c.gcda", b"a/b/c.gcda"),
        (b"a/../b.gcda", b"a/../b.gcda"),
        (b"/", b""),
        (b"", b""),
    ] {
        assert_eq!(match_key(path), key, "{}", String::from_utf8_lossy(path));
    }
}
