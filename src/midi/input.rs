//! Open MIDI input ports, every message stamped with the moment it arrived.
//!
//! Owns the connections. The callback runs on the MIDI driver's thread (JACK's process
//! thread with the JACK backend), so it only reads the clock, parses into fixed-size
//! messages and `try_send`s them; a full queue counts a drop instead of waiting. Must
//! not map times to frames or write files (the recorder thread does).

use super::message::{Parser, ShortMessage};
use super::ports::{CLIENT, find_port};
use super::{MidiError, PortList};
use crossbeam_channel::{Receiver, Sender};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

/// Messages that may wait for the recorder: minutes of a whole class playing at once.
const QUEUE: usize = 65_536;

/// One message from one port, stamped on arrival.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Arrival {
    /// Index into `MidiInputs::names`.
    pub port: usize,
    pub at: Instant,
    pub message: ShortMessage,
}

pub struct MidiInputs {
    connections: Vec<midir::MidiInputConnection<()>>,
    /// The full names of the opened ports, in the order asked for.
    pub names: Vec<String>,
    receiver: Receiver<Arrival>,
    dropped: Arc<AtomicU64>,
    skipped: Arc<AtomicU64>,
    /// A client that only lists ports, to notice one disappearing.
    watcher: Option<midir::MidiInput>,
}

impl MidiInputs {
    /// Connects to each port `wanted` names (see `find_port`).
    pub fn open(wanted: &[String]) -> Result<MidiInputs, MidiError> {
        super::ports::quiet_jack();
        let (sender, receiver) = crossbeam_channel::bounded(QUEUE);
        let dropped = Arc::new(AtomicU64::new(0));
        let skipped = Arc::new(AtomicU64::new(0));
        let mut connections = Vec::new();
        let mut names = Vec::new();
        for (index, wanted) in wanted.iter().enumerate() {
            let mut input = midir::MidiInput::new(&format!("{CLIENT}-in-{}", index + 1))
                .map_err(|e| MidiError::NoServer(e.to_string()))?;
            input.ignore(midir::Ignore::All);
            let ports = input.ports();
            let listed: Vec<String> = ports
                .iter()
                .map(|p| input.port_name(p).unwrap_or_default())
                .collect();
            let name = find_port(&listed, wanted, "input")?.clone();
            let Some(port) = ports.iter().zip(&listed).find(|(_, n)| **n == name) else {
                continue;
            };
            let port = port.0.clone();
            let callback = stamper(index, sender.clone(), &dropped, &skipped);
            let connection = input
                .connect(&port, &format!("keys-{}", index + 1), callback, ())
                .map_err(|e| MidiError::Connect {
                    port: name.clone(),
                    reason: e.to_string(),
                })?;
            connections.push(connection);
            names.push(name);
        }
        let watcher = midir::MidiInput::new(&format!("{CLIENT}-watch")).ok();
        Ok(MidiInputs {
            connections,
            names,
            receiver,
            dropped,
            skipped,
            watcher,
        })
    }

    pub fn receiver(&self) -> &Receiver<Arrival> {
        &self.receiver
    }

    /// Messages lost because the recorder fell behind.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// SysEx, clock and other system bytes left out of the take.
    pub fn skipped(&self) -> u64 {
        self.skipped.load(Ordering::Relaxed)
    }

    /// Indexes of opened ports that are no longer listed (unplugged).
    pub fn missing(&self) -> Vec<usize> {
        let Some(watcher) = &self.watcher else {
            return Vec::new();
        };
        let now: Vec<String> = watcher
            .ports()
            .iter()
            .filter_map(|p| watcher.port_name(p).ok())
            .collect();
        missing_from(
            &self.names,
            &PortList {
                inputs: now,
                outputs: Vec::new(),
            },
        )
    }

    /// Disconnects every port.
    pub fn close(self) {
        for connection in self.connections {
            connection.close();
        }
    }
}

fn missing_from(names: &[String], now: &PortList) -> Vec<usize> {
    names
        .iter()
        .enumerate()
        .filter(|(_, n)| !now.inputs.contains(n))
        .map(|(i, _)| i)
        .collect()
}

/// The callback for one port. Runs on the MIDI driver's thread: clock read, parse,
/// non-blocking send, atomic counters; nothing else.
fn stamper(
    port: usize,
    sender: Sender<Arrival>,
    dropped: &Arc<AtomicU64>,
    skipped: &Arc<AtomicU64>,
) -> impl FnMut(u64, &[u8], &mut ()) + Send + 'static {
    let dropped = Arc::clone(dropped);
    let skipped = Arc::clone(skipped);
    let mut parser = Parser::default();
    move |_, bytes, _| {
        let at = Instant::now();
        let ignored = parser.feed(bytes, |message| {
            if sender.try_send(Arrival { port, at, message }).is_err() {
                dropped.fetch_add(1, Ordering::Relaxed);
            }
        });
        if ignored > 0 {
            skipped.fetch_add(u64::from(ignored), Ordering::Relaxed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_queue_counts_drops_instead_of_waiting() {
        let (sender, receiver) = crossbeam_channel::bounded(2);
        let dropped = Arc::new(AtomicU64::new(0));
        let skipped = Arc::new(AtomicU64::new(0));
        let mut callback = stamper(3, sender, &dropped, &skipped);
        callback(0, &[0x90, 60, 100, 62, 100, 64, 100, 0xF8], &mut ());
        assert_eq!(receiver.len(), 2);
        assert_eq!(dropped.load(Ordering::Relaxed), 1);
        assert_eq!(skipped.load(Ordering::Relaxed), 1);
        assert_eq!(receiver.try_recv().map(|a| a.port).ok(), Some(3));
    }

    #[test]
    fn unplugged_ports_are_the_ones_no_longer_listed() {
        let names = vec!["a".to_string(), "b".to_string()];
        let now = PortList {
            inputs: vec!["b".into(), "c".into()],
            outputs: Vec::new(),
        };
        assert_eq!(missing_from(&names, &now), vec![0]);
    }
}
