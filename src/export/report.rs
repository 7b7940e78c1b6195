//! `report.html`: one self-contained page (inline CSS and SVG, no scripts, no network)
//! that works from a USB stick: an overview for leaders, then one section per pupil
//! with a radar diagram (first and latest level per criterion), the judgements behind
//! it and audio players for the evidence.
//!
//! Written with `maud`, whose templates escape every value unless told otherwise, so a
//! forgotten escape cannot exist: the only raw markup is the page's fixed stylesheet.
//! Free text (comments, markers, reflections) also loses control characters and
//! direction overrides (`plain_text::shown_free_text`), so a pasted ESC or U+202E can
//! neither hide nor reverse words. Must not read the library or files: it renders the
//! values it is given.

use crate::plain_text::shown_free_text;
use maud::{DOCTYPE, Markup, PreEscaped, html};

/// One criterion of a pupil's section: first and latest judgement.
#[derive(Clone, Debug, PartialEq)]
pub struct CriterionRow {
    pub title: String,
    pub levels: usize,
    /// Each level's name, lowest first (empty: shown by number alone).
    pub names: Vec<String>,
    pub first: Option<(i64, String)>,
    pub latest: Option<(i64, String, String)>,
}

/// One recording in the report: its caption, its file in the bundle (`None` when the
/// library has lost it) and the teacher's markers, listed beside the player.
#[derive(Clone, Debug, PartialEq)]
pub struct AudioItem {
    pub caption: String,
    pub path: Option<String>,
    pub markers: Vec<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct PupilSection {
    pub label: String,
    /// The class the pupil is in, for the per-class summary.
    pub class: String,
    pub rows: Vec<CriterionRow>,
    pub audio: Vec<AudioItem>,
    /// (date, text) of the pupil's own reflections.
    pub reflections: Vec<(String, String)>,
}

/// A take of a lesson bundle: who played and what was recorded.
#[derive(Clone, Debug, PartialEq)]
pub struct TakeSection {
    pub caption: String,
    pub performers: Vec<String>,
    pub audio: Vec<AudioItem>,
}

/// A criterion with its level descriptors, for a moderator judging blind.
#[derive(Clone, Debug, PartialEq)]
pub struct CriterionGuide {
    pub key: String,
    pub title: String,
    pub levels: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Default)]
pub struct Report {
    pub title: String,
    pub subtitle: String,
    /// Whether the teacher's judgements are shown (not in a moderation pack).
    pub judgements: bool,
    pub guide: Vec<CriterionGuide>,
    pub pupils: Vec<PupilSection>,
    pub takes: Vec<TakeSection>,
    pub monitoring: Vec<super::monitoring::GroupRow>,
    /// Recordings the library has lost, named so they can be looked for.
    pub missing: Vec<String>,
}

/// `text` escaped for HTML, as the templates do (for a caller comparing its output).
pub fn escape(text: &str) -> String {
    html! { (text) }.into_string()
}

/// Free text a person wrote, as it is shown.
fn free(text: &str) -> String {
    shown_free_text(text).into_owned()
}

/// A point `share` of the way out along axis `i` of `n`, on the radar's circle.
fn radar_point(i: usize, n: usize, share: f64) -> (f64, f64) {
    let (cx, cy, r) = (130.0f64, 130.0f64, 100.0f64);
    let angle = -std::f64::consts::FRAC_PI_2 + i as f64 * std::f64::consts::TAU / n as f64;
    (cx + r * share * angle.cos(), cy + r * share * angle.sin())
}

