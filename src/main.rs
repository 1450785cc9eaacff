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
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("xencov-rs: error: {e:#}");
            ExitCode::from(2)
        }
    }
}
