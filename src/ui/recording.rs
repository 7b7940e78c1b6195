//! Recording from the lesson screen: opens the device (the saved one, or the virtual
//! device with a banner when no interface can be opened), starts a `session::RunningTake`
//! on the inputs of the room plan, keeps per-input level meters with clip and silence
//! warnings while it runs, and when it stops files the take in the library, names its
//! players from the room plan and puts it in front of the teacher to judge.
//!
//! Must not process audio: the session and the engine do; this only asks and reads.

use super::finishing::{Done, Finishing};
use crate::audio::settings::Settings;
use crate::library::{Library, Purpose};
use crate::session::{
    Cue, Filing, FinishedTake, InputList, Marker, PlayRequest, PlayedMusic, Players, RunningTake,
    TakePlan, TakePoll, TakeStart,
};
use std::path::Path;
use std::time::{Duration, Instant};

/// Below this peak an input counts as silent (about −60 dBFS).
const SILENT: f32 = 0.001;
/// How long an input may be silent before the teacher is told.
pub const SILENCE_WARNING: Duration = Duration::from_secs(10);
/// How long a clip stays lit.
const CLIP_HOLD: Duration = Duration::from_secs(2);

/// What one input's meter shows.
#[derive(Clone, Debug)]
pub struct InputLevel {
    /// 1-based channel, of the main device or of `device`.
    pub input: usize,
    /// A further input device's name and identity (a USB microphone); `None` for the
    /// main device's inputs.
    pub device: Option<(String, String)>,
    /// Peak since the last frame, with a fall-back so the bar is readable.
    pub level: f32,
    pub clipped_at: Option<Instant>,
    pub silent_since: Instant,
    /// The input's waveform so far.
    pub wave: super::live_wave::LiveWave,
}

impl InputLevel {
    fn new(input: usize, device: Option<(String, String)>, now: Instant) -> InputLevel {
        InputLevel {
            input,
            device,
            level: 0.0,
            clipped_at: None,
            silent_since: now,
            wave: Default::default(),
        }
    }

    /// "Input 3" or "Blue Yeti #2, input 1".
    pub fn title(&self) -> String {
        match &self.device {
            Some((name, _)) => format!("{name}, input {}", self.input),
            None => format!("Input {}", self.input),
        }
    }

    /// Whether this meter is the room plan's `seat`.
    pub fn is_seat(&self, seat: &crate::library::Seat) -> bool {
        seat.keyboard.is_none()
            && seat.input == self.input
            && seat.device.as_deref() == self.device.as_ref().map(|(_, id)| id.as_str())
    }
    pub fn clipping(&self) -> bool {
        self.clipped_at.is_some_and(|t| t.elapsed() < CLIP_HOLD)
    }

    pub fn silent_for(&self) -> Option<Duration> {
        let quiet = self.silent_since.elapsed();
        (quiet >= SILENCE_WARNING).then_some(quiet)
    }
}

pub struct Recording {
    take: RunningTake,
    pub music: Option<PlayedMusic>,
    /// Per score lane: (muted, soloed), as the teacher set them during this take.
    pub lane_states: Vec<(bool, bool)>,
    filing: Filing,
    started: Instant,
    pub levels: Vec<InputLevel>,
    /// Meter updates so far (the UI reads meters every frame it draws).
    pub meter_reads: u64,
    pub fault: Option<String>,
    /// Filed in the library when it stops (a take), or thrown away (a rehearsal).
    pub keep: bool,
}

/// Which device the app records with (the session's choice: the saved device with the
/// virtual fallback, or a virtual device for tests).
pub use crate::session::DeviceChoice;

/// What to play while recording, as the lesson screen has it set.
pub struct Playing<'a> {
    pub arrangement: Option<&'a str>,
    pub tempo_bpm: Option<f64>,
    /// Times through each section (`None`: as written).
    pub repeats: Option<u32>,
    /// Bars of metronome before the piece.
    pub count_in_bars: u32,
    /// Only this section, to rehearse it (`None`: the whole piece).
    pub section: Option<&'a str>,
    /// Play the section round and round until stopped (a rehearsal).
    pub round_and_round: bool,
    /// Why the take is kept: evidence, rehearsal or performance.
    pub purpose: Purpose,
    /// Which pass of an "again" run this take is, if it is one.
    pub pass: Option<u32>,
}

