//! Why a piece of music, or a value in one, is refused: the kind of thing that was
//! wrong (a meter, a tempo, a pitch…) and the sentence for the teacher, which says what
//! to write instead.
//!
//! Must not know where the value came from: the TOML reader adds the file and line,
//! the command line the flag.

/// A refused musical value or arrangement.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum MusicError {
    #[error("{0}")]
    Meter(String),
    #[error("{0}")]
    Tempo(String),
    #[error("{0}")]
    NoteValue(String),
    #[error("{0}")]
    Pitch(String),
    #[error("{0}")]
    Rhythm(String),
    #[error("{0}")]
    Sound(String),
    /// A section asked for by name that the piece does not have.
    #[error("{0}")]
    Section(String),
    /// A practice version that cannot be made of this piece (bars, ramp, mute, tier).
    #[error("{0}")]
    Practice(String),
    /// An arrangement whose parts and sections do not fit together.
    #[error("{0}")]
    Invalid(String),
    /// A piece that would play for longer than bandroom allows.
    #[error("{0}")]
    TooLong(String),
}

/// The sentence alone, for messages that add their own place (file and line, flag).
impl From<MusicError> for String {
    fn from(e: MusicError) -> String {
        e.to_string()
    }
}
