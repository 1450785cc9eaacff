//! Every real notes file decodes the same fed to `gcno::Decoder` in pieces
//! (as `lcov` reads it, through a small buffer) as whole: pieces of 1 to
//! 4096 bytes, and a cut at every byte of the small files (so that a piece
//! ends inside every record), at an even spread of 100 in the large ones.
//! The samples and the shared corpus (the SQLite and Lua trees: in
//! tests/large_tree.rs, which builds them).

mod common;

use std::collections::HashSet;
use std::path::PathBuf;

fn check(files: &[PathBuf], seen: &mut HashSet<Vec<u8>>) -> usize {
    let mut checked = 0;
    for path in files {
        let data = std::fs::read(path).unwrap();
        if !seen.insert(data.clone()) {
            continue; // the same bytes in another run's directory
        }
        let what = path.display().to_string();
        let len = data.len();
        let cuts: Vec<usize> = if len <= 16 << 10 {
            (0..=len).collect()
        } else {
            (0..=100)
                .map(|i| len * i / 100 + i % 7)
                .map(|c| c.min(len))
                .collect()
        };
        common::gcno_same_in_pieces(&data, cuts, &what).unwrap_or_else(|e| panic!("{what}: {e}"));
        checked += 1;
    }
    checked
}

#[test]
fn every_sample_decodes_in_pieces_as_whole() {
    let mut seen = HashSet::new();
    let files = common::files_with_suffix(&common::samples(), ".gcno");
    assert!(check(&files, &mut seen) > 50);
}

#[test]
fn every_corpus_file_decodes_in_pieces_as_whole() {
    let Some(corpus) = common::corpus_or_skip("every_corpus_file_decodes_in_pieces_as_whole")
    else {
        return;
    };
    let mut seen = HashSet::new();
    let files = common::files_with_suffix(&corpus, ".gcno");
    assert!(check(&files, &mut seen) > 10);
}