/// One outline of the radar (the first or the latest levels): an unjudged criterion is
/// a gap in it, never a point at the centre (which would read as the lowest level).
fn radar_outline(
    rows: &[CriterionRow],
    n: usize,
    pick: &dyn Fn(&CriterionRow) -> Option<i64>,
    class: &str,
) -> Markup {
    let points: Vec<Option<(f64, f64)>> = rows
        .iter()
        .enumerate()
        .map(|(i, row)| pick(row).map(|l| radar_point(i, n, l as f64 / row.levels.max(1) as f64)))
        .collect();
    let mut path = String::new();
    for (i, here) in points.iter().enumerate() {
        let Some((x, y)) = here else { continue };
        let next = points[(i + 1) % points.len()];
        if let Some((nx, ny)) = next.filter(|_| points.len() > 1) {
            path.push_str(&format!("M{x:.1},{y:.1}L{nx:.1},{ny:.1}"));
        }
    }
    html! {
        path d=(path) class=(class) {}
        @for (x, y) in points.iter().flatten() {
            circle cx=(format!("{x:.1}")) cy=(format!("{y:.1}")) r="3" class=(class) {}
        }
    }
}

/// A radar diagram: one axis per criterion, the first levels in grey, the latest in blue.
fn radar(rows: &[CriterionRow]) -> String {
    let n = rows.len().max(3);
    let said: Vec<String> = rows
        .iter()
        .map(|row| match (&row.first, &row.latest) {
            (Some(f), Some(l)) => format!(
                "{}: first {}, latest {} of {}",
                row.title, f.0, l.0, row.levels
            ),
            _ => format!("{}: not judged yet", row.title),
        })
        .collect();
    // One ring per level, numbered up the first axis.
    let most = rows.iter().map(|r| r.levels).max().unwrap_or(4).max(1);
    let ring_points = |ring: usize| {
        (0..n)
            .map(|i| {
                let (x, y) = radar_point(i, n, ring as f64 / most as f64);
                format!("{x:.1},{y:.1}")
            })
            .collect::<Vec<_>>()
            .join(" ")
    };
    html! {
        svg class="radar" viewBox="-70 0 400 260" role="img"
            aria-label=(format!("Radar diagram, grey the first level and blue the latest: {}", said.join("; "))) {
            @for ring in 1..=most {
                @let (tx, ty) = radar_point(0, n, ring as f64 / most as f64);
                polygon points=(ring_points(ring)) class="grid" {}
                text x=(format!("{:.1}", tx + 3.0)) y=(format!("{:.1}", ty + 3.0)) class="ring" { (ring) }
            }
            @for (i, row) in rows.iter().enumerate() {
                @let (x, y) = radar_point(i, n, 1.0);
                @let (lx, ly) = radar_point(i, n, 1.18);
                line x1="130" y1="130" x2=(format!("{x:.1}")) y2=(format!("{y:.1}")) class="grid" {}
                text x=(format!("{lx:.1}")) y=(format!("{ly:.1}")) text-anchor="middle" {
                    (row.title)
                    @if row.latest.is_none() { tspan class="gap" { " (not judged yet)" } }
                }
            }
            (radar_outline(rows, n, &|r| r.first.as_ref().map(|f| f.0), "first"))
            (radar_outline(rows, n, &|r| r.latest.as_ref().map(|l| l.0), "latest"))
        }
    }
    .into_string()
}

/// The monitoring groups' aggregates, when there are any.
fn monitoring_table(report: &Report) -> Markup {
    let min = super::monitoring::MIN_GROUP;
    let titles: Vec<&str> = report
        .pupils
        .first()
        .map(|p| p.rows.iter().map(|r| r.title.as_str()).collect())
        .unwrap_or_default();
    html! {
        @if !report.monitoring.is_empty() {
            h2 { "Monitoring groups" }
            p {
                "Aggregates only: a group, or the rest of the class, of fewer than " (min)
                " pupils is not shown, nor a mean level unless at least that many pupils on \
                 each side were judged for it; and only for whole classes, never for a \
                 selection of some of a class's pupils."
            }
            table {
                tr {
                    th { "Group" } th { "Pupils" } th { "Judged (group / others)" }
                    @for title in &titles { th { (title) " (group / others)" } }
                }
                @for row in &report.monitoring {
                    tr {
                        td { (row.group) }
                        td { (row.pupils.map_or("fewer than 5".to_string(), |n| n.to_string())) }
                        td {
                            (row.participation.map_or("—".to_string(), |(g, o)| format!(
                                "{:.0} % / {:.0} %", g * 100.0, o * 100.0)))
                        }
                        @for level in &row.mean_levels {
                            td {
                                (level.map_or(
                                    if row.pupils.is_some() { "fewer than 5 judged".to_string() } else { "—".to_string() },
                                    |(g, o)| format!("{g:.1} / {o:.1}")))
                            }
                        }
                    }
                }
            }
        }
    }
}

