//! `bandroom record`: headless multitrack capture, optionally while playing a part.
//!
//! Owns the order of a take's life on the command line: check everything, create the
//! folder and files, write `take.json`, start the device, watch for the end (the
//! arrangement's last bar plus a tail, `--seconds`, Ctrl-C, or a device fault), stop,
//! close every file and write the final `take.json`. Must not contain capture,
//! alignment or file-format logic of its own.

use super::render::PerformanceArgs;
use super::{DeviceArgs, library_dir, open_library};
use anyhow::{Context, Result, bail};
use bandroom::audio::settings::Settings;
use bandroom::library::{Library, Purpose};
use bandroom::midi::{Action as PedalAction, MidiNotice};
use bandroom::record::take_file::{TAKE_FILE, TakeRecord};
use bandroom::session::{
    DeviceChoice, Filing, Marker, PlayRequest, RunningTake, TakePlan, TakePoll, TakeStart,
};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
/// The longest take the command line will start.
const MAX_SECONDS: f64 = 4.0 * 3600.0;

#[derive(clap::Args, Debug)]
pub struct RecordArgs {
    /// Inputs to record, comma-separated: a number is a channel of the main input device
    /// (input-<n>.wav); DEVICE@N a channel of another input device on its own clock, such
    /// as a USB microphone ("Blue Yeti@1", "virtual mic 1@1"; device-<d>-input-<n>.wav)
    #[arg(
        long,
        value_delimiter = ',',
        required = true,
        value_name = "[DEVICE@]N,..."
    )]
    pub inputs: Vec<String>,
    /// Record further devices at their nominal rate without following their clocks (to
    /// measure what the correction does; their tracks drift)
    #[arg(long)]
    pub no_clock_correction: bool,
    #[command(flatten)]
    pub device: DeviceArgs,
    /// Play this arrangement (a built-in name or a .toml) and record until it ends
    #[arg(long, value_name = "ARR")]
    pub play: Option<String>,
    #[command(flatten)]
    pub performance: PerformanceArgs,
    /// Record for this long (without --play; otherwise until Ctrl-C)
    #[arg(long, value_name = "S", allow_negative_numbers = true)]
    pub seconds: Option<f64>,
    /// Round-trip correction in frames, instead of the stored calibration
    #[arg(long, value_name = "FRAMES", allow_negative_numbers = true)]
    pub latency: Option<i64>,
    /// Leave the metronome out of what is played
    #[arg(long)]
    pub no_click: bool,
    /// Record into this folder (take.json and one WAV per input) instead of the library
    #[arg(long, value_name = "DIR", conflicts_with_all = ["class", "purpose"])]
    pub out: Option<PathBuf>,
    /// Record into the library as a take of this class's lesson today
    #[arg(long, value_name = "NAME")]
    pub class: Option<String>,
    /// Why the take is made: assessment, rehearsal (default) or performance
    #[arg(long, value_name = "PURPOSE")]
    pub purpose: Option<String>,
    /// Who plays on an input, and their part: INPUT:PUPIL[,PUPIL][:PART] (repeatable;
    /// INPUT is a main-device channel or DEVICE@N as written in --inputs);
    /// each track is attributed and analysed as soon as the take is in the library
    #[arg(long, value_name = "INPUT:PUPILS[:PART]", conflicts_with = "out")]
    pub plays: Vec<String>,
    #[command(flatten)]
    pub midi: super::midi::MidiArgs,
}

/// A take recorded into the library: the library and where the take is filed.
type IntoLibrary = (Library, Filing);

/// The library a take will go into: the library, the class and the take's purpose.
type PlannedLibrary = (Library, Option<i64>, Purpose);

/// Checks `--class` and `--purpose` against the library before any device is opened,
/// and finds today's lesson for the class.
fn plan_library(args: &RecordArgs, library: &Path) -> Result<Option<PlannedLibrary>> {
    if args.out.is_some() {
        return Ok(None);
    }
    let purpose = args
        .purpose
        .as_deref()
        .map(Purpose::parse)
        .transpose()?
        .unwrap_or(Purpose::Rehearsal);
    let lib = open_library(Some(library))?;
    let class = args.class.as_deref().map(|c| lib.class_id(c)).transpose()?;
    Ok(Some((lib, class, purpose)))
}

fn prepare_folder(dir: &Path) -> Result<()> {
    if dir.join(TAKE_FILE).exists() {
        bail!(
            "{} already holds a take: choose a new folder with --out",
            dir.display()
        );
    }
    if std::fs::read_dir(dir).is_ok_and(|mut d| d.next().is_some()) {
        bail!(
            "{} is not empty and holds no take: bandroom records only into a new or empty \
             folder, so nothing there is overwritten; choose another with --out",
            dir.display()
        );
    }
    bandroom::own_files::create_private_dir_all(dir).with_context(|| {
        format!(
            "cannot create the take folder {} (check you may write there)",
            dir.display()
        )
    })
}

