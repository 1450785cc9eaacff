//! Bad input never panics, always names a byte offset, and never costs an
//! allocation the input cannot justify. Real files are cut at every byte,
//! every length field is corrupted, and proptest mutates words at random.
//!
//! A counting allocator (per thread, so parallel tests do not disturb each
//! other) records the largest single allocation made while decoding.

mod common;

use proptest::prelude::*;
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::path::PathBuf;
use xencov::error::ErrorKind;
use xencov::gcov::gcda::{Gcda, MAGIC};
use xencov::gcov::record::{Records, read_header};

struct Counting;

thread_local! {
    static LARGEST: Cell<usize> = const { Cell::new(0) };
}

fn note(size: usize) {
    // `try_with`: the allocator may run while the thread-local is being torn down.
    let _ = LARGEST.try_with(|l| l.set(l.get().max(size)));
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note(layout.size());
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note(new_size);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Decodes `bytes`, checks the outcome, and returns whether it was accepted.
/// Accepted input must re-encode to itself; refused input must name an
/// offset inside the input; either way the largest allocation stays linear
/// in the input size.
fn check(bytes: &[u8], what: &str) -> bool {
    LARGEST.with(|l| l.set(0));
    let result = Gcda::decode(bytes);
    let largest = LARGEST.with(|l| l.get());
    let bound = 32 * bytes.len() + 1024;
    assert!(
        largest <= bound,
        "{what}: an allocation of {largest} bytes for {} bytes of input",
        bytes.len()
    );
    match result {
        Ok(g) => {
            assert_eq!(
                g.encode(),
                bytes,
                "{what}: accepted but re-encodes differently"
            );
            true
        }
        Err(e) => {
            assert!(
                e.offset <= bytes.len(),
                "{what}: offset {} past the end: {e}",
                e.offset
            );
            let msg = e.to_string();
            assert!(
                msg.contains(&format!("byte offset {}", e.offset)),
                "{what}: {msg}"
            );
            false
        }
    }
}

/// The samples, and the corpus where present (without it the tests run on
/// the samples alone and say so).
fn real_files() -> Vec<PathBuf> {
    // Once per process: the proptest below asks for them in every case.
    static CORPUS: std::sync::OnceLock<Option<PathBuf>> = std::sync::OnceLock::new();
    let mut files = common::files_with_suffix(&common::samples(), ".gcda");
    let corpus = CORPUS.get_or_init(|| common::corpus_or_skip("bad input on the corpus files"));
    if let Some(corpus) = corpus {
        files.extend(common::files_with_suffix(corpus, ".gcda"));
    }
    assert!(files.len() > 30);
    files
}

/// Offsets where a record (or the header) ends, and where the end marker starts.
fn boundaries(bytes: &[u8]) -> (Vec<usize>, Option<usize>) {
    let (header, reader) = read_header(bytes, MAGIC).unwrap();
    let mut ends = vec![reader.offset()];
    let mut records = Records::new(reader, header.version);
    for r in &mut records {
        let r = r.unwrap();
        ends.push(r.payload_offset() + r.payload.len());
    }
    let marker = records
        .saw_end_marker()
        .then(|| bytes.len() - records.after_end().len() - 4);
    (ends, marker)
}

#[test]
fn every_cut_of_a_real_file_is_refused_with_an_offset_or_is_a_whole_prefix() {
    let mut checked = 0;
    for path in real_files() {
        let bytes = std::fs::read(&path).unwrap();
        if bytes.len() > 8 * 1024 {
            continue; // quadratic; the large files get the length-field test
        }
        let (ends, marker) = boundaries(&bytes);
        for cut in 0..bytes.len() {
            let what = format!("{} cut at {cut}", path.display());
            let accepted = check(&bytes[..cut], &what);
            let whole = ends.contains(&cut) || marker.is_some_and(|m| cut >= m + 4);
            assert_eq!(accepted, whole, "{what}");
            if !accepted && cut >= 12 && !whole {
                let e = Gcda::decode(&bytes[..cut]).unwrap_err();
                assert!(
                    matches!(
                        e.kind,
                        ErrorKind::Truncated { .. } | ErrorKind::LengthPastEnd { .. }
                    ),
                    "{what}: {e}"
                );
            }
        }
        checked += 1;
    }
    assert!(checked > 30, "only {checked} files small enough");
}

#[test]
fn every_length_field_corrupted() {
    let lies: [fn(u32, usize) -> u32; 9] = [
        |_, _| 0,
        |l, _| l.wrapping_add(1),
        |l, _| l.wrapping_sub(1),
        |_, rest| rest as u32,
        |_, rest| rest as u32 + 1,
        |_, _| 0x7fff_ffff,
        |_, _| 0x8000_0000,
        |_, _| 0xffff_fffe,
        |_, _| 0xffff_ffff,
    ];
    for path in real_files() {
        let bytes = std::fs::read(&path).unwrap();
        let (header, reader) = read_header(&bytes, MAGIC).unwrap();
        let fields: Vec<(usize, u32)> = Records::new(reader, header.version)
            .map(|r| r.unwrap())
            .map(|r| (r.offset + 4, r.length))
            .collect();
        // Every field of the small files; an even spread of 100 in the large ones.
        let step = fields.len().div_ceil(100);
        for &(at, length) in fields.iter().step_by(step) {
            for lie in lies {
                let mut bad = bytes.clone();
                let value = lie(length, bytes.len() - at - 4);
                bad[at..at + 4].copy_from_slice(&header.endian.u32_to(value));
                check(
                    &bad,
                    &format!("{} length at {at} = {value:#x}", path.display()),
                );
            }
        }
    }
}

fn small_real_files() -> Vec<Vec<u8>> {
    real_files()
        .into_iter()
        .map(|p| std::fs::read(p).unwrap())
        .filter(|b| b.len() <= 4096)
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// Random words written over random aligned positions of a real file.
    #[test]
    fn random_word_corruption(
        file in any::<prop::sample::Index>(),
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u32>()), 1..4),
    ) {
        let files = small_real_files();
        let mut bytes = file.get(&files).clone();
        let words = bytes.len() / 4;
        for (at, value) in edits {
            let i = at.index(words) * 4;
            bytes[i..i + 4].copy_from_slice(&value.to_le_bytes());
        }
        check(&bytes, "mutated file");
    }
}
