//! The `bandroom` command line: arguments, dispatch, and what subcommands share (the
//! library folder, the device options).
//!
//! Owns the CLI contract of DESIGN.md (names, flags, exit codes). Each subcommand
//! lives in its own file, checks every input before it creates any file, and reports
//! one line naming the file, device or value at fault. Must not contain engine,
//! synthesis, device or file-format logic of its own.

/// Prints a line on standard output. A reader that goes away (`bandroom devices | head -1`)
/// only ends the output; `println!` would panic.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        // Names and texts come from rosters and files: print them, never obey them.
        let line = format!($($arg)*);
        let _ = writeln!(std::io::stdout(), "{}", bandroom::plain_text::escape_lines(&line));
    }};
}

/// Prints a line on standard error (notes and progress), never panicking.
macro_rules! note {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let line = format!($($arg)*);
        let _ = writeln!(std::io::stderr(), "{}", bandroom::plain_text::escape_lines(&line));
    }};
}

mod analyze;
mod classes;
mod devices;
mod export;
mod import;
pub mod interrupt;
mod judgements;
mod maintenance;
mod manual;
mod midi;
mod moderation;
mod performers;
mod practice;
mod record;
mod recover;
mod render;
mod take_analysis;
mod takes;

use anyhow::{Context, Result};
use bandroom::audio::device::{self, DeviceRequest, Host};
use bandroom::audio::settings::Settings;
use bandroom::audio::virtual_device::VirtualSettings;
use clap::{Parser, Subcommand};
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(
    name = "bandroom",
    version,
    about = "Whole-class ensemble sessions for school music rooms",
    long_about = "bandroom plays metronome-synced parts for a whole class (Steve Reich's \
                  Clapping Music, tiered band arrangements) and records every player as \
                  their own track. Run without a subcommand to start the app."
)]
pub struct Cli {
    /// The library folder (settings, calibrations, takes); also BANDROOM_LIBRARY
    #[arg(long, global = true, value_name = "DIR", env = "BANDROOM_LIBRARY")]
    pub library: Option<PathBuf>,
    /// App only: open straight on this class (e.g. from a desktop shortcut per class)
    #[arg(long = "open-class", value_name = "NAME")]
    pub open_class: Option<String>,
    /// App only: the screen to open on: start, lesson, progress, export or settings
    #[arg(long = "open-screen", value_name = "SCREEN")]
    pub open_screen: Option<String>,
    #[command(subcommand)]
    pub command: Option<Action>,
}

#[derive(Subcommand, Debug)]
pub enum Action {
    /// Render an arrangement to a WAV file (with optional stems and an event list)
    Render(render::RenderArgs),
    /// How a recorded track lines up with its part: hits, misses, extras and timing
    Analyze(analyze::AnalyzeArgs),
    /// Export a class's progress as an evidence bundle: audio, report.html, assessments.csv, manifest
    Export(export::ExportArgs),
    /// Check a bundle against its manifest: missing, altered or extra files
    Verify(export::VerifyArgs),
    /// Moderation: bring back a moderator's judgement sheet, or compare two CSV files
    #[command(subcommand)]
    Moderation(moderation::ModerationAction),
    /// Turn a MIDI file from notation software into an arrangement .toml you can edit
    Import(import::ImportArgs),
    /// List the built-in arrangements and your own (in the library's arrangements/ folder),
    /// one per line, starting with the name to use
    Arrangements,
    /// List audio hosts and devices with their channels, rates and buffer sizes
    Devices(devices::DevicesArgs),
    /// Measure the round-trip latency through a loopback cable and store it
    Calibrate(devices::CalibrateArgs),
    /// Record inputs, each to its own WAV, optionally while playing an arrangement
    Record(Box<record::RecordArgs>),
    /// List MIDI inputs (keyboards, pedals) and outputs (instruments) by name
    MidiPorts,
    /// The hands-free pedal: learn it from one press, list, set or forget it
    #[command(subcommand)]
    Pedal(midi::PedalAction),
    /// Repair the files of a take whose recording was cut off (a crash, pulled power)
    Recover(recover::RecoverArgs),
    /// Classes: add, list
    #[command(subcommand)]
    Class(classes::ClassAction),
    /// Pupils: import a roster, list, mark "do not share"
    #[command(subcommand)]
    Pupils(classes::PupilsAction),
    /// Takes in the library: list, review for retention, purpose, star
    #[command(subcommand)]
    Takes(takes::TakesAction),
    /// Say who played on a track of a take
    Perform(takes::PerformArgs),
    /// Drop a marker on a take
    Mark(takes::MarkArgs),
    /// Attach a spoken comment (a WAV) to a take, optionally at a moment
    VoiceNote(takes::VoiceNoteArgs),
    /// Record a judgement: a pupil's level on a criterion, with the take that shows it
    Assess(judgements::AssessArgs),
    /// A pupil's latest level and history per criterion
    Progress(judgements::ProgressArgs),
    /// A pupil's reflection on a take they played in, with a self-assessment
    Reflect(judgements::ReflectArgs),
    /// Criteria frameworks: list, import
    #[command(subcommand)]
    Frameworks(judgements::FrameworksAction),
    /// Erase a pupil: their data, judgements, own tracks, and their name from every text
    Erase(maintenance::EraseArgs),
    /// Copy the whole library (database, settings, arrangements, every take) to a new
    /// folder, safely while in use, and check the copy
    Backup {
        /// The new folder for the backup
        destination: PathBuf,
    },
    /// Bring a backup back as a library in a new folder, and check it
    Restore {
        /// The folder `bandroom backup` made
        backup: PathBuf,
        /// The new (or empty) folder for the restored library
        #[arg(long, value_name = "DIR")]
        to: PathBuf,
    },
    /// Check the database, every take file's hash, and find orphaned or unfinished takes
    Check(maintenance::CheckArgs),
    /// The teacher PIN that guards teacher actions in the app
    #[command(subcommand)]
    Pin(maintenance::PinAction),
    /// How long takes are kept before they are listed for review
    Retention(maintenance::RetentionArgs),
    /// Write the manual pages and shell completions into a new folder (for packagers)
    #[command(hide = true)]
    Manual(manual::ManualArgs),
}

