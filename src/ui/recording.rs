//! Recording from the lesson screen: opens the device (the saved one, or the virtual
//! device with a banner when no interface can be opened), starts a `session::RunningTake`
//! on the inputs of the room plan, keeps per-input level meters with clip and silence
//! warnings while it runs, and when it stops files the take in the library, names its
//! players from the room plan and puts it in front of the teacher to judge.
//!
//! Must not process audio: the session and the engine do; this only asks and reads.

use crate::audio::device::{self, DeviceRequest, Host, OpenedDevice};
use crate::audio::settings::Settings;
use crate::audio::virtual_device::VirtualSettings;
use crate::engine::{Score, ScoreOptions};
use crate::library::{Library, NewTake, Purpose};
use crate::music::{self, Bpm};
use crate::record::take_file::ArrangementRecord;
use crate::session::{FinishedTake, RunningTake, TakePoll, TakeSetup};
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
    pub input: usize,
    /// Peak since the last frame, with a fall-back so the bar is readable.
    pub level: f32,
    pub clipped_at: Option<Instant>,
    pub silent_since: Instant,
    /// The input's waveform so far.
    pub wave: super::live_wave::LiveWave,
}

impl InputLevel {
    pub fn clipping(&self) -> bool {
        self.clipped_at.is_some_and(|t| t.elapsed() < CLIP_HOLD)
    }

    pub fn silent_for(&self) -> Option<Duration> {
        let quiet = self.silent_since.elapsed();
        (quiet >= SILENCE_WARNING).then_some(quiet)
    }
}

/// The music being played, kept for the class view: where the engine is, in bars,
/// beats and sections.
pub struct PlayedMusic {
    pub arrangement: crate::music::Arrangement,
    pub score: Score,
    tempo_map: crate::engine::TempoMap,
}

pub struct Recording {
    take: RunningTake,
    pub music: Option<PlayedMusic>,
    /// Per score lane: (muted, soloed), as the teacher set them during this take.
    pub lane_states: Vec<(bool, bool)>,
    lesson: i64,
    purpose: Purpose,
    started: Instant,
    pub levels: Vec<InputLevel>,
    /// Meter updates so far (the UI reads meters every frame it draws).
    pub meter_reads: u64,
    pub fault: Option<String>,
    /// Filed in the library when it stops (a take), or thrown away (a rehearsal).
    pub keep: bool,
}

/// Which device the app records with.
#[derive(Clone, Debug, PartialEq)]
pub enum DeviceChoice {
    /// The library's saved device (or the host's default).
    Saved,
    Virtual,
    /// The virtual device with settings of its own: for tests of the app, faster than
    /// real time where nothing measures real time, or dropping blocks as a struggling
    /// interface would.
    VirtualWith(VirtualSettings),
}

/// Opens the chosen device at `rate_hz` (the saved rate when `None`), falling back to
/// the virtual device with a banner when the saved one cannot be opened.
pub fn open_device(
    root: &Path,
    choice: &DeviceChoice,
    inputs: usize,
    rate_hz: Option<u32>,
) -> Result<(OpenedDevice, Option<String>), String> {
    let with_rate = |choice: &DeviceChoice| -> Result<DeviceRequest, String> {
        let mut request = request(root, choice, inputs)?;
        if let Some(rate) = rate_hz {
            request.sample_rate_hz = rate;
        }
        Ok(request)
    };
    match device::open(&with_rate(choice)?) {
        Ok(opened) => Ok((opened, None)),
        Err(e) if *choice == DeviceChoice::Saved => {
            let banner = format!(
                "No audio interface could be opened ({e}): using the virtual device, \
                 which plays the part back into every input. Choose your interface in \
                 Settings › Sound (or `bandroom calibrate`)."
            );
            let opened =
                device::open(&with_rate(&DeviceChoice::Virtual)?).map_err(|e| e.to_string())?;
            Ok((opened, Some(banner)))
        }
        Err(e) => Err(e.to_string()),
    }
}

fn request(root: &Path, choice: &DeviceChoice, inputs: usize) -> Result<DeviceRequest, String> {
    let settings = Settings::load(root).map_err(|e| e.to_string())?;
    let saved = &settings.device;
    let host = match choice {
        DeviceChoice::Virtual => Host::Virtual(VirtualSettings::default()),
        DeviceChoice::VirtualWith(settings) => Host::Virtual(settings.clone()),
        DeviceChoice::Saved => device::parse_host(
            saved.host.as_deref().unwrap_or("alsa"),
            VirtualSettings::default(),
        )
        .map_err(|e| e.to_string())?,
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
    })
}

