//! Merging profiles of one build, unit by unit, as GCC's libgcov and
//! `gcov-tool merge` do (see `formats/merge.md`).
//!
//! Functions are matched by ident and checksums (one checksum in the 3.4
//! family, lineno + cfg in the 4.7 family); counters by kind, each with the
//! merge rule of its release ([`MergeRule`]). Anything that does not line up
//! — another build (stamp), another compiler (version), a function whose
//! checksums differ, a counter section of another length — is a
//! [`Conflict`], never silently mixed: the caller's [`OnConflict`] decides.
//!
//! The destination keeps its own conventions (compact zero sections, end
//! marker, summaries), so merging one input alone gives it back byte for byte.

use crate::gcda::{
    Counters, Function, FunctionId, Gcda, OtherRecord, Record, TAG_OBJECT_SUMMARY, Values,
};
use crate::version::MergeRule;
use std::collections::HashMap;

/// What to do when two inputs do not line up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OnConflict {
    /// Stop with an error naming both inputs, the unit and the function.
    #[default]
    Error,
    /// Keep what was merged so far and skip the conflicting part of the new input.
    Skip,
    /// The later input replaces the conflicting part.
    KeepNewest,
}

/// Why two profiles did not line up.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConflictKind {
    #[error("different object stamps {a:#010x} and {b:#010x}: two different builds of the unit")]
    Stamp { a: u32, b: u32 },
    #[error("different gcov versions {a} and {b}: two different compilers")]
    Version { a: String, b: String },
    #[error(
        "function {ident}: checksums differ ({a} against {b}): the function changed between builds"
    )]
    Checksum { ident: u32, a: String, b: String },
    #[error("function {ident}: {kind} counters differ in length ({a} against {})", crate::plural::count(*.b, "value", "values"))]
    Length {
        ident: u32,
        kind: &'static str,
        a: usize,
        b: usize,
    },
    #[error("function {ident}: the {kind} counters are present in one input only")]
    Kinds { ident: u32, kind: &'static str },
    #[error("function {ident}: a malformed {kind} section ({why})")]
    Malformed {
        ident: u32,
        kind: &'static str,
        why: &'static str,
    },
}

/// A conflict and what was done about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conflict {
    pub kind: ConflictKind,
    pub resolution: Resolution,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resolution {
    /// Not resolved: [`OnConflict::Error`].
    Refused,
    /// The new input's part was left out.
    Skipped,
    /// The new input's part replaced the old.
    Replaced,
}

fn describe(id: &FunctionId) -> String {
    match id.cfg_checksum {
        Some(cfg) => format!("lineno {:#010x}, cfg {cfg:#010x}", id.lineno_checksum),
        None => format!("checksum {:#010x}", id.lineno_checksum),
    }
}

/// Multiplies every counter of `g` that scales by `weight` (as `gcov-tool
/// merge -w` does: counts scale, values, bit masks and times do not).
pub fn scale(g: &mut Gcda, weight: u64) {
    if weight == 1 {
        return;
    }
    for r in &mut g.records {
        if let Record::Function(f) = r {
            for c in &mut f.counters {
                scale_counters(c, weight);
            }
        }
    }
}

