//! A take's MIDI track as a Standard MIDI File, and note-ons read back as frames.
//!
//! Owns the file format (through `midly`). A take's file is type 0 with one tick per
//! audio frame (pulses per quarter and tempo chosen so the two agree exactly), so an
//! event's tick *is* its frame in the take and nothing is rounded; any sequencer opens
//! it at the take's real timing. Reading accepts any SMF (type 0 or 1, metrical or
//! SMPTE timing, tempo changes). Files are written whole or not at all. Must not know
//! about ports or the clock.

use super::MidiError;
use super::message::ShortMessage;
use crate::atomic_file::PendingFile;
use midly::num::{u4, u7, u14, u15, u24, u28};
use midly::{Format, Header, MetaMessage, MidiMessage, Smf, Timing, TrackEvent, TrackEventKind};
use std::io::Write;
use std::path::Path;

/// A message at a frame of the take.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimedMessage {
    pub frame: u64,
    pub message: ShortMessage,
}

/// Pulses per quarter and µs per quarter that make one tick one frame at `rate_hz`.
fn frame_timing(rate_hz: u32) -> Option<(u16, u32)> {
    [1u32, 2, 4, 8, 16, 32].into_iter().find_map(|d| {
        let ppq = rate_hz / d;
        (rate_hz.is_multiple_of(d) && ppq > 0 && ppq <= 0x7FFF)
            .then_some((ppq as u16, 1_000_000 / d))
    })
}

fn to_midly(message: &ShortMessage) -> TrackEventKind<'static> {
    let [a, b] = message.data;
    let (key, vel) = (u7::new(a), u7::new(b));
    let message_kind = match message.status & 0xF0 {
        0x80 => MidiMessage::NoteOff { key, vel },
        0x90 => MidiMessage::NoteOn { key, vel },
        0xA0 => MidiMessage::Aftertouch { key, vel },
        0xB0 => MidiMessage::Controller {
            controller: key,
            value: vel,
        },
        0xC0 => MidiMessage::ProgramChange { program: key },
        0xD0 => MidiMessage::ChannelAftertouch { vel: key },
        _ => MidiMessage::PitchBend {
            bend: midly::PitchBend(u14::new(u16::from(a) | (u16::from(b) << 7))),
        },
    };
    TrackEventKind::Midi {
        channel: u4::new(message.channel()),
        message: message_kind,
    }
}

/// Writes `events` (in frame order) as the take's track `name`.
pub fn write_take_track(
    path: &Path,
    name: &str,
    rate_hz: u32,
    events: &[TimedMessage],
) -> Result<(), MidiError> {
    let failed = |reason: String| MidiError::Write {
        path: path.to_path_buf(),
        reason,
    };
    let (ppq, tempo) = frame_timing(rate_hz)
        .ok_or_else(|| failed(format!("{rate_hz} Hz has no exact MIDI timing")))?;
    let mut track = vec![
        TrackEvent {
            delta: u28::new(0),
            kind: TrackEventKind::Meta(MetaMessage::TrackName(name.as_bytes())),
        },
        TrackEvent {
            delta: u28::new(0),
            kind: TrackEventKind::Meta(MetaMessage::Tempo(u24::new(tempo))),
        },
    ];
    let max_delta = u64::from(u28::max_value().as_int());
    let mut last = 0u64;
    for event in events {
        let mut delta = event.frame.saturating_sub(last);
        // Deltas have 28 bits (93 minutes at 48 kHz): longer silences get a filler.
        while delta > max_delta {
            track.push(TrackEvent {
                delta: u28::new(max_delta as u32),
                kind: TrackEventKind::Meta(MetaMessage::Text(b"")),
            });
            delta -= max_delta;
        }
        track.push(TrackEvent {
            delta: u28::new(delta as u32),
            kind: to_midly(&event.message),
        });
        last = last.max(event.frame);
    }
    track.push(TrackEvent {
        delta: u28::new(0),
        kind: TrackEventKind::Meta(MetaMessage::EndOfTrack),
    });
    let smf = Smf {
        header: Header::new(Format::SingleTrack, Timing::Metrical(u15::new(ppq))),
        tracks: vec![track],
    };
    let (pending, mut file) = PendingFile::create(path).map_err(|e| failed(e.to_string()))?;
    let mut bytes = Vec::new();
    smf.write_std(&mut bytes)
        .map_err(|e| failed(e.to_string()))?;
    file.write_all(&bytes)
        .and_then(|()| file.sync_all())
        .map_err(|e| failed(e.to_string()))?;
    drop(file);
    pending.commit().map_err(|e| failed(e.to_string()))?;
    Ok(())
}

