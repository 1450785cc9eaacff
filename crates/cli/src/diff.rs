//! `xencov-rs diff`: the coverage of a change's lines, from the same
//! coverage as `lcov` and `report`.

use crate::lcov::{Args, EXIT_BELOW_THRESHOLD, emit, folded_tracefile};
use anyhow::{Context, Result, bail};
use std::path::Path;
use std::process::ExitCode;
use xencov::report::select::Metric;

pub fn run(args: Args<'_>, diff: &Path, fail_under: Option<f64>) -> Result<ExitCode> {
    // Only line coverage is defined on a diff's lines here (as diff-cover's).
    if args.thresholds.iter().any(|(m, _)| *m != Metric::Line) {
        bail!("diff checks line coverage only: use --fail-under (or --fail-under-line)");
    }
    // Read the diff first: standard input may be a pipe that a failure
    // later would leave unread.
    let bytes = crate::output::read_input(diff)?;
    let text = String::from_utf8_lossy(&bytes);
    let changed = xencov::report::diff::parse_unified(&text)
        .map_err(|e| anyhow::anyhow!("{}: {e}", diff.display()))?;
    let t = folded_tracefile(&args, false)?.t;
    let root = args
        .selection
        .root
        .as_deref()
        .unwrap_or(&args.selection.base);
    let d = xencov::report::diff::diff_coverage(&t, &changed, root);
    emit(args.output, |w| xencov::report::diff::write_table(w, &d))
        .with_context(|| "cannot write the report".to_string())?;
    let wanted: Vec<f64> = args
        .thresholds
        .iter()
        .map(|(_, w)| *w)
        .chain(fail_under)
        .collect();
    let mut failed = false;
    for w in wanted {
        let s = xencov::report::select::shortfalls(
            &xencov::report::Totals {
                lines: d.total,
                ..Default::default()
            },
            &[(Metric::Line, w)],
        );
        for m in s {
            eprintln!("xencov-rs: FAILED: changed-{m}");
            failed = true;
        }
    }
    Ok(if failed {
        ExitCode::from(EXIT_BELOW_THRESHOLD)
    } else {
        ExitCode::SUCCESS
    })
}