/// The session's request for what `--play` and the performance options ask.
fn play_request(args: &RecordArgs) -> Result<Option<PlayRequest>> {
    let Some(arr) = &args.play else {
        return Ok(None);
    };
    Ok(Some(PlayRequest {
        arrangement: arr.clone(),
        tempo_bpm: args.performance.tempo,
        repeats: args.performance.repeats,
        count_in_bars: args.performance.count_in,
        section: args.performance.practice.section.clone(),
        practice: super::practice::to_practice(&args.performance.practice)?,
    }))
}

/// `--inputs` and `--seconds`, read and checked before anything opens.
fn record_inputs(args: &RecordArgs) -> Result<bandroom::session::InputList> {
    let inputs = bandroom::session::parse_inputs(&args.inputs).map_err(super::render::in_flags)?;
    if inputs.main.is_empty() {
        bail!(
            "--inputs: record at least one channel of the main input device too (choose the device with --input), e.g. --inputs 1,\"{}@1\"",
            inputs.extra.first().map_or("DEVICE", |d| d.device.as_str())
        );
    }
    bandroom::session::check_inputs(&inputs.main).map_err(super::render::in_flags)?;
    if let Some(s) = args.seconds
        && !(s.is_finite() && s > 0.0 && s <= MAX_SECONDS)
    {
        bail!("--seconds {s} is not allowed: use more than 0 and at most {MAX_SECONDS}");
    }
    Ok(inputs)
}

/// Where the take is written: the library's incoming folder, or `--out`.
fn take_destination(
    planned_library: Option<PlannedLibrary>,
    args: &RecordArgs,
) -> Result<(PathBuf, Option<IntoLibrary>)> {
    Ok(match planned_library {
        Some((mut lib, class, purpose)) => {
            let lesson = lib.lesson_for_today(class)?;
            (
                lib.staging_folder()?,
                Some((lib, Filing::once(lesson, purpose))),
            )
        }
        None => match &args.out {
            Some(dir) => {
                prepare_folder(dir)?;
                (dir.clone(), None)
            }
            None => bail!("give --out DIR, or record into the library without it"),
        },
    })
}

pub fn record(args: &RecordArgs, library: Option<&Path>) -> Result<()> {
    let inputs = record_inputs(args)?;
    let library = library_dir(library)?;
    let request = play_request(args)?;
    // The arrangement is checked (and --plays' parts against it) before any device opens.
    let mut early_notes = Vec::new();
    let music = request
        .as_ref()
        .map(|r| bandroom::session::prepare_music(&library, r, &mut early_notes))
        .transpose()
        .map_err(super::render::in_flags)?;
    let planned_library = plan_library(args, &library)?;
    let mut players = match &planned_library {
        Some((lib, class, _)) => super::performers::resolve(
            &args.plays,
            &inputs,
            lib,
            *class,
            music.as_ref().map(|m| &m.arrangement),
        )?,
        None => Vec::new(),
    };
    let settings = Settings::load(&library)?;
    let highest = inputs.main.iter().copied().max().unwrap_or(1);
    // The further devices of `inputs` are added to the request by the plan.
    let device = DeviceChoice::Exactly(args.device.request(&settings, highest, 2)?);
    let mut plan = TakePlan::with_music(
        music,
        early_notes,
        &settings,
        &device,
        &inputs,
        args.latency,
    )?;
    plan.follow_clocks = !args.no_clock_correction;
    super::performers::name_device_seats(&mut players, &inputs, &plan.device.info);
    let (out, mut into_library) = take_destination(planned_library, args)?;
    for n in &plan.notes {
        note!("{n}");
    }
    let info = plan.device.info.clone();
    let rate = info.sample_rate_hz;
    let correction_source = if args.latency.is_some() {
        "--latency".to_string()
    } else {
        plan.correction_source.clone()
    };
    let midi = super::midi::take_setup(&args.midi, &plan.score, Some(&library))?;
    // Ctrl-C, SIGTERM or SIGHUP stops the take and keeps it (`interrupt`).
    let stop_requested = super::interrupt::stop_flag();
    if args.midi.wait_for_pedal
        && !super::midi::wait_for_pedal(&midi, &|| stop_requested.load(Ordering::Acquire))?
    {
        bail!("no take was started: the pedal was not pressed");
    }
    let plays = plan.music.is_some();
    let mut running = plan.start(TakeStart {
        folder: out.clone(),
        seconds: args.seconds,
        click: !args.no_click,
        lesson_id: into_library.as_ref().map(|(_, f)| f.lesson),
        purpose: into_library
            .as_ref()
            .map(|(_, f)| f.purpose.as_str().to_string()),
        midi,
        round_and_round: false,
    })?;
    note!(
        "recording {} input(s) from {} at {rate} Hz into {} ({}){}",
        inputs.len(),
        info.input_name,
        out.display(),
        correction_source,
        if !plays && args.seconds.is_none() {
            "; Ctrl-C to stop"
        } else {
            ""
        }
    );
    let markers = watch(&mut running, &stop_requested, rate);
    let finished = running.finish();
    print_summary(&finished.take, &out);
    let Some((lib, filing)) = &mut into_library else {
        return match (&finished.fault, &finished.report.error) {
            (Some(f), _) => bail!("{f}; the take so far is kept in {}", out.display()),
            (None, Some(e)) => bail!("{e}"),
            (None, None) => Ok(finished.written?),
        };
    };
    // A take cut short by the device is still a take; one the disk could not hold is
    // left in the incoming folder for `bandroom check --repair`.
    let filed = finished.file(lib, *filing, &players, &markers)?;
    say!(
        "take {} is in the library: {}",
        filed.id,
        filed.folder.display()
    );
    for problem in filed.problems.iter().chain(&filed.device_warnings) {
        note!("note: {problem}");
    }
    // The take is kept whatever happens here; analysis can be redone.
    if let Err(e) = super::performers::analyse(lib, &filed) {
        note!(
            "note: take {} is recorded, but was not analysed: {e:#}",
            filed.id
        );
    }
    match &filed.fault {
        Some(f) => bail!("{f}; the take so far is kept in {}", filed.folder.display()),
        None => Ok(()),
    }
}

