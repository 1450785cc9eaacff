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

/// The largest count a merge writes: `gcov_type`'s maximum, 2^63 − 1. gcov,
/// gcov-dump and lcov read a counter as signed 64 bits, so 2^64 − 1 would be
/// −1 to them (lcov then reports the line as never run), while 2^63 − 1 reads
/// as itself everywhere, here included (formats/merge.md §14).
pub const MAX_COUNT: u64 = i64::MAX as u64;

/// Values of one counter section (or the summary) that a merge or a weight
/// would have taken past [`MAX_COUNT`] and that were saturated instead. The
/// unit is the caller's to name: the library sees one unit at a time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Overflow {
    /// The function's ident; `None` for the object summary.
    pub function: Option<u32>,
    /// The counter kind (`arcs`, `topn`, …), or `summary` (runs, sum_max).
    pub kind: &'static str,
    /// How many values were saturated.
    pub values: usize,
}

/// What [`merge_unit`] met on the way: resolved conflicts, saturated values.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outcome {
    pub conflicts: Vec<Conflict>,
    pub overflows: Vec<Overflow>,
}

fn describe(id: &FunctionId) -> String {
    match id.cfg_checksum {
        Some(cfg) => format!("lineno {:#010x}, cfg {cfg:#010x}", id.lineno_checksum),
        None => format!("checksum {:#010x}", id.lineno_checksum),
    }
}

/// Multiplies every counter of `g` that scales by `weight` (as `gcov-tool
/// merge -w` does: counts scale, values, bit masks and times do not). A
/// product past [`MAX_COUNT`] saturates (gcov-tool wraps it) and is returned.
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

