//! Level suggestions from timing analysis, for strands whose framework says how (a
//! `timing` rule). A suggestion is only ever shown to the teacher, who confirms it
//! with one key; nothing here records a judgement.
//!
//! Owns turning a stored analysis and a rule into a level. Must not compute timing.

use super::Library;
use super::error::Result;
use super::frameworks::TimingRule;
use super::judgements::framework_for;
use rusqlite::params;

#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Suggestion {
    pub pupil_id: i64,
    pub pupil: String,
    pub track_number: i64,
    pub criterion: String,
    pub level: i64,
    pub label: String,
    /// "spread" or "mean", and its value in ms.
    pub measure: String,
    pub value_ms: f64,
    pub hit_rate: f64,
}

/// The level `rule` gives `value_ms`, when enough notes were played to judge (half or
/// more); with fewer than four in five hit, no higher than level 2.
pub fn level_for(rule: &TimingRule, value_ms: f64, hit_rate: f64) -> Option<i64> {
    if hit_rate < 0.5 {
        return None;
    }
    let met = rule
        .max_ms
        .iter()
        .rposition(|max| value_ms <= *max)
        .map_or(1, |i| i + 1) as i64;
    Some(if hit_rate < 0.8 { met.min(2) } else { met })
}

impl Library {
    /// Suggested levels for every pupil on an analysed track of `take`.
    pub fn suggest_levels(&self, take: i64) -> Result<Vec<Suggestion>> {
        let mut statement = self.conn.prepare(
            "SELECT t.number, a.hits, a.misses, a.mean_deviation_ms, a.sd_deviation_ms,
                    p.id, p.display_name
             FROM track_analysis a JOIN track t ON t.id = a.track_id
             JOIN performer f ON f.track_id = t.id JOIN pupil p ON p.id = f.pupil_id
             WHERE t.take_id = ?1 ORDER BY t.number, p.display_name",
        )?;
        type Row = (i64, i64, i64, Option<f64>, Option<f64>, i64, String);
        let rows = statement
            .query_map([take], |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                    r.get(6)?,
                ))
            })?
            .collect::<rusqlite::Result<Vec<Row>>>()?;
        let mut suggestions = Vec::new();
        for (track_number, hits, misses, mean, sd, pupil_id, pupil) in rows {
            let (framework, _) = framework_for(&self.conn, pupil_id, Some(take))?;
            let mut strands = self.conn.prepare_cached(
                "SELECT id, key, timing FROM strand WHERE framework_id = ?1 AND timing IS NOT NULL
                 ORDER BY position",
            )?;
            let rules = strands
                .query_map([framework], |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                    ))
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            let hit_rate = hits as f64 / (hits + misses).max(1) as f64;
            for (strand, criterion, timing) in rules {
                let Ok(rule) = serde_json::from_str::<TimingRule>(&timing) else {
                    continue;
                };
                let value = match rule.measure.as_str() {
                    "mean" => mean.map(f64::abs),
                    _ => sd,
                };
                let Some(value_ms) = value else { continue };
                let Some(level) = level_for(&rule, value_ms, hit_rate) else {
                    continue;
                };
                let label: String = self.conn.query_row(
                    "SELECT label FROM level WHERE strand_id = ?1 AND value = ?2",
                    params![strand, level],
                    |r| r.get(0),
                )?;
                suggestions.push(Suggestion {
                    pupil_id,
                    pupil: pupil.clone(),
                    track_number,
                    criterion,
                    level,
                    label,
                    measure: rule.measure.clone(),
                    value_ms,
                    hit_rate,
                });
            }
        }
        Ok(suggestions)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tightest_limit_met_is_the_level_and_misses_hold_it_down() {
        let rule = TimingRule {
            measure: "spread".into(),
            max_ms: vec![80.0, 50.0, 30.0, 20.0, 12.0],
        };
        assert_eq!(level_for(&rule, 10.0, 1.0), Some(5));
        assert_eq!(level_for(&rule, 25.0, 0.95), Some(3));
        assert_eq!(level_for(&rule, 200.0, 0.9), Some(1));
        assert_eq!(level_for(&rule, 10.0, 0.7), Some(2), "many notes missed");
        assert_eq!(level_for(&rule, 10.0, 0.3), None, "too few notes to judge");
    }
}
