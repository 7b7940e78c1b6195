//! `bandroom manual --out DIR` (hidden; for packagers): the manual pages and shell
//! completions, generated from the command line's own clap definitions so they can never
//! disagree with it.
//!
//! Owns writing `bandroom.1`, one `bandroom-SUBCOMMAND.1` per subcommand, and completions
//! for bash, zsh and fish into a folder that must not exist yet (nothing of anyone
//! else's is overwritten). Must not know how a package lays them out.

use anyhow::{Context, Result, bail};
use clap::CommandFactory;
use std::path::{Path, PathBuf};

#[derive(clap::Args, Debug)]
pub struct ManualArgs {
    /// A new folder for the pages (man/) and completions (completions/)
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
}

fn write(path: &Path, bytes: &[u8]) -> Result<()> {
    std::fs::write(path, bytes).with_context(|| format!("writing {}", path.display()))
}

/// One manual page for `command`, named `name`.
fn page(command: clap::Command, name: &str) -> Result<Vec<u8>> {
    let mut bytes = Vec::new();
    clap_mangen::Man::new(command)
        .title(name)
        .source(format!("bandroom {}", env!("CARGO_PKG_VERSION")))
        .manual("bandroom")
        .render(&mut bytes)
        .with_context(|| format!("rendering the manual page of {name}"))?;
    Ok(bytes)
}

pub fn manual(args: &ManualArgs) -> Result<()> {
    if args.out.exists() {
        bail!(
            "{} already exists: give a new folder, so nothing in it is overwritten",
            args.out.display()
        );
    }
    let man = args.out.join("man");
    let completions = args.out.join("completions");
    for dir in [&man, &completions] {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let command = super::Cli::command();
    write(&man.join("bandroom.1"), &page(command.clone(), "bandroom")?)?;
    for sub in command.get_subcommands().filter(|s| !s.is_hide_set()) {
        let name = format!("bandroom-{}", sub.get_name());
        write(&man.join(format!("{name}.1")), &page(sub.clone(), &name)?)?;
    }
    for (shell, file) in [
        (clap_complete::Shell::Bash, "bandroom"),
        (clap_complete::Shell::Zsh, "_bandroom"),
        (clap_complete::Shell::Fish, "bandroom.fish"),
    ] {
        let mut bytes = Vec::new();
        clap_complete::generate(shell, &mut command.clone(), "bandroom", &mut bytes);
        write(&completions.join(file), &bytes)?;
    }
    say!(
        "manual pages in {}, shell completions in {}",
        man.display(),
        completions.display()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_and_completions_come_from_the_command_line_itself() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("docs");
        manual(&ManualArgs { out: out.clone() }).unwrap();
        let main = std::fs::read_to_string(out.join("man/bandroom.1")).unwrap();
        assert!(main.contains(".TH bandroom 1"), "{main}");
        assert!(main.contains(r"\-\-library"), "{main}");
        let record = std::fs::read_to_string(out.join("man/bandroom-record.1")).unwrap();
        assert!(record.contains(r"\-\-inputs"), "{record}");
        assert!(
            !out.join("man/bandroom-manual.1").exists(),
            "the hidden command has no page"
        );
        let bash = std::fs::read_to_string(out.join("completions/bandroom")).unwrap();
        assert!(bash.contains("calibrate") && bash.contains("--virtual-mic-clap"));
        assert!(out.join("completions/_bandroom").is_file());
        assert!(out.join("completions/bandroom.fish").is_file());
        // An existing folder is never written into.
        let again = manual(&ManualArgs { out }).unwrap_err().to_string();
        assert!(again.contains("already exists"), "{again}");
    }
}
