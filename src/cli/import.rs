//! `bandroom import FILE.mid --out FILE.toml`: a MIDI file as an editable arrangement.
//!
//! Must not read MIDI or write TOML itself: `music::midi_file` and `music::toml_writer`
//! do; this checks the paths and says what to do next.

use anyhow::{Context, Result, bail};
use bandroom::atomic_file::PendingFile;
use bandroom::music::midi_file::load_midi_file;
use bandroom::music::toml_writer::arrangement_to_toml;
use std::io::Write;
use std::path::PathBuf;

#[derive(clap::Args, Debug)]
pub struct ImportArgs {
    /// The MIDI file (.mid or .midi), type 0 or 1, as notation software exports it
    pub midi: PathBuf,
    /// The arrangement to write (.toml)
    #[arg(long, value_name = "FILE.toml")]
    pub out: PathBuf,
}

pub fn import(args: &ImportArgs) -> Result<()> {
    if args.out.exists() {
        bail!(
            "{} already exists: choose another --out, so your edits are never overwritten",
            args.out.display()
        );
    }
    let arrangement = load_midi_file(&args.midi)?;
    let source = args.midi.file_name().map_or_else(
        || args.midi.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let text = arrangement_to_toml(&arrangement, &source);
    let (pending, mut file) = PendingFile::create(&args.out)?;
    file.write_all(text.as_bytes())
        .with_context(|| format!("cannot write {}", args.out.display()))?;
    pending.commit()?;
    let notes: usize = arrangement
        .sections
        .iter()
        .map(|s| s.notes.iter().map(Vec::len).sum::<usize>())
        .sum();
    say!(
        "{}: {} ({}, ♩ = {}), {} part(s), {} section(s), {notes} notes",
        args.out.display(),
        arrangement.title,
        arrangement.meter,
        arrangement.tempo.default,
        arrangement.parts.len(),
        arrangement.sections.len()
    );
    for part in &arrangement.parts {
        say!(
            "  {} — {} ({}), tier {}",
            part.name,
            part.instrument,
            part.sound,
            part.tier
        );
    }
    say!(
        "next: set each part's tier in {} (starter, core or stretch), then `bandroom render {}`",
        args.out.display(),
        args.out.display()
    );
    Ok(())
}
