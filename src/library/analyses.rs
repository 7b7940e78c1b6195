//! Stored timing analyses: one per analysed track, replaced when the track is analysed
//! again (for instance after it is attributed to another part).
//!
//! Owns the `track_analysis` rows. The analysis itself arrives as figures plus its
//! detail as JSON; this module never computes timing.

use super::error::{LibraryError, Result};
use super::{Library, audit};
use rusqlite::{OptionalExtension, params};

#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct TrackAnalysis {
    pub track_number: i64,
    pub part: String,
    pub hits: i64,
    pub misses: i64,
    pub extras: i64,
    pub mean_deviation_ms: Option<f64>,
    pub sd_deviation_ms: Option<f64>,
    pub drift_ms_per_minute: Option<f64>,
    /// The whole analysis (notes, sections, warnings) as JSON.
    pub detail: String,
    pub analysed_at: String,
}

impl Library {
    pub fn store_analysis(&mut self, take: i64, analysis: &TrackAnalysis) -> Result<()> {
        let tx = self.write()?;
        let track: i64 = tx
            .query_row(
                "SELECT id FROM track WHERE take_id = ?1 AND number = ?2",
                params![take, analysis.track_number],
                |r| r.get(0),
            )
            .optional()?
            .ok_or_else(|| {
                LibraryError::NotFound(format!(
                    "take {take} has no track {}",
                    analysis.track_number
                ))
            })?;
        tx.execute(
            "INSERT OR REPLACE INTO track_analysis (track_id, part, hits, misses, extras,
                 mean_deviation_ms, sd_deviation_ms, drift_ms_per_minute, detail, analysed_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            params![
                track,
                analysis.part,
                analysis.hits,
                analysis.misses,
                analysis.extras,
                analysis.mean_deviation_ms,
                analysis.sd_deviation_ms,
                analysis.drift_ms_per_minute,
                analysis.detail,
                super::now()
            ],
        )?;
        audit::append(
            &tx,
            "track.analyse",
            &format!("take #{take} track {}", analysis.track_number),
        )?;
        tx.commit()?;
        Ok(())
    }

    /// The stored analyses of a take's tracks, in track order.
    pub fn analyses(&self, take: i64) -> Result<Vec<TrackAnalysis>> {
        let mut statement = self.conn.prepare_cached(
            "SELECT t.number, a.part, a.hits, a.misses, a.extras, a.mean_deviation_ms,
                    a.sd_deviation_ms, a.drift_ms_per_minute, a.detail, a.analysed_at
             FROM track_analysis a JOIN track t ON t.id = a.track_id
             WHERE t.take_id = ?1 ORDER BY t.number",
        )?;
        let rows = statement
            .query_map([take], |r| {
                Ok(TrackAnalysis {
                    track_number: r.get(0)?,
                    part: r.get(1)?,
                    hits: r.get(2)?,
                    misses: r.get(3)?,
                    extras: r.get(4)?,
                    mean_deviation_ms: r.get(5)?,
                    sd_deviation_ms: r.get(6)?,
                    drift_ms_per_minute: r.get(7)?,
                    detail: r.get(8)?,
                    analysed_at: r.get(9)?,
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }
}
