//! `xencov-rs`: the command-line face of the library. Parsing of arguments,
//! file I/O and printing live here; all decoding lives in the library.

mod cli;

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
    Split {
        /// The dump (Xen 4.9+ container or Xen 4.3-4.8 legacy dump); `-` reads standard input.
        dump: PathBuf,
        /// Output directory; each gcda lands at DIR + its recorded path.
        #[arg(short = 'o', long = "output", value_name = "DIR", default_value = ".")]
        output: PathBuf,
        /// Remove this leading directory from every recorded path.
        #[arg(long, value_name = "P")]
        strip_prefix: Option<String>,
        /// Replace a leading OLD directory by NEW (repeatable; the first match applies).
        #[arg(long, value_name = "OLD=NEW", value_parser = xencov_rs::paths::parse_prefix_map)]
        prefix_map: Vec<(Vec<u8>, Vec<u8>)>,
        /// Treat warnings (payloads that do not decode, paths without the prefix) as errors.
        #[arg(long)]
        strict: bool,
    },
    /// Read the coverage dump from the running hypervisor (dom0 only).
    Read {
        /// Write the dump to FILE (atomically) instead of standard output.
        #[arg(short = 'o', long = "output", value_name = "FILE")]
        output: Option<PathBuf>,
        /// Reset the counters after reading.
        #[arg(long)]
        reset: bool,
    },
    /// Reset the hypervisor's coverage counters (dom0 only).
    Reset,
    /// Which GCC made what, and will the gcov here read it: a table and a verdict per pair.
    /// Exit status 0 when all agree, 1 when something is incompatible, 2 on bad input.
    Check {
        /// Dumps, .gcda/.gcno files, directories of them, or ELF files.
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
    /// Print .gcda files record by record, like `gcov-dump -l`.
    Dump {
        /// The .gcda files to print.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Print one JSON document instead (shape: formats/dump-json.md).
        #[arg(long)]
        json: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Dump { files, json } => cli::dump::run(&files, json),
        Command::Split {
            dump,
            output,
            strip_prefix,
            prefix_map,
            strict,
        } => {
            let mapping = xencov_rs::paths::PathMapping {
                prefix_maps: prefix_map,
                strip_prefix: strip_prefix.map(String::into_bytes),
            };
            cli::split::run(&dump, &output, &mapping, strict).map(|()| ExitCode::SUCCESS)
        }
        Command::Read { output, reset } => {
            cli::xen::run_read(output.as_deref(), reset).map(|()| ExitCode::SUCCESS)
        }
        Command::Reset => cli::xen::run_reset().map(|()| ExitCode::SUCCESS),
        Command::Check {
            inputs,
            xen_syms,
            gcno_dir,
            gcov,
            json,
        } => cli::check::run(cli::check::Args {
            inputs: &inputs,
            xen_syms: &xen_syms,
            gcno_dir: gcno_dir.as_deref(),
            gcov: gcov.as_deref(),
            json,
        }),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("xencov-rs: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
