//! The MIDI ports there are, looked up on a thread of their own when the teacher asks
//! (opening a MIDI client can take a moment, and must never stall the window): the
//! keyboards that can sit on the room plan, the instruments parts can be sent to.
//!
//! Owns the lookup and its last answer. Must not open ports for recording or playing.

use crate::jobs::Background;
use crate::midi::{PortList, list_ports};

#[derive(Default)]
pub struct PortFinder {
    job: Option<Background<Result<PortList, String>>>,
    found: Option<Result<PortList, String>>,
}

impl PortFinder {
    /// Starts looking (again); `done` wakes the window when the answer is in.
    pub fn ask(&mut self, done: Box<dyn FnOnce() + Send>) {
        self.job = Some(Background::start(
            "listing MIDI ports",
            || list_ports().map_err(|e| e.to_string()),
            done,
        ));
    }

    pub fn looking(&self) -> bool {
        self.job.is_some()
    }

    /// The last answer: the ports, or why there are none.
    pub fn found(&mut self) -> Option<&Result<PortList, String>> {
        if let Some(job) = &mut self.job
            && let Some(answer) = job.poll()
        {
            self.job = None;
            self.found = Some(answer.and_then(|r| r));
        }
        self.found.as_ref()
    }
}
