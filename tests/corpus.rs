//! Every public gcda of the shared corpus (GCC 4.4 to 11.4 and LLVM) decodes
//! and re-encodes byte for byte.

mod common;

use xencov_rs::gcda::Gcda;

#[test]
fn every_corpus_gcda_round_trips() {
    let files = common::files_with_suffix(&common::corpus(), ".gcda");
    assert!(
        files.len() >= 30,
        "only {} corpus gcda files found",
        files.len()
    );
    let mut failures = Vec::new();
    for path in &files {
        let bytes = std::fs::read(path).unwrap();
        match Gcda::decode(&bytes) {
            Ok(g) => {
                if g.encode() != bytes {
                    failures.push(format!("{}: re-encoding differs", path.display()));
                }
            }
            Err(e) => failures.push(format!("{}: {e}", path.display())),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
