//! gcov's own JSON (`gcov --json-format`), byte for byte.

use crate::analysis::coverage::UnitCoverage;
use crate::report::lcov::push_decimal;
use std::io::{self, Write};

/// A string as gcov's JSON writer quotes it: only `"`, `\`, backspace, form
/// feed, newline, carriage return and tab are escaped; every other character
/// is written as it is.
pub(super) fn json_str<W: Write + ?Sized>(w: &mut W, v: &str) -> io::Result<()> {
    let mut buf = Vec::with_capacity(v.len() + 2);
    push_json_str(&mut buf, v);
    w.write_all(&buf)
}

/// [`json_str`] appended to a buffer: a line's function name goes into the
/// line's buffer, one write per line rather than three or more per name.
fn push_json_str(buf: &mut Vec<u8>, v: &str) {
    buf.push(b'"');
    let bytes = v.as_bytes();
    // Names almost never hold a character to escape: one pass without a
    // branch per byte says so, and the name goes in whole (a third less
    // than the walk below on sqlite's names).
    let plain = bytes
        .iter()
        .fold(true, |ok, &b| ok & (b >= 0x20 && b != b'"' && b != b'\\'));
    if plain {
        buf.extend_from_slice(bytes);
        buf.push(b'"');
        return;
    }
    // Runs of characters written as they are, in one piece each: only
    // ASCII is escaped, and no byte of a multi-byte character is ASCII.
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let escaped: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            0x08 => b"\\b",
            0x0c => b"\\f",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            _ => continue,
        };
        buf.extend_from_slice(bytes.get(start..i).unwrap_or_default());
        buf.extend_from_slice(escaped);
        start = i + 1;
    }
    buf.extend_from_slice(bytes.get(start..).unwrap_or_default());
    buf.push(b'"');
}

/// `true` or `false` as JSON writes it.
fn json_bool(v: bool) -> &'static [u8] {
    if v { b"true" } else { b"false" }
}

/// A count as the report writes it: a negative count (inconsistent
/// counters) as 0, as `i128::max(0)` displayed.
fn non_negative(v: i128) -> u128 {
    u128::try_from(v).unwrap_or(0)
}

/// The version string the gcov of the release that wrote the data prints as
/// `gcc_version`: GCC 5 and later number their releases X.Y.0 and the files
/// record X.Y; before GCC 5 the patch level is not recorded and is left out.
pub fn gcov_version(v: crate::gcov::version::Version) -> String {
    if v.at_least(5, 0) {
        format!("{}.0", v.gcc())
    } else {
        v.gcc()
    }
}