fn audio_items(items: &[AudioItem]) -> Markup {
    html! {
        @for item in items {
            div class="rec" {
                @match &item.path {
                    Some(path) => p { (item.caption) audio controls preload="none" src=(path) {} },
                    None => p {
                        (item.caption) " "
                        strong class="missing" {
                            "missing from the library when this bundle was made (run "
                            code { "bandroom check" } ")"
                        }
                    },
                }
                @if !item.markers.is_empty() {
                    ul class="markers" { @for marker in &item.markers { li { (free(marker)) } } }
                }
            }
        }
    }
}

/// What "moved up" means, said wherever the count is shown.
pub const MOVED_UP: &str = "A pupil has moved up in a criterion when their latest level in \
    it is higher than their first, both judged by a teacher within the dates of this report \
    (a withdrawn judgement is not counted). A pupil judged only once in a criterion has not \
    moved; one whose latest level is lower is counted as moved down.";

fn overview(report: &Report) -> Markup {
    let assessed = report
        .pupils
        .iter()
        .filter(|p| p.rows.iter().any(|r| r.latest.is_some()))
        .count();
    let moved = |i: usize, up: bool| {
        report
            .pupils
            .iter()
            .filter_map(|p| p.rows.get(i))
            .filter(|r| match (&r.first, &r.latest) {
                (Some(f), Some(l)) => (up && l.0 > f.0) || (!up && l.0 < f.0),
                _ => false,
            })
            .count()
    };
    let judged = |i: usize| {
        report
            .pupils
            .iter()
            .filter_map(|p| p.rows.get(i))
            .filter(|r| r.latest.is_some())
            .count()
    };
    html! {
        h2 { "Overview" }
        p { (assessed) " of " (report.pupils.len()) " pupils have judgements in this period." }
        @if let Some(first) = report.pupils.first() {
            table {
                tr { th { "Criterion" } th { "Pupils judged" } th { "Moved up" } th { "Moved down" } }
                @for (i, row) in first.rows.iter().enumerate() {
                    tr { td { (row.title) } td { (judged(i)) } td { (moved(i, true)) } td { (moved(i, false)) } }
                }
            }
            p class="define" { (MOVED_UP) }
        }
        (class_summaries(report))
    }
}

/// Per class, per criterion: how many pupils were at each level at their first
/// judgement and at their latest, as bars a leader can read at a glance.
fn class_summaries(report: &Report) -> Markup {
    let mut classes: Vec<&str> = Vec::new();
    for pupil in &report.pupils {
        if !classes.contains(&pupil.class.as_str()) {
            classes.push(&pupil.class);
        }
    }
    html! {
        @for class in classes {
            @let pupils: Vec<&PupilSection> = report.pupils.iter().filter(|p| p.class == class).collect();
            @if let Some(first) = pupils.first() {
                h2 { (class) ": levels at the first and the latest judgement" }
                p class="sub" {
                    "Each bar counts the pupils at that level: grey at their first judgement \
                     in the period, blue at their latest."
                }
                div class="charts" {
                    @for (i, row) in first.rows.iter().enumerate() {
                        @let cells: Vec<&CriterionRow> = pupils.iter().filter_map(|p| p.rows.get(i)).collect();
                        (level_chart(row, &cells))
                    }
                }
            }
        }
    }
}

