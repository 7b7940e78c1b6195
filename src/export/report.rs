//! `report.html`: one self-contained page (inline CSS and SVG, no scripts, no network)
//! that works from a USB stick: an overview for leaders, then one section per pupil
//! with a radar diagram (first and latest level per criterion), the judgements behind
//! it and audio players for the evidence.
//!
//! Must not read the library or files: it renders the values it is given.

use std::fmt::Write;

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

pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// A radar diagram: one axis per criterion, the first levels in grey, the latest in blue.
fn radar(rows: &[CriterionRow]) -> String {
    let n = rows.len().max(3);
    let (cx, cy, r) = (130.0f64, 130.0f64, 100.0f64);
    let point = |i: usize, share: f64| {
        let angle = -std::f64::consts::FRAC_PI_2 + i as f64 * std::f64::consts::TAU / n as f64;
        (cx + r * share * angle.cos(), cy + r * share * angle.sin())
    };
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
    let mut svg = format!(
        "<svg class=\"radar\" viewBox=\"-70 0 400 260\" role=\"img\" aria-label=\"Radar \
         diagram, grey the first level and blue the latest: {}\">",
        escape(&said.join("; "))
    );
    // One ring per level, numbered up the first axis.
    let most = rows.iter().map(|r| r.levels).max().unwrap_or(4).max(1);
    for ring in 1..=most {
        let share = ring as f64 / most as f64;
        let pts: Vec<String> = (0..n)
            .map(|i| {
                let (x, y) = point(i, share);
                format!("{x:.1},{y:.1}")
            })
            .collect();
        let (tx, ty) = point(0, share);
        let _ = write!(
            svg,
            "<polygon points=\"{}\" class=\"grid\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\" class=\"ring\">{ring}</text>",
            pts.join(" "),
            tx + 3.0,
            ty + 3.0
        );
    }
    for (i, row) in rows.iter().enumerate() {
        let (x, y) = point(i, 1.0);
        let (lx, ly) = point(i, 1.18);
        let unjudged = if row.latest.is_none() {
            "<tspan class=\"gap\"> (not judged yet)</tspan>"
        } else {
            ""
        };
        let _ = write!(
            svg,
            "<line x1=\"{cx}\" y1=\"{cy}\" x2=\"{x:.1}\" y2=\"{y:.1}\" class=\"grid\"/>\
             <text x=\"{lx:.1}\" y=\"{ly:.1}\" text-anchor=\"middle\">{}{unjudged}</text>",
            escape(&row.title)
        );
    }
    // An unjudged criterion is a gap in the outline, never a point at the centre (which
    // would read as the lowest level).
    let outline = |pick: &dyn Fn(&CriterionRow) -> Option<i64>, class: &str| {
        let points: Vec<Option<(f64, f64)>> = rows
            .iter()
            .enumerate()
            .map(|(i, row)| pick(row).map(|l| point(i, l as f64 / row.levels.max(1) as f64)))
            .collect();
        let mut path = String::new();
        let mut dots = String::new();
        for (i, here) in points.iter().enumerate() {
            let Some((x, y)) = here else { continue };
            let _ = write!(
                dots,
                "<circle cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"3\" class=\"{class}\"/>"
            );
            let next = points[(i + 1) % points.len()];
            if let Some((nx, ny)) = next.filter(|_| points.len() > 1) {
                let _ = write!(path, "M{x:.1},{y:.1}L{nx:.1},{ny:.1}");
            }
        }
        format!("<path d=\"{path}\" class=\"{class}\"/>{dots}")
    };
    svg.push_str(&outline(&|r| r.first.as_ref().map(|f| f.0), "first"));
    svg.push_str(&outline(&|r| r.latest.as_ref().map(|l| l.0), "latest"));
    svg.push_str("</svg>");
    svg
}

