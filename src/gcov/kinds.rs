//! The counter kinds of each GCC release: name, index (which fixes the
//! record's tag) and merge rule.
//!
//! One table lists every kind that any release has had, in the order GCC
//! declares them, each with the releases that have it. A release's kinds are
//! the rows it has, numbered in order: that is how GCC's `GCOV_COUNTER_*`
//! enumeration shifts when a kind comes or goes (GCC 7 dropped `delta`, GCC
//! 10 replaced `single` by `topn`), so the indexes are computed, never typed.

use crate::gcov::tag::Tag;

/// How two profiles' values of one counter kind combine (libgcov's merge functions).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "kebab-case"))]
pub enum MergeRule {
    /// Element-wise sum (`__gcov_merge_add`).
    Add,
    /// Element-wise bitwise or (`__gcov_merge_ior`).
    Ior,
    /// The earliest non-zero first-run time (`__gcov_merge_time_profile`).
    TimeProfile,
    /// Sites of 3 values: value, count, total; majority vote (`__gcov_merge_single`).
    Single,
    /// Sites of 4 values: last, value, count, total (`__gcov_merge_delta`).
    Delta,
    /// GCC 5–9 indirect-call top-N: sites of 9 values, total + 4 pairs (`__gcov_merge_icall_topn`).
    IcallTopn,
    /// GCC 10 top-N: sites of 9 values, total + 4 (value, count) pairs (`__gcov_merge_topn`).
    TopnFixed,
    /// GCC 11+ top-N: sites of total, pair count N, then N pairs (`__gcov_merge_topn`).
    TopnVariable,
}

impl MergeRule {
    /// Values per counter site, where fixed.
    pub fn site_len(self) -> Option<usize> {
        match self {
            MergeRule::Add | MergeRule::Ior | MergeRule::TimeProfile => Some(1),
            MergeRule::Single => Some(3),
            MergeRule::Delta => Some(4),
            MergeRule::IcallTopn | MergeRule::TopnFixed => Some(9),
            MergeRule::TopnVariable => None,
        }
    }
}

/// One counter kind of a release: its index fixes its tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct CounterKind {
    /// The name `gcov-dump` prints.
    pub name: &'static str,
    /// Position in the release's `GCOV_COUNTERS` list; the record tag is `0x01a10000 + (index << 17)` (see [`Tag::counter`]).
    pub index: usize,
    /// How two profiles' values of this kind combine.
    pub merge: MergeRule,
}

impl CounterKind {
    /// The tag of this kind's counter records in its release.
    pub const fn tag(&self) -> Tag {
        Tag::counter(self.index)
    }
}

/// A row of the table: a kind and the release lines (major, minor) that
/// have it, inclusive.
struct Row {
    name: &'static str,
    merge: MergeRule,
    from: (u8, u8),
    to: (u8, u8),
}

const LAST: (u8, u8) = (u8::MAX, u8::MAX);

const fn row(name: &'static str, merge: MergeRule, from: (u8, u8), to: (u8, u8)) -> Row {
    Row {
        name,
        merge,
        from,
        to,
    }
}

/// Every counter kind of every release from 3.4 on, in GCC's declaration
/// order (checked against each release's `gcov-counter.def` / `gcov-io.h`
/// and against gcov-dump's names on real files where a compiler was at hand).
const TABLE: &[Row] = {
    use MergeRule::*;
    &[
        row("arcs", Add, (3, 4), LAST),
        row("interval", Add, (3, 4), LAST),
        row("pow2", Add, (3, 4), LAST),
        row("single", Single, (3, 4), (9, 255)),
        row("topn", TopnFixed, (10, 0), (10, 255)),
        row("topn", TopnVariable, (11, 0), LAST),
        row("delta", Delta, (3, 4), (6, 255)),
        row("indirect_call", Single, (4, 3), (9, 255)),
        row("indirect_call", TopnFixed, (10, 0), (10, 255)),
        row("indirect_call", TopnVariable, (11, 0), LAST),
        row("average", Add, (4, 3), LAST),
        row("ior", Ior, (4, 3), LAST),
        row("time_profiler", TimeProfile, (4, 9), LAST),
        row("indirect_call_topn", IcallTopn, (5, 0), (9, 255)),
        row("conditions", Ior, (14, 0), LAST),
        // The prime-path counters of -fpath-coverage. gcov-dump 15 and 16
        // print them as "ior" (checked on real files), so that is their name.
        row("ior", Ior, (15, 0), LAST),
    ]
};

