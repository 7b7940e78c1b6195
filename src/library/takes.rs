//! Lessons, takes, tracks and who played on them.
//!
//! Owns registering a finished take: its files are hashed where they were recorded
//! (`takes/.incoming/…`), then the take and its tracks are inserted and the folder
//! moved into `takes/DATE/…` inside one transaction, so the library never lists a take
//! whose files are not complete, and never holds complete files it does not list
//! (a crash in between leaves an unfinished folder that `check` finds).
//! Must not record audio or read take.json; the caller passes plain values.

use super::error::{LibraryError, Result};
use super::policy::Purpose;
use super::{INCOMING_DIR, Library, TAKES_DIR, audit};
use rusqlite::{Connection, OptionalExtension, params};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};

#[derive(Clone, Debug, PartialEq)]
pub struct NewTrack {
    pub number: i64,
    /// The file's name inside the take folder.
    pub file: String,
    pub input_channel: Option<i64>,
    /// The further device the input is on (`None`: the take's main input device).
    pub input_device: Option<String>,
    pub midi_port: Option<String>,
    pub frames: u64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct NewTake {
    pub recorded_at: String,
    pub arrangement: Option<String>,
    pub tempo_bpm: Option<f64>,
    /// Passes through each section, when the take changed them from the written ones.
    pub repeats: Option<u32>,
    pub count_in_bars: u32,
    /// The one section played, if not the whole piece.
    pub section: Option<String>,
    pub host: String,
    pub input_device: String,
    pub output_device: String,
    pub sample_rate_hz: u32,
    pub latency_applied_frames: i64,
    pub frames: u64,
    pub duration_secs: f64,
    pub xruns: u64,
    pub gaps: u64,
    pub complete: bool,
    pub purpose: Purpose,
    /// The frame the music ends on, when a piece played (see `TakeSummary::stopped_early`).
    pub music_frames: Option<u64>,
    /// Which pass of an "again" run the take is.
    pub pass: Option<u32>,
    pub tracks: Vec<NewTrack>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct TakeFilter {
    pub class: Option<i64>,
    pub pupil: Option<i64>,
    pub lesson: Option<i64>,
    pub take: Option<i64>,
}

#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct PerformerSummary {
    pub pupil_id: i64,
    pub name: String,
    pub part: Option<String>,
    pub tier: Option<String>,
    pub instrument: Option<String>,
}

#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct TrackSummary {
    pub id: i64,
    pub number: i64,
    pub file: String,
    pub input_channel: Option<i64>,
    /// The further device the input is on (`None`: the take's main input device).
    pub input_device: Option<String>,
    pub midi_port: Option<String>,
    pub frames: u64,
    pub sha256: String,
    pub performers: Vec<PerformerSummary>,
}

#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct TakeSummary {
    pub id: i64,
    pub lesson_id: i64,
    pub lesson: String,
    pub class: Option<String>,
    pub recorded_at: String,
    pub arrangement: Option<String>,
    pub tempo_bpm: Option<f64>,
    pub repeats: Option<u32>,
    pub count_in_bars: u32,
    /// The one section played, if not the whole piece.
    pub section: Option<String>,
    pub sample_rate_hz: u32,
    pub duration_secs: f64,
    pub xruns: u64,
    pub gaps: u64,
    pub complete: bool,
    pub starred: bool,
    /// The take ended before its music did (stopped by the teacher).
    pub stopped_early: bool,
    /// Which pass of an "again" run the take is.
    pub pass: Option<u32>,
    pub purpose: String,
    pub retain_until: Option<String>,
    /// The take's folder, relative to the library.
    pub folder: String,
    pub tracks: Vec<TrackSummary>,
}

/// SHA-256 (as hex) and length of everything `reader` yields, read in blocks (track
/// files can be hundreds of megabytes).
pub fn sha256_reader(mut reader: impl Read) -> std::io::Result<(String, u64)> {
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1 << 16];
    let mut length = 0u64;
    loop {
        let n = reader.read(&mut buffer)?;
        if n == 0 {
            break;
        }
        hasher.update(&buffer[..n]);
        length += n as u64;
    }
    let hex = hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    Ok((hex, length))
}

/// SHA-256 of a file, as hex.
pub fn sha256_file(path: &Path) -> Result<String> {
    let file = std::fs::File::open(path).map_err(|e| LibraryError::file(path, e))?;
    sha256_reader(file)
        .map(|(hex, _)| hex)
        .map_err(|e| LibraryError::file(path, e))
}

fn unique_suffix() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!(
        "{:04x}",
        (nanos ^ std::process::id().rotate_left(16)) & 0xffff
    )
}

