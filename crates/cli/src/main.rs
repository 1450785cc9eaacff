//! `xencov-rs`: the command-line face of the library. Parsing of arguments,
//! file I/O and printing live here; all decoding lives in the library.

#![forbid(unsafe_code)]

mod check;
mod diag;
mod diff;
mod dump;
mod exclude;
mod html;
mod kind;
mod lcov;
mod llvm;
mod llvmcov;
mod merge;
mod ordered;
mod output;
mod split;
mod xen;

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "xencov-rs",
    version,
    about = "Xen and GCC coverage data: dump, split, merge, report"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Write one .gcda file per unit of a Xen coverage dump (replaces `xencov_split`).
    #[command(mut_arg("strict", |a| a.help(
        "Treat warnings (payloads that do not decode, paths without the prefix) as errors"
    )))]
    Split {
        /// The dump (Xen 4.9+ container or Xen 4.3-4.8 legacy dump); `-` reads standard input.
        dump: PathBuf,
        /// Output directory; each gcda lands at DIR + its recorded path.
        #[arg(short = 'o', long = "output", value_name = "DIR", default_value = ".")]
        output: PathBuf,
        /// Remove this leading directory from every recorded path.
        #[arg(long, value_name = "P")]
        strip_prefix: Option<String>,
        #[command(flatten)]
        prefix_map: PrefixMapArg,
        #[command(flatten)]
        strict: StrictArg,
        /// Write Xen's dot-named `.foo.o.gcda` as `foo.o.gcda` and link `foo.o.gcno` to the
        /// `.foo.o.gcno` beside it, so that lcov's geninfo (which skips dot files) sees them.
        #[arg(long)]
        undot: bool,
    },
    /// Merge runs (dumps, .gcda files, trees of .gcda) into one profile, as gcov-tool merge does.
    #[command(mut_arg("strict", |a| a.help(
        "Treat warnings (mixed gcov versions, inputs that match no unit, saturated counts) as errors"
    )))]
    Merge {
        /// Inputs, each optionally with an integer weight as INPUT:W.
        #[arg(required = true, value_parser = merge::parse_input)]
        inputs: Vec<merge::Input>,
        /// The output: a dump file, or a directory with --to gcda.
        #[arg(short = 'o', long = "output", value_name = "OUT")]
        output: PathBuf,
        /// What to write.
        #[arg(long, value_enum, default_value = "dump")]
        to: merge::To,
        /// Weights of the inputs in order, like `gcov-tool merge -w` (e.g. `-w 2,1`).
        #[arg(short = 'w', long = "weight", value_delimiter = ',')]
        weights: Vec<u64>,
        #[command(flatten)]
        merging: MergeArgs,
        /// With --to gcda: replace an output directory that already holds files
        /// (atomically: the new tree is built beside it and swapped in).
        #[arg(long)]
        replace: bool,
    },
    /// An lcov tracefile computed from the build tree's .gcno files and the counters (no gcov needed).
    Lcov {
        #[command(flatten)]
        common: ReportArgs,
        /// The test name (TN:) of the tracefile.
        #[arg(long, default_value = "")]
        test_name: String,
        /// The tracefile's records: lcov1 (FN/FNDA, BRDA as lcov 1.x, read by every
        /// consumer) or lcov2 (FNL/FNA, lcov 2's branch ids, MCDC/MCF/MCH condition
        /// coverage, as lcov 2.5 writes them with --mcdc-coverage).
        #[arg(long, value_enum, default_value = "lcov1")]
        dialect: lcov::Dialect,
    },
    /// Coverage reports for CI: a summary table, gcov's JSON, or Cobertura XML.
    Report {
        #[command(flatten)]
        common: ReportArgs,
        /// The report to write.
        #[arg(long, value_enum, default_value = "summary")]
        format: lcov::Format,
    },
    /// Coverage of the lines a unified diff adds or changes (as diff-cover reports it):
    /// per file the uncovered changed lines, and a total. Exit status 3 under --fail-under.
    Diff {
        #[command(flatten)]
        common: ReportArgs,
        /// The unified diff (`git diff` output; `-` reads standard input). Its paths are
        /// relative to --root (or the working directory).
        #[arg(long, value_name = "FILE")]
        diff: PathBuf,
        /// Exit with status 3 when the changed lines' coverage is under PERCENT (the same as
        /// --fail-under-line here).
        #[arg(long, value_name = "PERCENT", value_parser = xencov::report::select::parse_percent)]
        fail_under: Option<f64>,
    },
    /// Read the coverage dump from the running hypervisor (dom0 only).
    Read {
        /// Write the dump to FILE (atomically) instead of standard output.
        #[arg(short = 'o', long = "output", value_name = "FILE")]
        output: Option<PathBuf>,
        /// Reset the counters after reading (only once the dump is saved).
        #[arg(long)]
        reset: bool,
        /// Ask even a hypervisor whose release and compiler are known to crash
        /// or to return untrustworthy coverage (e.g. a patched Xen 4.17).
        #[arg(long)]
        i_know_the_risk: bool,
    },
    /// Reset the hypervisor's coverage counters (dom0 only).
    Reset {
        /// Reset even a hypervisor whose release and compiler are known to
        /// crash on the coverage sysctl.
        #[arg(long)]
        i_know_the_risk: bool,
    },
    /// Which GCC made what, and will the gcov here read it: a table and a verdict per pair.
    /// Exit status 0 when all agree, 1 when something is incompatible, 2 on bad input.
    Check {
        /// Dumps, .gcda/.gcno files, directories of them, or ELF files; `-` reads standard input.
        inputs: Vec<PathBuf>,
        /// The hypervisor's ELF image (or any ELF object): its .comment names the compiler.
        #[arg(long, value_name = "FILE")]
        xen_syms: Vec<PathBuf>,
        /// A build tree whose .gcno files to check.
        #[arg(long, value_name = "DIR")]
        gcno_dir: Option<PathBuf>,
        /// The gcov to check (default: `gcov` on PATH, if any).
        #[arg(long, value_name = "PATH")]
        gcov: Option<PathBuf>,
        /// Print JSON instead of the table.
        #[arg(long)]
        json: bool,
    },
    /// Print .gcda and .gcno files record by record, like `gcov-dump -l`.
    Dump {
        /// .gcda and .gcno files, Xen dumps (each unit printed), directories
        /// (every .gcda and .gcno below, sorted); `-` reads standard input.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Print one JSON document instead (shape: formats/dump-json.md).
        #[arg(long)]
        json: bool,
    },
}

