//! Stopping a take, a rehearsal or a voice note without the UI waiting: the engine is
//! asked to stop and polled once per frame until it has (or for at most two seconds),
//! then the device is stopped here, on the thread that owns it, and the files are
//! closed and filed on a worker thread while the screen says "Finishing the take…".
//!
//! Must not sleep or block on the UI thread, and must not decide what filing means:
//! the caller hands in what to do with the finished take.

use crate::session::{FiledTake, FinishedTake, RunningTake, StoppedTake, TakePoll};
use crossbeam_channel::Receiver;
use std::time::{Duration, Instant};

/// How long the engine may take to end a take once asked.
const DRAIN_LIMIT: Duration = Duration::from_secs(2);

/// What is done with a take once its files are closed (runs on the worker thread).
pub type Then = Box<dyn FnOnce(FinishedTake) -> Result<Done, String> + Send>;

/// What finishing came to.
#[derive(Debug)]
pub enum Done {
    Take(FiledTake),
    /// A voice note, kept with its take.
    VoiceNote,
    /// A rehearsal: the recording was thrown away.
    Discarded,
}

enum Stage {
    /// Asked to stop; the engine has not ended the take yet.
    Draining {
        take: Box<RunningTake>,
        deadline: Instant,
        then: Then,
        wake: Box<dyn FnOnce() + Send>,
    },
    /// The device is stopped; a worker closes and files.
    Closing(Receiver<Result<Done, String>>),
    Over,
}

pub struct Finishing {
    /// "the take", "the rehearsal", "the voice note": for the screen.
    pub what: &'static str,
    stage: Stage,
}

impl Finishing {
    /// Asks `take` to stop; `wake` asks for a redraw once the worker is done.
    pub fn start(
        what: &'static str,
        mut take: RunningTake,
        then: Then,
        wake: Box<dyn FnOnce() + Send>,
    ) -> Finishing {
        take.request_stop();
        let mut finishing = Finishing {
            what,
            stage: Stage::Draining {
                take: Box::new(take),
                deadline: Instant::now() + DRAIN_LIMIT,
                then,
                wake,
            },
        };
        // A take that ended by itself lets go of the device at once, so the next pass
        // of "again" can open it in the same frame.
        finishing.advance();
        finishing
    }

    /// Whether it still waits on the engine (which does not wake the window).
    pub fn draining(&self) -> bool {
        matches!(self.stage, Stage::Draining { .. })
    }

    /// Stops the device now, without waiting for the engine to end the take: for a
    /// new take that needs the device this frame.
    pub fn free_device_now(&mut self) {
        if let Stage::Draining { deadline, .. } = &mut self.stage {
            *deadline = Instant::now();
        }
        self.advance();
    }

    /// Called every frame: moves on and returns the outcome once it is known.
    pub fn poll(&mut self) -> Option<Result<Done, String>> {
        self.advance();
        match &self.stage {
            Stage::Closing(results) => {
                let outcome = results.try_recv().ok()?;
                self.stage = Stage::Over;
                Some(outcome)
            }
            _ => None,
        }
    }

    fn advance(&mut self) {
        let ready = match &mut self.stage {
            Stage::Draining { take, deadline, .. } => {
                !matches!(take.poll(), TakePoll::Recording { .. }) || Instant::now() >= *deadline
            }
            _ => false,
        };
        if !ready {
            return;
        }
        if let Stage::Draining {
            take, then, wake, ..
        } = std::mem::replace(&mut self.stage, Stage::Over)
        {
            self.stage = Stage::Closing(close_elsewhere(take.stop_device(), then, wake));
        }
    }
}

/// Closes and files on a named worker thread; if no thread can be started, here.
fn close_elsewhere(
    stopped: StoppedTake,
    then: Then,
    wake: Box<dyn FnOnce() + Send>,
) -> Receiver<Result<Done, String>> {
    let (send, receive) = crossbeam_channel::bounded(1);
    let job = move || {
        let outcome = then(stopped.close());
        // The receiver may be gone if the app closed meanwhile; the take is filed anyway.
        let _ = send.send(outcome);
        wake();
    };
    let slot = std::sync::Arc::new(std::sync::Mutex::new(Some(job)));
    let worker_slot = std::sync::Arc::clone(&slot);
    let spawned = std::thread::Builder::new()
        .name("bandroom-finish-take".into())
        .spawn(move || {
            let job = worker_slot.lock().ok().and_then(|mut j| j.take());
            if let Some(job) = job {
                job();
            }
        });
    if spawned.is_err() {
        let job = slot.lock().ok().and_then(|mut j| j.take());
        if let Some(job) = job {
            job();
        }
    }
    receive
}
