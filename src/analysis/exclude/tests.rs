use super::*;
use crate::analysis::coverage::{BranchCoverage, FunctionCoverage, LineCoverage};

fn lines(s: &Scan) -> Vec<u32> {
    s.exclusions.lines.iter().copied().collect()
}

#[test]
fn a_region_takes_its_start_line_not_its_stop_line() {
    let text = b"a\nb // LCOV_EXCL_START\nc\nd // LCOV_EXCL_STOP\ne\n";
    let s = scan(text, &Markers::default());
    assert_eq!(lines(&s), [2, 3]);
    assert!(s.warnings.is_empty());
    assert!(s.exclusions.branches.is_empty());
}

#[test]
fn single_lines_and_branch_markers() {
    let text = b"x; // LCOV_EXCL_LINE\nif (a) // GCOVR_EXCL_BR_LINE\n\
                 /* LCOV_EXCL_BR_START */\nif (b)\n// LCOV_EXCL_BR_STOP\n\
                 throw; // LCOV_EXCL_EXCEPTION_BR_LINE\n";
    let s = scan(text, &Markers::default());
    assert_eq!(lines(&s), [1]);
    assert_eq!(
        s.exclusions.branches.iter().copied().collect::<Vec<_>>(),
        [2, 3, 4]
    );
    assert_eq!(
        s.exclusions
            .exception_branches
            .iter()
            .copied()
            .collect::<Vec<_>>(),
        [6]
    );
}

/// A region that never closes runs to the end of the file (the last
/// line without a newline counts) and is a warning at its start line.
#[test]
fn unclosed_region_runs_to_the_end_and_warns() {
    let s = scan(b"a\n// GCOVR_EXCL_START\nb\nc", &Markers::default());
    assert_eq!(lines(&s), [2, 3, 4]);
    assert_eq!(s.warnings.len(), 1);
    assert_eq!(
        s.warnings[0].to_string(),
        "line 2: GCOVR_EXCL_START is never closed by GCOVR_EXCL_STOP: excluded to the end of the file"
    );
}

#[test]
fn stray_stop_nested_start_and_mixed_prefixes_warn() {
    let text = b"// LCOV_EXCL_STOP\n// LCOV_EXCL_START\n// LCOV_EXCL_START\nx\n\
                 // GCOVR_EXCL_STOP\ny\n";
    let s = scan(text, &Markers::default());
    assert_eq!(lines(&s), [2, 3, 4]);
    let kinds: Vec<(u32, &WarningKind)> = s.warnings.iter().map(|w| (w.line, &w.kind)).collect();
    assert_eq!(
        kinds,
        [
            (1, &WarningKind::StopWithoutStart),
            (3, &WarningKind::StartInsideRegion { opened_at: 2 }),
            (
                5,
                &WarningKind::OtherPrefix {
                    opened_at: 2,
                    opened_with: "LCOV_EXCL_START".into()
                }
            ),
        ]
    );
}

/// `LCOV_EXCL_BR_LINE` is not `LCOV_EXCL_LINE`, nor the exception
/// marker a branch marker: each word is matched whole.
#[test]
fn longer_markers_are_not_taken_for_shorter_ones() {
    let s = scan(
        b"a // LCOV_EXCL_BR_LINE\nb // LCOV_EXCL_EXCEPTION_BR_START\nc // LCOV_EXCL_EXCEPTION_BR_STOP\n",
        &Markers::default(),
    );
    assert!(s.exclusions.lines.is_empty());
    assert_eq!(
        s.exclusions.branches.iter().copied().collect::<Vec<_>>(),
        [1]
    );
    assert_eq!(
        s.exclusions
            .exception_branches
            .iter()
            .copied()
            .collect::<Vec<_>>(),
        [2]
    );
    assert!(s.warnings.is_empty());
}

#[test]
fn own_prefixes_replace_the_default_ones() {
    let m = Markers::new(["XEN".to_string()]).unwrap();
    let s = scan(b"a // XEN_EXCL_LINE\nb // LCOV_EXCL_LINE\n", &m);
    assert_eq!(lines(&s), [1]);
    assert!(Markers::new(Vec::new()).is_err());
    assert!(Markers::new(["A B".to_string()]).is_err());
}

#[test]
fn apply_takes_out_functions_lines_and_branches() {
    let branch = |throw| BranchCoverage {
        count: 1,
        throw,
        fallthrough: false,
        source_block_id: 0,
        destination_block_id: 0,
    };
    let line = |n, branches| LineCoverage {
        line_number: n,
        function_name: None,
        count: 1,
        unexecuted_block: false,
        branches,
        conditions: Vec::new(),
    };
    let func = |name: &str, start| FunctionCoverage {
        name: name.into(),
        demangled_name: name.into(),
        start_line: start,
        start_column: 1,
        end_line: start + 2,
        end_column: 1,
        blocks: 2,
        blocks_executed: 2,
        execution_count: 1,
    };
    let mut f = FileCoverage {
        file: "a.c".into(),
        functions: vec![func("f", 1), func("g", 5)],
        lines: vec![
            line(1, vec![]),
            line(2, vec![branch(false), branch(false)]),
            line(5, vec![branch(false)]),
            line(6, vec![branch(false), branch(true)]),
        ],
    };
    let e = Exclusions {
        lines: [1].into(),
        branches: [2].into(),
        exception_branches: [6].into(),
    };
    let r = e.apply(&mut f);
    assert_eq!((r.lines, r.branches, r.conditions), (1, 3, 0));
    assert_eq!(r.functions.len(), 1);
    assert_eq!(r.functions[0].name, "f");
    assert_eq!(f.functions.len(), 1);
    assert_eq!(f.functions[0].name, "g");
    let kept: Vec<(u32, usize)> = f
        .lines
        .iter()
        .map(|l| (l.line_number, l.branches.len()))
        .collect();
    assert_eq!(kept, [(2, 0), (5, 1), (6, 1)]);
}

/// A text scanned in pieces of whole lines gives what it gives whole:
/// lines, regions and warnings (line numbers included) across the cuts,
/// wherever they fall, with and without a final newline.
#[test]
fn pieces_scan_as_the_whole_text() {
    let m = Markers::default();
    let texts: [&[u8]; 4] = [
        b"a\n// LCOV_EXCL_START\nb\n\nc // LCOV_EXCL_LINE\n// LCOV_EXCL_STOP\nd\n// LCOV_EXCL_STOP\ne // LCOV_EXCL_BR_LINE\n\n// LCOV_EXCL_BR_START\nf\n",
        b"x\n\n\n// LCOV_EXCL_START\ny\n// LCOV_EXCL_START\nz",
        b"\n\n// LCOV_EXCL_LINE\n\n",
        b"no markers\nat all\n",
    ];
    for text in texts {
        let whole = scan(text, &m);
        let ends: Vec<usize> = text
            .iter()
            .enumerate()
            .filter(|&(_, &b)| b == b'\n')
            .map(|(i, _)| i + 1)
            .collect();
        // Every way of cutting at one or two line ends.
        for (i, &a) in ends.iter().enumerate() {
            for &b in ends.iter().skip(i) {
                let mut s = Scanner::new(&m);
                s.feed(&text[..a]);
                s.feed(&text[a..b]);
                s.feed(&text[b..]);
                let pieces = s.finish();
                assert_eq!(
                    pieces,
                    whole,
                    "cut at {a} and {b} of {:?}",
                    String::from_utf8_lossy(text)
                );
            }
        }
        assert!(!whole.exclusions.is_empty() || text.starts_with(b"no"));
    }
}
