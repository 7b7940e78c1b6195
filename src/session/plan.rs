//! Getting a take ready, the same way for `bandroom record` and the lesson screen:
//! the arrangement found (built-in, the school's folder, a file), its practice version,
//! the score with its backing stems, the device opened (the saved one, falling back to
//! the virtual device with a banner) and the round-trip correction from the stored
//! calibration. Everything a front end must say about the take before it starts comes
//! back as words (`TakePlan::notes`), never printed here.
//!
//! Must not start the device or touch the library: `TakePlan::start` hands over to
//! `RunningTake`, and filing is `filing`'s job.

use super::MidiTakeSetup;
use super::inputs::{DeviceInputs, InputList};
use super::stems::attach_stems;
use super::take::{RunningTake, TakeSetup, TakeSetupError};
use crate::audio::device::{
    self, DeviceError, DeviceRequest, ExtraInputRequest, Host, OpenedDevice,
};
use crate::audio::settings::Settings;
use crate::audio::stems::StemError;
use crate::audio::virtual_device::VirtualSettings;
use crate::engine::{Score, ScoreOptions};
use crate::library::arrangements_folder;
use crate::music::practice::{self, Ramp};
use crate::music::{self, Arrangement, ArrangementError, Bpm};
use crate::record::take_file::ArrangementRecord;
use std::path::{Path, PathBuf};

/// The most times through each section a take may ask for.
pub const MAX_REPEATS: u32 = 64;
/// The longest count-in, in bars.
pub const MAX_COUNT_IN_BARS: u32 = 16;
/// The most passes a practice may ask for.
pub const MAX_PASSES: u32 = 50;

/// How the piece is reshaped for practice, in plain values both front ends fill in.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Practice {
    /// Bars A to B of the performance (repeats counted).
    pub bars: Option<(u32, u32)>,
    /// The piece (or the bars chosen) this many times in a row.
    pub passes: Option<u32>,
    /// A pass per tempo step.
    pub ramp: Option<Ramp>,
    /// Parts left silent ("play along without me").
    pub mute: Vec<String>,
    /// Every part not at this tier is silent.
    pub solo_tier: Option<String>,
}

impl Practice {
    /// Whether the piece's timeline is reshaped, which backing stems cannot follow.
    pub fn reshapes(&self) -> bool {
        self.bars.is_some() || self.passes.is_some() || self.ramp.is_some()
    }
}

/// What to play with a take.
#[derive(Clone, Debug, PartialEq)]
pub struct PlayRequest {
    /// A built-in name, a name in the school's folder, or a path to a file.
    pub arrangement: String,
    /// `None`: the arrangement's own tempo.
    pub tempo_bpm: Option<f64>,
    /// Times through each section (`None`: as written).
    pub repeats: Option<u32>,
    pub count_in_bars: u32,
    /// Only this section, with its repeats (`None`: the whole piece). The take remembers
    /// it, so its timing is analysed against what was played.
    pub section: Option<String>,
    pub practice: Practice,
}

impl PlayRequest {
    /// The whole piece as written, after a one-bar count-in.
    pub fn piece(arrangement: &str) -> PlayRequest {
        PlayRequest {
            arrangement: arrangement.to_string(),
            tempo_bpm: None,
            repeats: None,
            count_in_bars: 1,
            section: None,
            practice: Practice::default(),
        }
    }
}

/// The setting a refused value was given for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Setting {
    Section,
    Repeats,
    CountIn,
    Tempo,
    Bars,
    Passes,
    Ramp,
    Mute,
    SoloTier,
    /// The piece as a whole (too long at this tempo).
    Piece,
    Inputs,
}

impl Setting {
    /// The setting in the app's words.
    pub fn name(self) -> &'static str {
        match self {
            Setting::Section => "section",
            Setting::Repeats => "repeats",
            Setting::CountIn => "count-in",
            Setting::Tempo => "tempo",
            Setting::Bars => "bars",
            Setting::Passes => "passes",
            Setting::Ramp => "ramp",
            Setting::Mute => "mute",
            Setting::SoloTier => "solo tier",
            Setting::Piece => "piece",
            Setting::Inputs => "inputs",
        }
    }
}

