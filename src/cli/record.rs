//! `bandroom record`: headless multitrack capture, optionally while playing a part.
//!
//! Owns the order of a take's life on the command line: check everything, create the
//! folder and files, write `take.json`, start the device, watch for the end (the
//! arrangement's last bar plus a tail, `--seconds`, Ctrl-C, or a device fault), stop,
//! close every file and write the final `take.json`. Must not contain capture,
//! alignment or file-format logic of its own.

use super::render::{PerformanceArgs, plan_performance};
use super::{DeviceArgs, library_dir, open_library};
use anyhow::{Context, Result, bail};
use bandroom::audio::device;
use bandroom::audio::settings::Settings;
use bandroom::engine::Score;
use bandroom::library::{Library, NewTake, Purpose};
use bandroom::midi::{Action as PedalAction, MidiNotice};
use bandroom::record::take_file::{ArrangementRecord, TAKE_FILE, TakeRecord};
use bandroom::session::{FinishedTake, RunningTake, TakePoll, TakeSetup};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
/// The longest take the command line will start.
const MAX_SECONDS: f64 = 4.0 * 3600.0;

#[derive(clap::Args, Debug)]
pub struct RecordArgs {
    /// Input channels to record, 1-based, comma-separated: each becomes input-<n>.wav
    #[arg(long, value_delimiter = ',', required = true, value_name = "N,...")]
    pub inputs: Vec<usize>,
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
    /// Who plays on an input, and their part: INPUT:PUPIL[,PUPIL][:PART] (repeatable);
    /// each track is attributed and analysed as soon as the take is in the library
    #[arg(long, value_name = "INPUT:PUPILS[:PART]", conflicts_with = "out")]
    pub plays: Vec<String>,
    #[command(flatten)]
    pub midi: super::midi::MidiArgs,
}

/// A take recorded into the library: the library, the class it is for and why.
type IntoLibrary = (Library, Option<i64>, Purpose);

