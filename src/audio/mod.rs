//! Backends that drive the engine: here the offline renderer; device backends
//! (cpal, virtual loopback) join it behind the same shape.
//!
//! Owns the loop that calls `Engine::process` and what surrounds it (clocks, buffers).
//! Must not decide what is played: that is the engine's, from its score and commands.

pub mod offline;
