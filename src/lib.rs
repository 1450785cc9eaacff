//! xencov-rs: GCC coverage data (gcov `.gcda`/`.gcno`, Xen coverage dumps).
//!
//! The library is pure: bytes in, typed values out, typed values back to
//! bytes. It does no I/O and prints nothing; the `xencov-rs` binary is a thin
//! CLI on top of it.
//!
//! Layers, lowest first:
//! - [`endian`] and [`reader`]: endian-aware word access with offsets in every error;
//! - [`version`]: the gcov version word and everything that follows from it ([`version::Format`]);
//! - [`record`]: the tag/length record framing shared by gcda and gcno files (zero-copy);
//! - [`gcda`]: the counter-data model, decoded and encoded byte-exactly;
//! - [`dump`]: Xen's coverage dumps; [`merge`]: profiles of many runs into one;
//! - [`sysctl`]: the hypervisor ABI as bytes; [`hypervisor`]: which Xen builds crash or lie
//!   when asked for coverage; [`paths`], [`elf`]: output paths, compilers.
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
