//! A live session's two callbacks: the engine on the output stream, the capture tap
//! on the input stream, tied together by the clock anchor.
//!
//! Owns the glue that makes a device run bandroom: the output callback renders the
//! engine and publishes where the device is; the input callback asks the clock which
//! engine frame each block was played against and hands the block to the tap.
//! Real-time: both closures run inside device callbacks and only call real-time code.

use super::clock::{ClockAnchor, InputClock, OutputClock};
use super::device::{InputCallback, OutputCallback};
use crate::engine::{CaptureTap, Engine};
use std::sync::Arc;

/// The output callback: renders the engine into the device's buffer.
pub fn engine_output(mut engine: Engine, anchor: &Arc<ClockAnchor>) -> OutputCallback {
    let mut clock = OutputClock::new(anchor);
    let channels = engine.config().output_channels;
    Box::new(move |buffer, stamp| {
        let frame = engine.output_frame();
        engine.process(buffer);
        clock.on_block(frame, buffer.len() / channels, stamp);
    })
}

/// The input callback: places each block on the engine's timeline and captures it.
pub fn capture_input(
    mut tap: CaptureTap,
    anchor: &Arc<ClockAnchor>,
    correction_frames: i64,
    device_channels: usize,
) -> InputCallback {
    let mut clock = InputClock::new(anchor, correction_frames);
    let channels = device_channels.max(1);
    Box::new(move |buffer, stamp| {
        let frames = buffer.len() / channels;
        if let Some(frame) = clock.timeline_frame(stamp, frames) {
            tap.capture(buffer, frame);
        }
    })
}