/// Starts a take through the session's plan. Returns the recording and the notices the
/// plan has for the teacher: the virtual device's banner when the saved device could
/// not be opened, stems left off, a tempo outside the practice range.
pub fn start(
    lib: &mut Library,
    root: &Path,
    choice: &DeviceChoice,
    class: Option<i64>,
    inputs: &InputList,
    playing: &Playing<'_>,
    midi: crate::session::MidiTakeSetup,
) -> anyhow::Result<(Recording, Vec<String>)> {
    use anyhow::Context;
    let settings = Settings::load(root)?;
    let request = playing.arrangement.map(|name| PlayRequest {
        arrangement: name.to_string(),
        tempo_bpm: playing.tempo_bpm,
        repeats: playing.repeats,
        count_in_bars: playing.count_in_bars,
        section: playing.section.map(str::to_string),
        practice: Default::default(),
    });
    let plan = TakePlan::prepare(root, &settings, request.as_ref(), choice, inputs, None)?;
    let lesson = lib
        .lesson_for_today(class)
        .context("today's lesson could not be found in the library")?;
    let folder = lib.staging_folder()?;
    let mut notices: Vec<String> = plan.banner.iter().cloned().collect();
    // "Not calibrated" is for the command line; the app says it in Settings › Sound.
    notices.extend(
        plan.notes
            .iter()
            .filter(|n| !n.contains("is not calibrated"))
            .cloned(),
    );
    let purpose = playing.purpose;
    let music = plan.played_music();
    let now = Instant::now();
    // One meter per track, in track order: the main device's inputs, then each further
    // device's that opened (one left out is in the banner).
    let mut levels: Vec<InputLevel> = plan
        .inputs
        .iter()
        .map(|&input| InputLevel::new(input, None, now))
        .collect();
    for (setup, opened) in plan
        .extra_devices
        .iter()
        .zip(&plan.device.info.extra_inputs)
    {
        levels.extend(setup.channels.iter().map(|&channel| {
            InputLevel::new(channel, Some((opened.name.clone(), opened.id.clone())), now)
        }));
    }
    let take = plan.start(TakeStart {
        folder,
        seconds: None,
        click: true,
        lesson_id: Some(lesson),
        purpose: Some(purpose.as_str().to_string()),
        midi,
        round_and_round: playing.round_and_round,
    })?;
    let lanes = music.as_ref().map_or(0, PlayedMusic::lanes);
    Ok((
        Recording {
            take,
            music,
            lane_states: vec![(false, false); lanes],
            filing: Filing {
                lesson,
                purpose,
                pass: playing.pass,
            },
            started: now,
            levels,
            meter_reads: 0,
            fault: None,
            keep: true,
        },
        notices,
    ))
}

impl Recording {
    /// Where the music is now, as the engine reports it.
    pub fn cue(&self) -> Option<Cue> {
        let music = self.music.as_ref()?;
        Some(music.cue_at(self.take.engine_frame()))
    }

    /// The section the engine says it is playing, by name.
    pub fn engine_section(&self) -> Option<String> {
        let index = self.engine_section_index()?;
        self.music.as_ref()?.section_name(index).map(str::to_string)
    }

    /// The index of the section the engine says it is playing (`None` in the count-in).
    pub fn engine_section_index(&self) -> Option<usize> {
        self.music.as_ref()?;
        if self.cue()?.count_in {
            return None;
        }
        Some(self.take.engine_section())
    }

    /// The bar within the current pass of the playing section (from 0).
    pub fn bar_in_section(&self) -> Option<usize> {
        self.music
            .as_ref()?
            .bar_in_section(self.take.engine_frame())
    }

    /// Ticks into the current bar, and the bar's length in ticks.
    pub fn bar_position(&self) -> Option<(u64, u64)> {
        Some(self.music.as_ref()?.bar_position(self.take.engine_frame()))
    }

    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    /// A part's loudest moment since the last call (post-fader: a muted part reads 0).
    pub fn lane_peak(&self, lane: usize) -> f32 {
        self.take.lane_peak(lane)
    }

