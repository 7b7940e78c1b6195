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
    let mut svg = String::from(
        "<svg class=\"radar\" viewBox=\"-70 0 400 260\" role=\"img\" aria-label=\"radar diagram\">",
    );
    for ring in 1..=4 {
        let pts: Vec<String> = (0..n)
            .map(|i| {
                let (x, y) = point(i, f64::from(ring) / 4.0);
                format!("{x:.1},{y:.1}")
            })
            .collect();
        let _ = write!(
            svg,
            "<polygon points=\"{}\" class=\"grid\"/>",
            pts.join(" ")
        );
    }
    for (i, row) in rows.iter().enumerate() {
        let (x, y) = point(i, 1.0);
        let (lx, ly) = point(i, 1.18);
        let _ = write!(
            svg,
            "<line x1=\"{cx}\" y1=\"{cy}\" x2=\"{x:.1}\" y2=\"{y:.1}\" class=\"grid\"/>\
             <text x=\"{lx:.1}\" y=\"{ly:.1}\" text-anchor=\"middle\">{}</text>",
            escape(&row.title)
        );
    }
    let outline = |pick: &dyn Fn(&CriterionRow) -> Option<i64>, class: &str| {
        let pts: Vec<String> = rows
            .iter()
            .enumerate()
            .map(|(i, row)| {
                let share = pick(row).map_or(0.0, |l| l as f64 / row.levels.max(1) as f64);
                let (x, y) = point(i, share);
                format!("{x:.1},{y:.1}")
            })
            .collect();
        format!("<polygon points=\"{}\" class=\"{class}\"/>", pts.join(" "))
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
            "<table><tr><th>Criterion</th><th>Pupils judged</th><th>Pupils who moved up</th></tr>",
        );
        for (i, row) in first.rows.iter().enumerate() {
            let rows = report.pupils.iter().filter_map(|p| p.rows.get(i));
            let judged = rows.clone().filter(|r| r.latest.is_some()).count();
            let improved = rows
                .filter(|r| matches!((&r.first, &r.latest), (Some(f), Some(l)) if l.0 > f.0))
                .count();
            let _ = write!(
                html,
                "<tr><td>{}</td><td>{judged}</td><td>{improved}</td></tr>",
                escape(&row.title)
            );
        }
        html.push_str("</table>");
    }
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
            let _ = write!(html, "<li>{}</li>", escape(level));
        }
        html.push_str("</ol>");
    }
}

fn pupil_section(html: &mut String, pupil: &PupilSection, judgements: bool) {
    let _ = write!(html, "<section><h2>{}</h2>", escape(&pupil.label));
    if judgements {
        html.push_str(&radar(&pupil.rows));
        html.push_str(
            "<table><tr><th>Criterion</th><th>First</th><th>Latest</th><th>Comment</th></tr>",
        );
        for row in &pupil.rows {
            let first = row.first.as_ref().map_or("—".to_string(), |(l, d)| {
                format!("{l}/{} ({})", row.levels, escape(d))
            });
            let (latest, comment) = row
                .latest
                .as_ref()
                .map_or(("—".to_string(), String::new()), |(l, d, c)| {
                    (format!("{l}/{} ({})", row.levels, escape(d)), escape(c))
                });
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
