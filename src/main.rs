//! The `bandroom` binary: parses the command line and reports errors in one line.
//!
//! Owns the process exit code. Must not contain logic beyond that; see `cli`.

mod cli;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    cli::interrupt::install();
    bandroom::midi::quiet_jack();
    match cli::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            use std::io::Write as _;
            let message = format!("{error:#}");
            let _ = writeln!(
                std::io::stderr(),
                "bandroom: error: {}",
                bandroom::plain_text::escape_lines(&message)
            );
            ExitCode::FAILURE
        }
    }
}
