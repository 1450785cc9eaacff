//! What the counters mean: profiles of many runs merged into one (each counter
//! kind by its own rule), and the coverage of a unit solved from its notes and
//! counters.

pub mod coverage;
pub mod merge;