fn refuse(setting: Setting, reason: impl std::fmt::Display) -> PlanError {
    PlanError::NotAllowed {
        setting,
        reason: reason.to_string(),
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error(transparent)]
    Arrangement(#[from] ArrangementError),
    /// A value the user chose that the piece or bandroom's limits do not allow. The
    /// message starts with the value; front ends name the setting their own way.
    #[error("{}: {reason}", setting.name())]
    NotAllowed { setting: Setting, reason: String },
    #[error("part '{part}': {source}")]
    Stem { part: String, source: StemError },
    #[error(transparent)]
    Device(#[from] DeviceError),
    #[error(transparent)]
    Settings(#[from] crate::audio::settings::SettingsError),
}

/// The music of a take, ready for the engine.
#[derive(Clone, Debug)]
pub struct PreparedMusic {
    /// The arrangement as it will be played (section kept, practice applied).
    pub arrangement: Arrangement,
    pub options: ScoreOptions,
    /// What `take.json` and the library remember of it.
    pub record: ArrangementRecord,
    /// Bar range, passes or a ramp: stems stay off.
    reshaped: bool,
}

/// Finds the arrangement and shapes it as `request` asks, checking every value.
pub fn prepare_music(
    library_root: &Path,
    request: &PlayRequest,
    notes: &mut Vec<String>,
) -> Result<PreparedMusic, PlanError> {
    let name = &request.arrangement;
    let mut arrangement = music::resolve_in(name, Some(&arrangements_folder(library_root)))?;
    if let Some(section) = &request.section {
        arrangement
            .keep_section(section.trim())
            .map_err(|e| refuse(Setting::Section, format!("{section}: {e}")))?;
    }
    if let Some(repeats) = request.repeats {
        if !(1..=MAX_REPEATS).contains(&repeats) {
            return Err(refuse(
                Setting::Repeats,
                format!("{repeats} is not allowed: use 1 to {MAX_REPEATS}"),
            ));
        }
        arrangement.set_repeats(repeats);
    }
    if request.count_in_bars > MAX_COUNT_IN_BARS {
        return Err(refuse(
            Setting::CountIn,
            format!(
                "{} is not allowed: use 0 to {MAX_COUNT_IN_BARS} bars",
                request.count_in_bars
            ),
        ));
    }
    let tempo = request
        .tempo_bpm
        .map(|bpm| Bpm::new(bpm).map_err(|e| refuse(Setting::Tempo, e)))
        .transpose()?;
    arrangement
        .check_length(tempo)
        .map_err(|e| refuse(Setting::Piece, format!("{name}: {e}")))?;
    if let Some(tempo) = tempo
        && !arrangement.tempo.contains(tempo)
    {
        notes.push(format!(
            "note: {tempo} BPM is outside {}'s practice range {}–{} BPM",
            arrangement.title, arrangement.tempo.practice_min, arrangement.tempo.practice_max
        ));
    }
    let (arrangement, first_percent) = apply_practice(arrangement, &request.practice)?;
    // A ramp's first pass is slower than the tempo chosen; the score scales from it.
    let tempo = match (tempo, first_percent) {
        (Some(t), percent) if percent != 100 => Some(
            t.percent(percent)
                .map_err(|e| refuse(Setting::Ramp, format!("with the tempo chosen: {e}")))?,
        ),
        (t, _) => t,
    };
    let options = ScoreOptions {
        count_in_bars: request.count_in_bars,
        tempo,
    };
    let played_tempo = tempo.unwrap_or(arrangement.tempo.default);
    let record = ArrangementRecord {
        name: arrangement.name.clone(),
        title: arrangement.title.clone(),
        tempo_bpm: played_tempo.as_f64(),
        count_in_bars: request.count_in_bars,
        repeats: request.repeats,
        section: request.section.as_deref().map(|s| s.trim().to_string()),
    };
    Ok(PreparedMusic {
        arrangement,
        options,
        record,
        reshaped: request.practice.reshapes(),
    })
}

/// The practice version `practice` asks for, and the first pass's share of the tempo.
fn apply_practice(arrangement: Arrangement, p: &Practice) -> Result<(Arrangement, u32), PlanError> {
    let mut result = arrangement;
    if let Some((a, b)) = p.bars {
        result = practice::bar_range(&result, a, b).map_err(|e| refuse(Setting::Bars, e))?;
    }
    let mut first_percent = 100;
    if let Some(passes) = p.passes {
        if !(1..=MAX_PASSES).contains(&passes) {
            return Err(refuse(
                Setting::Passes,
                format!("{passes} is not allowed: use 1 to {MAX_PASSES}"),
            ));
        }
        result = practice::passes(&result, passes);
    }
    if let Some(ramp) = p.ramp {
        first_percent = ramp.start_percent;
        result = practice::ramp(&result, ramp).map_err(|e| refuse(Setting::Ramp, e))?;
    }
    if !p.mute.is_empty() {
        result = practice::mute(&result, &p.mute).map_err(|e| refuse(Setting::Mute, e))?;
    }
    if let Some(tier) = &p.solo_tier {
        result =
            practice::solo_tier(&result, tier.trim()).map_err(|e| refuse(Setting::SoloTier, e))?;
    }
    Ok((result, first_percent))
}

impl PreparedMusic {
    /// The score at the device's rate, with the backing stems loaded when the piece is
    /// played whole at its written tempo (otherwise a note says why they are off).
    pub fn score(&self, rate: u32, notes: &mut Vec<String>) -> Result<Score, PlanError> {
        let mut score = Score::new(&self.arrangement, self.options);
        let whole = self.record.section.is_none() && !self.reshaped;
        attach_stems(&mut score, &self.arrangement, rate, whole, notes)?;
        Ok(score)
    }
}

/// Which device a take records with.
#[derive(Clone, Debug, PartialEq)]
pub enum DeviceChoice {
    /// The library's saved device (or the host's default); when it cannot be opened,
    /// the virtual device, with a banner saying so.
    Saved,
    Virtual,
    /// The virtual device with settings of its own: for tests of the app, faster than
    /// real time where nothing measures real time, or dropping blocks as a struggling
    /// interface would.
    VirtualWith(VirtualSettings),
    /// Exactly this device, with no fallback (the command line's choice).
    Exactly(DeviceRequest),
}

impl DeviceChoice {
    /// Where "Which mic is this?" and the room plan's list of microphones look: this
    /// choice's host, with the saved main input and output on it.
    pub fn room_listen(
        &self,
        settings: &Settings,
    ) -> Result<crate::audio::identify::RoomListen, PlanError> {
        let request = self.request(settings, 1)?;
        Ok(crate::audio::identify::RoomListen {
            host: request.host,
            main_input: request.input,
            output: request.output,
            sample_rate_hz: request.sample_rate_hz,
        })
    }

    fn request(&self, settings: &Settings, inputs: usize) -> Result<DeviceRequest, PlanError> {
        let saved = &settings.device;
        let host = match self {
            DeviceChoice::Exactly(request) => return Ok(request.clone()),
            DeviceChoice::Virtual => Host::Virtual(VirtualSettings::default()),
            DeviceChoice::VirtualWith(settings) => Host::Virtual(settings.clone()),
            DeviceChoice::Saved => device::parse_host(
                saved.host.as_deref().unwrap_or(Host::default_name()),
                VirtualSettings::default(),
            )?,
        };
        let real = !matches!(host, Host::Virtual(_));
        Ok(DeviceRequest {
            input: saved.input.clone().filter(|_| real),
            output: saved.output.clone().filter(|_| real),
            host,
            sample_rate_hz: saved.sample_rate_hz.unwrap_or(48_000),
            buffer_frames: saved.buffer_frames.filter(|_| real),
            input_channels: inputs,
            output_channels: 2,
            extra_inputs: Vec::new(),
        })
    }
}

/// Opens the chosen device with `inputs` input channels at `rate_hz` (the saved rate
/// when `None`). The saved device falls back to the virtual one, and the banner says so.
pub fn open_device(
    settings: &Settings,
    choice: &DeviceChoice,
    inputs: usize,
    rate_hz: Option<u32>,
) -> Result<(OpenedDevice, Option<String>), PlanError> {
    open_device_with(settings, choice, inputs, &[], rate_hz)
}

/// The further input devices a request opens: each by the name (or identity) it was
/// given, with as many channels as its highest one recorded.
fn extra_requests(extra: &[DeviceInputs]) -> Vec<ExtraInputRequest> {
    extra
        .iter()
        .map(|d| ExtraInputRequest {
            name: d.device.clone(),
            channels: d.channels.iter().copied().max().unwrap_or(1),
        })
        .collect()
}

/// As `open_device`, with further input devices (USB microphones) beside the main one.
/// With the saved device, a further device that cannot be opened (unplugged since the
/// last lesson) is left out and the banner says which: the interface and the other
/// microphones still record. The command line's exact choice fails instead.
pub fn open_device_with(
    settings: &Settings,
    choice: &DeviceChoice,
    inputs: usize,
    extra: &[DeviceInputs],
    rate_hz: Option<u32>,
) -> Result<(OpenedDevice, Option<String>), PlanError> {
    let with_rate =
        |choice: &DeviceChoice, extra: &[DeviceInputs]| -> Result<DeviceRequest, PlanError> {
            let mut request = choice.request(settings, inputs)?;
            request.extra_inputs = extra_requests(extra);
            if let Some(rate) = rate_hz {
                request.sample_rate_hz = rate;
            }
            Ok(request)
        };
    let first = device::open(&with_rate(choice, extra)?);
    let first = match first {
        Err(e) if !extra.is_empty() && !matches!(choice, DeviceChoice::Exactly(_)) => {
            let without = device::open(&with_rate(choice, &[])?);
            match without {
                Ok(opened) => {
                    let names: Vec<&str> = extra.iter().map(|d| d.device.as_str()).collect();
                    let banner = format!(
                        "The microphones on the room plan could not all be opened ({e}), so \
                         this take records without {}: check they are plugged in, then record again",
                        names.join(", ")
                    );
                    return Ok((opened, Some(banner)));
                }
                Err(_) => Err(e),
            }
        }
        other => other,
    };
    match first {
        Ok(opened) => Ok((opened, None)),
        Err(e) if *choice == DeviceChoice::Saved => {
            let banner = format!(
                "No audio interface could be opened, so bandroom uses its test device: \
                 choose yours in Settings › Sound ({e}; the test device plays the part back \
                 into every input)"
            );
            let opened = device::open(&with_rate(&DeviceChoice::Virtual, &[])?)?;
            Ok((opened, Some(banner)))
        }
        Err(e) => Err(e.into()),
    }
}

/// A take ready to start: its music, its score at the device's rate, the open device
/// and the correction that aligns what the inputs hear with what was played.
pub struct TakePlan {
    pub music: Option<PreparedMusic>,
    pub score: Score,
    pub device: OpenedDevice,
    /// Said when the saved device could not be opened and the virtual one is used.
    pub banner: Option<String>,
    /// What the front end should tell the user before the take starts.
    pub notes: Vec<String>,
    pub correction_frames: i64,
    /// Where the correction came from, in words ("calibrated 2026-…", "not calibrated").
    pub correction_source: String,
    pub inputs: Vec<usize>,
    /// Channels of the further input devices the device was opened with, and their
    /// corrections (see `with_extra_devices`).
    pub extra_devices: Vec<crate::session::ExtraDeviceSetup>,
    pub follow_clocks: bool,
}

impl TakePlan {
    /// Resolves everything a take needs and opens the device. `latency` overrides the
    /// stored calibration. Nothing is recorded yet.
    pub fn prepare(
        library_root: &Path,
        settings: &Settings,
        play: Option<&PlayRequest>,
        device_choice: &DeviceChoice,
        inputs: &InputList,
        latency: Option<i64>,
    ) -> Result<TakePlan, PlanError> {
        let mut notes = Vec::new();
        let music = play
            .map(|p| prepare_music(library_root, p, &mut notes))
            .transpose()?;
        TakePlan::with_music(music, notes, settings, device_choice, inputs, latency)
    }

    /// As `prepare`, for music the caller has already prepared (and checked its own
    /// options against), with the notes that came with it.
    pub fn with_music(
        music: Option<PreparedMusic>,
        mut notes: Vec<String>,
        settings: &Settings,
        device_choice: &DeviceChoice,
        inputs: &InputList,
        latency: Option<i64>,
    ) -> Result<TakePlan, PlanError> {
        check_inputs(&inputs.main)?;
        let highest = inputs.main.iter().copied().max().unwrap_or(1);
        let (device, banner) =
            open_device_with(settings, device_choice, highest, &inputs.extra, None)?;
        let info = &device.info;
        let rate = info.sample_rate_hz;
        let (correction_frames, correction_source) = match latency {
            Some(frames) => (frames, "latency given".to_string()),
            None => {
                match settings.calibration(&info.host, &info.input_name, &info.output_name, rate) {
                    Some(c) => (c.correction_frames, format!("calibrated {}", c.measured_at)),
                    None => {
                        notes.push(format!(
                            "note: {} → {} is not calibrated at {rate} Hz, so only the latency the \
                         devices report is removed; run `bandroom calibrate` with a loopback \
                         cable for exact alignment",
                            info.output_name, info.input_name
                        ));
                        (0, "not calibrated".to_string())
                    }
                }
            }
        };
        let score = match &music {
            Some(m) => m.score(rate, &mut notes)?,
            None => Score::silence(),
        };
        Ok(TakePlan {
            music,
            score,
            device,
            banner,
            notes,
            correction_frames,
            correction_source,
            inputs: inputs.main.clone(),
            extra_devices: Vec::new(),
            follow_clocks: true,
        }
        .with_extra_devices(&inputs.extra, settings, latency))
    }

    /// The channels to record from each further input device the device was opened
    /// with (`DeviceRequest::extra_inputs`, in that order), each device's latency taken
    /// from its own calibration (`latency` overrides them all).
    fn with_extra_devices(
        mut self,
        devices: &[DeviceInputs],
        settings: &Settings,
        latency: Option<i64>,
    ) -> Self {
        let info = &self.device.info;
        let rate = info.sample_rate_hz;
        self.extra_devices = devices
            .iter()
            .zip(&info.extra_inputs)
            .map(|(asked, opened)| {
                // Further devices are calibrated by identity (see `bandroom calibrate --also`).
                let calibrated = settings
                    .calibration(&info.host, &opened.id, &info.output_name, rate)
                    .map(|c| c.correction_frames);
                if calibrated.is_none() && latency.is_none() {
                    self.notes.push(format!(
                        "note: {} → {} is not calibrated at {rate} Hz: run `bandroom calibrate` with it selected for exact alignment",
                        info.output_name, opened.name
                    ));
                }
                crate::session::ExtraDeviceSetup {
                    channels: asked.channels.clone(),
                    correction_frames: latency.or(calibrated).unwrap_or(0),
                }
            })
            .collect();
        self
    }

    pub fn sample_rate_hz(&self) -> u32 {
        self.device.info.sample_rate_hz
    }

    /// The music as the screens follow it while the take runs.
    pub fn played_music(&self) -> Option<super::PlayedMusic> {
        let music = self.music.as_ref()?;
        Some(super::PlayedMusic::new(
            music.arrangement.clone(),
            self.score.clone(),
            self.sample_rate_hz(),
        ))
    }

    /// Starts recording into `start.folder`.
    pub fn start(self, start: TakeStart) -> Result<RunningTake, TakeSetupError> {
        let loop_section = start.round_and_round.then_some(0).filter(|_| {
            self.music
                .as_ref()
                .is_some_and(|m| m.record.section.is_some())
        });
        let played = self.music.as_ref().map(|m| m.arrangement.clone());
        RunningTake::start(
            self.device,
            TakeSetup {
                folder: start.folder,
                inputs: self.inputs,
                score: self.score,
                arrangement: self.music.map(|m| m.record),
                seconds: start.seconds,
                correction_frames: self.correction_frames,
                click: start.click,
                lesson_id: start.lesson_id,
                purpose: start.purpose,
                midi: start.midi,
                loop_section,
                played,
                extra_devices: self.extra_devices,
                follow_clocks: self.follow_clocks,
            },
        )
    }
}

/// How a planned take runs.
pub struct TakeStart {
    /// Where its files go: a library staging folder, or the user's own.
    pub folder: PathBuf,
    /// Frames to record when nothing is played; `None` records until stopped.
    pub seconds: Option<f64>,
    pub click: bool,
    pub lesson_id: Option<i64>,
    pub purpose: Option<String>,
    pub midi: MidiTakeSetup,
    /// A chosen section is played round and round until stopped (a rehearsal).
    pub round_and_round: bool,
}

/// Inputs count from 1 and none is listed twice.
pub fn check_inputs(inputs: &[usize]) -> Result<(), PlanError> {
    if inputs.is_empty() {
        return Err(refuse(
            Setting::Inputs,
            "none is given: record at least one, e.g. input 1",
        ));
    }
    if inputs.contains(&0) {
        return Err(refuse(
            Setting::Inputs,
            "inputs count from 1: use 1,2 for the first two inputs",
        ));
    }
    let mut seen = inputs.to_vec();
    seen.sort_unstable();
    seen.dedup();
    if seen.len() != inputs.len() {
        return Err(refuse(Setting::Inputs, "an input is listed twice"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_section_take_remembers_its_section_and_keeps_only_it() {
        let root = Path::new("/nonexistent-library");
        let mut request = PlayRequest::piece("clapping-music");
        request.section = Some("shift 2".into());
        request.repeats = Some(2);
        request.count_in_bars = 2;
        let mut notes = Vec::new();
        let music = prepare_music(root, &request, &mut notes).unwrap();
        assert_eq!(music.record.section.as_deref(), Some("shift 2"));
        assert_eq!(music.record.count_in_bars, 2);
        assert_eq!(music.record.repeats, Some(2));
        assert_eq!(music.arrangement.sections.len(), 1);
        assert_eq!(music.arrangement.sections[0].repeats, 2);
    }

    #[test]
    fn limits_are_refused_with_the_allowed_range() {
        let root = Path::new("/nonexistent-library");
        let mut request = PlayRequest::piece("clapping-music");
        request.count_in_bars = 17;
        let e = prepare_music(root, &request, &mut Vec::new()).unwrap_err();
        assert!(e.to_string().contains("0 to 16"), "{e}");
        let mut request = PlayRequest::piece("clapping-music");
        request.repeats = Some(0);
        let e = prepare_music(root, &request, &mut Vec::new()).unwrap_err();
        assert!(e.to_string().contains("1 to 64"), "{e}");
        assert!(check_inputs(&[1, 1]).is_err());
        assert!(check_inputs(&[0]).is_err());
        assert!(check_inputs(&[]).is_err());
    }
}
