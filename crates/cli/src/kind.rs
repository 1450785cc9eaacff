//! What a file that is not the expected input is, from its first bytes, so
//! that a `.gcno` or a source file given as an input is named as such
//! instead of failing a magic-number check that says nothing to the user.

/// A short description of what `data` looks like, when it is something we
/// can name; `None` for bytes we cannot tell.
pub fn recognise(data: &[u8]) -> Option<String> {
    let first: &[u8] = data.get(..4).unwrap_or(data);
    let text_start = |p: &[u8]| data.starts_with(p);
    let named = if data.is_empty() {
        "an empty file"
    } else if first == b"gcno" || first == b"oncg" {
        "a GCC notes file (.gcno), not counter data"
    } else if first == b"gcda" || first == b"adcg" {
        "a .gcda counter file"
    } else if first == b"\x7fELF" {
        "an ELF file (an object or executable)"
    } else if data.starts_with(&0x8169_666f_7270_6cff_u64.to_le_bytes())
        || data.starts_with(&0x8169_666f_7270_6cff_u64.to_be_bytes())
    {
        "an indexed LLVM profile (.profdata)"
    } else if xencov::llvm::raw::sniff(data).is_some() {
        "a raw LLVM profile (.profraw) of a clang-built program"
    } else if first.starts_with(b"\x1f\x8b") {
        "gzip-compressed data (decompress it first)"
    } else if first.starts_with(b"\xfd7zX")
        || first.starts_with(b"BZh")
        || first.starts_with(b"\x28\xb5\x2f\xfd")
    {
        "compressed data (xz, bzip2 or zstd: decompress it first)"
    } else if text_start(b"TN:") || text_start(b"SF:") {
        "an lcov tracefile (text)"
    } else if text_start(b"<?xml") {
        "an XML file"
    } else if looks_like_text(data) {
        "text (a source file or a report?)"
    } else {
        return None;
    };
    Some(named.to_string())
}

/// UTF-8 without NUL or other control bytes (tabs and line ends allowed)
/// in its first 4 KiB (a cut multi-byte character at the end is fine).
fn looks_like_text(data: &[u8]) -> bool {
    let head = data.get(..4096).unwrap_or(data);
    let valid = match std::str::from_utf8(head) {
        Ok(s) => s,
        Err(e) if e.error_len().is_none() => {
            std::str::from_utf8(head.get(..e.valid_up_to()).unwrap_or_default()).unwrap_or_default()
        }
        Err(_) => return false,
    };
    !valid.is_empty()
        && !valid
            .chars()
            .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t' | '\x0c'))
}

/// The inputs merge, lcov and report take.
pub const ACCEPTED: &str = "inputs are Xen coverage dumps (as `xencov-rs read` saves them), \
     .gcda files, or directories with .gcda files below them; the build's .gcno notes go to --gcno-dir";