/// One unit as `gcov --json-format` (gcov 10 – 12, format "1") writes it,
/// byte for byte: its key orders, `", "` and `": "` as the only whitespace,
/// no newline (formats/report-json.md). `gcc_version` is gcov's version
/// string, `cwd` is null when the notes do not record it (before GCC 9).
pub fn write_gcov_json<W: Write + ?Sized>(
    w: &mut W,
    unit: &UnitCoverage,
    gcc_version: &str,
    data_file: &str,
) -> io::Result<()> {
    w.write_all("{\"gcc_version\": ".as_bytes())?;
    json_str(w, gcc_version)?;
    w.write_all(", \"files\": [".as_bytes())?;
    let mut buf: Vec<u8> = Vec::with_capacity(256);
    for (i, file) in unit.files.iter().enumerate() {
        if i > 0 {
            w.write_all(", ".as_bytes())?;
        }
        w.write_all("{\"lines\": [".as_bytes())?;
        for (j, line) in file.lines.iter().enumerate() {
            // The line up to its conditions in one piece, numbers
            // without `write!`'s machinery (SQLite's unit: 70,000 lines).
            buf.clear();
            if j > 0 {
                buf.extend_from_slice(b", ");
            }
            buf.extend_from_slice(b"{\"branches\": [");
            for (k, b) in line.branches.iter().enumerate() {
                if k > 0 {
                    buf.extend_from_slice(b", ");
                }
                buf.extend_from_slice(b"{\"fallthrough\": ");
                buf.extend_from_slice(json_bool(b.fallthrough));
                buf.extend_from_slice(b", \"count\": ");
                push_decimal(&mut buf, non_negative(b.count));
                buf.extend_from_slice(b", \"throw\": ");
                buf.extend_from_slice(json_bool(b.throw));
                buf.push(b'}');
            }
            buf.extend_from_slice(b"], \"count\": ");
            push_decimal(&mut buf, non_negative(line.count));
            buf.extend_from_slice(b", \"line_number\": ");
            push_decimal(&mut buf, u128::from(line.line_number));
            buf.extend_from_slice(b", \"unexecuted_block\": ");
            buf.extend_from_slice(json_bool(line.unexecuted_block));
            if let Some(f) = &line.function_name {
                buf.extend_from_slice(b", \"function_name\": ");
                push_json_str(&mut buf, f);
            }
            // gcov 14+ `-g` (format 2) writes a `conditions` array on every
            // line; format 1 has none, so it is added only where there are
            // decisions (formats/report-json.md §7).
            if line.conditions.is_empty() {
                buf.push(b'}');
                w.write_all(&buf)?;
                continue;
            }
            w.write_all(&buf)?;
            w.write_all(", \"conditions\": [".as_bytes())?;
            for (k, c) in line.conditions.iter().enumerate() {
                if k > 0 {
                    w.write_all(", ".as_bytes())?;
                }
                let list = |v: &[u32]| v.iter().map(u32::to_string).collect::<Vec<_>>().join(", ");
                write!(
                    w,
                    "{{\"count\": {}, \"covered\": {}, \"not_covered_true\": [{}], \"not_covered_false\": [{}]}}",
                    c.count,
                    c.covered,
                    list(&c.not_covered_true),
                    list(&c.not_covered_false)
                )?;
            }
            w.write_all(b"]")?;
            w.write_all(b"}")?;
        }
        w.write_all("], \"functions\": [".as_bytes())?;
        for (j, f) in file.functions.iter().enumerate() {
            if j > 0 {
                w.write_all(", ".as_bytes())?;
            }
            write!(
                w,
                "{{\"blocks\": {}, \"end_column\": {}, \"start_line\": {}, \"name\": ",
                f.blocks, f.end_column, f.start_line
            )?;
            json_str(w, &f.name)?;
            write!(
                w,
                ", \"blocks_executed\": {}, \"execution_count\": {}, \"demangled_name\": ",
                f.blocks_executed,
                f.execution_count.max(0)
            )?;
            json_str(w, &f.demangled_name)?;
            write!(
                w,
                ", \"start_column\": {}, \"end_line\": {}}}",
                f.start_column, f.end_line
            )?;
        }
        w.write_all("], \"file\": ".as_bytes())?;
        json_str(w, &file.file)?;
        w.write_all(b"}")?;
    }
    w.write_all("], \"format_version\": \"1\", \"current_working_directory\": ".as_bytes())?;
    match &unit.cwd {
        Some(c) => json_str(w, c)?,
        None => w.write_all("null".as_bytes())?,
    }
    w.write_all(", \"data_file\": ".as_bytes())?;
    json_str(w, data_file)?;
    w.write_all(b"}")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A name without a character to escape is written whole (the fast
    /// road); one with such a character anywhere, first or last, is not.
    #[test]
    fn plain_names_are_written_whole_and_others_escaped() {
        for (name, quoted) in [
            ("sqlite3VdbeExec", "\"sqlite3VdbeExec\""),
            ("ops::é~ü<>&", "\"ops::é~ü<>&\""),
            ("", "\"\""),
            ("\"ab", "\"\\\"ab\""),
            ("ab\\", "\"ab\\\\\""),
            ("a\nb", "\"a\\nb\""),
        ] {
            let mut s = Vec::new();
            json_str(&mut s, name).unwrap();
            assert_eq!(String::from_utf8(s).unwrap(), quoted, "{name:?}");
        }
    }

    #[test]
    fn json_strings_escape_what_gcov_escapes() {
        let mut s = Vec::new();
        json_str(&mut s, "a\"b\\c\td\u{1}é").unwrap();
        assert_eq!(String::from_utf8(s).unwrap(), "\"a\\\"b\\\\c\\td\u{1}é\"");
        let mut s = Vec::new();
        json_str(&mut s, "\u{8}\u{c}x\n\rü\"").unwrap();
        assert_eq!(String::from_utf8(s).unwrap(), "\"\\b\\fx\\n\\rü\\\"\"");
    }

    #[test]
    fn gcc_version_as_gcov_writes_it() {
        use crate::gcov::version::{Status, Version};
        let v = |a, b| Version::new(a, b, Status::Release).unwrap();
        assert_eq!(gcov_version(v(12, 2)), "12.2.0");
        assert_eq!(gcov_version(v(11, 3)), "11.3.0");
        assert_eq!(gcov_version(v(4, 4)), "4.4");
    }
}
