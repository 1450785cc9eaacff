//! What every fuzz target checks, shared with tests/fuzz_regressions.rs so
//! that each crashing input found by fuzzing stays a regression test.
//! Each check panics when the library misbehaves; errors are fine.
//!
//! Every check also bounds the memory the library may take: a counting
//! allocator follows the live heap bytes of the calling thread, and the
//! peak while decoding (or merging, or computing coverage) must stay
//! linear in the input. A decoder that believes a length or count the
//! input cannot hold (or that allocates quadratically, as the notes
//! decoder once did) fails here, not only when it exhausts memory.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use xencov::analysis::merge::{OnConflict, merge_unit};
use xencov::gcov::gcda::Gcda;
use xencov::gcov::gcno::{Decoder, Gcno};
use xencov::xen::dump::{Container, LegacyDump, encode_container};

struct Counting;

thread_local! {
    static LIVE: Cell<usize> = const { Cell::new(0) };
    static PEAK: Cell<usize> = const { Cell::new(0) };
}

fn grow(size: usize) {
    // `try_with`: the allocator may run while the thread-locals are torn down.
    let _ = LIVE.try_with(|l| {
        let live = l.get().saturating_add(size);
        l.set(live);
        let _ = PEAK.try_with(|p| p.set(p.get().max(live)));
    });
}

fn shrink(size: usize) {
    // Memory freed by another thread than the one that took it only makes
    // this thread's count lower, never a false alarm.
    let _ = LIVE.try_with(|l| l.set(l.get().saturating_sub(size)));
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        grow(layout.size());
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        grow(layout.size());
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        shrink(layout.size());
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // Both blocks are live while realloc copies.
        grow(new_size);
        shrink(layout.size());
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Heap bytes a check may hold at its peak per byte of input, plus a fixed
/// allowance. Real files and every fuzz finding so far stay under a quarter
/// of it; an allocation that follows a claimed count instead of the bytes
/// behind it exceeds it at once.
pub const BYTES_PER_INPUT_BYTE: usize = 64;
pub const FIXED_ALLOWANCE: usize = 1 << 20;

/// Runs `f` and panics if the peak of live heap bytes it added exceeds the
/// linear bound for `input_len` bytes of input.
pub fn bounded<T>(what: &str, input_len: usize, f: impl FnOnce() -> T) -> T {
    let before = LIVE.with(Cell::get);
    PEAK.with(|p| p.set(before));
    let out = f();
    let peak = PEAK.with(Cell::get) - before;
    let bound = BYTES_PER_INPUT_BYTE * input_len + FIXED_ALLOWANCE;
    assert!(
        peak <= bound,
        "{what}: {peak} bytes of heap at the peak for {input_len} bytes of input (bound {bound})"
    );
    out
}

/// What we accept re-encodes to the same bytes.
pub fn gcda(data: &[u8]) {
    if let Ok(g) = bounded("gcda", data.len(), || Gcda::decode(data)) {
        assert_eq!(g.encode(), data, "accepted gcda re-encodes differently");
    }
}

/// Whole or fed to the decoder in pieces (as `lcov` reads a notes file),
/// the same model or the same error: pieces of a size, and a cut, that
/// follow the input's length, so that the fuzzer varies them too.
pub fn gcno(data: &[u8]) {
    let whole = bounded("gcno", data.len(), || Gcno::decode(data));
    let size = 1 + data.len() % 61;
    let pieces = bounded("gcno in pieces", data.len(), || gcno_in_pieces(data, size));
    assert_eq!(pieces, whole, "gcno in pieces of {size}");
    let cut = data.len() * 2 / 3;
    let split = bounded("gcno cut", data.len(), || gcno_cut(data, cut));
    assert_eq!(split, whole, "gcno cut at {cut}");
}

/// `data` through the notes decoder as a reader with a buffer of `size`
/// bytes gives it (grown to what the decoder needs); the last piece is fed,
/// then finished.
fn gcno_in_pieces(data: &[u8], size: usize) -> xencov::Result<Gcno> {
    let mut d = Decoder::new();
    loop {
        let at = d.offset();
        let to = at.saturating_add(size.max(d.needed())).min(data.len());
        let used = d.feed(&data[at..to])?;
        if to == data.len() {
            let at = d.offset();
            return d.finish(&data[at..]);
        }
        assert!(
            used > 0 || d.needed() > to - at,
            "gcno decoder stuck at {at}"
        );
    }
}

/// `data` fed up to `cut`, then from where the decoder stands, then
/// finished with what that left.
fn gcno_cut(data: &[u8], cut: usize) -> xencov::Result<Gcno> {
    let mut d = Decoder::new();
    d.feed(&data[..cut])?;
    d.feed(&data[d.offset()..])?;
    let at = d.offset();
    d.finish(&data[at..])
}

pub fn dump(data: &[u8]) {
    if let Ok(c) = bounded("dump", data.len(), || Container::parse(data)) {
        let again = encode_container(c.endian, c.units.iter().map(|u| (u.path, u.payload)));
        assert_eq!(again, data, "accepted dump re-encodes differently");
        for u in &c.units {
            if let Ok(g) = bounded("dump payload", u.payload.len(), || u.gcda()) {
                assert_eq!(g.encode(), u.payload);
            }
        }
    }
}

pub fn legacy(data: &[u8]) {
    if let Ok(d) = bounded("legacy", data.len(), || LegacyDump::parse(data)) {
        for u in &d.units {
            let bytes = u.to_gcda(d.endian).encode();
            let back = Gcda::decode(&bytes).expect("a converted legacy unit decodes");
            assert_eq!(back.encode(), bytes);
        }
    }
}

/// The first byte splits the rest into two gcda inputs; whatever merges
/// must encode to something that decodes and re-encodes to itself.
pub fn merge(data: &[u8]) {
    let Some((&cut, rest)) = data.split_first() else {
        return;
    };
    let at = (usize::from(cut) * rest.len()) / 256;
    let (a, b) = rest.split_at(at);
    let (Ok(a), Ok(b)) = (Gcda::decode(a), Gcda::decode(b)) else {
        return;
    };
    for policy in [OnConflict::Error, OnConflict::Skip, OnConflict::KeepNewest] {
        let mut m = a.clone();
        if bounded("merge", data.len(), || merge_unit(&mut m, &b, policy)).is_ok() {
            let bytes = m.encode();
            let back = Gcda::decode(&bytes).expect("a merged profile decodes");
            assert_eq!(back.encode(), bytes);
        }
    }
}

/// The first byte splits the rest into notes and data; coverage never panics.
pub fn coverage(data: &[u8]) {
    let Some((&cut, rest)) = data.split_first() else {
        return;
    };
    let at = (usize::from(cut) * rest.len()) / 256;
    let (n, d) = rest.split_at(at);
    if let Ok(notes) = bounded("coverage notes", n.len(), || Gcno::decode(n)) {
        let gcda = Gcda::decode(d).ok();
        bounded("coverage", data.len(), || {
            let unit = xencov::analysis::coverage::compute(&notes, gcda.as_ref());
            let mut t = xencov::report::lcov::Tracefile::default();
            t.add_unit(&unit);
            let _ = t.write("");
        });
    }
}
