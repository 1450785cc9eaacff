//! What a file that is not the expected input is, so that a `.gcno` or a
//! source file given as an input is named as such instead of failing a
//! magic-number check that says nothing to the user. The recognition itself
//! is the library's ([`xencov::input::recognise`]).

use xencov::input::{Kind, recognise};

/// What `data` is, as a phrase, when it is something we can name; `None`
/// for bytes we cannot tell.
pub fn recognise_named(data: &[u8]) -> Option<&'static str> {
    match recognise(data) {
        Kind::Unknown => None,
        k => Some(k.describe()),
    }
}

/// The inputs merge, lcov and report take.
pub const ACCEPTED: &str = "inputs are Xen coverage dumps (as `xencov-rs read` saves them), \
     .gcda files, or directories with .gcda files below them; the build's .gcno notes go to --gcno-dir";
