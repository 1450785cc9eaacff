//! Counter arithmetic of one section: scaling by a weight (`gcov-tool merge
//! -w`) and merging two sections of one kind by that kind's rule.

use super::{Overflow, checked, topn};
use crate::gcov::gcda::{Counters, Gcda, Record, Values};
use crate::gcov::kinds::MergeRule;

/// Multiplies every counter of `g` that scales by `weight` (as `gcov-tool
/// merge -w` does: counts scale, values, bit masks and times do not). A
/// product past [`MAX_COUNT`](super::MAX_COUNT) saturates (gcov-tool wraps it) and is returned.
pub fn scale(g: &mut Gcda, weight: u64) -> Vec<Overflow> {
    let mut overflows = Vec::new();
    if weight == 1 {
        return overflows;
    }
    for r in &mut g.records {
        if let Record::Function(f) = r {
            let function = f.id.map(|id| id.ident);
            for c in &mut f.counters {
                let mut values = 0;
                scale_counters(c, weight, &mut values);
                if values > 0 {
                    overflows.push(Overflow {
                        function,
                        kind: c.kind.name,
                        values,
                    });
                }
            }
        }
    }
    overflows
}

pub(super) fn scale_counters(c: &mut Counters, weight: u64, saturated: &mut usize) {
    let Values::Stored(v) = &mut c.values else {
        return; // zeros stay zeros
    };
    if c.kind.merge == MergeRule::Add && c.kind.name != "average" {
        v.iter_mut()
            .for_each(|x| *x = checked::mul(*x, weight, saturated));
        return;
    }
    // Votes and top-N counts are gcov_type (signed: a negative top-N total
    // marks lost values); average sums are sums of signed values.
    let mut w = |x: &mut u64| *x = checked::mul_signed(*x, weight, saturated);
    match c.kind.merge {
        MergeRule::Add => v.iter_mut().for_each(w),
        MergeRule::Ior | MergeRule::TimeProfile => {}
        // Per site: the value is a target, the counts scale.
        MergeRule::Single => v
            .chunks_mut(3)
            .for_each(|s| s.iter_mut().skip(1).for_each(&mut w)),
        MergeRule::Delta => v
            .chunks_mut(4)
            .for_each(|s| s.iter_mut().skip(2).for_each(&mut w)),
        MergeRule::IcallTopn | MergeRule::TopnFixed => v.chunks_mut(9).for_each(|s| {
            let (total, pairs) = s.split_at_mut(1);
            total.iter_mut().for_each(&mut w);
            pairs
                .chunks_mut(2)
                .for_each(|p| p.iter_mut().skip(1).for_each(&mut w));
        }),
        // Weight 0: the input's top-N values are left out with their counts,
        // as gcov-tool -w W,0 ignores the source's tables (a value with a
        // zero count would otherwise take a slot in the merged table).
        MergeRule::TopnVariable if weight == 0 => {
            let mut sites = Vec::new();
            let mut at = 0usize;
            while let Some(&n) = v.get(at + 1) {
                sites.extend([0, 0]);
                let pairs = usize::try_from(n).unwrap_or(usize::MAX);
                at = at.saturating_add(2).saturating_add(pairs.saturating_mul(2));
            }
            *v = sites;
        }
        MergeRule::TopnVariable => {
            let mut at = 0;
            while let Some(&n) = v.get(at + 1) {
                if let Some(t) = v.get_mut(at) {
                    w(t);
                }
                let pairs = usize::try_from(n).unwrap_or(usize::MAX);
                for p in 0..pairs {
                    if let Some(count) = v.get_mut(at + 3 + 2 * p) {
                        w(count);
                    }
                }
                at = at.saturating_add(2).saturating_add(pairs.saturating_mul(2));
            }
        }
    }
}