/// `--prefix-map`, declared once for every command that reads recorded paths.
#[derive(clap::Args)]
struct PrefixMapArg {
    /// Replace a leading OLD directory by NEW in recorded unit paths (repeatable; the first
    /// match applies).
    #[arg(long, value_name = "OLD=NEW", value_parser = xencov::paths::parse_prefix_map)]
    prefix_map: Vec<(Vec<u8>, Vec<u8>)>,
}

impl PrefixMapArg {
    /// The mapping of these maps (and `--strip-prefix` where a command has it).
    fn mapping(&self, strip_prefix: Option<Vec<u8>>) -> xencov::paths::PathMapping {
        xencov::paths::PathMapping {
            prefix_maps: self.prefix_map.clone(),
            strip_prefix,
        }
    }
}

/// `--strict`, declared once: what it turns into errors is `diag.rs`'s one
/// rule; a command names its own warnings in its help (`mut_arg`).
#[derive(clap::Args)]
struct StrictArg {
    /// A unit without matching notes (or of another compiler), and any other warning, is
    /// an error.
    #[arg(long)]
    strict: bool,
}

/// What `merge` shares with the commands that merge before they report.
#[derive(clap::Args)]
struct MergeArgs {
    #[command(flatten)]
    prefix_map: PrefixMapArg,
    /// What to do when inputs do not line up while merging (another build, a changed
    /// function).
    #[arg(long, value_enum, default_value = "error")]
    on_conflict: ConflictArg,
    #[command(flatten)]
    strict: StrictArg,
}

