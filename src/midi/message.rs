//! MIDI bytes as bandroom understands them: short channel messages, split from a byte
//! stream with running status.
//!
//! Owns parsing and classifying; knows nothing of ports, time or files. SysEx, system
//! common and real-time bytes are skipped and counted (a SysEx flood from a keyboard's
//! editor must not fill a take), and data bytes with no status to run on are dropped.
//! Must not allocate: the parser runs on the MIDI driver's thread.

/// A channel message: status (with channel) and up to two data bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ShortMessage {
    pub status: u8,
    pub data: [u8; 2],
}

/// What a message means to bandroom.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    NoteOn {
        note: u8,
        velocity: u8,
    },
    /// A note-off, or a note-on with velocity 0 (the same thing in MIDI).
    NoteOff {
        note: u8,
    },
    Control {
        controller: u8,
        value: u8,
    },
    Program {
        program: u8,
    },
    /// Aftertouch and pitch bend: recorded, not interpreted.
    Other,
}

impl ShortMessage {
    pub fn note_on(channel: u8, note: u8, velocity: u8) -> Self {
        Self::new(0x90 | (channel & 0x0F), note, velocity)
    }

    pub fn note_off(channel: u8, note: u8) -> Self {
        Self::new(0x80 | (channel & 0x0F), note, 0)
    }

    pub fn control(channel: u8, controller: u8, value: u8) -> Self {
        Self::new(0xB0 | (channel & 0x0F), controller, value)
    }

    pub fn program(channel: u8, program: u8) -> Self {
        Self::new(0xC0 | (channel & 0x0F), program, 0)
    }

    fn new(status: u8, a: u8, b: u8) -> Self {
        Self {
            status,
            data: [a & 0x7F, b & 0x7F],
        }
    }

    /// 0-based channel.
    pub fn channel(&self) -> u8 {
        self.status & 0x0F
    }

    /// The bytes on the wire (two for program change and channel pressure).
    pub fn bytes(&self) -> ([u8; 3], usize) {
        let len = 1 + data_len(self.status);
        ([self.status, self.data[0], self.data[1]], len)
    }

    pub fn kind(&self) -> Kind {
        let [a, b] = self.data;
        match self.status & 0xF0 {
            0x90 if b > 0 => Kind::NoteOn {
                note: a,
                velocity: b,
            },
            0x80 | 0x90 => Kind::NoteOff { note: a },
            0xB0 => Kind::Control {
                controller: a,
                value: b,
            },
            0xC0 => Kind::Program { program: a },
            _ => Kind::Other,
        }
    }
}

/// Data bytes after a channel status byte.
fn data_len(status: u8) -> usize {
    match status & 0xF0 {
        0xC0 | 0xD0 => 1,
        _ => 2,
    }
}

/// Splits a byte stream into channel messages. One parser per input port.
#[derive(Debug, Default)]
pub struct Parser {
    running: Option<u8>,
    in_sysex: bool,
    pending: [u8; 2],
    have: usize,
}

impl Parser {
    /// Feeds bytes; calls `out` for every complete channel message and returns how many
    /// bytes or messages were skipped (SysEx, system, stray data).
    pub fn feed(&mut self, bytes: &[u8], mut out: impl FnMut(ShortMessage)) -> u32 {
        let mut skipped = 0;
        for &byte in bytes {
            if byte >= 0xF8 {
                // Real-time (clock, active sensing) may sit anywhere, even inside SysEx.
                skipped += 1;
                continue;
            }
            if self.in_sysex {
                if byte == 0xF7 {
                    self.in_sysex = false;
                } else if byte >= 0x80 {
                    // A status byte ends an unterminated SysEx.
                    self.in_sysex = false;
                    self.status_byte(byte, &mut skipped);
                }
                continue;
            }
            if byte >= 0x80 {
                self.status_byte(byte, &mut skipped);
                continue;
            }
            let Some(status) = self.running else {
                skipped += 1;
                continue;
            };
            self.pending[self.have] = byte;
            self.have += 1;
            if self.have == data_len(status) {
                out(ShortMessage::new(status, self.pending[0], self.pending[1]));
                self.have = 0;
            }
        }
        skipped
    }

    fn status_byte(&mut self, byte: u8, skipped: &mut u32) {
        self.have = 0;
        self.pending = [0, 0];
        if byte < 0xF0 {
            self.running = Some(byte);
            return;
        }
        // System common cancels running status.
        self.running = None;
        *skipped += 1;
        if byte == 0xF0 {
            self.in_sysex = true;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(bytes: &[u8]) -> (Vec<ShortMessage>, u32) {
        let mut parser = Parser::default();
        let mut out = Vec::new();
        let skipped = parser.feed(bytes, |m| out.push(m));
        (out, skipped)
    }

    #[test]
    fn running_status_repeats_the_last_status() {
        let (messages, skipped) = parse(&[0x91, 60, 100, 62, 90, 60, 0]);
        assert_eq!(skipped, 0);
        assert_eq!(
            messages.iter().map(|m| m.kind()).collect::<Vec<_>>(),
            vec![
                Kind::NoteOn {
                    note: 60,
                    velocity: 100
                },
                Kind::NoteOn {
                    note: 62,
                    velocity: 90
                },
                Kind::NoteOff { note: 60 },
            ]
        );
        assert!(messages.iter().all(|m| m.channel() == 1));
    }

    #[test]
    fn sysex_and_realtime_are_skipped_without_losing_notes() {
        let mut flood = vec![0xF0];
        flood.extend(std::iter::repeat_n(0x11, 10_000));
        flood.extend([0xF8, 0xF7, 0x90, 64, 1, 0xFE, 0xC2, 5]);
        let (messages, skipped) = parse(&flood);
        assert_eq!(skipped, 3, "sysex start, clock and active sensing");
        assert_eq!(messages.len(), 2);
        assert_eq!(
            messages[1].kind(),
            Kind::Program { program: 5 },
            "one data byte"
        );
        assert_eq!(messages[1].bytes().1, 2);
    }

    #[test]
    fn stray_data_and_cut_off_sysex_are_handled() {
        let (messages, skipped) = parse(&[60, 100, 0xF0, 1, 2, 0xB0, 64, 127]);
        assert_eq!(skipped, 3);
        assert_eq!(
            messages,
            vec![ShortMessage::control(0, 64, 127)],
            "a status byte ends the SysEx"
        );
    }
}