/// The monitoring groups' aggregates, when there are any.
fn monitoring_table(html: &mut String, report: &Report) {
    if report.monitoring.is_empty() {
        return;
    }
    let _ = write!(
        html,
        "<h2>Monitoring groups</h2><p>Aggregates only: a group, or the rest of the class, \
         of fewer than {} pupils is not shown, nor a mean level unless at least that many pupils \
         on each side were judged for it.</p><table><tr><th>Group</th><th>Pupils</th>\
         <th>Judged (group / others)</th>",
        super::monitoring::MIN_GROUP
    );
    let titles: Vec<&str> = report
        .pupils
        .first()
        .map(|p| p.rows.iter().map(|r| r.title.as_str()).collect())
        .unwrap_or_default();
    for title in &titles {
        let _ = write!(html, "<th>{} (group / others)</th>", escape(title));
    }
    html.push_str("</tr>");
    for row in &report.monitoring {
        let _ = write!(
            html,
            "<tr><td>{}</td><td>{}</td><td>{}</td>",
            escape(&row.group),
            row.pupils
                .map_or("fewer than 5".to_string(), |n| n.to_string()),
            row.participation.map_or("—".to_string(), |(g, o)| format!(
                "{:.0} % / {:.0} %",
                g * 100.0,
                o * 100.0
            ))
        );
        for level in &row.mean_levels {
            let _ = write!(
                html,
                "<td>{}</td>",
                level.map_or(
                    if row.pupils.is_some() {
                        "fewer than 5 judged".to_string()
                    } else {
                        "—".to_string()
                    },
                    |(g, o)| format!("{g:.1} / {o:.1}")
                )
            );
        }
        html.push_str("</tr>");
    }
    html.push_str("</table>");
}

fn audio_items(html: &mut String, items: &[AudioItem]) {
    for item in items {
        match &item.path {
            Some(path) => {
                let _ = write!(
                    html,
                    "<div class=\"rec\"><p>{}<audio controls preload=\"none\" src=\"{}\"></audio></p>",
                    escape(&item.caption),
                    escape(path)
                );
            }
            None => {
                let _ = write!(
                    html,
                    "<div class=\"rec\"><p>{} <strong class=\"missing\">missing from the library \
                     when this bundle was made (run <code>bandroom check</code>)</strong></p>",
                    escape(&item.caption)
                );
            }
        }
        if !item.markers.is_empty() {
            html.push_str("<ul class=\"markers\">");
            for marker in &item.markers {
                let _ = write!(html, "<li>{}</li>", escape(marker));
            }
            html.push_str("</ul>");
        }
        html.push_str("</div>");
    }
}

/// What "moved up" means, said wherever the count is shown.
pub const MOVED_UP: &str = "A pupil has moved up in a criterion when their latest level in \
    it is higher than their first, both judged by a teacher within the dates of this report \
    (a withdrawn judgement is not counted). A pupil judged only once in a criterion has not \
    moved; one whose latest level is lower is counted as moved down.";

fn overview(html: &mut String, report: &Report) {
    let assessed = report
        .pupils
        .iter()
        .filter(|p| p.rows.iter().any(|r| r.latest.is_some()))
        .count();
    let _ = write!(
        html,
        "<h2>Overview</h2><p>{assessed} of {} pupils have judgements in this period.</p>",
        report.pupils.len()
    );
    if let Some(first) = report.pupils.first() {
        html.push_str(
            "<table><tr><th>Criterion</th><th>Pupils judged</th>\
             <th>Moved up</th><th>Moved down</th></tr>",
        );
        for (i, row) in first.rows.iter().enumerate() {
            let rows = report.pupils.iter().filter_map(|p| p.rows.get(i));
            let judged = rows.clone().filter(|r| r.latest.is_some()).count();
            let moved = |up: bool| {
                rows.clone()
                    .filter(|r| match (&r.first, &r.latest) {
                        (Some(f), Some(l)) => (up && l.0 > f.0) || (!up && l.0 < f.0),
                        _ => false,
                    })
                    .count()
            };

            let _ = write!(
                html,
                "<tr><td>{}</td><td>{judged}</td><td>{}</td><td>{}</td></tr>",
                escape(&row.title),
                moved(true),
                moved(false)
            );
        }
        let _ = write!(html, "</table><p class=\"define\">{}</p>", escape(MOVED_UP));
    }
    class_summaries(html, report);
}

