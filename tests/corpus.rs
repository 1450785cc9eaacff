//! Every public gcda of the shared corpus (GCC 4.4 to 11.4 and LLVM) decodes
//! and re-encodes byte for byte.

mod common;

use xencov::gcov::gcda::Gcda;

#[test]
fn every_corpus_gcda_round_trips() {
    let Some(corpus) = common::corpus_or_skip("every_corpus_gcda_round_trips") else {
        return;
    };
    let files = common::files_with_suffix(&corpus, ".gcda");
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

/// The GCC 4.4 files are real 3.4-family data: two-word function records,
/// then the object and program summaries after the functions.
#[test]
fn gcc_4_4_files_are_3_4_family() {
    use xencov::gcov::gcda::Record;
    use xencov::gcov::tag::Tag;
    use xencov::gcov::version::Family;
    let Some(corpus) = common::corpus_or_skip("gcc_4_4_files_are_3_4_family") else {
        return;
    };
    let dir = corpus.join("org.eclipse.linuxtools");
    let files = common::files_with_suffix(&dir, ".gcda");
    assert_eq!(files.len(), 6);
    for path in files {
        let g = Gcda::decode(&std::fs::read(&path).unwrap()).unwrap();
        assert_eq!(g.header.version.chars(), "404*");
        assert_eq!(g.header.version.format().family, Family::Gcc34);
        let tags: Vec<Option<Tag>> = g
            .records
            .iter()
            .map(|r| match r {
                Record::Function(f) => {
                    let id = f.id.expect("no placeholders in 4.4");
                    assert!(id.cfg_checksum.is_none() && f.extra.is_empty());
                    assert!(!f.counters.is_empty());
                    None
                }
                Record::Other(o) => {
                    let s = o.summary().expect("a 9-word summary");
                    assert!(s.runs >= 1 && s.checksum.is_some() && s.histogram.is_empty());
                    Some(o.tag)
                }
            })
            .collect();
        let first_summary = tags.iter().position(Option::is_some).unwrap();
        assert!(first_summary > 0, "{}", path.display());
        assert_eq!(tags[first_summary], Some(Tag::OBJECT_SUMMARY));
        assert!(
            tags[first_summary + 1..]
                .iter()
                .all(|&t| t == Some(Tag::PROGRAM_SUMMARY))
        );
    }
}

/// Summaries of every era decode: GCC 4.9-8 with histograms, 9+ runs/sum_max.
#[test]
fn gcc_summaries_of_every_era_decode() {
    use xencov::gcov::gcda::Record;
    let Some(corpus) = common::corpus_or_skip("gcc_summaries_of_every_era_decode") else {
        return;
    };
    let mut histograms = 0;
    for path in common::files_with_suffix(&corpus, ".gcda") {
        let g = Gcda::decode(&std::fs::read(&path).unwrap()).unwrap();
        let v = g.header.version;
        if v.chars() == "402*" || path.to_string_lossy().contains("clang") {
            continue; // LLVM's summaries follow no GCC era
        }
        for r in &g.records {
            if let Record::Other(o) = r {
                let s = o
                    .summary()
                    .unwrap_or_else(|| panic!("{}: {o:?}", path.display()));
                if v.at_least(4, 8) && !v.at_least(9, 0) {
                    assert!(!s.histogram.is_empty(), "{}", path.display());
                    histograms += 1;
                }
                if v.at_least(9, 0) {
                    assert!(s.checksum.is_none(), "{}", path.display());
                }
            }
        }
    }
    assert!(histograms >= 10);
}
