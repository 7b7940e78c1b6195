//! The library's schema and its migrations.
//!
//! Owns the SQL that creates and upgrades `bandroom.sqlite`. The schema version is
//! SQLite's `user_version`; every pending migration runs in one transaction, so an
//! upgrade either completes or leaves the file as it was. A file from a newer
//! bandroom is refused untouched. Must not hold queries for the rest of the library.

use super::error::{LibraryError, Result};
use rusqlite::{Connection, TransactionBehavior};
use std::path::PathBuf;

/// Version 1: the teaching model — years, classes, pupils, lessons, takes, tracks,
/// performers, frameworks, judgements, markers, reflections, voice notes, audit log.
const V1: &str = r#"
CREATE TABLE library_info (key TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT INTO library_info (key, value)
    VALUES ('id', lower(hex(randomblob(8)))), ('created_at', strftime('%Y-%m-%dT%H:%M:%SZ', 'now'));

CREATE TABLE school_year (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE COLLATE NOCASE
);

CREATE TABLE framework (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL COLLATE NOCASE,
    version INTEGER NOT NULL,
    title TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    source_sha256 TEXT NOT NULL,
    imported_at TEXT NOT NULL,
    UNIQUE (name, version)
);

CREATE TABLE strand (
    id INTEGER PRIMARY KEY,
    framework_id INTEGER NOT NULL REFERENCES framework(id),
    key TEXT NOT NULL COLLATE NOCASE,
    title TEXT NOT NULL,
    position INTEGER NOT NULL,
    UNIQUE (framework_id, key)
);

CREATE TABLE level (
    id INTEGER PRIMARY KEY,
    strand_id INTEGER NOT NULL REFERENCES strand(id),
    value INTEGER NOT NULL,
    label TEXT NOT NULL,
    description TEXT NOT NULL,
    UNIQUE (strand_id, value)
);

CREATE TABLE class (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE COLLATE NOCASE,
    year_id INTEGER REFERENCES school_year(id),
    framework_id INTEGER REFERENCES framework(id),
    created_at TEXT NOT NULL
);

CREATE TABLE pupil (
    id INTEGER PRIMARY KEY,
    display_name TEXT NOT NULL,
    number TEXT UNIQUE,
    created_at TEXT NOT NULL
);
CREATE INDEX pupil_name ON pupil(display_name COLLATE NOCASE);

CREATE TABLE class_member (
    class_id INTEGER NOT NULL REFERENCES class(id) ON DELETE CASCADE,
    pupil_id INTEGER NOT NULL REFERENCES pupil(id) ON DELETE CASCADE,
    PRIMARY KEY (class_id, pupil_id)
) WITHOUT ROWID;
CREATE INDEX class_member_pupil ON class_member(pupil_id);

-- Monitoring groups (pupil premium, SEN, EAL ...): shown only as aggregates.
CREATE TABLE pupil_group (
    pupil_id INTEGER NOT NULL REFERENCES pupil(id) ON DELETE CASCADE,
    name TEXT NOT NULL COLLATE NOCASE,
    PRIMARY KEY (pupil_id, name)
) WITHOUT ROWID;

CREATE TABLE lesson (
    id INTEGER PRIMARY KEY,
    class_id INTEGER REFERENCES class(id),
    title TEXT NOT NULL,
    started_at TEXT NOT NULL
);
CREATE INDEX lesson_class ON lesson(class_id, started_at);

CREATE TABLE take (
    id INTEGER PRIMARY KEY,
    lesson_id INTEGER NOT NULL REFERENCES lesson(id),
    folder TEXT NOT NULL UNIQUE,
    recorded_at TEXT NOT NULL,
    arrangement TEXT,
    tempo_bpm REAL,
    host TEXT NOT NULL,
    input_device TEXT NOT NULL,
    output_device TEXT NOT NULL,
    sample_rate_hz INTEGER NOT NULL,
    latency_applied_frames INTEGER NOT NULL,
    frames INTEGER NOT NULL,
    duration_secs REAL NOT NULL,
    xruns INTEGER NOT NULL,
    gaps INTEGER NOT NULL,
    complete INTEGER NOT NULL,
    starred INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX take_lesson ON take(lesson_id, recorded_at);

CREATE TABLE track (
    id INTEGER PRIMARY KEY,
    take_id INTEGER NOT NULL REFERENCES take(id) ON DELETE CASCADE,
    number INTEGER NOT NULL,
    file TEXT NOT NULL,
    input_channel INTEGER,
    midi_port TEXT,
    frames INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    UNIQUE (take_id, number)
);

CREATE TABLE performer (
    track_id INTEGER NOT NULL REFERENCES track(id) ON DELETE CASCADE,
    pupil_id INTEGER NOT NULL REFERENCES pupil(id) ON DELETE CASCADE,
    part TEXT,
    tier TEXT,
    instrument TEXT,
    PRIMARY KEY (track_id, pupil_id)
) WITHOUT ROWID;
CREATE INDEX performer_pupil ON performer(pupil_id);

-- A judgement keeps its context (class, part, tier, instrument, groups) as it was.
CREATE TABLE assessment (
    id INTEGER PRIMARY KEY,
    pupil_id INTEGER NOT NULL REFERENCES pupil(id) ON DELETE CASCADE,
    level_id INTEGER NOT NULL REFERENCES level(id),
    take_id INTEGER REFERENCES take(id) ON DELETE SET NULL,
    class_id INTEGER REFERENCES class(id),
    part TEXT,
    tier TEXT,
    instrument TEXT,
    groups TEXT NOT NULL DEFAULT '',
    comment TEXT NOT NULL DEFAULT '',
    assessor TEXT NOT NULL,
    assessed_at TEXT NOT NULL
);
-- Covers the class grid, progress and the export selection without touching the rows.
CREATE INDEX assessment_pupil ON assessment(pupil_id, assessed_at, level_id, take_id);
CREATE INDEX assessment_take ON assessment(take_id);
CREATE INDEX assessment_class ON assessment(class_id);

CREATE TABLE marker (
    id INTEGER PRIMARY KEY,
    take_id INTEGER NOT NULL REFERENCES take(id) ON DELETE CASCADE,
    frame INTEGER NOT NULL,
    text TEXT NOT NULL,
    author TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX marker_take ON marker(take_id);

CREATE TABLE reflection (
    id INTEGER PRIMARY KEY,
    take_id INTEGER NOT NULL REFERENCES take(id) ON DELETE CASCADE,
    pupil_id INTEGER NOT NULL REFERENCES pupil(id) ON DELETE CASCADE,
    text TEXT NOT NULL,
    written_at TEXT NOT NULL
);
CREATE INDEX reflection_pupil ON reflection(pupil_id);

CREATE TABLE self_assessment (
    reflection_id INTEGER NOT NULL REFERENCES reflection(id) ON DELETE CASCADE,
    level_id INTEGER NOT NULL REFERENCES level(id),
    PRIMARY KEY (reflection_id, level_id)
) WITHOUT ROWID;

CREATE TABLE voice_note (
    id INTEGER PRIMARY KEY,
    take_id INTEGER NOT NULL REFERENCES take(id) ON DELETE CASCADE,
    frame INTEGER,
    file TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    author TEXT NOT NULL,
    created_at TEXT NOT NULL
);

-- Append-only: what happened, by whom, when. Pupils appear only by id, never by name,
-- so erasing a pupil leaves nothing here that names them.
CREATE TABLE audit (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    detail TEXT NOT NULL
);
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
"#;

/// Version 2: data protection — a purpose and retention date on every take, the
/// "do not share" flag, and the school's settings (retention policy, teacher PIN).
const V2: &str = r#"
ALTER TABLE take ADD COLUMN purpose TEXT NOT NULL DEFAULT 'rehearsal'
    CHECK (purpose IN ('assessment', 'rehearsal', 'performance'));
ALTER TABLE take ADD COLUMN retain_until TEXT;
UPDATE take SET retain_until = date(recorded_at, '+12 months');
CREATE INDEX take_retention ON take(retain_until);
ALTER TABLE pupil ADD COLUMN do_not_share INTEGER NOT NULL DEFAULT 0;
CREATE TABLE setting (key TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT INTO setting (key, value) VALUES
    ('retention.assessment', '36'), ('retention.rehearsal', '12'), ('retention.performance', '24');
"#;

/// Version 3: timing analysis — the timeline a take was played on (repeats, count-in)
/// and each analysed track's result.
const V3: &str = r#"
ALTER TABLE take ADD COLUMN repeats INTEGER;
ALTER TABLE take ADD COLUMN count_in_bars INTEGER NOT NULL DEFAULT 1;
-- A strand may say how timing analysis suggests its level (JSON: measure, max_ms).
ALTER TABLE strand ADD COLUMN timing TEXT;
CREATE TABLE track_analysis (
    track_id INTEGER PRIMARY KEY REFERENCES track(id) ON DELETE CASCADE,
    part TEXT NOT NULL,
    hits INTEGER NOT NULL,
    misses INTEGER NOT NULL,
    extras INTEGER NOT NULL,
    mean_deviation_ms REAL,
    sd_deviation_ms REAL,
    drift_ms_per_minute REAL,
    detail TEXT NOT NULL,
    analysed_at TEXT NOT NULL
);
"#;

/// A moderator's blind judgements, brought back from a moderation pack. Kept apart from
/// the department's own assessments so they never change a pupil's progress.
const V4: &str = r#"
CREATE TABLE moderation (
    id INTEGER PRIMARY KEY,
    moderator TEXT NOT NULL,
    source_sha256 TEXT NOT NULL,
    imported_at TEXT NOT NULL
);
CREATE TABLE moderation_judgement (
    moderation_id INTEGER NOT NULL REFERENCES moderation(id) ON DELETE CASCADE,
    pupil_id INTEGER NOT NULL REFERENCES pupil(id) ON DELETE CASCADE,
    take_id INTEGER REFERENCES take(id) ON DELETE SET NULL,
    level_id INTEGER NOT NULL REFERENCES level(id),
    comment TEXT NOT NULL DEFAULT ''
);
CREATE INDEX moderation_judgement_pupil ON moderation_judgement(pupil_id);
"#;

/// Version 5: a take may play one section of its arrangement (rehearsing it "again").
const V5: &str = r#"
ALTER TABLE take ADD COLUMN section TEXT;
"#;

/// Version 6: a judgement can be withdrawn (a typing mistake, the wrong pupil). The
/// judgement stays, as judgements are append-only; the withdrawal is a record of its own,
/// with the reason, and every view of judgements reads `counted_assessment`.
const V6: &str = r#"
CREATE TABLE withdrawal (
    assessment_id INTEGER PRIMARY KEY REFERENCES assessment(id) ON DELETE CASCADE,
    reason TEXT NOT NULL,
    withdrawn_by TEXT NOT NULL,
    withdrawn_at TEXT NOT NULL
);
CREATE VIEW counted_assessment AS
    SELECT a.* FROM assessment a
    WHERE NOT EXISTS (SELECT 1 FROM withdrawal w WHERE w.assessment_id = a.id);
"#;

/// Version 7: how long a take's music lasts (so a take stopped early says so), which
/// pass of an "again" run a take is, and classes that are archived (kept, not shown).
const V7: &str = r#"
ALTER TABLE take ADD COLUMN music_frames INTEGER;
ALTER TABLE take ADD COLUMN pass INTEGER;
ALTER TABLE class ADD COLUMN archived_at TEXT;
"#;

/// Version 8: who may hear a voice note (the teacher alone unless the teacher says it is
/// for the take's players or for one pupil), the words a pupil reads for a level, and
/// pupils' sign-in codes (kept readable so the teacher can print the cards again).
const V8: &str = r#"
CREATE TABLE pupil_code (
    pupil_id INTEGER PRIMARY KEY REFERENCES pupil(id) ON DELETE CASCADE,
    code TEXT NOT NULL,
    made_at TEXT NOT NULL
);
ALTER TABLE voice_note ADD COLUMN for_players INTEGER NOT NULL DEFAULT 0;
ALTER TABLE voice_note ADD COLUMN for_pupil INTEGER REFERENCES pupil(id) ON DELETE CASCADE;
ALTER TABLE level ADD COLUMN pupil_words TEXT NOT NULL DEFAULT '';
"#;

/// Version 9: the device a track's input belongs to, when it is not the take's main
/// device (a USB microphone's `device-1-input-1.wav` is input 1 of that microphone, not
/// input 1 of the interface).
const V9: &str = r#"
ALTER TABLE track ADD COLUMN input_device TEXT;
"#;

/// Version 10: the files an erasure has committed to deleting. They are written in the
/// erasure's own transaction, so once the rows are gone the files are known to be
/// garbage, and a file is never deleted while a row still names it.
///
/// Also: a marker has an audience as a voice note does (the teacher alone unless written
/// for the players or for one pupil); wrong sign-in tries are counted per pupil in the library (a restart, another
/// pupil or "Not me" never clears them), with the wait they earned and how many wrong
/// codes were typed since the code was made, for the teacher to see.
const V10: &str = r#"
CREATE TABLE erasure_pending_file (
    path TEXT PRIMARY KEY
);
ALTER TABLE pupil_code ADD COLUMN failures INTEGER NOT NULL DEFAULT 0;
ALTER TABLE pupil_code ADD COLUMN locked_until INTEGER NOT NULL DEFAULT 0;
ALTER TABLE pupil_code ADD COLUMN wrong_since_made INTEGER NOT NULL DEFAULT 0;
ALTER TABLE marker ADD COLUMN for_players INTEGER NOT NULL DEFAULT 0;
ALTER TABLE marker ADD COLUMN for_pupil INTEGER REFERENCES pupil(id) ON DELETE CASCADE;
"#;

const MIGRATIONS: &[&str] = &[V1, V2, V3, V4, V5, V6, V7, V8, V9, V10];

/// The schema version this bandroom writes.
pub const LATEST_VERSION: i64 = MIGRATIONS.len() as i64;

pub(crate) fn version(conn: &Connection) -> Result<i64> {
    Ok(conn.query_row("PRAGMA user_version", [], |r| r.get(0))?)
}

/// Brings the database up to `target` (at most [`LATEST_VERSION`]) in one transaction.
/// Tests use a lower target to build the libraries older bandrooms left behind.
pub fn migrate_to(conn: &mut Connection, target: i64) -> Result<()> {
    let found = version(conn)?;
    if found > LATEST_VERSION {
        return Err(LibraryError::TooNew {
            path: conn.path().map(PathBuf::from).unwrap_or_default(),
            found,
            known: LATEST_VERSION,
        });
    }
    if found >= target {
        return Ok(());
    }
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    // Another process may have upgraded while this one waited for the lock.
    let found = version(&tx)?;
    for (index, sql) in MIGRATIONS.iter().enumerate() {
        let to = index as i64 + 1;
        if to > found && to <= target {
            tx.execute_batch(sql)?;
        }
    }
    if target > found {
        tx.pragma_update(None, "user_version", target)?;
    }
    tx.commit()?;
    Ok(())
}
