//! The byte layer: words in either byte order, a bounded reader whose every
//! error carries the offset it failed at, and its writer counterpart. Nothing
//! here knows a file format.

pub mod endian;
pub mod reader;
pub mod writer;