/// The takes a filter selects, as SQL over `take t JOIN lesson l`, with its parameters.
/// Only the conditions given are written, so SQLite can use the matching index.
fn selection(filter: &TakeFilter) -> (String, Vec<i64>) {
    let mut conditions = Vec::new();
    let mut values = Vec::new();
    if let Some(class) = filter.class {
        values.push(class);
        conditions.push(format!("l.class_id = ?{}", values.len()));
    }
    if let Some(pupil) = filter.pupil {
        values.push(pupil);
        conditions.push(format!(
            "t.id IN (SELECT tr.take_id FROM performer f JOIN track tr ON tr.id = f.track_id
                      WHERE f.pupil_id = ?{})",
            values.len()
        ));
    }
    if let Some(lesson) = filter.lesson {
        values.push(lesson);
        conditions.push(format!("t.lesson_id = ?{}", values.len()));
    }
    if let Some(take) = filter.take {
        values.push(take);
        conditions.push(format!("t.id = ?{}", values.len()));
    }
    let condition = if conditions.is_empty() {
        "1".to_string()
    } else {
        conditions.join(" AND ")
    };
    (
        format!("SELECT t.id FROM take t JOIN lesson l ON l.id = t.lesson_id WHERE {condition}"),
        values,
    )
}

/// Fills in every selected take's tracks and performers with two queries in all.
fn load_tracks(
    conn: &Connection,
    takes: &mut [TakeSummary],
    chosen: &str,
    values: &[i64],
) -> Result<()> {
    let position: HashMap<i64, usize> = takes.iter().enumerate().map(|(i, t)| (t.id, i)).collect();
    let mut track_at: HashMap<i64, (usize, usize)> = HashMap::new();
    let mut statement = conn.prepare_cached(&format!(
        "SELECT take_id, id, number, file, input_channel, midi_port, frames, sha256, input_device FROM track
         WHERE take_id IN ({chosen}) ORDER BY take_id, number"
    ))?;
    let mut rows = statement.query(rusqlite::params_from_iter(values))?;
    while let Some(r) = rows.next()? {
        let Some(&take) = position.get(&r.get::<_, i64>(0)?) else {
            continue;
        };
        let track = TrackSummary {
            id: r.get(1)?,
            number: r.get(2)?,
            file: r.get(3)?,
            input_channel: r.get(4)?,
            midi_port: r.get(5)?,
            frames: r.get::<_, i64>(6)? as u64,
            sha256: r.get(7)?,
            input_device: r.get(8)?,
            performers: Vec::new(),
        };
        track_at.insert(track.id, (take, takes[take].tracks.len()));
        takes[take].tracks.push(track);
    }
    let mut statement = conn.prepare_cached(&format!(
        "SELECT f.track_id, p.id, p.display_name, f.part, f.tier, f.instrument
         FROM performer f JOIN pupil p ON p.id = f.pupil_id
         WHERE f.track_id IN (SELECT id FROM track WHERE take_id IN ({chosen}))
         ORDER BY p.display_name COLLATE NOCASE, p.id"
    ))?;
    let mut rows = statement.query(rusqlite::params_from_iter(values))?;
    while let Some(r) = rows.next()? {
        if let Some(&(take, track)) = track_at.get(&r.get::<_, i64>(0)?) {
            takes[take].tracks[track].performers.push(PerformerSummary {
                pupil_id: r.get(1)?,
                name: r.get(2)?,
                part: r.get(3)?,
                tier: r.get(4)?,
                instrument: r.get(5)?,
            });
        }
    }
    Ok(())
}

impl Library {
    /// The lesson a take made now belongs to: today's lesson of `class` (or today's
    /// quick takes without a class), started if there is none yet.
    pub fn lesson_for_today(&mut self, class: Option<i64>) -> Result<i64> {
        let today = super::clock::today();
        let tx = self.write()?;
        let found: Option<i64> = tx
            .query_row(
                "SELECT id FROM lesson WHERE class_id IS ?1 AND date(started_at) = ?2
                 ORDER BY started_at DESC LIMIT 1",
                params![class, today],
                |r| r.get(0),
            )
            .optional()?;
        let id = match found {
            Some(id) => id,
            None => {
                let title = match class {
                    Some(_) => format!("Lesson {today}"),
                    None => format!("Quick takes {today}"),
                };
                tx.execute(
                    "INSERT INTO lesson (class_id, title, started_at) VALUES (?1, ?2, ?3)",
                    params![class, title, super::now()],
                )?;
                tx.last_insert_rowid()
            }
        };
        tx.commit()?;
        Ok(id)
    }

    pub fn lesson_exists(&self, lesson: i64) -> Result<bool> {
        Ok(self.conn.query_row(
            "SELECT EXISTS (SELECT 1 FROM lesson WHERE id = ?1)",
            [lesson],
            |r| r.get(0),
        )?)
    }