/// The frame (at `rate_hz`) of every note-on with velocity > 0, in order.
pub fn read_note_onsets(path: &Path, rate_hz: u32) -> Result<Vec<u64>, MidiError> {
    let failed = |reason: String| MidiError::Read {
        path: path.to_path_buf(),
        reason,
    };
    let bytes = crate::own_files::read_regular_limited(path, crate::own_files::SMALL_FILE_LIMIT)
        .map_err(|e| failed(e.to_string()))?;
    let smf = Smf::parse(&bytes).map_err(|e| failed(e.to_string()))?;
    let mut tempos: Vec<(u64, u32)> = Vec::new();
    let mut onsets: Vec<u64> = Vec::new();
    for track in &smf.tracks {
        let mut tick = 0u64;
        for event in track {
            tick += u64::from(event.delta.as_int());
            match event.kind {
                TrackEventKind::Meta(MetaMessage::Tempo(t)) => tempos.push((tick, t.as_int())),
                TrackEventKind::Midi {
                    message: MidiMessage::NoteOn { vel, .. },
                    ..
                } if vel.as_int() > 0 => onsets.push(tick),
                _ => {}
            }
        }
    }
    tempos.sort_by_key(|t| t.0);
    onsets.sort_unstable();
    let rate = f64::from(rate_hz);
    let seconds_at = |tick: u64| -> f64 {
        match smf.header.timing {
            Timing::Timecode(fps, sub) => {
                tick as f64 / (f64::from(fps.as_f32()) * f64::from(sub.max(1)))
            }
            Timing::Metrical(ppq) => {
                let ppq = f64::from(ppq.as_int().max(1));
                let (mut seconds, mut at, mut tempo) = (0.0, 0u64, 500_000u32);
                for &(change, micros) in tempos.iter().take_while(|t| t.0 < tick) {
                    seconds += (change - at) as f64 * f64::from(tempo) / 1e6 / ppq;
                    at = change;
                    tempo = micros;
                }
                seconds + (tick - at) as f64 * f64::from(tempo) / 1e6 / ppq
            }
        }
    };
    Ok(onsets
        .into_iter()
        .map(|t| (seconds_at(t) * rate).round() as u64)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_take_track_keeps_every_frame_exactly() {
        let dir = tempfile::tempdir().map_err(|e| e.to_string());
        let Ok(dir) = dir else { return };
        let path = dir.path().join("keys-1.mid");
        for rate in [44_100, 48_000, 96_000] {
            let events = [
                TimedMessage {
                    frame: 24_690,
                    message: ShortMessage::note_on(2, 60, 100),
                },
                TimedMessage {
                    frame: 24_691,
                    message: ShortMessage::note_off(2, 60),
                },
                TimedMessage {
                    frame: 400_000_001,
                    message: ShortMessage::note_on(2, 62, 1),
                },
            ];
            assert!(write_take_track(&path, "Ada", rate, &events).is_ok());
            let onsets = read_note_onsets(&path, rate).unwrap_or_default();
            assert_eq!(onsets, vec![24_690, 400_000_001], "at {rate} Hz");
        }
        // Read at another rate, times are kept (frames scale).
        let onsets = read_note_onsets(&path, 48_000).unwrap_or_default();
        assert_eq!(onsets.first(), Some(&12_345), "24690 frames at 96 kHz");
    }

    #[test]
    fn a_file_that_is_not_midi_is_named_in_the_error() {
        let Ok(dir) = tempfile::tempdir() else { return };
        let path = dir.path().join("broken.mid");
        assert!(std::fs::write(&path, b"MThd\0\0\0\x06garbage").is_ok());
        let error = read_note_onsets(&path, 48_000)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(error.contains("broken.mid"), "{error}");
    }
}