/// Merges one section into another of the same kind and (checked) shape;
/// `saturated` counts the values held at [`MAX_COUNT`] instead of wrapping.
pub(super) fn merge_counters(d: &mut Counters, s: &Counters, saturated: &mut usize) {
    // Adding zeros changes nothing (checked without expanding a compact section).
    let zeros = s.values.is_compact() || s.values.iter().all(|v| v == 0);
    if zeros && d.kind.merge != MergeRule::TopnVariable {
        return; // nothing to add, and the destination keeps its form
    }
    // The common case, stored values of an element-wise kind: in place.
    let average = d.kind.name == "average";
    if let (Values::Stored(dv), Values::Stored(sv)) = (&mut d.values, &s.values) {
        let pairs = dv.iter_mut().zip(sv);
        match d.kind.merge {
            MergeRule::Add => {
                return pairs
                    .for_each(|(a, b)| *a = checked::add_value(*a, *b, average, saturated));
            }
            MergeRule::Ior => return pairs.for_each(|(a, b)| *a |= b),
            MergeRule::TimeProfile => {
                return pairs.for_each(|(a, &b)| {
                    if b != 0 && (*a == 0 || b < *a) {
                        *a = b;
                    }
                });
            }
            _ => {}
        }
    }
    let mut dv: Vec<u64> = d.values.iter().collect();
    let sv: Vec<u64> = s.values.iter().collect();
    match d.kind.merge {
        MergeRule::Add => dv
            .iter_mut()
            .zip(&sv)
            .for_each(|(a, b)| *a = checked::add_value(*a, *b, average, saturated)),
        MergeRule::Ior => dv.iter_mut().zip(&sv).for_each(|(a, b)| *a |= b),
        MergeRule::TimeProfile => dv.iter_mut().zip(&sv).for_each(|(a, &b)| {
            if b != 0 && (*a == 0 || b < *a) {
                *a = b;
            }
        }),
        MergeRule::Single => dv
            .chunks_mut(3)
            .zip(sv.chunks(3))
            .for_each(|(a, b)| vote(&mut a[..], b, 0, saturated)),
        MergeRule::Delta => dv
            .chunks_mut(4)
            .zip(sv.chunks(4))
            .for_each(|(a, b)| vote(&mut a[..], b, 1, saturated)),
        MergeRule::IcallTopn | MergeRule::TopnFixed => dv
            .chunks_mut(9)
            .zip(sv.chunks(9))
            .for_each(|(a, b)| topn::merge_fixed(a, b, d.kind.merge, saturated)),
        MergeRule::TopnVariable => dv = topn::merge_variable_counted(&dv, &sv, saturated),
    }
    d.values = Values::Stored(dv);
}

/// The majority vote of the single-value and delta profilers: a site holds
/// (value, count, total) at `at..at + 3`; the other profile's value wins
/// only with more votes, and the difference is kept. The sums (votes for the
/// same value, the totals) count executions: they saturate. The difference
/// of two vote counts in gcov_type's range cannot overflow; libgcov's
/// wrapping subtraction is kept for votes already out of range (negative).
pub(super) fn vote(a: &mut [u64], b: &[u64], at: usize, saturated: &mut usize) {
    let (Some(&value), Some(&count), Some(&all)) = (b.get(at), b.get(at + 1), b.get(at + 2)) else {
        return;
    };
    let (Some(&mine), Some(&votes)) = (a.get(at), a.get(at + 1)) else {
        return;
    };
    // Counts are gcov_type: signed.
    let (new_value, new_votes) = if mine == value {
        (mine, checked::add_signed(votes, count, saturated))
    } else if (count as i64) > (votes as i64) {
        (value, count.wrapping_sub(votes))
    } else {
        (mine, votes.wrapping_sub(count))
    };
    if let Some(x) = a.get_mut(at) {
        *x = new_value;
    }
    if let Some(x) = a.get_mut(at + 1) {
        *x = new_votes;
    }
    if let Some(x) = a.get_mut(at + 2) {
        *x = checked::add_signed(*x, all, saturated);
    }
}
