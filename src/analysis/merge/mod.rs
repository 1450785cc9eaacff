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

use crate::gcov::gcda::{Function, FunctionId, Gcda, OtherRecord, Record};
use crate::gcov::kinds::MergeRule;
use crate::gcov::tag::Tag;
use std::collections::HashMap;

mod checked;
mod counters;
pub mod fast;
pub mod profile;
#[cfg(test)]
mod tests;
mod topn;

use counters::merge_counters;
pub use counters::scale;

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
#[non_exhaustive]
pub enum ConflictKind {
    /// The units carry different stamps: two builds (each compilation gets a new stamp).
    #[error("different object stamps {a:#010x} and {b:#010x}: two different builds of the unit")]
    Stamp {
        /// The destination's stamp.
        a: u32,
        /// The incoming stamp.
        b: u32,
    },
    /// The units were written by different gcov versions (compilers).
    #[error("different gcov versions {a} and {b}: two different compilers")]
    Version {
        /// The destination's version, as gcov names it.
        a: String,
        /// The incoming version.
        b: String,
    },
    /// A function's checksums differ: its source or flow graph changed.
    #[error(
        "function {ident}: checksums differ ({a} against {b}): the function changed between builds"
    )]
    Checksum {
        /// The function's ident.
        ident: u32,
        /// The destination's checksums, as shown.
        a: String,
        /// The incoming checksums.
        b: String,
    },
    /// A counter section has another number of values in each input.
    #[error("function {ident}: {kind} counters differ in length ({a} against {})", crate::plural::count(*.b, "value", "values"))]
    Length {
        /// The function's ident.
        ident: u32,
        /// The counter kind's name.
        kind: &'static str,
        /// Values in the destination.
        a: usize,
        /// Values in the incoming section.
        b: usize,
    },
    /// A counter kind is present in one input and absent in the other.
    #[error("function {ident}: the {kind} counters are present in one input only")]
    Kinds {
        /// The function's ident.
        ident: u32,
        /// The counter kind's name.
        kind: &'static str,
    },
    /// A section's values do not have the shape its kind requires (top-N sites).
    #[error("function {ident}: a malformed {kind} section ({why})")]
    Malformed {
        /// The function's ident.
        ident: u32,
        /// The counter kind's name.
        kind: &'static str,
        /// What is wrong with it.
        why: &'static str,
    },
}

/// A conflict and what was done about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conflict {
    /// What did not line up.
    pub kind: ConflictKind,
    /// What the merge did about it, as [`OnConflict`] asked.
    pub resolution: Resolution,
}

/// What a merge did with a [`Conflict`], following the caller's [`OnConflict`].
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
    /// The conflicts met, in input order, each with what was done about it.
    pub conflicts: Vec<Conflict>,
    /// The counter sections in which values were saturated at [`MAX_COUNT`].
    pub overflows: Vec<Overflow>,
}

fn describe(id: &FunctionId) -> String {
    match id.cfg_checksum {
        Some(cfg) => format!("lineno {:#010x}, cfg {cfg:#010x}", id.lineno_checksum),
        None => format!("checksum {:#010x}", id.lineno_checksum),
    }
}

/// The (runs, sum_max) object summary of GCC 9+, index of the record.
fn object_summary(g: &Gcda) -> Option<(usize, u32, u32)> {
    g.records.iter().enumerate().find_map(|(i, r)| match r {
        Record::Other(o) if o.tag == Tag::OBJECT_SUMMARY => match o.words.as_slice() {
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
                tag: Tag::OBJECT_SUMMARY,
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
