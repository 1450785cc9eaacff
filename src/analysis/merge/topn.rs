use super::checked;
use crate::gcov::kinds::MergeRule;

/// The sites of a GCC 11+ top-N section: (start, pair count); `None`
/// when the counts do not add up to the section's length.
pub(super) fn sites(values: &crate::gcov::gcda::Values) -> Option<Vec<(usize, usize)>> {
    let v: Vec<u64> = values.iter().collect();
    sites_of(&v)
}

pub(super) fn sites_of(v: &[u64]) -> Option<Vec<(usize, usize)>> {
    let mut out = Vec::new();
    let mut at = 0usize;
    while at < v.len() {
        let n = usize::try_from(*v.get(at + 1)?).ok()?;
        let end = at.checked_add(2)?.checked_add(n.checked_mul(2)?)?;
        if end > v.len() {
            return None;
        }
        out.push((at, n));
        at = end;
    }
    Some(out)
}

/// Sites tracked at most by a GCC 11+ top-N site (`GCOV_TOPN_MAXIMUM_TRACKED_VALUES`).
pub(super) const MAX_TRACKED: usize = 32;

#[cfg(test)]
pub(super) fn merge_variable(a: &[u64], b: &[u64]) -> Vec<u64> {
    merge_variable_counted(a, b, &mut 0)
}

/// GCC 11+ top-N: per site, the totals add and the other profile's
/// (value, count) pairs are folded into this one's list in file order
/// (see [`insert`]); if a value had to be dropped, the total is negated.
/// The result is written back in list order, as libgcov writes it.
/// Totals (in magnitude) and counts saturate at `MAX_COUNT`.
pub(super) fn merge_variable_counted(a: &[u64], b: &[u64], saturated: &mut usize) -> Vec<u64> {
    let (Some(sa), Some(sb)) = (sites_of(a), sites_of(b)) else {
        return a.to_vec(); // checked before merging
    };
    let mut out = Vec::with_capacity(a.len() + b.len());
    for (&(at, n), &(bt, bn)) in sa.iter().zip(&sb) {
        let pairs = |v: &[u64], start: usize, n: usize| -> Vec<(i64, i64)> {
            (0..n)
                .filter_map(|j| {
                    let v0 = *v.get(start + 2 + 2 * j)?;
                    let c0 = *v.get(start + 3 + 2 * j)?;
                    Some((v0 as i64, c0 as i64))
                })
                .collect()
        };
        let mut list = pairs(a, at, n);
        let mut total = a.get(at).copied().unwrap_or(0) as i64;
        let incoming = b.get(bt).copied().unwrap_or(0) as i64;
        let mut full = incoming < 0;
        let magnitude = i64::try_from(incoming.unsigned_abs()).unwrap_or(i64::MAX);
        total = checked::add_signed_i64(total, magnitude, saturated);
        for (value, count) in pairs(b, bt, bn) {
            full |= insert_counted(&mut list, value, count, saturated);
        }
        if full {
            total = total.wrapping_neg();
        }
        out.push(total as u64);
        out.push(list.len() as u64);
        for (value, count) in list {
            out.push(value as u64);
            out.push(count as u64);
        }
    }
    out
}

#[cfg(test)]
pub(super) fn insert(list: &mut Vec<(i64, i64)>, value: i64, count: i64) -> bool {
    insert_counted(list, value, count, &mut 0)
}

/// libgcov's insertion of one (value, count) into a site's list: a known
/// value adds its count (saturating); a new one is appended while fewer than
/// [`MAX_TRACKED`] are tracked; otherwise the first least-count entry
/// loses one and is replaced if that leaves it below `count`. Returns
/// whether the site was full.
pub(super) fn insert_counted(
    list: &mut Vec<(i64, i64)>,
    value: i64,
    count: i64,
    saturated: &mut usize,
) -> bool {
    if let Some(node) = list.iter_mut().find(|n| n.0 == value) {
        node.1 = checked::add_signed_i64(node.1, count, saturated);
        return false;
    }
    if list.len() < MAX_TRACKED {
        list.push((value, count));
        return false;
    }
    let mut least = 0;
    for (i, n) in list.iter().enumerate() {
        if list.get(least).is_some_and(|l| n.1 < l.1) {
            least = i;
        }
    }
    if let Some(node) = list.get_mut(least) {
        node.1 = node.1.wrapping_sub(1);
        if node.1 < count {
            *node = (value, count);
        }
    }
    true
}

/// The fixed top-N sites of GCC 5-10 (9 values: a first word, then 4
/// (value, count) pairs); compared with gcov-tool-9 and gcov-tool-10 on
/// real runs in tests/merge_old_eras.rs (formats/merge.md §11).
pub(super) fn merge_fixed(a: &mut [u64], b: &[u64], rule: MergeRule, saturated: &mut usize) {
    let pairs = |v: &[u64]| -> Vec<(i64, i64)> {
        v.chunks(2)
            .filter_map(|p| Some((*p.first()? as i64, *p.get(1)? as i64)))
            .collect()
    };
    let (Some((a_first, a_rest)), Some((b_first, b_rest))) = (a.split_first_mut(), b.split_first())
    else {
        return;
    };
    let mut mine = pairs(a_rest);
    let theirs = pairs(b_rest);
    match rule {
        // GCC 5-9 indirect-call top-N: the first word (evictions) stays;
        // pairs merge by callee, then the four largest counts are kept
        // (stable sort, descending).
        MergeRule::IcallTopn => {
            for (value, count) in theirs {
                match mine.iter_mut().find(|p| p.0 == value) {
                    Some(p) => p.1 = checked::add_signed_i64(p.1, count, saturated),
                    None => mine.push((value, count)),
                }
            }
            mine.sort_by_key(|p| std::cmp::Reverse(p.1));
            mine.truncate(4);
        }
        // GCC 10 top-N: the totals add (a negative total marks lost
        // values); each pair adds to its value's slot, fills an empty
        // slot, or fights the least slot, losing values on the way.
        _ => {
            let mut total = *a_first as i64;
            let incoming = *b_first as i64;
            if incoming < 0 && total > 0 {
                total = -total;
            }
            total = checked::add_signed_i64(total, incoming, saturated);
            for (value, count) in theirs.into_iter().filter(|p| p.1 != 0) {
                if let Some(p) = mine.iter_mut().find(|p| p.0 == value) {
                    p.1 = checked::add_signed_i64(p.1, count, saturated);
                    continue;
                }
                let mut least = 0;
                for (i, p) in mine.iter().enumerate() {
                    if mine.get(least).is_some_and(|l| p.1 < l.1) {
                        least = i;
                    }
                }
                let Some(slot) = mine.get_mut(least) else {
                    continue;
                };
                if slot.1 == 0 {
                    *slot = (value, count);
                    continue;
                }
                if total > 0 {
                    total = -total;
                }
                if count > slot.1 {
                    *slot = (value, count);
                } else {
                    slot.1 = slot.1.wrapping_sub(count);
                }
            }
            // libgcov 10 prunes a site before writing it (and gcov-tool-10
            // writes through the same code): a pair counted fewer times
            // than the site's total is dropped, so that a profile gives
            // reproducible builds. Seen on real gcc-10 runs merged by
            // gcov-tool-10 (tests/merge_old_eras.rs).
            for p in &mut mine {
                if p.1 < total {
                    *p = (0, 0);
                }
            }
            *a_first = total as u64;
        }
    }
    for (dst, (value, count)) in a_rest.chunks_mut(2).zip(mine) {
        if let [v, c] = dst {
            *v = value as u64;
            *c = count as u64;
        }
    }
}