    /// A new, empty folder for a take being recorded.
    pub fn staging_folder(&self) -> Result<PathBuf> {
        let stamp = super::now().replace([':', '-'], "");
        let dir = self
            .root
            .join(INCOMING_DIR)
            .join(format!("{stamp}-{}", unique_suffix()));
        crate::own_files::create_private_dir_all(&dir)
            .map_err(|e| LibraryError::unwritable(&dir, &e))?;
        Ok(dir)
    }

    /// Registers a recorded take whose files are in `staged`, moving them into
    /// `takes/`. Returns the take's id and its new folder.
    pub fn register_take(
        &mut self,
        lesson: i64,
        staged: &Path,
        take: &NewTake,
    ) -> Result<(i64, PathBuf)> {
        // A take.json is a file anyone can edit: a track must be a plain file name inside
        // the take folder, or the library would read, hash, export and back up a file
        // elsewhere on the disk.
        if let Some(bad) = take
            .tracks
            .iter()
            .find(|t| !crate::own_files::is_plain_file_name(&t.file))
        {
            return Err(LibraryError::Invalid(format!(
                "{}: the take names a track file {:?} that is not a plain file name inside                  its folder; the take was not registered",
                staged.display(),
                crate::plain_text::escape_for_terminal(&bad.file)
            )));
        }
        let hashes = take
            .tracks
            .iter()
            .map(|t| sha256_file(&staged.join(&t.file)))
            .collect::<Result<Vec<_>>>()?;
        // The library's files are private whatever wrote them (an import, a recovery).
        for track in &take.tracks {
            let path = staged.join(&track.file);
            crate::own_files::make_private(&path)
                .map_err(|e| LibraryError::unwritable(&path, &e))?;
        }
        crate::own_files::make_private(staged).map_err(|e| LibraryError::unwritable(staged, &e))?;
        let date = take.recorded_at.get(..10).unwrap_or("undated").to_string();
        let time: String = take
            .recorded_at
            .get(11..19)
            .unwrap_or("000000")
            .replace(':', "");
        let base = format!("{TAKES_DIR}/{date}/{time}-{}", unique_suffix());
        let parent = self.root.join(TAKES_DIR).join(&date);
        crate::own_files::create_private_dir_all(&parent)
            .map_err(|e| LibraryError::unwritable(&parent, &e))?;
        let root = self.root.clone();
        let tx = self.write()?;
        // Takes filed in the same second (loop-recording, a busy import) must not share a
        // folder: count up until neither the library nor the disk has the name.
        let mut relative = base.clone();
        for n in 2.. {
            let taken: bool = tx.query_row(
                "SELECT EXISTS (SELECT 1 FROM take WHERE folder = ?1)",
                [&relative],
                |r| r.get(0),
            )?;
            if !taken && !root.join(&relative).exists() {
                break;
            }
            relative = format!("{base}-{n}");
        }
        let destination = root.join(&relative);
        let months: i64 = tx.query_row(
            "SELECT CAST(value AS INTEGER) FROM setting WHERE key = ?1",
            [format!("retention.{}", take.purpose.as_str())],
            |r| r.get(0),
        )?;
        tx.execute(
            "INSERT INTO take (lesson_id, folder, recorded_at, arrangement, tempo_bpm, host,
                 input_device, output_device, sample_rate_hz, latency_applied_frames, frames,
                 duration_secs, xruns, gaps, complete, purpose, retain_until, repeats,
                 count_in_bars, section, music_frames, pass)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16,
                 date(?3, '+' || ?17 || ' months'), ?18, ?19, ?20, ?21, ?22)",
            params![
                lesson,
                relative,
                take.recorded_at,
                take.arrangement,
                take.tempo_bpm,
                take.host,
                take.input_device,
                take.output_device,
                take.sample_rate_hz,
                take.latency_applied_frames,
                take.frames as i64,
                take.duration_secs,
                take.xruns as i64,
                take.gaps as i64,
                take.complete,
                take.purpose.as_str(),
                months,
                take.repeats,
                take.count_in_bars,
                take.section,
                take.music_frames.map(|f| f as i64),
                take.pass,
            ],
        )?;
        let id = tx.last_insert_rowid();
        for (track, hash) in take.tracks.iter().zip(&hashes) {
            tx.execute(
                "INSERT INTO track (take_id, number, file, input_channel, midi_port, frames, sha256, input_device)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![
                    id,
                    track.number,
                    track.file,
                    track.input_channel,
                    track.midi_port,
                    track.frames as i64,
                    hash,
                    track.input_device
                ],
            )?;
        }
        audit::append(
            &tx,
            "take.register",
            &format!("take #{id}: {} track(s) in {relative}", take.tracks.len()),
        )?;
        std::fs::rename(staged, &destination)
            .map_err(|e| LibraryError::unwritable(&destination, &e))?;
        if let Err(e) = tx.commit() {
            // The take is not registered, so its files go back to where `check` looks
            // for unfinished takes.
            let _ = std::fs::rename(&destination, staged);
            return Err(e.into());
        }
        Ok((id, destination))
    }

    pub fn take_folder(&self, take: &TakeSummary) -> PathBuf {
        self.root.join(&take.folder)
    }

    pub fn takes(&self, filter: &TakeFilter) -> Result<Vec<TakeSummary>> {
        let (chosen, values) = selection(filter);
        let mut statement = self.conn.prepare_cached(&format!(
            "SELECT t.id, t.lesson_id, l.title, c.name, t.recorded_at, t.arrangement, t.tempo_bpm,
                    t.sample_rate_hz, t.duration_secs, t.xruns, t.gaps, t.complete, t.starred,
                    t.purpose, t.retain_until, t.folder, t.repeats, t.count_in_bars, t.section,
                    coalesce(t.frames < t.music_frames, 0), t.pass
             FROM take t JOIN lesson l ON l.id = t.lesson_id LEFT JOIN class c ON c.id = l.class_id
             WHERE t.id IN ({chosen})
             ORDER BY t.recorded_at DESC, t.id DESC"
        ))?;
        let mut takes = statement
            .query_map(rusqlite::params_from_iter(&values), |r| {
                Ok(TakeSummary {
                    id: r.get(0)?,
                    lesson_id: r.get(1)?,
                    lesson: r.get(2)?,
                    class: r.get(3)?,
                    recorded_at: r.get(4)?,
                    arrangement: r.get(5)?,
                    tempo_bpm: r.get(6)?,
                    sample_rate_hz: r.get(7)?,
                    duration_secs: r.get(8)?,
                    xruns: r.get::<_, i64>(9)? as u64,
                    gaps: r.get::<_, i64>(10)? as u64,
                    complete: r.get(11)?,
                    starred: r.get(12)?,
                    purpose: r.get(13)?,
                    retain_until: r.get(14)?,
                    folder: r.get(15)?,
                    repeats: r.get(16)?,
                    count_in_bars: r.get(17)?,
                    section: r.get(18)?,
                    stopped_early: r.get(19)?,
                    pass: r.get(20)?,
                    tracks: Vec::new(),
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        load_tracks(&self.conn, &mut takes, &chosen, &values)?;
        Ok(takes)
    }

    pub fn take(&self, id: i64) -> Result<TakeSummary> {
        self.takes(&TakeFilter {
            take: Some(id),
            ..TakeFilter::default()
        })?
        .pop()
        .ok_or_else(|| {
            LibraryError::NotFound(format!(
                "no take {id}: see `bandroom takes list` for the takes in the library"
            ))
        })
    }

    /// Says who played on a track (a microphone often covers a small group), replacing
    /// whoever was attributed before.
    pub fn attribute(
        &mut self,
        take: i64,
        track_number: i64,
        pupils: &[i64],
        part: Option<&str>,
        tier: Option<&str>,
        instrument: Option<&str>,
    ) -> Result<()> {
        let tx = self.write()?;
        let track: i64 = tx
            .query_row(
                "SELECT id FROM track WHERE take_id = ?1 AND number = ?2",
                params![take, track_number],
                |r| r.get(0),
            )
            .optional()?
            .ok_or_else(|| {
                LibraryError::NotFound(format!(
                    "take {take} has no track {track_number}: see `bandroom takes list`"
                ))
            })?;
        tx.execute("DELETE FROM performer WHERE track_id = ?1", [track])?;
        for pupil in pupils {
            tx.execute(
                "INSERT INTO performer (track_id, pupil_id, part, tier, instrument)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![track, pupil, part, tier, instrument],
            )?;
        }
        let ids: Vec<String> = pupils.iter().map(|p| format!("#{p}")).collect();
        audit::append(
            &tx,
            "track.attribute",
            &format!(
                "take #{take} track {track_number}: pupils {}",
                ids.join(" ")
            ),
        )?;
        tx.commit()?;
        Ok(())
    }

    pub fn star_take(&mut self, take: i64, starred: bool) -> Result<()> {
        let tx = self.write()?;
        let changed = tx.execute(
            "UPDATE take SET starred = ?2 WHERE id = ?1",
            params![take, starred],
        )?;
        if changed == 0 {
            return Err(LibraryError::NotFound(format!("no take {take}")));
        }
        tx.commit()?;
        Ok(())
    }
}
