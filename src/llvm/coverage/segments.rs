//! Per source file, the regions of all functions become a sorted list of
//! segments (LLVM's `SegmentBuilder`), and each line its count from them
//! (`LineCoverageStats`).

use super::CountedRegion;
use crate::llvm::covmap::RegionKind;

/// A point where the count changes (LLVM's `CoverageSegment`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Segment {
    line: u32,
    col: u32,
    count: u64,
    has_count: bool,
    is_region_entry: bool,
    is_gap: bool,
}

pub(super) struct SegmentBuilder<'a> {
    regions: &'a [CountedRegion],
    segments: Vec<Segment>,
    active: Vec<usize>,
}

impl SegmentBuilder<'_> {
    fn start(&mut self, r: usize, loc: (u32, u32), entry: bool, skipped: bool) {
        let Some(region) = self.regions.get(r) else {
            return;
        };
        let has_count = !skipped && region.region.kind != RegionKind::Skipped;
        if !entry
            && !skipped
            && let Some(last) = self.segments.last()
            && last.has_count == has_count
            && last.count == region.count
            && !last.is_region_entry
        {
            return;
        }
        self.segments.push(Segment {
            line: loc.0,
            col: loc.1,
            count: if has_count { region.count } else { 0 },
            has_count,
            is_region_entry: entry,
            is_gap: has_count && region.region.kind == RegionKind::Gap,
        });
    }

    fn end_of(&self, i: usize) -> (u32, u32) {
        self.regions.get(i).map_or((0, 0), CountedRegion::end)
    }

    fn complete_until(&mut self, loc: Option<(u32, u32)>, first: usize) {
        let mut done: Vec<usize> = self.active.split_off(first);
        done.sort_by_key(|&i| self.end_of(i));
        self.active.extend_from_slice(&done);
        for i in first + 1..self.active.len() {
            let (Some(&completed), Some(&prev)) = (self.active.get(i), self.active.get(i - 1))
            else {
                continue;
            };
            let seg_loc = self.end_of(prev);
            if loc == Some(seg_loc) {
                break;
            }
            if seg_loc == self.end_of(completed) {
                continue;
            }
            let mut c = completed;
            for j in i + 1..self.active.len() {
                if let Some(&a) = self.active.get(j)
                    && self.end_of(c) == self.end_of(a)
                {
                    c = a;
                }
            }
            self.start(c, seg_loc, false, false);
        }
        if let Some(&last) = self.active.last() {
            let last_end = self.end_of(last);
            if first > 0 && Some(last_end) != loc {
                if let Some(&a) = self.active.get(first - 1) {
                    self.start(a, last_end, false, false);
                }
            } else if first == 0 && loc != Some(last_end) {
                self.start(last, last_end, false, true);
            }
        }
        self.active.truncate(first);
    }

    fn build(mut self) -> Vec<Segment> {
        let n = self.regions.len();
        for i in 0..n {
            let Some(cr) = self.regions.get(i).copied() else {
                continue;
            };
            let cur = cr.start();
            let (keep, done): (Vec<usize>, Vec<usize>) =
                self.active.iter().partition(|&&a| self.end_of(a) > cur);
            if !done.is_empty() {
                let first = keep.len();
                self.active = keep;
                self.active.extend(done);
                self.complete_until(Some(cur), first);
            }
            let gap = cr.region.kind == RegionKind::Gap;
            if cur == cr.end() {
                let skipped = i + 1 == n || cr.region.kind == RegionKind::Skipped;
                let base = self.active.last().copied().unwrap_or(i);
                self.start(base, cur, !gap, skipped);
                if skipped && let Some(&a) = self.active.last() {
                    self.start(a, cur, false, false);
                }
                continue;
            }
            if i + 1 == n || self.regions.get(i + 1).map(CountedRegion::start) != Some(cur) {
                self.start(i, cur, !gap, false);
            }
            self.active.push(i);
        }
        if !self.active.is_empty() {
            self.complete_until(None, 0);
        }
        self.segments
    }
}

pub(super) fn build_segments(mut regions: Vec<CountedRegion>) -> Vec<Segment> {
    regions.sort_by(|a, b| {
        a.start()
            .cmp(&b.start())
            .then_with(|| b.end().cmp(&a.end()))
            .then_with(|| a.region.kind.cmp(&b.region.kind))
    });
    // Regions over the same area combine: counts of the first's kind add up.
    let mut combined: Vec<CountedRegion> = Vec::with_capacity(regions.len());
    for r in regions {
        match combined.last_mut() {
            Some(a) if a.start() == r.start() && a.end() == r.end() => {
                if a.region.kind == r.region.kind {
                    a.count = a.count.wrapping_add(r.count);
                }
            }
            _ => combined.push(r),
        }
    }
    SegmentBuilder {
        regions: &combined,
        segments: Vec::new(),
        active: Vec::new(),
    }
    .build()
}

/// Coverage of one line (LLVM's `LineCoverageStats`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct LineStats {
    pub(super) line: u32,
    pub(super) mapped: bool,
    pub(super) count: u64,
}

pub(super) fn line_stats(segments: &[Segment]) -> Vec<LineStats> {
    let mut out = Vec::new();
    let mut wrapped: Option<Segment> = None;
    let mut cur: Vec<Segment> = Vec::new();
    let mut next = 0usize;
    let mut line: u32 = 1;
    while next < segments.len() {
        if let Some(&l) = cur.last() {
            wrapped = Some(l);
        }
        cur.clear();
        while let Some(s) = segments.get(next).filter(|s| s.line == line) {
            cur.push(*s);
            next += 1;
        }
        // Lines before the first segment are not mapped: skip them quickly.
        let is_start = |s: &Segment| !s.is_gap && s.has_count && s.is_region_entry;
        let starts = cur.iter().filter(|s| is_start(s)).count();
        let skipped_start = cur
            .first()
            .is_some_and(|s| !s.has_count && s.is_region_entry);
        let mut mapped = !skipped_start && (wrapped.is_some_and(|w| w.has_count) || starts > 0);
        mapped |= cur.iter().any(|s| s.is_region_entry && s.has_count);
        let mut count = 0;
        if mapped {
            if let Some(w) = wrapped {
                count = w.count;
            }
            if starts > 0 {
                for s in cur.iter().filter(|s| is_start(s)) {
                    count = count.max(s.count);
                }
            }
        }
        out.push(LineStats {
            line,
            mapped,
            count,
        });
        line = line.saturating_add(1);
        if cur.is_empty()
            && wrapped.is_none()
            && let Some(s) = segments.get(next)
        {
            line = s.line;
        }
    }
    out
}