/// Checks `--class` and `--purpose` against the library before any device is opened.
fn plan_library(args: &RecordArgs, library: &Path) -> Result<Option<IntoLibrary>> {
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

/// Where the take's files go: the folder the user chose, or a new folder in the
/// library's incoming area (registered and moved into `takes/` when finished), with
/// the lesson it belongs to.
fn take_folder(
    args: &RecordArgs,
    into: Option<&mut IntoLibrary>,
) -> Result<(PathBuf, Option<i64>)> {
    match (into, &args.out) {
        (Some((lib, class, _)), _) => {
            let lesson = lib.lesson_for_today(*class)?;
            Ok((lib.staging_folder()?, Some(lesson)))
        }
        (None, Some(dir)) => {
            prepare_folder(dir)?;
            Ok((dir.clone(), None))
        }
        (None, None) => bail!("give --out DIR, or record into the library without it"),
    }
}

fn check_inputs(inputs: &[usize]) -> Result<()> {
    if inputs.contains(&0) {
        bail!("--inputs count from 1: use --inputs 1,2 for the first two inputs");
    }
    let mut seen = inputs.to_vec();
    seen.sort_unstable();
    seen.dedup();
    if seen.len() != inputs.len() {
        bail!("--inputs lists a channel twice");
    }
    Ok(())
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

pub fn record(args: &RecordArgs, library: Option<&Path>) -> Result<()> {
    check_inputs(&args.inputs)?;
    if let Some(s) = args.seconds
        && !(s.is_finite() && s > 0.0 && s <= MAX_SECONDS)
    {
        bail!("--seconds {s} is not allowed: use more than 0 and at most {MAX_SECONDS}");
    }
    let performance = match &args.play {
        Some(arr) => Some(plan_performance(arr, &args.performance, library)?),
        None => None,
    };
    let library = library_dir(library)?;
    let mut into_library = plan_library(args, &library)?;
    let players = match &into_library {
        Some((lib, class, _)) => super::performers::resolve(
            &args.plays,
            &args.inputs,
            lib,
            *class,
            performance.as_ref().map(|(a, _)| a),
        )?,
        None => Vec::new(),
    };
    let settings = Settings::load(&library)?;
    let highest = args.inputs.iter().copied().max().unwrap_or(1);
    let request = args.device.request(&settings, highest, 2)?;
    let opened = device::open(&request)?;
    let info = opened.info.clone();
    let rate = info.sample_rate_hz;
    let (out, lesson) = take_folder(args, into_library.as_mut())?;
    let (correction, correction_source) = match args.latency {
        Some(frames) => (frames, "--latency".to_string()),
        None => match settings.calibration(&info.host, &info.input_name, &info.output_name, rate) {
            Some(c) => (c.correction_frames, format!("calibrated {}", c.measured_at)),
            None => {
                note!(
                    "note: {} → {} is not calibrated at {rate} Hz, so only the latency the devices \
                     report is removed; run `bandroom calibrate` with a loopback cable for exact alignment",
                    info.output_name,
                    info.input_name
                );
                (0, "not calibrated".to_string())
            }
        },
    };

    let (score, arrangement_record) = match &performance {
        Some((arrangement, options)) => {
            let mut score = Score::new(arrangement, *options);
            super::stems::attach_stems(
                &mut score,
                arrangement,
                rate,
                args.performance.practice.reshapes(),
            )?;
            let record = ArrangementRecord {
                name: arrangement.name.clone(),
                title: arrangement.title.clone(),
                tempo_bpm: score.tempo.as_f64(),
                count_in_bars: options.count_in_bars,
                repeats: args.performance.repeats,
                section: None,
            };
            (score, Some(record))
        }
        None => (Score::silence(), None),
    };
    let midi = super::midi::take_setup(&args.midi, &score, Some(&library))?;
    let stop_requested = Arc::new(AtomicBool::new(false));
    {
        let flag = Arc::clone(&stop_requested);
        // Only one handler per process; a second `record` in one process keeps the first.
        let _ = ctrlc::set_handler(move || flag.store(true, Ordering::Release));
    }
    if args.midi.wait_for_pedal
        && !super::midi::wait_for_pedal(&midi, &|| stop_requested.load(Ordering::Acquire))?
    {
        bail!("no take was started: the pedal was not pressed");
    }
    let mut running = RunningTake::start(
        opened,
        TakeSetup {
            folder: out.clone(),
            inputs: args.inputs.clone(),
            score,
            arrangement: arrangement_record,
            seconds: args.seconds,
            correction_frames: correction,
            click: !args.no_click,
            lesson_id: lesson,
            purpose: into_library
                .as_ref()
                .map(|(_, _, purpose)| purpose.as_str().to_string()),
            midi,
            loop_section: None,
        },
    )?;
    note!(
        "recording {} input(s) from {} at {rate} Hz into {} ({}){}",
        args.inputs.len(),
        info.input_name,
        out.display(),
        correction_source,
        if performance.is_none() && args.seconds.is_none() {
            "; Ctrl-C to stop"
        } else {
            ""
        }
    );
    let mut pedal_marks: Vec<u64> = Vec::new();
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
                    pedal_marks.extend(take_frame);
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
    let FinishedTake {
        take,
        report,
        fault,
        written,
        ..
    } = running.finish();
    print_summary(&take, &out);
    // A take cut short by the device is still a take; one the disk could not hold is
    // left in the incoming folder for `bandroom check --repair`.
    let kept_in = match (&mut into_library, lesson, &report.error, &written) {
        (Some((lib, _, purpose)), Some(lesson), None, Ok(())) => {
            let (id, folder) = lib
                .register_take(lesson, &out, &NewTake::from_record(&take, *purpose))
                .with_context(|| {
                    format!(
                        "the take was recorded in {} but could not be added to the library;                          `bandroom check --repair` will add it",
                        out.display()
                    )
                })?;
            say!("take {id} is in the library: {}", folder.display());
            // The take is kept whatever happens here; attribution can be redone.
            if let Err(e) = super::performers::attribute_and_analyse(lib, id, &players) {
                note!("note: take {id} is recorded, but who played was not saved: {e:#}");
            }
            for frame in &pedal_marks {
                if let Err(e) = lib.add_marker(id, *frame, "pedal", "teacher") {
                    note!("note: a pedal marker of take {id} was not saved: {e:#}");
                }
            }
            folder
        }
        _ => out.clone(),
    };
    match (&fault, &report.error) {
        (Some(f), _) => bail!("{f}; the take so far is kept in {}", kept_in.display()),
        (None, Some(e)) => bail!("{e}"),
        (None, None) => Ok(written?),
    }
}

fn clock_of(frame: u64, rate: u32) -> String {
    bandroom::music::clock(frame as f64 / f64::from(rate.max(1)))
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
                    bandroom::music::clock(kept),
                    bandroom::music::clock(secs)
                )
            } else {
                bandroom::music::clock(kept)
            }
        }
        _ => bandroom::music::clock(secs),
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
