pub mod check;
pub mod dump;
pub mod output;
pub mod split;
pub mod xen;