const fn before(a: (u8, u8), b: (u8, u8)) -> bool {
    a.0 < b.0 || (a.0 == b.0 && a.1 < b.1)
}

const fn has(row: &Row, release: (u8, u8)) -> bool {
    !before(release, row.from) && !before(row.to, release)
}

/// The kinds of `release`, numbered; `N` must be their count (checked when
/// the constants below are evaluated, so a wrong `N` does not compile).
// Only ever evaluated at compile time: an index out of range is a build
// error there, never a panic at run time.
#[allow(clippy::indexing_slicing)]
const fn kinds_of<const N: usize>(release: (u8, u8)) -> [CounterKind; N] {
    let mut out = [CounterKind {
        name: "",
        index: 0,
        merge: MergeRule::Add,
    }; N];
    let (mut i, mut n) = (0, 0);
    while i < TABLE.len() {
        let r = &TABLE[i];
        if has(r, release) {
            assert!(n < N, "more counter kinds than N");
            out[n] = CounterKind {
                name: r.name,
                index: n,
                merge: r.merge,
            };
            n += 1;
        }
        i += 1;
    }
    assert!(n == N, "fewer counter kinds than N");
    out
}

// One constant per era in which the set of kinds changed (the first release
// of each era stands for it).
const GCC34: [CounterKind; 5] = kinds_of((3, 4));
const GCC43: [CounterKind; 8] = kinds_of((4, 3));
const GCC49: [CounterKind; 9] = kinds_of((4, 9));
const GCC5: [CounterKind; 10] = kinds_of((5, 0));
const GCC7: [CounterKind; 9] = kinds_of((7, 0));
const GCC10: [CounterKind; 8] = kinds_of((10, 0));
const GCC11: [CounterKind; 8] = kinds_of((11, 0));
const GCC14: [CounterKind; 9] = kinds_of((14, 0));
const GCC15: [CounterKind; 10] = kinds_of((15, 0));

/// Names and merge rules of the counter kinds of a release line, in index order.
pub(crate) fn counter_kinds(major: u8, minor: u8) -> &'static [CounterKind] {
    match (major, minor) {
        (3, _) | (4, 0..=2) => &GCC34,
        (4, 3..=8) => &GCC43,
        (4, _) => &GCC49,
        (5 | 6, _) => &GCC5,
        (7..=9, _) => &GCC7,
        (10, _) => &GCC10,
        (11..=13, _) => &GCC11,
        (14, _) => &GCC14,
        // GCC 16 writes exactly GCC 15's records (real gcc 16.2 files).
        _ => &GCC15,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every release line's kinds are the table's rows it has, and the eras
    /// above agree with a direct walk of the table for each (major, minor).
    #[test]
    fn each_release_gets_the_rows_it_has_in_order() {
        for major in 3..=16u8 {
            for minor in 0..=9u8 {
                if (major, minor) < (3, 4) {
                    continue;
                }
                let want: Vec<&str> = TABLE
                    .iter()
                    .filter(|r| has(r, (major, minor)))
                    .map(|r| r.name)
                    .collect();
                let got: Vec<&str> = counter_kinds(major, minor).iter().map(|k| k.name).collect();
                assert_eq!(got, want, "GCC {major}.{minor}");
                for (i, k) in counter_kinds(major, minor).iter().enumerate() {
                    assert_eq!(k.index, i);
                }
            }
        }
    }

    #[test]
    fn indexes_shift_where_gcc_dropped_a_kind() {
        let idx = |m, name| {
            counter_kinds(m, 0)
                .iter()
                .find(|k| k.name == name)
                .map(|k| k.index)
        };
        assert_eq!(idx(6, "indirect_call"), Some(5));
        assert_eq!(idx(7, "indirect_call"), Some(4));
        assert_eq!(idx(9, "single"), Some(3));
        assert_eq!(idx(10, "single"), None);
        assert_eq!(idx(10, "topn"), Some(3));
        assert_eq!(idx(14, "conditions"), Some(8));
        assert_eq!(idx(5, "indirect_call_topn"), Some(9));
    }
}