/// Watches the running take until it ends: Ctrl-C and the pedal stop it, the pedal's
/// mark key drops markers, an unplugged MIDI port is said. Returns the markers.
fn watch(running: &mut RunningTake, stop_requested: &AtomicBool, rate: u32) -> Vec<Marker> {
    let mut markers: Vec<Marker> = Vec::new();
    loop {
        std::thread::sleep(Duration::from_millis(20));
        if stop_requested.load(Ordering::Acquire) {
            running.request_stop();
        }
        for notice in running.midi_notices() {
            match notice {
                MidiNotice::Action {
                    action: PedalAction::Mark,
                    take_frame,
                } => {
                    markers.extend(take_frame.map(|frame| Marker {
                        frame,
                        text: "pedal".into(),
                        author: "teacher".into(),
                    }));
                    note!("marker at {}", clock_of(take_frame.unwrap_or(0), rate));
                }
                MidiNotice::Action { .. } => {
                    note!("pedal: stopping the take");
                    running.request_stop();
                }
                MidiNotice::Unplugged { port, take_frame } => note!(
                    "warning: MIDI port {port} disappeared at {}; what it played until then is kept",
                    clock_of(take_frame, rate)
                ),
            }
        }
        match running.poll() {
            TakePoll::Recording { .. } => {}
            TakePoll::Finished | TakePoll::Fault(_) => break,
        }
    }
    markers
}

fn clock_of(frame: u64, rate: u32) -> String {
    bandroom::time_text::clock(frame as f64 / f64::from(rate.max(1)))
}

fn print_summary(take: &TakeRecord, dir: &Path) {
    let secs = take.duration_secs;
    // What the files hold, which is less than what was played when the disk filled up.
    let kept_frames = take.tracks.iter().map(|t| t.frames).max();
    let length = match kept_frames {
        Some(frames) if take.sample_rate_hz > 0 => {
            let kept = frames as f64 / f64::from(take.sample_rate_hz);
            if kept + 0.05 < secs {
                format!(
                    "{} kept of {} played",
                    bandroom::time_text::clock(kept),
                    bandroom::time_text::clock(secs)
                )
            } else {
                bandroom::time_text::clock(kept)
            }
        }
        _ => bandroom::time_text::clock(secs),
    };
    say!(
        "{}: {} track(s), {} at {} Hz, latency applied {} frames, {} gap(s){}",
        dir.display(),
        take.tracks.len(),
        length,
        take.sample_rate_hz,
        take.latency.applied_frames,
        take.gaps.len(),
        if take.complete { "" } else { " — incomplete" }
    );
    for track in &take.midi_tracks {
        say!(
            "  {}: {} note(s) from {}{}{}",
            track.file,
            track.notes,
            track.port,
            if track.released_at_end > 0 {
                format!(
                    ", {} held note(s) released at the end",
                    track.released_at_end
                )
            } else {
                String::new()
            },
            track
                .unplugged_at_frame
                .map(|f| format!(", unplugged at {}", clock_of(f, take.sample_rate_hz)))
                .unwrap_or_default()
        );
    }
}