/// Per class, per criterion: how many pupils were at each level at their first
/// judgement and at their latest, as bars a leader can read at a glance.
fn class_summaries(html: &mut String, report: &Report) {
    let mut classes: Vec<&str> = report.pupils.iter().map(|p| p.class.as_str()).collect();
    classes.dedup();
    let mut seen = Vec::new();
    for class in classes {
        if seen.contains(&class) {
            continue;
        }
        seen.push(class);
        let pupils: Vec<&PupilSection> =
            report.pupils.iter().filter(|p| p.class == class).collect();
        let Some(first) = pupils.first() else {
            continue;
        };
        let _ = write!(
            html,
            "<h2>{}: levels at the first and the latest judgement</h2>\
             <p class=\"sub\">Each bar counts the pupils at that level: grey at their first \
             judgement in the period, blue at their latest.</p><div class=\"charts\">",
            escape(class)
        );
        for (i, row) in first.rows.iter().enumerate() {
            let cells: Vec<&CriterionRow> = pupils.iter().filter_map(|p| p.rows.get(i)).collect();
            html.push_str(&level_chart(row, &cells));
        }
        html.push_str("</div>");
    }
}

/// One criterion's bar chart: a pair of bars (first, latest) per level.
fn level_chart(criterion: &CriterionRow, cells: &[&CriterionRow]) -> String {
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
    let mut svg = format!(
        "<figure class=\"chart\"><figcaption>{}</figcaption>\
         <svg viewBox=\"0 0 {width} {height}\" role=\"img\" aria-label=\"{}: {}\">",
        escape(&criterion.title),
        escape(&criterion.title),
        escape(&said.join("; "))
    );
    for i in 0..levels {
        let x = i as f64 * slot;
        for (k, (count, class)) in [(first[i], "first"), (latest[i], "latest")]
            .into_iter()
            .enumerate()
        {
            let h = (base - 14.0) * count as f64 / tallest as f64;
            let bx = x + slot * 0.15 + k as f64 * slot * 0.35;
            let _ = write!(
                svg,
                "<rect x=\"{bx:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{h:.1}\" class=\"{class}\"/>\
                 <text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{count}</text>",
                base - h,
                slot * 0.32,
                bx + slot * 0.16,
                base - h - 2.0
            );
        }
        let _ = write!(
            svg,
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" class=\"axis\">{}</text>",
            x + slot / 2.0,
            base + 12.0,
            i + 1
        );
    }
    svg.push_str("</svg></figure>");
    svg
}

fn guide(html: &mut String, report: &Report) {
    if report.guide.is_empty() {
        return;
    }
    html.push_str("<h2>Criteria and levels</h2>");
    for criterion in &report.guide {
        let _ = write!(
            html,
            "<h3>{} <code>{}</code></h3><ol>",
            escape(&criterion.title),
            escape(&criterion.key)
        );
        for level in &criterion.levels {
            match level.split_once(": ") {
                Some((name, words)) => {
                    let _ = write!(html, "<li><b>{}</b>: {}</li>", escape(name), escape(words));
                }
                None => {
                    let _ = write!(html, "<li>{}</li>", escape(level));
                }
            }
        }
        html.push_str("</ol>");
    }
}

/// "3 Secure rhythm" with "of 5, 2026-11-10" beneath: the level's number and its name.
fn level_cell(row: &CriterionRow, level: i64, date: &str) -> String {
    let name = usize::try_from(level - 1)
        .ok()
        .and_then(|i| row.names.get(i))
        .map_or(String::new(), |n| format!(" {}", escape(n)));
    format!(
        "<b>{level}</b>{name} <span class=\"sub\">of {}, {}</span>",
        row.levels,
        escape(date)
    )
}

fn pupil_section(html: &mut String, pupil: &PupilSection, judgements: bool) {
    let _ = write!(html, "<section><h2>{}</h2>", escape(&pupil.label));
    if judgements {
        html.push_str(&radar(&pupil.rows));
        html.push_str(
            "<table><tr><th>Criterion</th><th>First</th><th>Latest</th><th>Comment</th></tr>",
        );
        for row in &pupil.rows {
            let first = row
                .first
                .as_ref()
                .map_or("—".to_string(), |(l, d)| level_cell(row, *l, d));
            let (latest, comment) = row.latest.as_ref().map_or(
                ("not judged yet".to_string(), String::new()),
                |(l, d, c)| (level_cell(row, *l, d), escape(c)),
            );
            let _ = write!(
                html,
                "<tr><td>{}</td><td>{first}</td><td>{latest}</td><td>{comment}</td></tr>",
                escape(&row.title)
            );
        }
        html.push_str("</table>");
    }
    audio_items(html, &pupil.audio);
    if !pupil.reflections.is_empty() {
        html.push_str("<h3>In their own words</h3>");
        for (date, text) in &pupil.reflections {
            let _ = write!(
                html,
                "<blockquote>{} <span class=\"sub\">({})</span></blockquote>",
                escape(text),
                escape(date)
            );
        }
    }
    html.push_str("</section>");
}

