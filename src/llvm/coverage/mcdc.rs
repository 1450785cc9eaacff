//! MC/DC of `-fcoverage-mcdc` builds, computed as llvm-cov computes it
//! (`MCDCDecisionRecorder` and `MCDCRecordProcessor` of LLVM's
//! `CoverageMapping.cpp`).
//!
//! A decision region names where its test-vector bits start in the
//! function's bitmap and how many conditions it has; its conditions are the
//! MC/DC branch regions that follow it in the record (inside its extent, or
//! in a file an expansion inside it expands), one per condition ID. The
//! conditions form a binary decision diagram: each has the ID that is
//! evaluated next when it is false and when it is true (or none: the
//! decision is decided). Every path from condition 0 to an end is a test
//! vector (each condition true, false or not evaluated, and the outcome);
//! the runtime sets one bit per path taken. A condition is covered when two
//! executed vectors with different outcomes differ in it and in no other
//! condition evaluated by both (an independence pair, "masking" MC/DC).
//!
//! Where a path's bit is differs between releases: up to LLVM 18 the bit
//! index is the decision's byte index × 8 plus the mask of the conditions
//! that were true; from LLVM 19 paths are numbered as `TVIdxBuilder`
//! numbers them (`path_indices`), and the decision's index names the
//! bit after its last path.

use super::{CountedRegion, FunctionRecord, Options, Pair, main_file_id};
use crate::llvm::covmap::{Mcdc, Region, RegionKind};

/// One condition of a decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct McdcCondition {
    /// The condition's ID (0-based, as llvm-cov numbers them).
    pub id: u16,
    /// Its line.
    pub line: u32,
    /// Its column.
    pub column: u32,
    /// Constant-folded: left out of the totals (both counters the constant
    /// 0; from LLVM 20 either one).
    pub folded: bool,
    /// Has an independence pair among the executed test vectors.
    pub covered: bool,
}

/// One decision's MC/DC (llvm-cov's `MCDCRecord`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct McdcRecord {
    /// The decision region.
    pub decision: Region,
    /// Its conditions in llvm-cov's order: ID 0 first, then as the
    /// record lists them.
    pub conditions: Vec<McdcCondition>,
    /// How many test vectors ran.
    pub executed_vectors: usize,
}

impl McdcRecord {
    /// (conditions counted, covered): folded conditions are not counted.
    pub fn summary(&self) -> Pair {
        let n = self.conditions.iter().filter(|c| !c.folded).count();
        let hit = self
            .conditions
            .iter()
            .filter(|c| !c.folded && c.covered)
            .count();
        (n, hit)
    }
}

/// A decision collecting its conditions.
struct Pending {
    decision: Region,
    conditions: u16,
    branches: Vec<CountedRegion>,
    expanded: Vec<u32>,
}

impl Pending {
    fn dominates(&self, r: &Region) -> bool {
        (r.file_id == self.decision.file_id
            && r.start() >= self.decision.start()
            && r.end() <= self.decision.end())
            || self.expanded.contains(&r.file_id)
    }
}

fn branch_ids(r: &Region) -> Option<(u16, i32, i32)> {
    match r.mcdc {
        // Stored 1-based with 0 for "none"; llvm-cov works 0-based with -1.
        Some(Mcdc::Branch {
            id,
            false_id,
            true_id,
        }) => Some((
            id.checked_sub(1)?,
            i32::from(false_id) - 1,
            i32::from(true_id) - 1,
        )),
        _ => None,
    }
}

/// The decisions of a function's mapping (regions in record order: decision,
/// expansion and MC/DC branch regions, the branches with their counts), each
/// with its conditions, as llvm-cov pairs them.
pub(super) fn decisions(regions: &[CountedRegion]) -> Vec<(Region, Vec<CountedRegion>)> {
    let mut pending: Vec<Pending> = Vec::new();
    let mut done = Vec::new();
    for r in regions {
        match r.region.kind {
            RegionKind::McdcDecision => {
                if let Some(Mcdc::Decision { conditions, .. }) = r.region.mcdc {
                    pending.push(Pending {
                        decision: r.region,
                        conditions,
                        branches: Vec::new(),
                        expanded: Vec::new(),
                    });
                }
            }
            RegionKind::Expansion => {
                if let Some(p) = pending.iter_mut().find(|p| p.dominates(&r.region)) {
                    p.expanded.push(r.region.expanded_file_id);
                }
            }
            RegionKind::McdcBranch => {
                let Some((id, _, _)) = branch_ids(&r.region) else {
                    continue;
                };
                let Some(k) = pending.iter().position(|p| {
                    id < p.conditions
                        && !p
                            .branches
                            .iter()
                            .any(|b| branch_ids(&b.region).map(|x| x.0) == Some(id))
                        && p.dominates(&r.region)
                }) else {
                    continue;
                };
                let Some(p) = pending.get_mut(k) else {
                    continue;
                };
                if id == 0 {
                    p.branches.insert(0, *r);
                } else {
                    p.branches.push(*r);
                }
                if p.branches.len() == usize::from(p.conditions) {
                    let p = pending.remove(k);
                    done.push((p.decision, p.branches));
                }
            }
            _ => {}
        }
    }
    done
}