pub fn run(cli: Cli) -> Result<()> {
    let library = cli.library;
    match cli.command {
        Some(Action::Render(args)) => render::render(&args, library.as_deref()),
        Some(Action::Import(args)) => import::import(&args),
        Some(Action::Export(args)) => export::export(&args, library.as_deref()),
        Some(Action::Verify(args)) => export::verify(&args),
        Some(Action::Moderation(action)) => moderation::moderation(&action, library.as_deref()),
        Some(Action::Analyze(args)) => analyze::analyze(&args, library.as_deref()),
        Some(Action::Arrangements) => render::list_arrangements(library.as_deref()),
        Some(Action::Devices(args)) => devices::devices(&args, library.as_deref()),
        Some(Action::Calibrate(args)) => devices::calibrate(&args, library.as_deref()),
        Some(Action::Record(args)) => record::record(&args, library.as_deref()),
        Some(Action::MidiPorts) => midi::midi_ports(),
        Some(Action::Pedal(action)) => midi::pedal(&action, library.as_deref()),
        Some(Action::Recover(args)) => recover::recover(&args),
        Some(Action::Class(action)) => classes::class(&action, library.as_deref()),
        Some(Action::Pupils(action)) => classes::pupils(&action, library.as_deref()),
        Some(Action::Takes(action)) => takes::takes(&action, library.as_deref()),
        Some(Action::Perform(args)) => takes::perform(&args, library.as_deref()),
        Some(Action::Mark(args)) => takes::mark(&args, library.as_deref()),
        Some(Action::VoiceNote(args)) => takes::voice_note(&args, library.as_deref()),
        Some(Action::Assess(args)) => judgements::assess(&args, library.as_deref()),
        Some(Action::Progress(args)) => judgements::progress(&args, library.as_deref()),
        Some(Action::Reflect(args)) => judgements::reflect(&args, library.as_deref()),
        Some(Action::Frameworks(action)) => judgements::frameworks(&action, library.as_deref()),
        Some(Action::Erase(args)) => maintenance::erase(&args, library.as_deref()),
        Some(Action::Backup { destination }) => {
            maintenance::backup(&destination, library.as_deref())
        }
        Some(Action::Restore { backup, to }) => maintenance::restore(&backup, &to),
        Some(Action::Check(args)) => maintenance::check(&args, library.as_deref()),
        Some(Action::Pin(action)) => maintenance::pin(&action, library.as_deref()),
        Some(Action::Retention(args)) => maintenance::retention(&args, library.as_deref()),
        Some(Action::Manual(args)) => manual::manual(&args),
        None => bandroom::ui::run(
            &library_dir(library.as_deref())?,
            &bandroom::ui::Opening {
                class: cli.open_class,
                screen: cli.open_screen,
            },
        ),
    }
}

