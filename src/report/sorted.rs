//! A map kept as one array sorted by key, and the runs a unit adds to it.
//!
//! A tracefile's lines and branches are built once, nearly always from
//! keys that already ascend (a unit gives a file's lines in order), then
//! only read in order. A `BTreeMap` made from such a run still collects it
//! into a vector, sorts it with a scratch buffer of the same size and
//! copies it into nodes: for SQLite's 70,000 lines that was 2.2 MB of
//! scratch and 1.5 MB of nodes at the peak of `lcov`, and a walk over
//! nodes to write them. Here the run gathered is the map.

use std::cmp::Ordering;

/// A map from `K` to `V` held as `(key, value)` pairs in ascending key
/// order, each key once. Lookups are binary searches; an insert past the
/// last key is a push, one elsewhere moves the entries after it (the
/// tracefile's builders add whole runs with [`SortedMap::add_run`]).
#[derive(Clone, PartialEq, Eq)]
pub struct SortedMap<K, V> {
    items: Vec<(K, V)>,
}

impl<K, V> Default for SortedMap<K, V> {
    fn default() -> Self {
        SortedMap { items: Vec::new() }
    }
}

impl<K: std::fmt::Debug, V: std::fmt::Debug> std::fmt::Debug for SortedMap<K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map()
            .entries(self.items.iter().map(|(k, v)| (k, v)))
            .finish()
    }
}

impl<K: Ord, V> SortedMap<K, V> {
    /// An empty map.
    pub const fn new() -> Self {
        SortedMap { items: Vec::new() }
    }

    /// The number of keys.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether there is no key.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// The entries in key order.
    pub fn iter(&self) -> Iter<'_, K, V> {
        Iter(self.items.iter())
    }

    /// The keys in order.
    pub fn keys(&self) -> impl DoubleEndedIterator<Item = &K> + ExactSizeIterator + Clone {
        self.items.iter().map(|(k, _)| k)
    }

    /// The values in key order.
    pub fn values(&self) -> impl DoubleEndedIterator<Item = &V> + ExactSizeIterator + Clone {
        self.items.iter().map(|(_, v)| v)
    }

    /// The entries whose keys are in `range`, in key order.
    pub fn range(&self, range: impl std::ops::RangeBounds<K>) -> Iter<'_, K, V> {
        use std::ops::Bound;
        let start = match range.start_bound() {
            Bound::Included(s) => self.items.partition_point(|(k, _)| k < s),
            Bound::Excluded(s) => self.items.partition_point(|(k, _)| k <= s),
            Bound::Unbounded => 0,
        };
        let end = match range.end_bound() {
            Bound::Included(e) => self.items.partition_point(|(k, _)| k <= e),
            Bound::Excluded(e) => self.items.partition_point(|(k, _)| k < e),
            Bound::Unbounded => self.items.len(),
        };
        Iter(
            self.items
                .get(start..end.max(start))
                .unwrap_or_default()
                .iter(),
        )
    }

    /// The entries as stored, in key order.
    pub fn as_slice(&self) -> &[(K, V)] {
        &self.items
    }

    fn find(&self, key: &K) -> Result<usize, usize> {
        // Keys are mostly added in order: the last one is looked at first.
        match self.items.last() {
            None => Err(0),
            Some((last, _)) => match key.cmp(last) {
                Ordering::Greater => Err(self.items.len()),
                Ordering::Equal => Ok(self.items.len() - 1),
                Ordering::Less => self.items.binary_search_by(|(k, _)| k.cmp(key)),
            },
        }
    }

    /// The value of `key`.
    pub fn get(&self, key: &K) -> Option<&V> {
        let i = self.find(key).ok()?;
        self.items.get(i).map(|(_, v)| v)
    }

    /// Whether `key` has a value.
    pub fn contains_key(&self, key: &K) -> bool {
        self.find(key).is_ok()
    }

    /// Sets the value of `key`, and returns the one it replaced.
    pub fn insert(&mut self, key: K, value: V) -> Option<V> {
        match self.find(&key) {
            Ok(i) => self
                .items
                .get_mut(i)
                .map(|(_, v)| std::mem::replace(v, value)),
            Err(i) => {
                self.items.insert(i, (key, value));
                None
            }
        }
    }

    /// Adds a run of entries (see [`Run`]): a key already in the map
    /// takes `combine(value in the map, value of the run)`. Into an empty
    /// map the run is moved, not copied; into a full one the two are
    /// merged in one pass.
    pub fn add_run(&mut self, run: Run<K, V>, mut combine: impl FnMut(&mut V, V)) {
        let run = run.into_sorted(&mut combine);
        if run.is_empty() {
            return;
        }
        if self.items.is_empty() {
            self.items = run;
            // The run grew by doubling: the room it did not use is given
            // back (in place: the allocator shrinks a large block where it
            // lies).
            self.items.shrink_to_fit();
            return;
        }
        let old = std::mem::take(&mut self.items);
        let mut out = Vec::with_capacity(old.len() + run.len());
        let mut a = old.into_iter().peekable();
        let mut b = run.into_iter().peekable();
        loop {
            let order = match (a.peek(), b.peek()) {
                (Some((x, _)), Some((y, _))) => x.cmp(y),
                (Some(_), None) => Ordering::Less,
                (None, Some(_)) => Ordering::Greater,
                (None, None) => break,
            };
            match order {
                Ordering::Less => out.extend(a.next()),
                Ordering::Greater => out.extend(b.next()),
                Ordering::Equal => {
                    if let (Some(mut x), Some((_, y))) = (a.next(), b.next()) {
                        combine(&mut x.1, y);
                        out.push(x);
                    }
                }
            }
        }
        self.items = out;
    }
}

