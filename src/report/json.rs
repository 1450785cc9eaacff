//! gcov's own JSON (`gcov --json-format`), byte for byte.

use crate::analysis::coverage::UnitCoverage;
use std::fmt::Write;

/// A string as gcov's JSON writer quotes it: only `"`, `\`, backspace, form
/// feed, newline, carriage return and tab are escaped; every other character
/// is written as it is.
pub(super) fn json_str(s: &mut String, v: &str) {
    s.push('"');
    for c in v.chars() {
        match c {
            '"' => s.push_str("\\\""),
            '\\' => s.push_str("\\\\"),
            '\u{8}' => s.push_str("\\b"),
            '\u{c}' => s.push_str("\\f"),
            '\n' => s.push_str("\\n"),
            '\r' => s.push_str("\\r"),
            '\t' => s.push_str("\\t"),
            c => s.push(c),
        }
    }
    s.push('"');
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
pub fn gcov_json(unit: &UnitCoverage, gcc_version: &str, data_file: &str) -> String {
    let mut s = String::new();
    s.push_str("{\"gcc_version\": ");
    json_str(&mut s, gcc_version);
    s.push_str(", \"files\": [");
    for (i, file) in unit.files.iter().enumerate() {
        if i > 0 {
            s.push_str(", ");
        }
        s.push_str("{\"lines\": [");
        for (j, line) in file.lines.iter().enumerate() {
            if j > 0 {
                s.push_str(", ");
            }
            s.push_str("{\"branches\": [");
            for (k, b) in line.branches.iter().enumerate() {
                if k > 0 {
                    s.push_str(", ");
                }
                let _ = write!(
                    s,
                    "{{\"fallthrough\": {}, \"count\": {}, \"throw\": {}}}",
                    b.fallthrough,
                    b.count.max(0),
                    b.throw
                );
            }
            let _ = write!(
                s,
                "], \"count\": {}, \"line_number\": {}, \"unexecuted_block\": {}",
                line.count.max(0),
                line.line_number,
                line.unexecuted_block
            );
            if let Some(f) = &line.function_name {
                s.push_str(", \"function_name\": ");
                json_str(&mut s, f);
            }
            // gcov 14+ `-g` (format 2) writes a `conditions` array on every
            // line; format 1 has none, so it is added only where there are
            // decisions (formats/report-json.md §7).
            if !line.conditions.is_empty() {
                s.push_str(", \"conditions\": [");
                for (k, c) in line.conditions.iter().enumerate() {
                    if k > 0 {
                        s.push_str(", ");
                    }
                    let list =
                        |v: &[u32]| v.iter().map(u32::to_string).collect::<Vec<_>>().join(", ");
                    let _ = write!(
                        s,
                        "{{\"count\": {}, \"covered\": {}, \"not_covered_true\": [{}], \"not_covered_false\": [{}]}}",
                        c.count,
                        c.covered,
                        list(&c.not_covered_true),
                        list(&c.not_covered_false)
                    );
                }
                s.push(']');
            }
            s.push('}');
        }
        s.push_str("], \"functions\": [");
        for (j, f) in file.functions.iter().enumerate() {
            if j > 0 {
                s.push_str(", ");
            }
            let _ = write!(
                s,
                "{{\"blocks\": {}, \"end_column\": {}, \"start_line\": {}, \"name\": ",
                f.blocks, f.end_column, f.start_line
            );
            json_str(&mut s, &f.name);
            let _ = write!(
                s,
                ", \"blocks_executed\": {}, \"execution_count\": {}, \"demangled_name\": ",
                f.blocks_executed,
                f.execution_count.max(0)
            );
            json_str(&mut s, &f.demangled_name);
            let _ = write!(
                s,
                ", \"start_column\": {}, \"end_line\": {}}}",
                f.start_column, f.end_line
            );
        }
        s.push_str("], \"file\": ");
        json_str(&mut s, &file.file);
        s.push('}');
    }
    s.push_str("], \"format_version\": \"1\", \"current_working_directory\": ");
    match &unit.cwd {
        Some(c) => json_str(&mut s, c),
        None => s.push_str("null"),
    }
    s.push_str(", \"data_file\": ");
    json_str(&mut s, data_file);
    s.push('}');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_strings_escape_what_gcov_escapes() {
        let mut s = String::new();
        json_str(&mut s, "a\"b\\c\td\u{1}é");
        assert_eq!(s, "\"a\\\"b\\\\c\\td\u{1}é\"");
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