/// The library folder: `--library`, else `BANDROOM_LIBRARY`, else the platform's data folder.
pub fn library_dir(given: Option<&std::path::Path>) -> Result<PathBuf> {
    if let Some(dir) = given {
        return Ok(dir.to_path_buf());
    }
    directories::ProjectDirs::from("org", "bandroom", "bandroom")
        .map(|dirs| dirs.data_dir().to_path_buf())
        .context("cannot find a data folder for the library (no home folder?): pass --library DIR")
}

/// Opens (creating on first use) the class library, naming its folder in any error.
pub fn open_library(given: Option<&std::path::Path>) -> Result<bandroom::library::Library> {
    open_library_with(given, bandroom::library::Library::open)
}

/// As [`open_library`] without refusing a damaged database, for `check` and `backup`.
pub fn open_library_for_repair(
    given: Option<&std::path::Path>,
) -> Result<bandroom::library::Library> {
    open_library_with(given, bandroom::library::Library::open_for_repair)
}

/// For commands that only read the library: still works when its disk is full.
pub fn open_library_for_reading(
    given: Option<&std::path::Path>,
) -> Result<bandroom::library::Library> {
    open_library_with(given, bandroom::library::Library::open_for_reading)
}

/// For `check` and `backup`: no refusal of a damaged database, read-only on a full disk.
pub fn open_library_for_checking(
    given: Option<&std::path::Path>,
) -> Result<bandroom::library::Library> {
    open_library_with(given, bandroom::library::Library::open_for_checking)
}

fn open_library_with(
    given: Option<&std::path::Path>,
    open: fn(&std::path::Path) -> bandroom::library::Result<bandroom::library::Library>,
) -> Result<bandroom::library::Library> {
    let dir = library_dir(given)?;
    let library = open(&dir).with_context(|| format!("library {}", dir.display()))?;
    if library.was_created() {
        note!(
            "created a new library in {} with the demo class \"{}\"",
            dir.display(),
            bandroom::library::DEMO_CLASS
        );
    }
    Ok(library)
}

/// Device options shared by `record`, `calibrate` and `devices`. Anything not given
/// comes from the library's settings, then from defaults.
#[derive(clap::Args, Debug, Clone)]
pub struct DeviceArgs {
    /// Audio host: alsa or jack (also PipeWire's JACK) on Linux, wasapi or asio on Windows,
    /// coreaudio on macOS, or virtual (a loopback for demos and tests)
    #[arg(long, value_name = "HOST")]
    pub host: Option<String>,
    /// Input device name, as `bandroom devices` lists it
    #[arg(long, value_name = "DEVICE")]
    pub input: Option<String>,
    /// Output device name, as `bandroom devices` lists it
    #[arg(long, value_name = "DEVICE")]
    pub output: Option<String>,
    #[arg(long, value_name = "HZ")]
    pub sample_rate: Option<u32>,
    /// Frames per callback to ask the device for
    #[arg(long, value_name = "FRAMES")]
    pub buffer: Option<u32>,
    /// Virtual device: frames between output and input
    #[arg(long, value_name = "FRAMES", default_value_t = 256)]
    pub virtual_latency: u64,
    /// Virtual device: frames per callback
    #[arg(long, value_name = "FRAMES", default_value_t = 256)]
    pub virtual_block: usize,
    /// Virtual device: lose every Nth input block, as an xrun would
    #[arg(long, value_name = "N")]
    pub virtual_dropout_every: Option<u32>,
    /// Virtual device: how many times faster than real time to run
    #[arg(long, value_name = "FACTOR", default_value_t = 1.0)]
    pub virtual_speed: f64,
    #[command(flatten)]
    pub mics: VirtualMicArgs,
}

/// The virtual host's microphones, for `record`, `calibrate` and `devices`.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct VirtualMicArgs {
    /// Virtual device: one-channel microphones of its own, `virtual mic 1`…`N`, each on
    /// its own clock (record from them with --inputs "virtual mic 1@1")
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub virtual_mics: usize,
    /// Virtual microphones: frames between the output and each (one value for all, or
    /// one per microphone)
    #[arg(long, value_name = "F1,F2,...", value_delimiter = ',')]
    pub virtual_mic_latency: Vec<u64>,
    /// Virtual microphones: how far each clock is off, in parts per million (positive:
    /// fast)
    #[arg(
        long,
        value_name = "P1,P2,...",
        value_delimiter = ',',
        allow_negative_numbers = true
    )]
    pub virtual_mic_ppm: Vec<f64>,
    /// Virtual microphones: frames per callback of each
    #[arg(long, value_name = "B1,B2,...", value_delimiter = ',')]
    pub virtual_mic_block: Vec<usize>,
    /// Virtual microphones: stop each after this many of its frames, as if unplugged
    /// (0: never)
    #[arg(long, value_name = "F1,F2,...", value_delimiter = ',')]
    pub virtual_mic_unplug_after: Vec<u64>,
    /// Virtual microphones: somebody claps in front of microphone N once a second (for
    /// trying `bandroom devices --identify` and "Which mic is this?")
    #[arg(long, value_name = "N")]
    pub virtual_mic_clap: Option<usize>,
}