    /// Mutes or solos a part while the take runs (what the room hears; the recording
    /// of the inputs is not touched).
    pub fn set_lane(&mut self, lane: usize, muted: bool, soloed: bool) -> anyhow::Result<()> {
        self.take.set_lane(lane, muted, soloed)?;
        if let Some(state) = self.lane_states.get_mut(lane) {
            *state = (muted, soloed);
        }
        Ok(())
    }

    /// The frame of the take being recorded now (0 before it starts), for markers.
    pub fn take_frame(&self) -> u64 {
        self.take.take_frame()
    }

    pub fn xruns(&self) -> u64 {
        self.take.xruns()
    }

    /// How each further input device's clock is doing (unsteady, unplugged).
    pub fn device_clocks(&self) -> Vec<crate::session::DeviceClock> {
        self.take.device_clocks()
    }

    /// Reads the meters and the take's state; true when the take has ended by itself
    /// (the part finished, or the device faulted).
    pub fn update(&mut self) -> bool {
        self.meter_reads += 1;
        let now = Instant::now();
        let at = self.take_frame() as f64 / f64::from(self.take.sample_rate_hz().max(1));
        for (level, meter) in self.levels.iter_mut().zip(self.take.input_meters()) {
            let peak = meter.take_peak();
            level.wave.push(at, peak);
            level.level = peak.max(level.level * 0.85);
            if meter.take_clipped() {
                level.clipped_at = Some(now);
            }
            if peak > SILENT {
                level.silent_since = now;
            }
        }
        match self.take.poll() {
            TakePoll::Recording { .. } => false,
            TakePoll::Finished => true,
            TakePoll::Fault(fault) => {
                self.fault = Some(fault);
                true
            }
        }
    }

    /// Silences every instrument the take is playing parts on.
    pub fn midi_panic(&self) {
        self.take.midi_panic();
    }

    /// Asks the take to stop and hands it to `Finishing`, which closes its files and
    /// files it (or, for a rehearsal, throws the recording away) off the UI thread.
    pub fn stop(
        self,
        root: &Path,
        players: Vec<Players>,
        markers: Vec<Marker>,
        wake: Box<dyn FnOnce() + Send>,
    ) -> Finishing {
        let then: super::finishing::Then = if self.keep {
            let root = root.to_path_buf();
            let filing = self.filing;
            Box::new(move |finished: FinishedTake| {
                let mut lib = Library::reopen(&root).map_err(|e| {
                    format!("the library in {} could not be opened: {e}", root.display())
                })?;
                finished
                    .file(&mut lib, filing, &players, &markers)
                    .map(Done::Take)
                    .map_err(|e| e.to_string())
            })
        } else {
            Box::new(|finished: FinishedTake| {
                std::fs::remove_dir_all(&finished.folder)
                    .map(|()| Done::Discarded)
                    .map_err(|e| {
                        format!(
                            "the rehearsal's scratch recording in {} could not be removed ({e}); \
                             `bandroom check` lists it",
                            finished.folder.display()
                        )
                    })
            })
        };
        let what = if self.keep {
            "the take"
        } else {
            "the rehearsal"
        };
        Finishing::start(what, self.take, then, wake)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn level(silent_for: Duration, clipped_ago: Option<Duration>) -> InputLevel {
        let now = Instant::now();
        InputLevel {
            input: 1,
            device: None,
            level: 0.0,
            clipped_at: clipped_ago.map(|ago| now - ago),
            silent_since: now - silent_for,
            wave: Default::default(),
        }
    }

    #[test]
    fn silence_is_reported_after_ten_seconds_and_a_clip_stays_lit_for_two() {
        assert_eq!(level(Duration::from_secs(9), None).silent_for(), None);
        let quiet = level(Duration::from_secs(11), None).silent_for().unwrap();
        assert!(quiet >= SILENCE_WARNING);
        assert!(!level(Duration::ZERO, None).clipping());
        assert!(level(Duration::ZERO, Some(Duration::from_secs(1))).clipping());
        assert!(!level(Duration::ZERO, Some(Duration::from_secs(3))).clipping());
    }
}