pub fn render(report: &Report) -> String {
    let mut html = String::new();
    // The policy makes the browser itself refuse any network load, so the page is
    // provably offline wherever it is opened.
    let _ = write!(
        html,
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; \
         style-src 'unsafe-inline'; img-src data:; media-src 'self'\">\
         <title>{title}</title><style>\
         body{{font-family:system-ui,sans-serif;margin:2rem;max-width:60rem;color:#111}}\
         h1{{margin-bottom:0}} .sub{{color:#555}} section{{border-top:1px solid #ccc;margin-top:2rem;overflow:auto}}\
         table{{border-collapse:collapse}} td,th{{padding:.25rem .6rem;border-bottom:1px solid #eee;text-align:left}}\
         .radar{{width:22rem;float:right}} .radar .grid{{fill:none;stroke:#ccc}}\
         .radar .first{{fill:rgba(120,120,120,.2);stroke:#777}} .radar .latest{{fill:rgba(30,90,200,.25);stroke:#1e5ac8}}\
         .radar text{{font-size:9px}} audio{{display:block;margin:.3rem 0}} .missing{{color:#a00}}\
         .markers{{margin-top:0;color:#444}} blockquote{{border-left:3px solid #1e5ac8;margin-left:0;padding-left:.8rem}}\
         .radar path.first{{fill:none;stroke:#777;stroke-width:1.5}} .radar path.latest{{fill:none;stroke:#1e5ac8;stroke-width:2.5}}\
         .radar circle.first{{fill:#777}} .radar circle.latest{{fill:#1e5ac8}} .radar .ring{{fill:#888;font-size:7px}}\
         .radar .gap{{fill:#a00}} .define{{font-size:.9rem;color:#333;max-width:44rem}}\
         .charts{{display:flex;flex-wrap:wrap;gap:1rem}} .chart{{margin:0;width:15rem}} .chart figcaption{{font-weight:600;font-size:.9rem}}\
         .chart rect.first{{fill:#9a9a9a}} .chart rect.latest{{fill:#1e5ac8}} .chart text{{font-size:9px}} .chart .axis{{fill:#444}}\
         @media print{{@page{{size:A4;margin:14mm}} body{{margin:0;max-width:none;font-size:10pt}}\
         audio{{display:none}} .rec p{{margin:.1rem 0}} section{{break-inside:avoid-page;border-top:1px solid #999}}\
         h2,h3{{break-after:avoid}} table,figure,blockquote{{break-inside:avoid}} .radar{{width:15rem}}\
         a{{color:inherit;text-decoration:none}}}}\
         </style></head><body><h1>{title}</h1><p class=\"sub\">{sub}</p>",
        title = escape(&report.title),
        sub = escape(&report.subtitle),
    );
    if report.judgements {
        overview(&mut html, report);
        monitoring_table(&mut html, report);
    }
    guide(&mut html, report);
    if !report.missing.is_empty() {
        html.push_str("<h2 class=\"missing\">Recordings missing from the library</h2><ul>");
        for name in &report.missing {
            let _ = write!(html, "<li>{}</li>", escape(name));
        }
        html.push_str("</ul>");
    }
    for take in &report.takes {
        let _ = write!(
            html,
            "<section><h2>{}</h2><p>Played by: {}</p>",
            escape(&take.caption),
            escape(&take.performers.join(", "))
        );
        audio_items(&mut html, &take.audio);
        html.push_str("</section>");
    }
    for pupil in &report.pupils {
        pupil_section(&mut html, pupil, report.judgements);
    }
    html.push_str("</body></html>\n");
    html
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
        assert!(html.contains("<b>4</b> Independent <span class=\"sub\">of 5, 2026-11-10</span>"));
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
}
