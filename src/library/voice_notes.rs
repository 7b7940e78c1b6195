//! Teacher voice notes on a take and who may hear them.
//!
//! A note is the teacher's alone unless the teacher says otherwise: for the take's
//! players (feedback to the group) or for one pupil (it goes when that pupil is erased).
//! Pupil review asks [`Library::voice_notes_for_pupil`], which never returns a note for
//! the teacher alone or one meant for a classmate. Must not record audio (the app and
//! the CLI hand over a finished WAV).

use super::Library;
use super::error::{LibraryError, Result};
use super::takes::sha256_file;
use rusqlite::params;
use std::path::Path;

/// Who a voice note is for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub enum NoteAudience {
    /// The teacher's own comment: never played in pupil review.
    #[default]
    Teacher,
    /// Every pupil who played in the take.
    Players,
    /// One pupil, by id.
    Pupil(i64),
}

impl NoteAudience {
    /// Words for a button or a list: "you only", "the players", "one pupil".
    pub fn describe(self) -> &'static str {
        match self {
            NoteAudience::Teacher => "the teacher only",
            NoteAudience::Players => "everyone who played",
            NoteAudience::Pupil(_) => "one pupil",
        }
    }
}

/// A spoken comment kept with a take.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct VoiceNote {
    pub id: i64,
    /// The frame of the take it is pinned to (`None`: the take as a whole).
    pub frame: Option<u64>,
    /// Relative to the take's folder.
    pub file: String,
    pub author: String,
    pub created_at: String,
    pub audience: NoteAudience,
}

const COLUMNS: &str = "v.id, v.frame, v.file, v.author, v.created_at, v.for_players, v.for_pupil";

fn note_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<VoiceNote> {
    let audience = match (r.get::<_, bool>(5)?, r.get::<_, Option<i64>>(6)?) {
        (_, Some(pupil)) => NoteAudience::Pupil(pupil),
        (true, None) => NoteAudience::Players,
        (false, None) => NoteAudience::Teacher,
    };
    Ok(VoiceNote {
        id: r.get(0)?,
        frame: r.get::<_, Option<i64>>(1)?.map(|f| f.max(0) as u64),
        file: r.get(2)?,
        author: r.get(3)?,
        created_at: r.get(4)?,
        audience,
    })
}

impl Library {
    /// Every voice note of a take (the teacher's view), in the order of the moments
    /// they are pinned to.
    pub fn voice_notes(&self, take: i64) -> Result<Vec<VoiceNote>> {
        let mut statement = self.conn.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM voice_note v WHERE v.take_id = ?1
             ORDER BY coalesce(v.frame, 0), v.id"
        ))?;
        let notes = statement
            .query_map([take], note_from_row)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(notes)
    }

    /// The voice notes of a take that `pupil` may hear: those for the players, when the
    /// pupil played in the take, and those for the pupil themself. Never a note for the
    /// teacher alone or for a classmate.
    pub fn voice_notes_for_pupil(&self, take: i64, pupil: i64) -> Result<Vec<VoiceNote>> {
        let mut statement = self.conn.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM voice_note v WHERE v.take_id = ?1
               AND (v.for_pupil = ?2
                    OR (v.for_pupil IS NULL AND v.for_players = 1 AND EXISTS (
                        SELECT 1 FROM track t JOIN performer p ON p.track_id = t.id
                        WHERE t.take_id = v.take_id AND p.pupil_id = ?2)))
             ORDER BY coalesce(v.frame, 0), v.id"
        ))?;
        let notes = statement
            .query_map(params![take, pupil], note_from_row)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(notes)
    }

    /// Copies a short spoken comment into the take's folder and pins it to `frame`.
    /// A note for one pupil needs that pupil to have played in the take.
    pub fn add_voice_note(
        &mut self,
        take: i64,
        frame: Option<u64>,
        recording: &Path,
        author: &str,
        audience: NoteAudience,
    ) -> Result<i64> {
        let summary = self.take(take)?;
        if let NoteAudience::Pupil(pupil) = audience
            && !summary
                .tracks
                .iter()
                .any(|t| t.performers.iter().any(|p| p.pupil_id == pupil))
        {
            return Err(LibraryError::Invalid(format!(
                "pupil #{pupil} did not play in take {take}: a note for one pupil is for \
                 one of its players"
            )));
        }
        let folder = self.take_folder(&summary);
        let notes = folder.join("voice-notes");
        crate::own_files::create_private_dir_all(&notes)
            .map_err(|e| LibraryError::unwritable(&notes, &e))?;
        let count = std::fs::read_dir(&notes).map_or(0, |d| d.count());
        let name = format!("voice-notes/note-{:03}.wav", count + 1);
        let destination = folder.join(&name);
        crate::own_files::open_regular(recording).map_err(|e| LibraryError::file(recording, e))?;
        std::fs::copy(recording, &destination).map_err(|e| LibraryError::file(recording, e))?;
        // A copy keeps the source's mode: the library's copy is private like the rest.
        crate::own_files::make_private(&destination)
            .map_err(|e| LibraryError::unwritable(&destination, &e))?;
        let hash = sha256_file(&destination)?;
        let (for_players, for_pupil) = match audience {
            NoteAudience::Teacher => (false, None),
            NoteAudience::Players => (true, None),
            NoteAudience::Pupil(pupil) => (false, Some(pupil)),
        };
        let tx = self.write()?;
        tx.execute(
            "INSERT INTO voice_note (take_id, frame, file, sha256, author, created_at,
                                     for_players, for_pupil)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                take,
                frame.map(|f| f as i64),
                name,
                hash,
                author,
                super::now(),
                for_players,
                for_pupil
            ],
        )?;
        let id = tx.last_insert_rowid();
        tx.commit()?;
        Ok(id)
    }
}