/// What `lcov` and `report` share.
#[derive(clap::Args)]
struct ReportArgs {
    /// Dumps, .gcda files or trees of them (merged first if several), optionally INPUT:W.
    #[arg(required = true, value_parser = merge::parse_input)]
    inputs: Vec<merge::Input>,
    /// The build tree: each unit's .gcno is found beside its gcda path under DIR.
    /// Default: the first input when it is a directory, the notes beside (or linked
    /// beside, as in Linux's /sys/kernel/debug/gcov) each .gcda file.
    #[arg(long, value_name = "DIR")]
    gcno_dir: Option<PathBuf>,
    /// The inputs are raw LLVM profiles of this clang-built ELF file (xen-syms), whose
    /// coverage mapping says what the counters count (as llvm-cov export, no LLVM needed).
    #[arg(long, value_name = "ELF", conflicts_with = "gcno_dir")]
    object: Option<PathBuf>,
    /// Write to FILE (atomically) instead of standard output.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    output: Option<PathBuf>,
    #[command(flatten)]
    merging: MergeArgs,
    /// The project root: keep only source files below DIR (lcov's --no-external) unless
    /// --include says otherwise, and write the summary's and Cobertura's paths relative
    /// to it (gcovr's -r). The tracefile keeps absolute paths (genhtml reads the sources).
    #[arg(short = 'r', long, value_name = "DIR")]
    root: Option<PathBuf>,
    /// Keep only source files whose path matches REGEX (repeatable; any may match). As
    /// gcovr's --filter: a REGEX starting with `/` is matched against the absolute path,
    /// any other against the path relative to --root (or the working directory);
    /// anchored at the start only (add `$` for a full match).
    #[arg(long, value_name = "REGEX")]
    include: Vec<String>,
    /// Leave out source files whose path matches REGEX (repeatable; as gcovr's --exclude,
    /// matched like --include, after it).
    #[arg(long, value_name = "REGEX")]
    exclude: Vec<String>,
    /// Exit with status 3 (after writing the report) when the total line coverage,
    /// rounded to a tenth as gcovr rounds it and below 100 unless all is covered, is
    /// under PERCENT.
    #[arg(long, value_name = "PERCENT", value_parser = xencov::report::select::parse_percent)]
    fail_under_line: Option<f64>,
    /// As --fail-under-line, for branches (no branches at all counts as 100%).
    #[arg(long, value_name = "PERCENT", value_parser = xencov::report::select::parse_percent)]
    fail_under_branch: Option<f64>,
    /// As --fail-under-line, for functions.
    #[arg(long, value_name = "PERCENT", value_parser = xencov::report::select::parse_percent)]
    fail_under_function: Option<f64>,
    /// As --fail-under-line, for condition outcomes (GCC 14+ -fcondition-coverage; data
    /// without conditions counts as 100%).
    #[arg(long, value_name = "PERCENT", value_parser = xencov::report::select::parse_percent)]
    fail_under_condition: Option<f64>,
    /// Ignore the exclusion markers in the sources (LCOV_EXCL_LINE, LCOV_EXCL_START/STOP,
    /// LCOV_EXCL_BR_*, GCOVR_EXCL_*), as lcov's --no-markers.
    #[arg(long)]
    no_markers: bool,
    /// Markers start with WORD instead of LCOV, GCOVR, GCOV and LCOVR (repeatable; `XEN`
    /// reads XEN_EXCL_LINE, XEN_EXCL_START, ...), as gcovr's --exclude-pattern-prefix.
    #[arg(long, value_name = "WORD", conflicts_with = "no_markers")]
    marker_prefix: Vec<String>,
    /// Look for the sources (whose markers apply, which the HTML report shows) under DIR: a recorded path
    /// /build/xen/common/foo.c is tried as DIR/build/xen/common/foo.c, DIR/xen/common/foo.c,
    /// DIR/common/foo.c, DIR/foo.c, then where it was recorded.
    #[arg(long, value_name = "DIR")]
    source_root: Option<PathBuf>,
}

