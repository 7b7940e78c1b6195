//! `bandroom takes …`, `perform`, `mark`: finding takes and saying who played.
//!
//! Must not contain SQL; it calls `bandroom::library`.

use super::open_library;
use anyhow::Result;
use bandroom::library::{NoteAudience, Purpose, TakeFilter, TakeSummary};
use std::path::Path;

#[derive(clap::Subcommand, Debug)]
pub enum TakesAction {
    /// List takes, newest first
    List {
        #[arg(long, value_name = "NAME")]
        class: Option<String>,
        /// Only takes this pupil played in (name, number or #id)
        #[arg(long, value_name = "PUPIL")]
        pupil: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// List takes past their retention date, for a teacher to review
    Review {
        /// Review as of this date (YYYY-MM-DD) instead of today
        #[arg(long, value_name = "DATE")]
        on: Option<String>,
    },
    /// Say why a take was made: assessment, rehearsal or performance (sets its retention)
    Purpose { take: i64, purpose: String },
    /// One take: its tracks, who played, each track's timing and how the tracks played together
    Show {
        take: i64,
        #[arg(long)]
        json: bool,
    },
    /// How tight a class's analysed takes were, lesson by lesson (smaller spreads are tighter)
    Trend {
        #[arg(long, value_name = "NAME")]
        class: String,
        #[arg(long)]
        json: bool,
    },
    /// Star (or unstar with --off) the best of several takes
    Star {
        take: i64,
        #[arg(long)]
        off: bool,
    },
}

#[derive(clap::Args, Debug)]
pub struct PerformArgs {
    /// The take (its number in `bandroom takes list`)
    pub take: i64,
    /// The track (1 = the first recorded input)
    #[arg(long, value_name = "N")]
    pub track: i64,
    /// Who played on it, comma-separated names, numbers or #ids
    #[arg(long, value_name = "A,B", value_delimiter = ',', required = true)]
    pub pupils: Vec<String>,
    #[arg(long, value_name = "PART")]
    pub part: Option<String>,
    #[arg(long, value_name = "TIER")]
    pub tier: Option<String>,
    #[arg(long, value_name = "INSTRUMENT")]
    pub instrument: Option<String>,
}

#[derive(clap::Args, Debug)]
pub struct MarkArgs {
    pub take: i64,
    /// Where, in seconds from the start of the take
    #[arg(long, value_name = "S")]
    pub at: f64,
    #[arg(long, value_name = "TEXT")]
    pub text: String,
    /// Who may read it in pupil review: "teacher" (you alone, the default), "players"
    /// (everyone who played in the take) or a pupil's name or #id (that pupil alone)
    #[arg(long = "for", value_name = "WHO", default_value = "teacher")]
    pub audience: String,
}

#[derive(clap::Args, Debug)]
pub struct VoiceNoteArgs {
    pub take: i64,
    /// The spoken comment, a WAV file
    pub recording: std::path::PathBuf,
    /// Pin it to this moment, in seconds from the start of the take
    #[arg(long, value_name = "S")]
    pub at: Option<f64>,
    /// Who may hear it in pupil review: "teacher" (you alone, the default), "players"
    /// (everyone who played in the take) or a pupil's name or #id (that pupil alone)
    #[arg(long = "for", value_name = "WHO", default_value = "teacher")]
    pub audience: String,
}

fn describe(take: &TakeSummary) -> String {
    let performers: Vec<String> = take
        .tracks
        .iter()
        .filter(|t| !t.performers.is_empty())
        .map(|t| {
            let names: Vec<&str> = t.performers.iter().map(|p| p.name.as_str()).collect();
            let part = t.performers[0]
                .part
                .as_deref()
                .map(|p| format!(" ({p})"))
                .unwrap_or_default();
            format!("{}: {}{part}", t.number, names.join(" & "))
        })
        .collect();
    format!(
        "{}\t{}\t{}\t{}\t{}:{:04.1}\t{} track(s)\t{}{}{}\t{}",
        take.id,
        take.recorded_at,
        take.class.as_deref().unwrap_or("quick take"),
        take.arrangement.as_deref().unwrap_or("-"),
        (take.duration_secs / 60.0).floor(),
        take.duration_secs % 60.0,
        take.tracks.len(),
        take.purpose,
        if take.starred { " ★" } else { "" },
        if take.complete { "" } else { " (incomplete)" },
        if performers.is_empty() {
            "nobody attributed yet".to_string()
        } else {
            performers.join("; ")
        }
    )
}

pub fn takes(action: &TakesAction, library: Option<&Path>) -> Result<()> {
    let reads_only = matches!(action, TakesAction::List { .. });
    let mut lib = if reads_only {
        super::open_library_for_reading(library)?
    } else {
        open_library(library)?
    };
    match action {
        TakesAction::List { class, pupil, json } => {
            let class = class.as_deref().map(|c| lib.class_id(c)).transpose()?;
            let pupil = pupil
                .as_deref()
                .map(|p| lib.find_pupil(p, class))
                .transpose()?;
            let takes = lib.takes(&TakeFilter {
                class,
                pupil,
                ..TakeFilter::default()
            })?;
            if *json {
                say!("{}", serde_json::to_string_pretty(&takes)?);
            } else if takes.is_empty() {
                note!("no takes yet: record one with `bandroom record --inputs 1 --play ARR`");
            } else {
                for take in &takes {
                    say!("{}", describe(take));
                }
            }
        }
        TakesAction::Review { on } => {
            let today = on
                .clone()
                .unwrap_or_else(|| bandroom::library::now()[..10].to_string());
            let due = lib.takes_due_for_review(&today)?;
            if due.is_empty() {
                say!("no takes are past their retention date on {today}");
            }
            for take in &due {
                say!(
                    "{}\tkeep until {}\t{}",
                    take.id,
                    take.retain_until.as_deref().unwrap_or("-"),
                    describe(take)
                );
            }
        }
        TakesAction::Purpose { take, purpose } => {
            let purpose = Purpose::parse(purpose)?;
            lib.set_purpose(*take, purpose)?;
            let summary = lib.take(*take)?;
            say!(
                "take {take}: {}, kept until {}",
                summary.purpose,
                summary.retain_until.as_deref().unwrap_or("-")
            );
        }
        TakesAction::Show { take, json } => {
            let summary = lib.take(*take)?;
            super::take_analysis::show(&lib, &summary, *json)?;
        }
        TakesAction::Trend { class, json } => {
            let class = lib.class_id(class)?;
            super::take_analysis::trend(&lib, class, *json)?;
        }
        TakesAction::Star { take, off } => {
            lib.star_take(*take, !off)?;
            say!(
                "take {take}: {}",
                if *off { "unstarred" } else { "starred" }
            );
        }
    }
    Ok(())
}

pub fn perform(args: &PerformArgs, library: Option<&Path>) -> Result<()> {
    let mut lib = open_library(library)?;
    let take = lib.take(args.take)?;
    let pupils = args
        .pupils
        .iter()
        .map(|p| lib.find_pupil(p, None))
        .collect::<Result<Vec<_>, _>>()?;
    lib.attribute(
        take.id,
        args.track,
        &pupils,
        args.part.as_deref(),
        args.tier.as_deref(),
        args.instrument.as_deref(),
    )?;
    let names = pupils
        .iter()
        .map(|p| lib.pupil_name(*p))
        .collect::<Result<Vec<_>, _>>()?;
    say!(
        "take {} track {}: {}",
        take.id,
        args.track,
        names.join(" & ")
    );
    // Attributed to a part: how it lined up is worth knowing now, and is kept.
    if let Some(part) = &args.part {
        match bandroom::jobs::analyse_and_store(&mut lib, &take, args.track, part) {
            Ok(line) => say!("take {} track {} ({part}): {line}", take.id, args.track),
            Err(e) => note!(
                "note: take {} track {} was not analysed: {e:#}",
                take.id,
                args.track
            ),
        }
    }
    Ok(())
}

pub fn mark(args: &MarkArgs, library: Option<&Path>) -> Result<()> {
    let mut lib = open_library(library)?;
    let take = lib.take(args.take)?;
    if !(args.at.is_finite() && args.at >= 0.0 && args.at <= take.duration_secs + 1.0) {
        anyhow::bail!(
            "--at {} is outside take {} (0 to {:.1} s)",
            args.at,
            take.id,
            take.duration_secs
        );
    }
    let frame = (args.at * f64::from(take.sample_rate_hz)).round() as u64;
    let audience = audience(&lib, &args.audience)?;
    lib.add_marker_for(
        take.id,
        frame,
        &args.text,
        &bandroom::library::current_actor(),
        audience,
    )?;
    say!("take {}: marker at {:.2} s", take.id, args.at);
    Ok(())
}

/// A private temporary folder for a converted note (removed when dropped).
struct NoteScratch(std::path::PathBuf);

impl NoteScratch {
    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for NoteScratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Where a converted note is written before the library copies it: beside nothing of
/// the teacher's, in the system's temporary folder under bandroom's own name.
fn tempfile_for_note(recording: &Path) -> Result<NoteScratch> {
    let name = recording
        .file_name()
        .map_or_else(|| "note.wav".into(), |n| n.to_string_lossy().into_owned());
    let dest = std::env::temp_dir().join(format!("{name}.converted.wav"));
    Ok(NoteScratch(bandroom::own_files::scratch_path(
        &dest, "note",
    )))
}

/// `--for WHO`: the teacher, the players, or one pupil by name or #id.
fn audience(lib: &bandroom::library::Library, who: &str) -> Result<NoteAudience> {
    Ok(match who.trim() {
        "teacher" => NoteAudience::Teacher,
        "players" => NoteAudience::Players,
        pupil => NoteAudience::Pupil(lib.find_pupil(pupil, None)?),
    })
}

pub fn voice_note(args: &VoiceNoteArgs, library: Option<&Path>) -> Result<()> {
    use bandroom::audio::voice_note_file;
    let length = bandroom::audio::wav_length(&args.recording).map_err(|e| {
        anyhow::anyhow!(
            "{} is not a readable WAV file ({e}): record the voice note as WAV",
            args.recording.display()
        )
    })?;
    voice_note_file::check(&args.recording, &length)?;
    let secs = length.duration_secs();
    let mut lib = open_library(library)?;
    let take = lib.take(args.take)?;
    // A phone's 44.1 kHz stereo note is converted to the take's rate, in mono, so the
    // app plays it beside the take.
    let scratch = tempfile_for_note(&args.recording)?;
    let recording = if voice_note_file::fits(&length, take.sample_rate_hz) {
        args.recording.clone()
    } else {
        voice_note_file::convert(&args.recording, take.sample_rate_hz, scratch.path())?;
        say!(
            "the note ({} Hz, {} channel(s)) was converted to the take's {} Hz mono",
            length.sample_rate_hz,
            length.channels,
            take.sample_rate_hz
        );
        scratch.path().to_path_buf()
    };
    let frame = match args.at {
        Some(at) if at.is_finite() && (0.0..=take.duration_secs + 1.0).contains(&at) => {
            Some((at * f64::from(take.sample_rate_hz)).round() as u64)
        }
        Some(at) => anyhow::bail!(
            "--at {at} is outside take {} (0 to {:.1} s)",
            take.id,
            take.duration_secs
        ),
        None => None,
    };
    let audience = audience(&lib, &args.audience)?;
    lib.add_voice_note(
        take.id,
        frame,
        &recording,
        &bandroom::library::current_actor(),
        audience,
    )?;
    say!(
        "take {}: voice note of {secs:.1} s added, for {}",
        take.id,
        audience.describe()
    );
    Ok(())
}