/// What to play while recording.
pub struct Playing<'a> {
    pub arrangement: Option<&'a str>,
    pub tempo_bpm: Option<f64>,
    /// Times through each section (`None`: as written).
    pub repeats: Option<u32>,
    /// Only this section, to rehearse it (`None`: the whole piece).
    pub section: Option<&'a str>,
    /// Play the section round and round until stopped (a rehearsal).
    pub round_and_round: bool,
}

/// Starts a take. Returns the recording and, when the saved device could not be
/// opened and the virtual device was used instead, a banner saying so.
pub fn start(
    lib: &mut Library,
    root: &Path,
    choice: &DeviceChoice,
    class: Option<i64>,
    inputs: &[usize],
    playing: &Playing<'_>,
    midi: crate::session::MidiTakeSetup,
) -> Result<(Recording, Option<String>), String> {
    let highest = inputs.iter().copied().max().unwrap_or(1);
    let mut music_played = None;
    let (score, arrangement) = match playing.arrangement {
        Some(name) => {
            let user = root.join("arrangements");
            let mut arr = music::resolve_in(name, Some(&user)).map_err(|e| e.to_string())?;
            if let Some(section) = playing.section {
                arr.keep_section(section)?;
            }
            if let Some(repeats) = playing.repeats {
                arr.set_repeats(repeats);
            }
            let tempo = playing
                .tempo_bpm
                .map(|t| Bpm::new(t).map_err(|e| e.to_string()))
                .transpose()?;
            let options = ScoreOptions {
                count_in_bars: 1,
                tempo,
            };
            arr.check_length(tempo)?;
            let score = Score::new(&arr, options);
            let record = ArrangementRecord {
                name: arr.name.clone(),
                title: arr.title.clone(),
                tempo_bpm: score.tempo.as_f64(),
                count_in_bars: 1,
                repeats: playing.repeats,
                section: playing.section.map(str::to_string),
            };
            music_played = Some((arr, score.clone()));
            (score, Some(record))
        }
        None => (Score::silence(), None),
    };
    let (opened, banner) = open_device(root, choice, highest, None)?;
    let lesson = lib.lesson_for_today(class).map_err(|e| e.to_string())?;
    let folder = lib.staging_folder().map_err(|e| e.to_string())?;
    let settings = Settings::load(root).map_err(|e| e.to_string())?;
    let info = &opened.info;
    let correction = settings
        .calibration(
            &info.host,
            &info.input_name,
            &info.output_name,
            info.sample_rate_hz,
        )
        .map_or(0, |c| c.correction_frames);
    let purpose = Purpose::Rehearsal;
    let take = RunningTake::start(
        opened,
        TakeSetup {
            folder,
            inputs: inputs.to_vec(),
            score,
            arrangement,
            seconds: None,
            correction_frames: correction,
            click: true,
            lesson_id: Some(lesson),
            purpose: Some(purpose.as_str().to_string()),
            midi,
            loop_section: (playing.round_and_round && playing.section.is_some()).then_some(0),
        },
    )
    .map_err(|e| e.to_string())?;
    let now = Instant::now();
    let rate = take.sample_rate_hz();
    let music = music_played.map(|(arrangement, score)| PlayedMusic {
        tempo_map: crate::engine::TempoMap::new(
            rate,
            &score.played_tempo_changes(score.tempo).collect::<Vec<_>>(),
        ),
        arrangement,
        score,
    });
    let lanes = music.as_ref().map_or(0, |m| m.score.lanes.len());
    Ok((
        Recording {
            take,
            music,
            lane_states: vec![(false, false); lanes],
            lesson,
            purpose,
            started: now,
            levels: inputs
                .iter()
                .map(|&input| InputLevel {
                    input,
                    level: 0.0,
                    clipped_at: None,
                    silent_since: now,
                    wave: Default::default(),
                })
                .collect(),
            meter_reads: 0,
            fault: None,
            keep: true,
        },
        banner,
    ))
}

impl Recording {
    /// Where the music is now, as the engine reports it.
    pub fn cue(&self) -> Option<crate::engine::cues::Cue> {
        let music = self.music.as_ref()?;
        let tick = music
            .tempo_map
            .tick_at_frame(self.take.handle().position_frames());
        Some(music.score.cue_at_tick(tick))
    }

