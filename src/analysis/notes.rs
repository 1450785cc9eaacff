//! Whether a unit's notes (`.gcno`) and counters (`.gcda`) belong together,
//! and where the notes of units that found none may be: the policy of
//! `lcov`, `report` and `diff` before a unit is computed. The caller finds
//! and reads the files; this says what their headers and paths mean.

use crate::gcov::version::Version;

/// What is wrong between a unit's notes and its counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Mismatch {
    /// Written by different compilers. With `same_layout` the files share
    /// one record layout and the unit is still computed (a warning);
    /// without, it cannot be and is left out.
    Version {
        /// The notes' version.
        notes: Version,
        /// The counters' version.
        data: Version,
        /// Whether both releases write one layout.
        same_layout: bool,
    },
    /// The stamps differ: the notes belong to another build; the unit is left out.
    Stamp {
        /// The notes' stamp.
        notes: u32,
        /// The counters' stamp.
        data: u32,
    },
}

impl Mismatch {
    /// Whether the unit is left out.
    pub fn is_fatal(&self) -> bool {
        match self {
            Mismatch::Version { same_layout, .. } => !same_layout,
            Mismatch::Stamp { .. } => true,
        }
    }
}

/// The mismatches of notes and counters with these versions and stamps, in
/// the order they are told: the version first; a version whose layout
/// differs ends the list (the stamps of another layout are not compared).
pub fn pair(notes: (Version, u32), data: (Version, u32)) -> Vec<Mismatch> {
    let ((nv, ns), (dv, ds)) = (notes, data);
    let mut out = Vec::new();
    if nv.word() != dv.word() {
        let same_layout = nv.format() == dv.format();
        out.push(Mismatch::Version {
            notes: nv,
            data: dv,
            same_layout,
        });
        if !same_layout {
            return out;
        }
    }
    if ns != ds {
        out.push(Mismatch::Stamp {
            notes: ns,
            data: ds,
        });
    }
    out
}

/// A `--prefix-map OLD=NEW`, as (OLD, NEW).
pub type PrefixMap = (Vec<u8>, Vec<u8>);

/// The `--prefix-map OLD=NEW` that finds the notes of the most units that
/// found none: each unit (its object path before any map) proposes the map
/// to every notes file of its name (path relative to the notes directory,
/// with the extension `.gcda`); among maps found by equally many units, the
/// first in byte order. Returns the map and how many units it finds.
pub fn best_prefix_map<'a>(
    proposals: impl IntoIterator<Item = (&'a [u8], &'a [u8])>,
) -> Option<(PrefixMap, usize)> {
    let mut votes: std::collections::BTreeMap<PrefixMap, usize> = Default::default();
    for (source, rel) in proposals {
        if let Some(map) = crate::paths::suggest_prefix_map(source, rel) {
            *votes.entry(map).or_default() += 1;
        }
    }
    votes
        .into_iter()
        .max_by(|a, b| a.1.cmp(&b.1).then_with(|| b.0.cmp(&a.0)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gcov::version::Status;

    fn v(major: u8, minor: u8) -> Version {
        Version::new(major, minor, Status::Release).unwrap()
    }

    #[test]
    fn versions_of_one_layout_warn_and_others_leave_the_unit_out() {
        assert_eq!(pair((v(12, 2), 7), (v(12, 2), 7)), []);
        let same = pair((v(12, 1), 7), (v(12, 2), 8));
        assert_eq!(same.len(), 2, "{same:?}");
        assert!(!same[0].is_fatal());
        assert_eq!(same[1], Mismatch::Stamp { notes: 7, data: 8 });
        assert!(same[1].is_fatal());
        let other = pair((v(4, 8), 7), (v(12, 2), 8));
        assert_eq!(other.len(), 1);
        assert!(other[0].is_fatal());
    }

    #[test]
    fn the_map_that_finds_the_most_notes_wins() {
        let proposals: [(&[u8], &[u8]); 3] = [
            (b"/build/xen/common/a.o.gcda", b"xen/common/a.o.gcda"),
            (b"/build/xen/common/b.o.gcda", b"xen/common/b.o.gcda"),
            (b"/build/xen/common/b.o.gcda", b"other/b.o.gcda"),
        ];
        let (map, n) = best_prefix_map(proposals).unwrap();
        assert_eq!(map, (b"/build".to_vec(), Vec::new()));
        assert_eq!(n, 2);
        assert_eq!(best_prefix_map([]), None);
    }
}