fn scale_counters(c: &mut Counters, weight: u64, saturated: &mut usize) {
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
/// unit. Returns the conflicts met and resolved, and the values saturated at
/// [`MAX_COUNT`] (runs and sum_max at 2^32 − 1) where libgcov would wrap;
/// with [`OnConflict::Error`] the first conflict is returned as the error and
/// `dst` is unchanged.
pub fn merge_unit(dst: &mut Gcda, src: &Gcda, policy: OnConflict) -> Result<Outcome, ConflictKind> {
    let mut conflicts = Vec::new();
    let mut overflows = Vec::new();
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
        return Ok(Outcome {
            conflicts,
            overflows,
        });
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
                    let function = d.id.map(|id| id.ident);
                    for (dc, sc) in d.counters.iter_mut().zip(&f.counters) {
                        let mut values = 0;
                        merge_counters(dc, sc, &mut values);
                        if values > 0 {
                            overflows.push(Overflow {
                                function,
                                kind: dc.kind.name,
                                values,
                            });
                        }
                    }
                }
            }
        }
    }
    // Summary: runs and sum_max add up (unweighted); a side without one adds
    // nothing. Last, since inserting a record moves the planned indices.
    // Both are 32-bit words that gcov-tool wraps; here they saturate.
    match (object_summary(dst), object_summary(src)) {
        (Some((i, runs, max)), Some((_, r2, m2))) => {
            if let Some(Record::Other(o)) = dst.records.get_mut(i) {
                let (runs, r_over) = runs.overflowing_add(r2);
                let (max, m_over) = max.overflowing_add(m2);
                let sat = |v: u32, over: bool| if over { u32::MAX } else { v };
                o.words = vec![sat(runs, r_over), sat(max, m_over)];
                let values = usize::from(r_over) + usize::from(m_over);
                if values > 0 {
                    overflows.push(Overflow {
                        function: None,
                        kind: "summary",
                        values,
                    });
                }
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

    Ok(Outcome {
        conflicts,
        overflows,
    })
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

/// Merges one section into another of the same kind and (checked) shape;
/// `saturated` counts the values held at [`MAX_COUNT`] instead of wrapping.
fn merge_counters(d: &mut Counters, s: &Counters, saturated: &mut usize) {
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
fn vote(a: &mut [u64], b: &[u64], at: usize, saturated: &mut usize) {
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

mod topn {
    use super::checked;
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
}

/// Checked arithmetic of counts: where libgcov wraps modulo 2^64, a result
/// past [`MAX_COUNT`] saturates and is counted in `saturated`.
mod checked {
    use super::MAX_COUNT;

    /// `a + b` of two counts (arcs, interval, pow2; an average's two values
    /// are gcov_type sums, see [`add_value`]). An
    /// input value already above `MAX_COUNT` (a counter libgcov wrapped past
    /// 2^63) plus 0 is left as it is; plus more, the result is the largest of
    /// the two and `MAX_COUNT`: never less than an input, never wrapped.
    pub(super) fn add(a: u64, b: u64, saturated: &mut usize) -> u64 {
        if a == 0 || b == 0 {
            return a | b;
        }
        match a.checked_add(b) {
            Some(sum) if sum <= MAX_COUNT => sum,
            _ => {
                *saturated += 1;
                MAX_COUNT.max(a).max(b)
            }
        }
    }

    /// `a × w` of a count, saturating as [`add`] does.
    pub(super) fn mul(a: u64, w: u64, saturated: &mut usize) -> u64 {
        if a == 0 || w <= 1 {
            return if w == 0 { 0 } else { a };
        }
        match a.checked_mul(w) {
            Some(p) if p <= MAX_COUNT => p,
            _ => {
                *saturated += 1;
                MAX_COUNT.max(a)
            }
        }
    }

    /// Holds a signed result within ±`MAX_COUNT`.
    fn fit(x: i128, saturated: &mut usize) -> i64 {
        let max = i128::from(i64::MAX);
        if x > max {
            *saturated += 1;
            i64::MAX
        } else if x < -max {
            *saturated += 1;
            -i64::MAX
        } else {
            // In range by the two tests above.
            i64::try_from(x).unwrap_or(i64::MAX)
        }
    }

    /// `a + b` of two gcov_type values (votes, top-N totals and counts, an
    /// average's sum of values), saturating at ±`MAX_COUNT`.
    pub(super) fn add_signed_i64(a: i64, b: i64, saturated: &mut usize) -> i64 {
        if a == 0 || b == 0 {
            return a | b;
        }
        fit(i128::from(a) + i128::from(b), saturated)
    }

    /// [`add_signed_i64`] of two words as stored.
    pub(super) fn add_signed(a: u64, b: u64, saturated: &mut usize) -> u64 {
        add_signed_i64(a as i64, b as i64, saturated) as u64
    }

    /// `a × w` of a gcov_type value, saturating at ±`MAX_COUNT`.
    pub(super) fn mul_signed(a: u64, w: u64, saturated: &mut usize) -> u64 {
        let a = a as i64;
        if a == 0 || w <= 1 {
            return if w == 0 { 0 } else { a as u64 };
        }
        fit(i128::from(a) * i128::from(w), saturated) as u64
    }

    /// An Add-rule value: an average's values are signed sums, the others counts.
    pub(super) fn add_value(a: u64, b: u64, signed: bool, saturated: &mut usize) -> u64 {
        if signed {
            add_signed(a, b, saturated)
        } else {
            add(a, b, saturated)
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

    mod overflow {
        //! Each rule saturates where libgcov wraps, and reports how many
        //! values it held; values in range merge as libgcov merges them.
        use super::super::{
            MAX_COUNT, Overflow, merge_counters, merge_unit, scale, scale_counters,
        };
        use crate::gcda::{Counters, Gcda, Record, TAG_OBJECT_SUMMARY, Values};
        use crate::version::{CounterKind, MergeRule};

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
                1 => include_bytes!("../samples/gcc-12/calc/run1/ops.gcda"),
                _ => include_bytes!("../samples/gcc-12/calc/run2/ops.gcda"),
            };
            Gcda::decode(bytes).unwrap_or_else(|e| panic!("{e}"))
        }

        fn set_runs(g: &mut Gcda, runs: u32) {
            for r in &mut g.records {
                if let Record::Other(o) = r
                    && o.tag == TAG_OBJECT_SUMMARY
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
                    Record::Other(o) if o.tag == TAG_OBJECT_SUMMARY => o.words.first().copied(),
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
                    .filter_map(|f| {
                        Some((f.id?.ident, f.counters.first()?.values.iter().collect()))
                    })
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
}