/// `TVIdxBuilder` (LLVM 19+): for each condition and outcome, the amount a
/// path's index grows by taking that edge; and the number of paths. Nodes
/// are visited breadth-first from condition 0 once all their incoming edges
/// are; an edge into a condition adds the paths already counted into it (its
/// width so far); edges that end the decision are ordered by the width of
/// their condition (widest first, then visit order) and take consecutive
/// ranges of indices. `None` for a diagram that is not one.
fn path_indices(next: &[[i32; 2]]) -> Option<(Vec<[i64; 2]>, i64)> {
    let n = next.len();
    let mut incoming = vec![0u32; n];
    for e in next {
        for &t in e {
            if t >= 0 {
                *incoming.get_mut(usize::try_from(t).ok()?)? += 1;
            }
        }
    }
    let mut width = vec![0i64; n];
    let mut idx = vec![[0i64; 2]; n];
    *width.first_mut()? = 1;
    let mut queue = std::collections::VecDeque::from([0usize]);
    let mut ends: Vec<(i64, usize, usize, usize)> = Vec::new();
    while let Some(id) = queue.pop_front() {
        let w = *width.get(id)?;
        for c in 0..2 {
            let t = *next.get(id)?.get(c)?;
            if t < 0 {
                ends.push((-w, ends.len(), id, c));
                continue;
            }
            let t = usize::try_from(t).ok()?;
            *idx.get_mut(id)?.get_mut(c)? = *width.get(t)?;
            *width.get_mut(t)? += w;
            let inc = incoming.get_mut(t)?;
            *inc -= 1;
            if *inc == 0 {
                queue.push_back(t);
            }
        }
    }
    ends.sort_unstable();
    let mut cur = 0i64;
    for (neg_width, _, id, c) in ends {
        *idx.get_mut(id)?.get_mut(c)? = cur;
        cur += -neg_width;
    }
    Some((idx, cur))
}

/// The state of a condition in a test vector.
#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    DontCare,
    False,
    True,
}

