//! A take from plan to library, the same for the command line and the app: `plan`
//! resolves what to play (arrangement, practice version, score, stems), the device
//! (with the virtual fallback) and the calibration once; `take` runs the engine, the
//! capture tap, the recorder thread and the device together, with `take.json` written
//! at the start and the end; `filing` registers the finished take in the library,
//! attributes its tracks with part, tier and instrument and stores its markers.
//!
//! Owns the order of plan, start, stop and filing, fault and stall detection, and the
//! final take record. Must not print, draw, or analyse timing (the front ends run
//! `jobs` on what `filing` hands back).

mod extra_devices;
mod filing;
mod inputs;
mod midi;
mod plan;
mod played;
mod stems;
mod take;

pub use crate::engine::cues::Cue;
pub use extra_devices::{DeviceClock, ExtraDeviceSetup};
pub use filing::{FiledTake, Filing, FilingError, Marker, Players, Seat, new_take_from_record};
pub use inputs::{DeviceInputs, InputList, parse_inputs};
pub use midi::{MidiInputSpec, MidiTakeSetup};
pub use plan::{
    DeviceChoice, MAX_COUNT_IN_BARS, MAX_PASSES, MAX_REPEATS, PlanError, PlayRequest, Practice,
    PreparedMusic, Setting, TakePlan, TakeStart, check_inputs, open_device, prepare_music,
};
pub use played::PlayedMusic;
pub use stems::attach_stems;
pub use take::{FinishedTake, RunningTake, StoppedTake, TakePoll, TakeSetup, TakeSetupError};

#[cfg(test)]
mod tests {
    /// The lesson screen closes a take's files on a worker thread, so the UI never
    /// waits on the disk: that needs a stopped take to be `Send`.
    #[test]
    fn a_stopped_take_can_be_closed_on_another_thread() {
        fn is_send<T: Send>() {}
        is_send::<super::StoppedTake>();
        is_send::<super::FinishedTake>();
    }
}