/// The `n`th value of a per-microphone list: its own, else the list's only one, else
/// `default`. A list longer than the microphones is refused by the caller.
fn per_mic<T: Copy>(values: &[T], n: usize, default: T) -> T {
    match values {
        [] => default,
        [one] => *one,
        many => many.get(n).copied().unwrap_or(default),
    }
}

impl VirtualMicArgs {
    /// The virtual microphones the options describe.
    pub fn virtual_mics(&self) -> Result<Vec<bandroom::audio::virtual_mics::VirtualMic>> {
        let n = self.virtual_mics;
        for (flag, given) in [
            ("--virtual-mic-latency", self.virtual_mic_latency.len()),
            ("--virtual-mic-ppm", self.virtual_mic_ppm.len()),
            ("--virtual-mic-block", self.virtual_mic_block.len()),
            (
                "--virtual-mic-unplug-after",
                self.virtual_mic_unplug_after.len(),
            ),
        ] {
            if given > 1 && given != n {
                anyhow::bail!(
                    "{flag} gives {given} values for {n} virtual microphones: give one for all, or one each"
                );
            }
            if given > 0 && n == 0 {
                anyhow::bail!("{flag} needs --virtual-mics N");
            }
        }
        if let Some(clapped) = self.virtual_mic_clap
            && !(1..=n).contains(&clapped)
        {
            anyhow::bail!(
                "--virtual-mic-clap {clapped}: there are {n} virtual microphones; give one of 1 to {n}"
            );
        }
        Ok((0..n)
            .map(|i| bandroom::audio::virtual_mics::VirtualMic {
                latency_frames: per_mic(&self.virtual_mic_latency, i, 0),
                ppm: per_mic(&self.virtual_mic_ppm, i, 0.0),
                block_frames: per_mic(&self.virtual_mic_block, i, 256),
                unplug_after_frames: Some(per_mic(&self.virtual_mic_unplug_after, i, 0))
                    .filter(|&f| f > 0),
                hears_a_clap: self.virtual_mic_clap == Some(i + 1),
            })
            .collect())
    }
}

impl DeviceArgs {
    /// The device to open, from these options over the saved settings.
    pub fn request(
        &self,
        settings: &Settings,
        input_channels: usize,
        output_channels: usize,
    ) -> Result<DeviceRequest> {
        let saved = &settings.device;
        let host_name = self
            .host
            .clone()
            .or_else(|| saved.host.clone())
            .unwrap_or_else(|| device::Host::default_name().into());
        let host = device::parse_host(
            &host_name,
            VirtualSettings {
                latency_frames: self.virtual_latency,
                block_frames: self.virtual_block,
                dropout_every: self.virtual_dropout_every,
                speed: self.virtual_speed,
                mics: self.mics.virtual_mics()?,
            },
        )?;
        let from_settings = self.host.is_none() || self.host == saved.host;
        let sample_rate_hz = self.sample_rate.or(saved.sample_rate_hz).unwrap_or(48_000);
        if !bandroom::engine::SAMPLE_RATE_RANGE_HZ.contains(&sample_rate_hz) {
            anyhow::bail!(
                "--sample-rate {sample_rate_hz} is not supported: use 8000 to 384000 Hz (44100 or 48000 are usual)"
            );
        }
        let is_virtual = matches!(host, Host::Virtual(_));
        Ok(DeviceRequest {
            input: self
                .input
                .clone()
                .or_else(|| saved.input.clone().filter(|_| from_settings && !is_virtual)),
            output: self.output.clone().or_else(|| {
                saved
                    .output
                    .clone()
                    .filter(|_| from_settings && !is_virtual)
            }),
            host,
            sample_rate_hz,
            buffer_frames: self
                .buffer
                .or(saved.buffer_frames.filter(|_| from_settings)),
            input_channels,
            output_channels,
            extra_inputs: Vec::new(),
        })
    }
}