impl<K: Ord, V> FromIterator<(K, V)> for SortedMap<K, V> {
    /// The entries in key order; of a key given twice the last value is
    /// kept, as `BTreeMap` keeps it.
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        let mut run = Run::new();
        for (k, v) in iter {
            run.push(k, v);
        }
        let mut m = SortedMap::new();
        m.add_run(run, |old, new| *old = new);
        m
    }
}

impl<K: Ord, V, const N: usize> From<[(K, V); N]> for SortedMap<K, V> {
    fn from(items: [(K, V); N]) -> Self {
        items.into_iter().collect()
    }
}

/// The entries of a [`SortedMap`] in key order, as `(&key, &value)`.
#[derive(Clone)]
pub struct Iter<'a, K, V>(std::slice::Iter<'a, (K, V)>);

impl<'a, K, V> Iterator for Iter<'a, K, V> {
    type Item = (&'a K, &'a V);

    fn next(&mut self) -> Option<Self::Item> {
        self.0.next().map(|(k, v)| (k, v))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.0.size_hint()
    }
}

impl<K, V> DoubleEndedIterator for Iter<'_, K, V> {
    fn next_back(&mut self) -> Option<Self::Item> {
        self.0.next_back().map(|(k, v)| (k, v))
    }
}

impl<K, V> ExactSizeIterator for Iter<'_, K, V> {}

impl<'a, K: Ord, V> IntoIterator for &'a SortedMap<K, V> {
    type Item = (&'a K, &'a V);
    type IntoIter = Iter<'a, K, V>;

    fn into_iter(self) -> Iter<'a, K, V> {
        self.iter()
    }
}

/// Entries gathered in the order they come, for [`SortedMap::add_run`].
/// Keys that ascend strictly (the usual case) are the map's array as they
/// are; otherwise they are sorted (stably) when added, and the values of
/// a key given more than once are combined in the order they came.
#[derive(Debug)]
pub struct Run<K, V> {
    items: Vec<(K, V)>,
    /// The keys so far ascend strictly.
    ascending: bool,
}

impl<K: Ord, V> Default for Run<K, V> {
    fn default() -> Self {
        Run::new()
    }
}

impl<K: Ord, V> Run<K, V> {
    /// An empty run.
    pub const fn new() -> Self {
        Run {
            items: Vec::new(),
            ascending: true,
        }
    }

    /// The next entry.
    pub fn push(&mut self, key: K, value: V) {
        if let Some((last, _)) = self.items.last()
            && *last >= key
        {
            self.ascending = false;
        }
        self.items.push((key, value));
    }

