//! Timing analysis of a library take's tracks: run when a track is attributed to a
//! part (`bandroom perform … --part P`), stored in the library, and shown with the
//! ensemble figures between tracks by `bandroom takes show`.
//!
//! Must not detect or match onsets (`analysis` does) or hold SQL (`library` does).

use anyhow::Result;
use bandroom::analysis::ensemble::asynchrony;
use bandroom::analysis::matching::NoteResult;
use bandroom::analysis::trend::Trend;
use bandroom::jobs::stored_notes;
use bandroom::library::{Library, TakeSummary};

/// Prints each analysed track and, for every pair sharing notes, who led and how tight
/// they were.
pub fn show(lib: &Library, take: &TakeSummary, json: bool) -> Result<()> {
    let analyses = lib.analyses(take.id)?;
    let notes: Vec<Vec<NoteResult>> = analyses.iter().map(stored_notes).collect();
    let mut pairs = Vec::new();
    for i in 0..analyses.len() {
        for j in i + 1..analyses.len() {
            if let Some(a) = asynchrony(&notes[i], &notes[j]) {
                pairs.push((analyses[i].track_number, analyses[j].track_number, a));
            }
        }
    }
    let suggestions = lib.suggest_levels(take.id)?;
    if json {
        let report = serde_json::json!({
            "suggestions": suggestions,
            "take": take,
            "analyses": analyses.iter().map(|a| serde_json::json!({
                "track": a.track_number, "part": a.part, "hits": a.hits, "misses": a.misses,
                "extras": a.extras, "mean_deviation_ms": a.mean_deviation_ms,
                "sd_deviation_ms": a.sd_deviation_ms, "drift_ms_per_minute": a.drift_ms_per_minute,
            })).collect::<Vec<_>>(),
            "ensemble": pairs.iter().map(|(a, b, x)| serde_json::json!({
                "tracks": [a, b], "shared_notes": x.shared, "mean_ms": x.mean_ms, "sd_ms": x.sd_ms,
            })).collect::<Vec<_>>(),
        });
        say!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(());
    }
    say!(
        "take {} — {} {}, {:.1} s",
        take.id,
        take.class.as_deref().unwrap_or("quick take"),
        take.arrangement.as_deref().unwrap_or("(no arrangement)"),
        take.duration_secs
    );
    for track in &take.tracks {
        let who: Vec<&str> = track.performers.iter().map(|p| p.name.as_str()).collect();
        let analysed = analyses.iter().find(|a| a.track_number == track.number);
        say!(
            "  track {} ({}): {}{}",
            track.number,
            track.file,
            if who.is_empty() {
                "nobody attributed".to_string()
            } else {
                who.join(" & ")
            },
            analysed.map_or(String::new(), |a| format!(
                " — {}: {} of {} hit, {} extra, mean {}, spread {}",
                a.part,
                a.hits,
                a.hits + a.misses,
                a.extras,
                a.mean_deviation_ms
                    .map_or("-".into(), |m| format!("{m:+.1} ms")),
                a.sd_deviation_ms
                    .map_or("-".into(), |m| format!("{m:.1} ms"))
            ))
        );
    }
    for s in &suggestions {
        say!(
            "  suggested for {}: {} level {} ({}), from a timing {} of {:.1} ms; confirm with \
             `bandroom assess {} --pupil {} --criterion {} --level {}`",
            s.pupil,
            s.criterion,
            s.level,
            s.label,
            s.measure,
            s.value_ms,
            take.id,
            // By id, which two pupils of the same name do not share; quoted so a pasted
            // line runs nothing a name or key holds.
            bandroom::plain_text::shell_quote(&format!("#{}", s.pupil_id)),
            bandroom::plain_text::shell_quote(&s.criterion),
            s.level
        );
    }
    for (a, b, x) in &pairs {
        say!(
            "  tracks {a} and {b}: {} shared notes, track {} leads by {:.1} ms on average, spread {:.1} ms",
            x.shared,
            if x.mean_ms <= 0.0 { a } else { b },
            x.mean_ms.abs(),
            x.sd_ms
        );
    }
    Ok(())
}

/// One take's tightness: the mean timing spread of its analysed tracks and of its
/// pairs' asynchrony (smaller is tighter), when it has them.
fn tightness(lib: &Library, take: &TakeSummary) -> Result<(Option<f64>, Option<f64>, usize)> {
    let analyses = lib.analyses(take.id)?;
    let spreads: Vec<f64> = analyses.iter().filter_map(|a| a.sd_deviation_ms).collect();
    let notes: Vec<Vec<NoteResult>> = analyses.iter().map(stored_notes).collect();
    let mut pair_spreads = Vec::new();
    for i in 0..notes.len() {
        for j in i + 1..notes.len() {
            if let Some(a) = asynchrony(&notes[i], &notes[j]) {
                pair_spreads.push(a.sd_ms);
            }
        }
    }
    let mean = |v: &[f64]| (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64);
    Ok((mean(&spreads), mean(&pair_spreads), analyses.len()))
}

/// The tightness of a class's analysed takes, lesson by lesson, oldest first.
pub fn trend(lib: &Library, class: i64, json: bool) -> Result<()> {
    let mut takes = lib.takes(&bandroom::library::TakeFilter {
        class: Some(class),
        ..bandroom::library::TakeFilter::default()
    })?;
    takes.reverse();
    let mut rows = Vec::new();
    for take in &takes {
        let (spread, ensemble, analysed) = tightness(lib, take)?;
        if analysed > 0 {
            rows.push((take, spread, ensemble, analysed));
        }
    }
    if json {
        let report: Vec<serde_json::Value> = rows
            .iter()
            .map(|(take, spread, ensemble, analysed)| {
                serde_json::json!({
                    "take": take.id, "lesson": take.lesson, "recorded_at": take.recorded_at,
                    "analysed_tracks": analysed, "mean_spread_ms": spread,
                    "mean_pair_spread_ms": ensemble,
                })
            })
            .collect();
        say!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(());
    }
    if rows.is_empty() {
        say!("no analysed takes yet: attribute tracks to parts with `bandroom perform … --part P`");
    }
    let ms = |v: &Option<f64>| v.map_or("-".to_string(), |v| format!("{v:.1} ms"));
    let mut lesson = "";
    for (take, spread, ensemble, analysed) in &rows {
        if take.lesson != lesson {
            lesson = &take.lesson;
            say!("{lesson}");
        }
        say!(
            "  take {:<5} {}  {analysed} track(s)  spread {:>9}  together {:>9}",
            take.id,
            take.recorded_at.get(11..16).unwrap_or(""),
            ms(spread),
            ms(ensemble)
        );
    }
    let series = |pick: fn(&Row) -> Option<f64>| -> Vec<(String, f64)> {
        rows.iter()
            .filter_map(|row| Some((row.0.lesson.clone(), pick(row)?)))
            .collect()
    };
    for (what, values) in [
        ("each player's spread", series(|r| r.1)),
        ("players together", series(|r| r.2)),
    ] {
        if let Some(t) = Trend::of(&values) {
            say!(
                "trend over {} lessons, {what}: {:.1} ms to {:.1} ms, {}",
                t.lessons,
                t.first_ms,
                t.latest_ms,
                t.words()
            );
        }
    }
    Ok(())
}

/// A take's row of the trend table: take, spread, pair spread, analysed tracks.
type Row<'a> = (&'a TakeSummary, Option<f64>, Option<f64>, usize);