    /// The section the engine says it is playing, by name.
    pub fn engine_section(&self) -> Option<String> {
        let music = self.music.as_ref()?;
        let cue = self.cue()?;
        if cue.count_in {
            return None;
        }
        music
            .score
            .sections
            .get(self.take.handle().section())
            .map(|s| s.name.clone())
    }

    /// The bar within the current pass of the playing section (from 0).
    pub fn bar_in_section(&self) -> Option<usize> {
        let music = self.music.as_ref()?;
        let tick = music
            .tempo_map
            .tick_at_frame(self.take.handle().position_frames());
        let cue = music.score.cue_at_tick(tick);
        let span = music.score.sections.get(cue.section?)?;
        let into = tick.saturating_sub(span.start_tick) % span.pass_ticks.max(1);
        Some((into / music.score.meter.bar_ticks().max(1)) as usize)
    }

    /// Ticks into the current bar, and the bar's length in ticks.
    pub fn bar_position(&self) -> Option<(u64, u64)> {
        let music = self.music.as_ref()?;
        let tick = music
            .tempo_map
            .tick_at_frame(self.take.handle().position_frames());
        let bar = music.score.meter.bar_ticks().max(1);
        let into = tick.saturating_sub(music.score.count_in_ticks.min(tick)) % bar;
        Some((into, bar))
    }

    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    /// A part's loudest moment since the last call (post-fader: a muted part reads 0).
    pub fn lane_peak(&self, lane: usize) -> f32 {
        self.take
            .handle()
            .meters()
            .lane(lane)
            .map_or(0.0, |m| m.take_peak())
    }

    /// Mutes or solos a part while the take runs (what the room hears; the recording
    /// of the inputs is not touched).
    pub fn set_lane(&mut self, lane: usize, muted: bool, soloed: bool) -> Result<(), String> {
        let handle = self.take.handle();
        handle
            .send(crate::engine::Command::SetLaneMute { lane, muted })
            .and_then(|()| handle.send(crate::engine::Command::SetLaneSolo { lane, soloed }))
            .map_err(|e| e.to_string())?;
        if let Some(state) = self.lane_states.get_mut(lane) {
            *state = (muted, soloed);
        }
        Ok(())
    }

    /// The frame of the take being recorded now (0 before it starts), for markers.
    pub fn take_frame(&self) -> u64 {
        let handle = self.take.handle();
        handle
            .take_frames()
            .map_or(0, |(start, _)| handle.output_frames().saturating_sub(start))
    }

    pub fn xruns(&self) -> u64 {
        self.take.xruns()
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

    /// Stops and throws away what the inputs heard: a rehearsal keeps no recording.
    pub fn discard(self) -> Result<(), String> {
        let finished = self.take.finish();
        std::fs::remove_dir_all(&finished.folder).map_err(|e| {
            format!(
                "the rehearsal's scratch recording in {} could not be removed ({e}); \
                 `bandroom check` lists it",
                finished.folder.display()
            )
        })
    }

    /// Silences every instrument the take is playing parts on.
    pub fn midi_panic(&self) {
        self.take.midi_panic();
    }

    pub fn request_stop(&mut self) {
        self.take.request_stop();
    }

    /// Stops, closes the files and files the take in the library. Returns the take's id,
    /// or where the files were kept if the library could not take it.
    pub fn finish(self, lib: &mut Library) -> Result<i64, String> {
        let lesson = self.lesson;
        let purpose = self.purpose;
        let FinishedTake {
            take,
            report,
            fault,
            folder,
            written,
        } = self.take.finish();
        if let Some(error) = &report.error {
            return Err(format!(
                "{error}; what was recorded is kept in {} for `bandroom check --repair`",
                folder.display()
            ));
        }
        written.map_err(|e| e.to_string())?;
        let (id, _) = lib
            .register_take(lesson, &folder, &NewTake::from_record(&take, purpose))
            .map_err(|e| {
                format!(
                    "the take was recorded in {} but could not be added to the library ({e}); \
                     `bandroom check --repair` will add it",
                    folder.display()
                )
            })?;
        match fault {
            Some(f) => Err(format!("{f}; take {id} keeps what was recorded")),
            None => Ok(id),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn level(silent_for: Duration, clipped_ago: Option<Duration>) -> InputLevel {
        let now = Instant::now();
        InputLevel {
            input: 1,
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