fn scale_counters(c: &mut Counters, weight: u64) {
    let Values::Stored(v) = &mut c.values else {
        return; // zeros stay zeros
    };
    let w = |x: &mut u64| *x = x.wrapping_mul(weight);
    match c.kind.merge {
        MergeRule::Add => v.iter_mut().for_each(w),
        MergeRule::Ior | MergeRule::TimeProfile => {}
        // Per site: the value is a target, the counts scale.
        MergeRule::Single => v
            .chunks_mut(3)
            .for_each(|s| s.iter_mut().skip(1).for_each(w)),
        MergeRule::Delta => v
            .chunks_mut(4)
            .for_each(|s| s.iter_mut().skip(2).for_each(w)),
        MergeRule::IcallTopn | MergeRule::TopnFixed => v.chunks_mut(9).for_each(|s| {
            let (total, pairs) = s.split_at_mut(1);
            total.iter_mut().for_each(w);
            pairs
                .chunks_mut(2)
                .for_each(|p| p.iter_mut().skip(1).for_each(w));
        }),
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

/// The (runs, sum_max) object summary of GCC 9+, index of the record.
fn object_summary(g: &Gcda) -> Option<(usize, u32, u32)> {
    g.records.iter().enumerate().find_map(|(i, r)| match r {
        Record::Other(o) if o.tag == TAG_OBJECT_SUMMARY => match o.words.as_slice() {
            &[runs, max] => Some((i, runs, max)),
            _ => None,
        },
        _ => None,
    })
}

/// Merges `src` (already scaled by its weight) into `dst`, both of the same
/// unit. Returns the conflicts met and resolved; with [`OnConflict::Error`]
/// the first conflict is returned as the error and `dst` is unchanged.
pub fn merge_unit(
    dst: &mut Gcda,
    src: &Gcda,
    policy: OnConflict,
) -> Result<Vec<Conflict>, ConflictKind> {
    let mut conflicts = Vec::new();
    let (dv, sv) = (dst.header.version, src.header.version);
    let unit_conflict = if dv.word() != sv.word() {
        Some(ConflictKind::Version {
            a: dv.to_string(),
            b: sv.to_string(),
        })
    } else if dst.header.stamp != src.header.stamp {
        Some(ConflictKind::Stamp {
            a: dst.header.stamp,
            b: src.header.stamp,
        })
    } else {
        None
    };
    if let Some(kind) = unit_conflict {
        let resolution = resolve(policy, kind.clone())?;
        if resolution == Resolution::Replaced {
            *dst = src.clone();
        }
        conflicts.push(Conflict { kind, resolution });
        return Ok(conflicts);
    }

    // Check every function first so that a refusal leaves `dst` untouched.
    // An ident twice in one unit is no profile GCC writes (and would make the
    // checks of the second copy stale once the first is applied): refused.
    let duplicate = |ident| ConflictKind::Malformed {
        ident,
        kind: "function",
        why: "its ident appears twice in one unit",
    };
    let mut index: HashMap<u32, usize> = HashMap::new();
    for (i, r) in dst.records.iter().enumerate() {
        if let Record::Function(Function { id: Some(id), .. }) = r
            && index.insert(id.ident, i).is_some()
        {
            return Err(duplicate(id.ident));
        }
    }
    let mut seen: std::collections::HashSet<u32> = std::collections::HashSet::new();
    let mut plan: Vec<(Option<usize>, &Function, Option<Resolution>)> = Vec::new();
    for f in src.functions() {
        let Some(sid) = f.id else {
            continue; // a placeholder carries nothing
        };
        if !seen.insert(sid.ident) {
            return Err(duplicate(sid.ident));
        }
        let Some(&at) = index.get(&sid.ident) else {
            plan.push((None, f, None));
            continue;
        };
        let Some(Record::Function(d)) = dst.records.get(at) else {
            continue;
        };
        match check_function(d, f) {
            Ok(()) => plan.push((Some(at), f, None)),
            Err(kind) => {
                let resolution = resolve(policy, kind.clone())?;
                conflicts.push(Conflict { kind, resolution });
                plan.push((Some(at), f, Some(resolution)));
            }
        }
    }

    for (at, f, resolution) in plan {
        match (at, resolution) {
            (None, _) => dst.records.push(Record::Function(f.clone())),
            (Some(_), Some(Resolution::Skipped | Resolution::Refused)) => {}
            (Some(at), Some(Resolution::Replaced)) => {
                if let Some(slot) = dst.records.get_mut(at) {
                    *slot = Record::Function(f.clone());
                }
            }
            (Some(at), None) => {
                if let Some(Record::Function(d)) = dst.records.get_mut(at) {
                    for (dc, sc) in d.counters.iter_mut().zip(&f.counters) {
                        merge_counters(dc, sc);
                    }
                }
            }
        }
    }
    // Summary: runs and sum_max add up (unweighted); a side without one adds
    // nothing. Last, since inserting a record moves the planned indices.
    match (object_summary(dst), object_summary(src)) {
        (Some((i, runs, max)), Some((_, r2, m2))) => {
            if let Some(Record::Other(o)) = dst.records.get_mut(i) {
                o.words = vec![runs.wrapping_add(r2), max.wrapping_add(m2)];
            }
        }
        (None, Some((_, r2, m2))) => dst.records.insert(
            0,
            Record::Other(OtherRecord {
                tag: TAG_OBJECT_SUMMARY,
                words: vec![r2, m2],
            }),
        ),
        _ => {}
    }
    // A hypervisor writes a zero checksum: the real one wins.
    if dst.header.checksum == Some(0) {
        dst.header.checksum = src.header.checksum;
    }

    Ok(conflicts)
}

fn resolve(policy: OnConflict, kind: ConflictKind) -> Result<Resolution, ConflictKind> {
    match policy {
        OnConflict::Error => Err(kind),
        OnConflict::Skip => Ok(Resolution::Skipped),
        OnConflict::KeepNewest => Ok(Resolution::Replaced),
    }
}

/// Whether two records of one function can be merged.
fn check_function(d: &Function, s: &Function) -> Result<(), ConflictKind> {
    let (Some(did), Some(sid)) = (d.id, s.id) else {
        return Ok(());
    };
    let ident = did.ident;
    if did != sid {
        return Err(ConflictKind::Checksum {
            ident,
            a: describe(&did),
            b: describe(&sid),
        });
    }
    if d.counters.len() != s.counters.len() {
        let missing = d.counters.iter().chain(&s.counters).find(|c| {
            !d.counters.iter().any(|x| x.kind.index == c.kind.index)
                || !s.counters.iter().any(|x| x.kind.index == c.kind.index)
        });
        return Err(ConflictKind::Kinds {
            ident,
            kind: missing.map_or("some", |c| c.kind.name),
        });
    }
    for (dc, sc) in d.counters.iter().zip(&s.counters) {
        if dc.kind.index != sc.kind.index {
            return Err(ConflictKind::Kinds {
                ident,
                kind: sc.kind.name,
            });
        }
        let (a, b) = (dc.values.len(), sc.values.len());
        let fixed = dc.kind.merge != MergeRule::TopnVariable;
        if fixed && a != b {
            return Err(ConflictKind::Length {
                ident,
                kind: dc.kind.name,
                a,
                b,
            });
        }
        if let Some(site) = dc.kind.merge.site_len()
            && a % site != 0
        {
            return Err(ConflictKind::Malformed {
                ident,
                kind: dc.kind.name,
                why: "not a whole number of sites",
            });
        }
        if !fixed {
            // GCC writes top-N sections in full; a compact one is not GCC's,
            // and expanding its claimed zeros could cost more than the input.
            if dc.values.is_compact() || sc.values.is_compact() {
                return Err(ConflictKind::Malformed {
                    ident,
                    kind: dc.kind.name,
                    why: "a top-N section in the compact form, which GCC never writes",
                });
            }
            let (da, sa) = (topn::sites(&dc.values), topn::sites(&sc.values));
            if da.is_none() || sa.is_none() {
                return Err(ConflictKind::Malformed {
                    ident,
                    kind: dc.kind.name,
                    why: "site counts do not add up",
                });
            }
            if da.map(|s| s.len()) != sa.map(|s| s.len()) {
                return Err(ConflictKind::Length {
                    ident,
                    kind: dc.kind.name,
                    a,
                    b,
                });
            }
        }
    }
    Ok(())
}

/// Merges one section into another of the same kind and (checked) shape.
fn merge_counters(d: &mut Counters, s: &Counters) {
    // Adding zeros changes nothing (checked without expanding a compact section).
    let zeros = s.values.is_compact() || s.values.iter().all(|v| v == 0);
    if zeros && d.kind.merge != MergeRule::TopnVariable {
        return; // nothing to add, and the destination keeps its form
    }
    // The common case, stored values of an element-wise kind: in place.
    if let (Values::Stored(dv), Values::Stored(sv)) = (&mut d.values, &s.values) {
        let pairs = dv.iter_mut().zip(sv);
        match d.kind.merge {
            MergeRule::Add => return pairs.for_each(|(a, b)| *a = a.wrapping_add(*b)),
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
            .for_each(|(a, b)| *a = a.wrapping_add(*b)),
        MergeRule::Ior => dv.iter_mut().zip(&sv).for_each(|(a, b)| *a |= b),
        MergeRule::TimeProfile => dv.iter_mut().zip(&sv).for_each(|(a, &b)| {
            if b != 0 && (*a == 0 || b < *a) {
                *a = b;
            }
        }),
        MergeRule::Single => dv
            .chunks_mut(3)
            .zip(sv.chunks(3))
            .for_each(|(a, b)| vote(&mut a[..], b, 0)),
        MergeRule::Delta => dv
            .chunks_mut(4)
            .zip(sv.chunks(4))
            .for_each(|(a, b)| vote(&mut a[..], b, 1)),
        MergeRule::IcallTopn | MergeRule::TopnFixed => dv
            .chunks_mut(9)
            .zip(sv.chunks(9))
            .for_each(|(a, b)| topn::merge_fixed(a, b, d.kind.merge)),
        MergeRule::TopnVariable => dv = topn::merge_variable(&dv, &sv),
    }
    d.values = Values::Stored(dv);
}

/// The majority vote of the single-value and delta profilers: a site holds
/// (value, count, total) at `at..at + 3`; the other profile's value wins
/// only with more votes, and the difference is kept.
fn vote(a: &mut [u64], b: &[u64], at: usize) {
    let (Some(&value), Some(&count), Some(&all)) = (b.get(at), b.get(at + 1), b.get(at + 2)) else {
        return;
    };
    let (Some(&mine), Some(&votes)) = (a.get(at), a.get(at + 1)) else {
        return;
    };
    // Counts are gcov_type: signed.
    let (new_value, new_votes) = if mine == value {
        (mine, votes.wrapping_add(count))
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
        *x = x.wrapping_add(all);
    }
}

mod topn {
    use crate::version::MergeRule;

    /// The sites of a GCC 11+ top-N section: (start, pair count); `None`
    /// when the counts do not add up to the section's length.
    pub(super) fn sites(values: &crate::gcda::Values) -> Option<Vec<(usize, usize)>> {
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

    /// GCC 11+ top-N: per site, the totals add and the other profile's
    /// (value, count) pairs are folded into this one's list in file order
    /// (see [`insert`]); if a value had to be dropped, the total is negated.
    /// The result is written back in list order, as libgcov writes it.
    pub(super) fn merge_variable(a: &[u64], b: &[u64]) -> Vec<u64> {
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
            total = total.wrapping_add(incoming.wrapping_abs());
            for (value, count) in pairs(b, bt, bn) {
                full |= insert(&mut list, value, count);
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

    /// libgcov's insertion of one (value, count) into a site's list: a known
    /// value adds its count; a new one is appended while fewer than
    /// [`MAX_TRACKED`] are tracked; otherwise the first least-count entry
    /// loses one and is replaced if that leaves it below `count`. Returns
    /// whether the site was full.
    pub(super) fn insert(list: &mut Vec<(i64, i64)>, value: i64, count: i64) -> bool {
        if let Some(node) = list.iter_mut().find(|n| n.0 == value) {
            node.1 = node.1.wrapping_add(count);
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
    /// (value, count) pairs); `from source, not tested here` in formats/merge.md.
    pub(super) fn merge_fixed(a: &mut [u64], b: &[u64], rule: MergeRule) {
        let pairs = |v: &[u64]| -> Vec<(i64, i64)> {
            v.chunks(2)
                .filter_map(|p| Some((*p.first()? as i64, *p.get(1)? as i64)))
                .collect()
        };
        let (Some((a_first, a_rest)), Some((b_first, b_rest))) =
            (a.split_first_mut(), b.split_first())
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
                        Some(p) => p.1 = p.1.wrapping_add(count),
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
                total = total.wrapping_add(incoming);
                for (value, count) in theirs.into_iter().filter(|p| p.1 != 0) {
                    if let Some(p) = mine.iter_mut().find(|p| p.0 == value) {
                        p.1 = p.1.wrapping_add(count);
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
}

#[cfg(test)]
mod tests {
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
}