/// One criterion's bar chart: a pair of bars (first, latest) per level.
fn level_chart(criterion: &CriterionRow, cells: &[&CriterionRow]) -> Markup {
    let levels = criterion.levels.max(1);
    let mut first = vec![0usize; levels];
    let mut latest = vec![0usize; levels];
    for cell in cells {
        let slot = |level: i64| usize::try_from(level - 1).ok().filter(|i| *i < levels);
        if let Some(i) = cell.first.as_ref().and_then(|f| slot(f.0)) {
            first[i] += 1;
        }
        if let Some(i) = cell.latest.as_ref().and_then(|l| slot(l.0)) {
            latest[i] += 1;
        }
    }
    let tallest = first
        .iter()
        .chain(&latest)
        .copied()
        .max()
        .unwrap_or(0)
        .max(1);
    let (width, height, base) = (220.0f64, 120.0f64, 100.0f64);
    let slot = width / levels as f64;
    let said: Vec<String> = (0..levels)
        .map(|i| format!("level {}: {} first, {} latest", i + 1, first[i], latest[i]))
        .collect();
    html! {
        figure class="chart" {
            figcaption { (criterion.title) }
            svg viewBox=(format!("0 0 {width} {height}")) role="img"
                aria-label=(format!("{}: {}", criterion.title, said.join("; "))) {
                @for i in 0..levels {
                    @let x = i as f64 * slot;
                    @for (k, (count, class)) in [(first[i], "first"), (latest[i], "latest")].into_iter().enumerate() {
                        @let h = (base - 14.0) * count as f64 / tallest as f64;
                        @let bx = x + slot * 0.15 + k as f64 * slot * 0.35;
                        rect x=(format!("{bx:.1}")) y=(format!("{:.1}", base - h))
                            width=(format!("{:.1}", slot * 0.32)) height=(format!("{h:.1}")) class=(class) {}
                        text x=(format!("{:.1}", bx + slot * 0.16)) y=(format!("{:.1}", base - h - 2.0))
                            text-anchor="middle" { (count) }
                    }
                    text x=(format!("{:.1}", x + slot / 2.0)) y=(format!("{:.1}", base + 12.0))
                        text-anchor="middle" class="axis" { (i + 1) }
                }
            }
        }
    }
}

fn guide(report: &Report) -> Markup {
    html! {
        @if !report.guide.is_empty() {
            h2 { "Criteria and levels" }
            @for criterion in &report.guide {
                h3 { (criterion.title) " " code { (criterion.key) } }
                ol {
                    @for level in &criterion.levels {
                        @match level.split_once(": ") {
                            Some((name, words)) => li { b { (name) } ": " (words) },
                            None => li { (level) },
                        }
                    }
                }
            }
        }
    }
}

/// "3 Secure rhythm" with "of 5, 2026-11-10" beneath: the level's number and its name.
fn level_cell(row: &CriterionRow, level: i64, date: &str) -> Markup {
    let name = usize::try_from(level - 1)
        .ok()
        .and_then(|i| row.names.get(i));
    html! {
        b { (level) } @if let Some(name) = name { " " (name) } " "
        span class="sub" { "of " (row.levels) ", " (date) }
    }
}

fn pupil_section(pupil: &PupilSection, judgements: bool) -> Markup {
    html! {
        section {
            h2 { (pupil.label) }
            @if judgements {
                (PreEscaped(radar(&pupil.rows)))
                table {
                    tr { th { "Criterion" } th { "First" } th { "Latest" } th { "Comment" } }
                    @for row in &pupil.rows {
                        tr {
                            td { (row.title) }
                            td { @match &row.first { Some((l, d)) => (level_cell(row, *l, d)), None => "—" } }
                            @match &row.latest {
                                Some((l, d, c)) => { td { (level_cell(row, *l, d)) } td { (free(c)) } },
                                None => { td { "not judged yet" } td {} },
                            }
                        }
                    }
                }
            }
            (audio_items(&pupil.audio))
            @if !pupil.reflections.is_empty() {
                h3 { "In their own words" }
                @for (date, text) in &pupil.reflections {
                    blockquote { (free(text)) " " span class="sub" { "(" (date) ")" } }
                }
            }
        }
    }
}