    /// `other`'s entries after these, as if pushed one by one.
    pub fn append(&mut self, mut other: Run<K, V>) {
        if let (Some((last, _)), Some((first, _))) = (self.items.last(), other.items.first())
            && *last >= *first
        {
            self.ascending = false;
        }
        self.ascending &= other.ascending;
        if self.items.is_empty() {
            self.items = other.items;
        } else {
            self.items.append(&mut other.items);
        }
    }

    /// The entries in ascending key order, each key once.
    fn into_sorted(self, combine: &mut impl FnMut(&mut V, V)) -> Vec<(K, V)> {
        if self.ascending {
            return self.items;
        }
        let mut items = self.items;
        items.sort_by(|(a, _), (b, _)| a.cmp(b));
        let mut out: Vec<(K, V)> = Vec::with_capacity(items.len());
        for (k, v) in items {
            match out.last_mut() {
                Some((last, old)) if *last == k => combine(old, v),
                _ => out.push((k, v)),
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    /// Runs in order, out of order, with repeated keys, into an empty map
    /// and a full one: the same map as `BTreeMap` sums make, entry for
    /// entry (a deterministic generator, many shapes).
    #[test]
    fn runs_add_up_as_btreemap_sums() {
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = move |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % n
        };
        for round in 0..500 {
            let mut map = SortedMap::new();
            let mut model: BTreeMap<u32, u64> = BTreeMap::new();
            for _ in 0..=next(4) {
                let mut run = Run::new();
                let len = next(40);
                // Half of the runs ascend strictly, as a unit's lines do.
                let ascending = next(2) == 0;
                let mut key = next(5) as u32;
                for _ in 0..len {
                    key = if ascending {
                        key + 1 + next(3) as u32
                    } else {
                        next(60) as u32
                    };
                    let v = next(1000);
                    run.push(key, v);
                    *model.entry(key).or_insert(0) += v;
                }
                map.add_run(run, |a, b| *a += b);
            }
            let got: Vec<(u32, u64)> = map.iter().map(|(k, v)| (*k, *v)).collect();
            let want: Vec<(u32, u64)> = model.into_iter().collect();
            assert_eq!(got, want, "round {round}");
        }
    }

    /// Values of one key in a run are combined in the order they came,
    /// after the map's own: the combination need not commute.
    #[test]
    fn a_key_s_values_combine_in_order() {
        let mut map: SortedMap<u32, String> = [(5, "m".to_string())].into();
        let mut run = Run::new();
        for (k, v) in [(5, "a"), (1, "b"), (5, "c"), (9, "d")] {
            run.push(k, v.to_string());
        }
        map.add_run(run, |old, new| old.push_str(&new));
        let got: Vec<(u32, &str)> = map.iter().map(|(k, v)| (*k, v.as_str())).collect();
        assert_eq!(got, [(1, "b"), (5, "mac"), (9, "d")]);
    }

    #[test]
    fn lookups_and_inserts_anywhere() {
        let mut m: SortedMap<u32, u32> = SortedMap::new();
        for k in [5, 1, 9, 5, 3] {
            m.insert(k, k * 10);
        }
        assert_eq!(m.keys().copied().collect::<Vec<_>>(), [1, 3, 5, 9]);
        assert_eq!(
            (m.get(&3), m.get(&4), m.get(&9)),
            (Some(&30), None, Some(&90))
        );
        assert_eq!(m.insert(9, 1), Some(90));
        assert!(m.contains_key(&1) && !m.contains_key(&2));
        let keys = |r: Iter<'_, u32, u32>| r.map(|(k, _)| *k).collect::<Vec<_>>();
        assert_eq!(keys(m.range(3..=5)), [3, 5]);
        assert_eq!(keys(m.range(2..5)), [3]);
        assert_eq!(keys(m.range(6..)), [9]);
        assert_eq!(keys(m.range(..=0)), [0u32; 0]);
        assert_eq!(keys(m.range(6..9)), [0u32; 0]);
        // The last key given twice wins, as in BTreeMap's collect.
        let c: SortedMap<u32, u32> = [(2, 1), (1, 1), (2, 2)].into_iter().collect();
        assert_eq!(format!("{c:?}"), "{1: 1, 2: 2}");
    }
}