/// Computes one decision's MC/DC from the function's bitmap. `None` when
/// the conditions do not form a decision diagram.
pub(super) fn record(
    decision: Region,
    branches: &[CountedRegion],
    bitmap: &[u8],
    opts: &Options,
) -> Option<McdcRecord> {
    let Some(Mcdc::Decision {
        bitmap_index,
        conditions,
    }) = decision.mcdc
    else {
        return None;
    };
    let n = usize::from(conditions);
    let mut next = vec![[-1i32; 2]; n];
    for b in branches {
        let (id, f, t) = branch_ids(&b.region)?;
        *next.get_mut(usize::from(id))? = [f, t];
    }
    let bit = |i: i64| -> bool {
        usize::try_from(i)
            .ok()
            .and_then(|i| bitmap.get(i / 8).map(|b| (b >> (i % 8)) & 1 == 1))
            .unwrap_or(false)
    };
    let by_mask = opts.llvm_major < 19;
    let (indices, total) = if by_mask {
        (vec![[0i64; 2]; n], 0)
    } else {
        path_indices(&next)?
    };
    // Walk every path (depth first, false before true), keeping the
    // executed ones with their outcome.
    let mut executed: Vec<(Vec<State>, bool)> = Vec::new();
    let mut tv = vec![State::DontCare; n];
    // (condition, path index so far, mask of true conditions, next outcome to try)
    let mut stack: Vec<(usize, i64, i64, usize)> = vec![(0, 0, 0, 0)];
    while let Some(top) = stack.last_mut() {
        let (id, tv_idx, mask, c) = *top;
        if c == 2 {
            *tv.get_mut(id)? = State::DontCare;
            stack.pop();
            continue;
        }
        top.3 += 1;
        *tv.get_mut(id)? = if c == 1 { State::True } else { State::False };
        let mask = mask | ((c as i64) << id);
        let next_idx = tv_idx + indices.get(id)?.get(c)?;
        let t = *next.get(id)?.get(c)?;
        if t >= 0 {
            let t = usize::try_from(t).ok()?;
            if t >= n || stack.len() > n {
                return None;
            }
            stack.push((t, next_idx, mask, 0));
            continue;
        }
        let hit = if by_mask {
            bit(i64::from(bitmap_index) * 8 + mask)
        } else {
            bit(i64::from(bitmap_index) - total + next_idx)
        };
        if hit {
            executed.push((tv.clone(), c == 1));
        }
    }
    let mut covered = vec![false; n];
    for (a, _) in executed.iter().filter(|v| v.1) {
        for (b, _) in executed.iter().filter(|v| !v.1) {
            let mut diff = a
                .iter()
                .zip(b)
                .enumerate()
                .filter(|(_, (x, y))| **x != State::DontCare && **y != State::DontCare && x != y)
                .map(|(i, _)| i);
            if let (Some(i), None) = (diff.next(), diff.next())
                && let Some(c) = covered.get_mut(i)
            {
                *c = true;
            }
        }
    }
    let conditions = branches
        .iter()
        .map(|b| {
            let id = branch_ids(&b.region).map_or(0, |x| x.0);
            let folded = if opts.llvm_major >= 20 {
                b.true_folded() || b.false_folded()
            } else {
                b.true_folded() && b.false_folded()
            };
            McdcCondition {
                id,
                line: b.region.line_start,
                column: b.region.column_start,
                folded,
                covered: covered.get(usize::from(id)).copied().unwrap_or(false),
            }
        })
        .collect();
    Some(McdcRecord {
        decision,
        conditions,
        executed_vectors: executed.len(),
    })
}

/// The MC/DC records of a function, in the order llvm-cov makes them.
pub fn function_records(f: &FunctionRecord, opts: &Options) -> Vec<McdcRecord> {
    decisions(&f.mcdc_regions)
        .into_iter()
        .filter_map(|(d, b)| record(d, &b, &f.bitmap, opts))
        .collect()
}

/// (conditions, covered) of a function's decisions in its main file, as
/// llvm-cov's function summary counts them.
pub(super) fn function_summary(f: &FunctionRecord, opts: &Options) -> Pair {
    let main = main_file_id(f);
    let mut n = (0, 0);
    for r in function_records(f, opts) {
        if Some(r.decision.file_id) == main {
            let s = r.summary();
            n = (n.0 + s.0, n.1 + s.1);
        }
    }
    n
}

#[cfg(test)]
mod tests {
    use super::path_indices;

    /// Every path from condition 0 to an end, as its index.
    fn paths(next: &[[i32; 2]], idx: &[[i64; 2]]) -> Vec<i64> {
        fn walk(next: &[[i32; 2]], idx: &[[i64; 2]], id: usize, at: i64, out: &mut Vec<i64>) {
            for c in 0..2 {
                let i = at + idx[id][c];
                match next[id][c] {
                    t if t < 0 => out.push(i),
                    t => walk(next, idx, t as usize, i, out),
                }
            }
        }
        let mut out = Vec::new();
        walk(next, idx, 0, 0, &mut out);
        out
    }

    #[test]
    fn paths_are_numbered_densely_and_uniquely() {
        // (a && b) || c: a false -> c, a true -> b; b false -> c, b true -> end;
        // c -> end. And a && b && c, and (a || b) && (c || d).
        let diagrams: [&[[i32; 2]]; 3] = [
            &[[2, 1], [2, -1], [-1, -1]],
            &[[-1, 1], [-1, 2], [-1, -1]],
            &[[1, 2], [-1, 2], [3, -1], [-1, -1]],
        ];
        for next in diagrams {
            let (idx, total) = path_indices(next).unwrap();
            let mut p = paths(next, &idx);
            p.sort_unstable();
            assert_eq!(p, (0..total).collect::<Vec<_>>(), "{next:?}");
        }
        // A diagram whose edges point outside it is not one.
        assert_eq!(path_indices(&[[5, -1]]), None);
    }
}
