//! Backends that drive the engine: the offline renderer, real devices through cpal
//! (ALSA, JACK) and the virtual loopback device, plus the latency model that lines
//! captured audio up with what was played.
//!
//! Owns the loops and callbacks that call `Engine::process` and `CaptureTap::capture`
//! and what surrounds them (clocks, buffers, device lifetimes).
//! Must not decide what is played: that is the engine's, from its score and commands.

pub mod aligner;
pub mod calibrate;
pub mod clock;
pub mod clock_follow;
pub mod cpal_backend;
pub mod decode;
pub mod device;
pub mod device_identity;
pub mod identify;
pub mod live;
pub mod offline;
pub mod playback;
pub mod settings;
pub mod stems;
pub mod virtual_device;
pub mod virtual_mics;
pub mod voice_note_file;
pub mod wav_info;

pub use wav_info::{WavLength, wav_length};