/// The page's one stylesheet: fixed text written here, the only markup not escaped.
const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:2rem;max-width:60rem;color:#111}\
 h1{margin-bottom:0} .sub{color:#555} section{border-top:1px solid #ccc;margin-top:2rem;overflow:auto}\
 table{border-collapse:collapse} td,th{padding:.25rem .6rem;border-bottom:1px solid #eee;text-align:left}\
 .radar{width:22rem;float:right} .radar .grid{fill:none;stroke:#ccc}\
 .radar .first{fill:rgba(120,120,120,.2);stroke:#777} .radar .latest{fill:rgba(30,90,200,.25);stroke:#1e5ac8}\
 .radar text{font-size:9px} audio{display:block;margin:.3rem 0} .missing{color:#a00}\
 .markers{margin-top:0;color:#444} blockquote{border-left:3px solid #1e5ac8;margin-left:0;padding-left:.8rem}\
 .radar path.first{fill:none;stroke:#777;stroke-width:1.5} .radar path.latest{fill:none;stroke:#1e5ac8;stroke-width:2.5}\
 .radar circle.first{fill:#777} .radar circle.latest{fill:#1e5ac8} .radar .ring{fill:#888;font-size:7px}\
 .radar .gap{fill:#a00} .define{font-size:.9rem;color:#333;max-width:44rem}\
 .charts{display:flex;flex-wrap:wrap;gap:1rem} .chart{margin:0;width:15rem} .chart figcaption{font-weight:600;font-size:.9rem}\
 .chart rect.first{fill:#9a9a9a} .chart rect.latest{fill:#1e5ac8} .chart text{font-size:9px} .chart .axis{fill:#444}\
 @media print{@page{size:A4;margin:14mm} body{margin:0;max-width:none;font-size:10pt}\
 audio{display:none} .rec p{margin:.1rem 0} section{break-inside:avoid-page;border-top:1px solid #999}\
 h2,h3{break-after:avoid} table,figure,blockquote{break-inside:avoid} .radar{width:15rem}\
 a{color:inherit;text-decoration:none}}";

/// The policy makes the browser itself refuse any network load, so the page is
/// provably offline wherever it is opened.
pub(crate) const CSP: &str =
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; media-src 'self'";

pub fn render(report: &Report) -> String {
    let page = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta http-equiv="Content-Security-Policy" content=(CSP);
                title { (report.title) }
                style { (PreEscaped(STYLE)) }
            }
            body {
                h1 { (report.title) }
                p class="sub" { (report.subtitle) }
                @if report.judgements {
                    (overview(report))
                    (monitoring_table(report))
                }
                (guide(report))
                @if !report.missing.is_empty() {
                    h2 class="missing" { "Recordings missing from the library" }
                    ul { @for name in &report.missing { li { (name) } } }
                }
                @for take in &report.takes {
                    section {
                        h2 { (take.caption) }
                        p { "Played by: " (take.performers.join(", ")) }
                        (audio_items(&take.audio))
                    }
                }
                @for pupil in &report.pupils {
                    (pupil_section(pupil, report.judgements))
                }
            }
        }
    };
    let mut out = page.into_string();
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(title: &str, first: Option<i64>, latest: Option<i64>) -> CriterionRow {
        CriterionRow {
            title: title.into(),
            levels: 5,
            names: ["Finding", "Keeping", "Secure", "Independent", "Leading"]
                .map(String::from)
                .to_vec(),
            first: first.map(|l| (l, "2026-09-10".into())),
            latest: latest.map(|l| (l, "2026-11-10".into(), String::new())),
        }
    }

    #[test]
    fn an_unjudged_criterion_is_a_gap_in_the_radar_not_a_point_at_the_centre() {
        let svg = radar(&[
            row("Pulse", Some(2), Some(4)),
            row("Ensemble", None, None),
            row("Accuracy", Some(3), Some(3)),
        ]);
        assert!(svg.contains("Ensemble: not judged yet"), "{svg}");
        assert!(svg.contains("Ensemble<tspan class=\"gap\"> (not judged yet)"));
        // The centre is (130, 130): no outline reaches it.
        assert!(!svg.contains("130.0,130.0"), "{svg}");
        assert!(!svg.contains("cx=\"130.0\" cy=\"130.0\""), "{svg}");
        // Two judged points per outline, joined only where neighbours are both judged.
        assert_eq!(svg.matches("<circle").count(), 4);
        // Five numbered rings, one per level.
        assert_eq!(svg.matches("class=\"ring\"").count(), 5);
    }

    #[test]
    fn the_report_names_each_level_and_says_what_moving_up_means() {
        let pupil = |label: &str, first: Option<i64>, latest: Option<i64>| PupilSection {
            label: label.into(),
            class: "8B".into(),
            rows: vec![row("Pulse", first, latest)],
            audio: Vec::new(),
            reflections: Vec::new(),
        };
        let report = Report {
            title: "8B".into(),
            judgements: true,
            pupils: vec![
                pupil("A", Some(2), Some(4)),
                pupil("B", Some(3), Some(3)),
                pupil("C", Some(4), Some(2)),
                pupil("D", None, None),
            ],
            ..Report::default()
        };
        let html = render(&report);
        assert!(
            html.contains("<b>4</b> Independent <span class=\"sub\">of 5, 2026-11-10</span>"),
            "{html}"
        );
        assert!(html.contains(&escape(MOVED_UP)));
        assert!(
            html.contains("<tr><td>Pulse</td><td>3</td><td>1</td><td>1</td></tr>"),
            "{html}"
        );
        // The chart: level 2, one first (C's is 4, A's is 2) and one latest (C's).
        assert!(html.contains("level 2: 1 first, 1 latest"), "{html}");
        assert!(html.contains("level 4: 1 first, 1 latest"), "{html}");
        assert!(html.contains("level 3: 1 first, 1 latest"), "{html}");
        assert!(html.contains("@media print"));
    }

    #[test]
    fn every_value_is_escaped_and_controls_never_reach_the_page() {
        let nasty = "<script>alert(1)</script>\u{1b}[2J\u{202e}gnp.exe";
        let report = Report {
            title: nasty.into(),
            subtitle: nasty.into(),
            judgements: true,
            pupils: vec![PupilSection {
                label: nasty.into(),
                class: nasty.into(),
                rows: vec![CriterionRow {
                    latest: Some((2, "2026-11-10".into(), nasty.into())),
                    ..row(nasty, Some(1), None)
                }],
                audio: vec![AudioItem {
                    caption: nasty.into(),
                    path: Some("a\"onload=\"x.wav".into()),
                    markers: vec![nasty.into()],
                }],
                reflections: vec![("2026-11-10".into(), nasty.into())],
            }],
            ..Report::default()
        };
        let html = render(&report);
        assert!(!html.contains("<script>"), "{html}");
        assert!(!html.contains("\"onload"), "{html}");
        // Free text loses ESC and the direction override; names and captions are
        // escaped text, and CSP keeps any script from running.
        let comment_at = html
            .find("<td>&lt;script&gt;alert(1)&lt;/script&gt;[2J")
            .unwrap();
        assert!(!html[comment_at..comment_at + 60].contains('\u{1b}'));
        assert!(!html.contains("<blockquote>&lt;script&gt;alert(1)&lt;/script&gt;\u{1b}"));
    }
}
