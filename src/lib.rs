//! xencov: GCC (gcov `.gcda`/`.gcno` of every era) and LLVM (raw profile)
//! coverage data, and the coverage dumps of the Xen hypervisor.
//!
//! The library is pure: bytes in, typed values out, typed values back to
//! bytes. It does no I/O and prints nothing; the `xencov-rs` binary
//! (`crates/cli`) is a thin command line on top of it.
//!
//! Layers, lowest first (a module imports only from its own layer or below;
//! `tests/layering.rs` checks it, `docs/design.md` explains it):
//! - [`bytes`]: byte order, a bounded reader whose errors carry offsets, its writer;
//!   [`error`] and [`plural`] beside it;
//! - [`gcov`]: the version word and what follows from it ([`gcov::version::Format`]),
//!   the counter kinds, the tag/length record framing, the [`gcov::gcda`] and
//!   [`gcov::gcno`] models;
//! - [`llvm`]: raw LLVM profiles, decoded and merged;
//! - [`xen`]: Xen's dump containers (4.9+ and 4.3–4.8), the coverage sysctl as
//!   bytes, and which Xen builds crash or lie when asked for coverage;
//! - [`check`]: which builds belong together (versions judged, compilers read
//!   from ELF notes); [`paths`]: recorded paths mapped to output paths;
//! - [`analysis`]: profiles of many runs merged into one, coverage solved from
//!   notes and counters;
//! - [`report`]: lcov tracefiles, the summary table, gcov JSON, Cobertura,
//!   source selection and thresholds, coverage of a diff.
//!
//! ```
//! use xencov::Gcda;
//! # let path = concat!(env!("CARGO_MANIFEST_DIR"), "/samples/ppc64-gcc-12/calc/run1/main.gcda");
//! let bytes = std::fs::read(path).unwrap();
//! let gcda = Gcda::decode(&bytes)?;
//! assert_eq!(gcda.header.version.gcc(), "12.2");
//! assert_eq!(gcda.header.endian, xencov::Endian::Big);
//! assert!(gcda.functions().count() > 0);
//! assert_eq!(gcda.encode(), bytes);
//! # Ok::<(), xencov::Error>(())
//! ```

#![forbid(unsafe_code)]
#![deny(missing_docs)]
// Input must never panic the library: no unwrap, expect or unchecked
// indexing outside tests (exceptions are justified where they are allowed).
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)
)]

pub mod analysis;
pub mod bytes;
pub mod check;
pub mod error;
pub mod gcov;
pub mod input;
pub mod llvm;
pub mod paths;
pub mod plural;
pub mod report;
pub mod xen;

pub use bytes::endian::Endian;
pub use error::{Error, ErrorKind, Result};
pub use gcov::gcda::Gcda;
pub use gcov::version::{Format, Version};
