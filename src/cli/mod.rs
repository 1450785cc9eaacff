pub mod check;
pub mod dump;
pub mod kind;
pub mod lcov;
pub mod merge;
pub mod output;
pub mod split;
pub mod xen;