impl ReportArgs {
    fn run(
        &self,
        f: impl FnOnce(lcov::Args<'_>) -> anyhow::Result<ExitCode>,
    ) -> anyhow::Result<ExitCode> {
        use xencov::report::select::Metric;
        let mapping = self.merging.prefix_map.mapping(None);
        let gcno_dir = match self.object {
            Some(_) => PathBuf::new(),
            None => lcov::gcno_dir(self.gcno_dir.as_deref(), &self.inputs)?,
        };
        let selection = lcov::selection(self.root.as_deref(), &self.include, &self.exclude)?;
        let thresholds: Vec<(Metric, f64)> = [
            (Metric::Line, self.fail_under_line),
            (Metric::Branch, self.fail_under_branch),
            (Metric::Function, self.fail_under_function),
            (Metric::Condition, self.fail_under_condition),
        ]
        .into_iter()
        .filter_map(|(m, v)| Some((m, v?)))
        .collect();
        let markers = match (self.no_markers, self.marker_prefix.is_empty()) {
            (true, _) => None,
            (false, true) => Some(xencov::analysis::exclude::Markers::default()),
            (false, false) => Some(
                xencov::analysis::exclude::Markers::new(self.marker_prefix.iter().cloned())
                    .map_err(|e| anyhow::anyhow!("--marker-prefix: {e}"))?,
            ),
        };
        let diag = diag::Diagnostics::new(self.merging.strict.strict);
        f(lcov::Args {
            diag: &diag,
            inputs: &self.inputs,
            gcno_dir: &gcno_dir,
            output: self.output.as_deref(),
            mapping: &mapping,
            on_conflict: self.merging.on_conflict.into(),
            selection: &selection,
            thresholds: &thresholds,
            source_root: self.source_root.as_deref(),
            object: self.object.as_deref(),
            markers: markers.as_ref(),
        })
    }
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum ConflictArg {
    /// Stop with an error naming both inputs, the unit and the function.
    Error,
    /// Keep what was merged so far; leave the conflicting part of the later input out.
    Skip,
    /// The later input's conflicting part replaces the earlier one.
    KeepNewest,
}

impl From<ConflictArg> for xencov::analysis::merge::OnConflict {
    fn from(a: ConflictArg) -> Self {
        match a {
            ConflictArg::Error => Self::Error,
            ConflictArg::Skip => Self::Skip,
            ConflictArg::KeepNewest => Self::KeepNewest,
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // `read` writes the dump itself, not a listing: a reader that stops
    // early has lost data (with --reset, the counters are gone too), so a
    // closed pipe stays an error there.
    let quiet_pipe = !matches!(cli.command, Command::Read { .. });
    let result = match cli.command {
        Command::Dump { files, json } => dump::run(&files, json),
        Command::Split {
            dump,
            output,
            strip_prefix,
            prefix_map,
            strict,
            undot,
        } => {
            let mapping = prefix_map.mapping(strip_prefix.map(String::into_bytes));
            split::run(&dump, &output, &mapping, strict.strict, undot).map(|()| ExitCode::SUCCESS)
        }
        Command::Read {
            output,
            reset,
            i_know_the_risk,
        } => xen::run_read(output.as_deref(), reset, i_know_the_risk).map(|()| ExitCode::SUCCESS),
        Command::Reset { i_know_the_risk } => {
            xen::run_reset(i_know_the_risk).map(|()| ExitCode::SUCCESS)
        }
        Command::Lcov {
            common,
            test_name,
            dialect,
        } => common.run(|a| lcov::run_lcov(a, &test_name, dialect)),
        Command::Diff {
            common,
            diff,
            fail_under,
        } => common.run(|a| diff::run(a, &diff, fail_under)),
        Command::Report { common, format } => common.run(|a| lcov::run_report(a, format)),
        Command::Merge {
            mut inputs,
            output,
            to,
            weights,
            merging,
            replace,
        } => (|| {
            if !weights.is_empty() {
                // A weight of 0 is allowed, as gcov-tool allows it: the input's
                // counts add nothing, its runs still count.
                if weights.len() != inputs.len() {
                    anyhow::bail!(
                        "-w needs one weight per input ({}, {})",
                        xencov::plural::count(inputs.len(), "input", "inputs"),
                        xencov::plural::count(weights.len(), "weight", "weights")
                    );
                }
                inputs
                    .iter_mut()
                    .zip(&weights)
                    .for_each(|(i, &w)| i.weight = w);
            }
            let mapping = merging.prefix_map.mapping(None);
            merge::run(merge::Args {
                inputs,
                output: &output,
                to,
                mapping: &mapping,
                on_conflict: merging.on_conflict.into(),
                strict: merging.strict.strict,
                replace,
            })
        })()
        .map(|()| ExitCode::SUCCESS),
        Command::Check {
            inputs,
            xen_syms,
            gcno_dir,
            gcov,
            json,
        } => check::run(check::Args {
            inputs: &inputs,
            xen_syms: &xen_syms,
            gcno_dir: gcno_dir.as_deref(),
            gcov: gcov.as_deref(),
            json,
        }),
    };
    match result {
        Ok(code) => code,
        // A reader that stopped early (`| head`) is no failure: end quietly
        // with status 0, as ripgrep and the coreutils do.
        Err(e) if quiet_pipe && output::is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xencov-rs: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
