//! Raw LLVM profiles (clang-built hypervisors) in the commands that take
//! gcov data: validated first, then named with what they hold and what the
//! command would need, so a user never sees "not a gcda file".

use anyhow::{Result, anyhow};
use xencov::llvm::clangs_of_raw_version;
use xencov::llvm::raw::RawProfile;
use xencov::plural::count;

/// Decodes `data`; a profile that does not validate is an error naming the
/// byte offset.
pub fn decode(name: &str, data: &[u8]) -> Result<RawProfile> {
    RawProfile::decode(data).map_err(|e| anyhow!("{name}: raw LLVM profile: {e}"))
}

/// "raw LLVM profile, version 10 (clang 19-20): 3 functions, 14 counters"
pub fn describe(p: &RawProfile) -> String {
    let v = p.header.version;
    let clangs = clangs_of_raw_version(v);
    let by = match (clangs.first(), clangs.last()) {
        (Some(a), Some(b)) if a == b => format!(" (clang {a})"),
        (Some(a), Some(b)) => format!(" (clang {a}-{b})"),
        _ => String::new(),
    };
    format!(
        "a raw LLVM profile, version {v}{by}: {}, {}",
        count(p.functions.len() as u64, "function", "functions"),
        count(p.num_counters() as u64, "counter", "counters")
    )
}

/// The error of `merge`, `lcov` and `report` for a valid raw profile: what
/// it is and what a report of it needs.
pub fn not_gcov(name: &str, data: &[u8]) -> anyhow::Error {
    let p = match decode(name, data) {
        Ok(p) => p,
        Err(e) => return e,
    };
    anyhow!(
        "{name} is not gcov data but {} from a clang-built program. Its counters mean lines and \
         branches only through the coverage mapping in the binary it came from (the \
         __llvm_covmap and __llvm_covfun sections of xen-syms): pass that binary, as in \
         `xencov-rs lcov {name} --object xen-syms -o coverage.info` (or `report ... --object \
         xen-syms`). `xencov-rs dump {name}` prints its counters per function and `xencov-rs \
         check --xen-syms xen-syms {name}` checks it against the binary",
        describe(&p),
    )
}

/// `merge` of raw profiles (the first input is one): sums of the counters
/// and ORs of the bitmaps of one build, written as a raw profile.
pub fn merge(inputs: &[crate::merge::Input], output: &std::path::Path) -> Result<()> {
    let mut data = Vec::with_capacity(inputs.len());
    for i in inputs {
        if i.path.is_dir() {
            return Err(anyhow!(
                "{}: a directory among raw LLVM profiles: merge takes profiles of one build",
                i.path.display()
            ));
        }
        let bytes = crate::output::read_input(&i.path)?;
        if !matches!(
            xencov::input::recognise(&bytes),
            xencov::input::Kind::LlvmRawProfile { .. }
        ) {
            return Err(anyhow!(
                "{} is not a raw LLVM profile, but the first input is: profiles of a clang \
                 build merge only with each other",
                i.path.display()
            ));
        }
        // Each is validated on its own first, so that a bad one is named
        // like everywhere else (file, byte offset).
        decode(&i.path.display().to_string(), &bytes)?;
        data.push(bytes);
    }
    let merged = merge_raw(&data, inputs)?;
    crate::output::write_atomic(output, &merged)?;
    eprintln!(
        "xencov-rs: merged {} (raw LLVM profiles) into {}",
        count(inputs.len() as u64, "input", "inputs"),
        output.display()
    );
    Ok(())
}

/// The raw profiles `data` (read from `inputs`, with their weights) merged
/// into one, as `llvm-profdata merge` does; an error names the input.
pub fn merge_raw(data: &[Vec<u8>], inputs: &[crate::merge::Input]) -> Result<Vec<u8>> {
    let pairs: Vec<(&[u8], u64)> = data
        .iter()
        .zip(inputs)
        .map(|(b, i)| (b.as_slice(), i.weight))
        .collect();
    xencov::llvm::raw::merge(&pairs).map_err(|e| {
        let name = inputs
            .get(e.input)
            .map_or_else(String::new, |i| i.path.display().to_string());
        anyhow!("{name}: cannot merge: {}", e.error)
    })
}
