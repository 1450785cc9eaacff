//! What the counters mean: profiles of many runs merged into one (each counter
//! kind by its own rule), the coverage of a unit solved from its notes and
//! counters, and what the exclusion markers of its sources take out of it.

pub mod coverage;
pub mod exclude;
pub mod merge;
pub mod notes;
