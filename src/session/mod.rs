//! A take's life while it is recorded: the engine playing the part, the capture tap,
//! the recorder thread and the device, started together and stopped together, with
//! `take.json` written at the start and the end. The command line and the app both
//! drive a take through this module, so they record the same way.
//!
//! Owns the order of start and stop, fault and stall detection, and the final take
//! record. Must not pick devices or settings (callers open the device), print, or
//! touch the library.

mod midi;
mod take;

pub use midi::{MidiInputSpec, MidiTakeSetup};
pub use take::{FinishedTake, RunningTake, TakePoll, TakeSetup, TakeSetupError};
