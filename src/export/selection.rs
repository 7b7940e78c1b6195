//! What goes into a bundle of each kind: which recordings (as jobs for `bundle` to
//! write), the report's sections, the CSV sheets and the audit wording. Pupils are
//! named by their pseudonym wherever one is wanted (always in moderation packs), in
//! file names, the report and the sheets, and inside comments and reflections.
//! A pupil flagged "do not share" is left out of lesson bundles, the one kind that is
//! not assessment evidence.
//!
//! Must not write files.

use super::bundle::{AudioJob, BundleKind, ExportError, ExportRequest};
use super::monitoring::{PupilLevels, summarise};
use super::report::{AudioItem, CriterionGuide, CriterionRow, PupilSection, Report, TakeSection};
use crate::library::{
    ClassGrid, EvidencePick, Library, PupilSummary, TakeFilter, TakeSummary, TrackSummary,
};
use crate::name_scrubber::NameScrubber;
use std::collections::{BTreeMap, HashMap, HashSet};

pub struct Plan {
    pub report: Report,
    pub jobs: Vec<AudioJob>,
    /// (file name, rows with the header first).
    pub sheets: Vec<(String, Vec<Vec<String>>)>,
    pub pupils: usize,
    pub judgements: usize,
    pub parameters: BTreeMap<String, String>,
    pub pseudonymised: bool,
    /// The selection in words for the audit log (ids, never names).
    pub audit_selection: String,
    pub empty_reason: String,
}

pub(crate) fn safe_name(text: &str) -> String {
    let cleaned: String = text
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect();
    // A file name may hold 255 bytes: a long name in a four-byte script must still fit.
    crate::own_files::truncate_to_bytes(cleaned.trim_matches('-'), 120)
        .trim_end_matches('-')
        .to_string()
}

/// How pupils are named in this bundle.
struct Naming {
    pseudonymise: bool,
    labels: HashMap<i64, String>,
    /// Finds names in free text, when any must be hidden.
    scrubber: Option<NameScrubber>,
}

impl Naming {
    fn label(&self, pupil: i64) -> String {
        self.labels
            .get(&pupil)
            .cloned()
            .unwrap_or_else(|| format!("#{pupil}"))
    }

    /// Free text with every name that must not appear replaced: in a pseudonymised
    /// bundle every pupil of the library (by their code when they are in it), and in a
    /// lesson bundle the pupils who are not to be shared.
    fn hide(&self, text: &str) -> String {
        match &self.scrubber {
            Some(scrubber) => scrubber.scrub(text),
            None => text.to_string(),
        }
    }
}

/// What a name hidden in free text becomes when it is not a pupil of the bundle.
const HIDDEN_PUPIL: &str = "[pupil]";

/// The classes and pupils a request covers, each pupil once (in their first class).
struct Scope {
    classes: Vec<(i64, String)>,
    pupils: Vec<(i64, PupilSummary)>,
    naming: Naming,
}

fn scope(
    lib: &mut Library,
    request: &ExportRequest,
    pseudonymise: bool,
) -> Result<Scope, ExportError> {
    let all_classes = lib.classes()?;
    let mut class_ids = request.classes.clone();
    if class_ids.is_empty() {
        let everyone = lib.pupils(None)?;
        for pupil in everyone.iter().filter(|p| request.pupils.contains(&p.id)) {
            for name in &pupil.classes {
                let id = lib.class_id(name)?;
                if !class_ids.contains(&id) {
                    class_ids.push(id);
                }
            }
        }
    }
    if class_ids.is_empty() {
        return Err(ExportError::Invalid(
            "name a class (--class) or pupils (--pupil) to export".into(),
        ));
    }
    let mut classes = Vec::new();
    let mut pupils: Vec<(i64, PupilSummary)> = Vec::new();
    let mut seen = HashSet::new();
    for id in class_ids {
        let name = all_classes
            .iter()
            .find(|c| c.id == id)
            .map(|c| c.name.clone())
            .ok_or_else(|| ExportError::Invalid(format!("no class #{id}")))?;
        for pupil in lib.pupils(Some(id))? {
            if (request.pupils.is_empty() || request.pupils.contains(&pupil.id))
                && seen.insert(pupil.id)
            {
                pupils.push((id, pupil));
            }
        }
        classes.push((id, name));
    }
    let mut labels = HashMap::new();
    for (_, pupil) in &pupils {
        let label = if pseudonymise {
            lib.pseudonym(pupil.id)?
        } else {
            pupil.name.clone()
        };
        labels.insert(pupil.id, label);
    }
    // A pseudonymised list in the order of real names would give the codes away.
    if pseudonymise {
        pupils.sort_by(|a, b| labels.get(&a.1.id).cmp(&labels.get(&b.1.id)));
    }
    let everyone = lib.pupils(None)?;
    let hidden: Vec<(&str, &str)> = everyone
        .iter()
        .filter_map(|p| {
            if pseudonymise {
                Some((
                    p.name.as_str(),
                    labels.get(&p.id).map_or(HIDDEN_PUPIL, String::as_str),
                ))
            } else if request.kind == BundleKind::Lesson && p.do_not_share {
                Some((p.name.as_str(), HIDDEN_PUPIL))
            } else {
                None
            }
        })
        .collect();
    let scrubber = (!hidden.is_empty()).then(|| NameScrubber::new(hidden, HIDDEN_PUPIL));
    Ok(Scope {
        classes,
        pupils,
        naming: Naming {
            pseudonymise,
            labels,
            scrubber,
        },
    })
}

fn wanted_criterion(request: &ExportRequest, key: &str, title: &str) -> bool {
    request.criteria.is_empty()
        || request
            .criteria
            .iter()
            .any(|c| c.eq_ignore_ascii_case(key) || c.eq_ignore_ascii_case(title))
}

fn in_period(request: &ExportRequest, at: &str) -> bool {
    let day = &at[..at.len().min(10)];
    day >= request.from.as_str() && day <= request.to.as_str()
}

fn take_day(take: &TakeSummary) -> &str {
    &take.recorded_at[..take.recorded_at.len().min(10)]
}

fn markers(lib: &Library, take: &TakeSummary, naming: &Naming) -> Result<Vec<String>, ExportError> {
    let rate = f64::from(take.sample_rate_hz.max(1));
    Ok(lib
        .markers(take.id)?
        .into_iter()
        .map(|(frame, text, _)| {
            format!(
                "{} {}",
                crate::time_text::clock(frame as f64 / rate),
                naming.hide(&text)
            )
        })
        .collect())
}

fn track_caption(take: &TakeSummary, track: &TrackSummary) -> String {
    let part = track
        .performers
        .iter()
        .find_map(|p| p.part.clone())
        .map(|p| format!(", {p}"))
        .unwrap_or_default();
    format!(
        "Take {} of {}: track {}{part}",
        take.id,
        take_day(take),
        track.number
    )
}

/// Jobs and report items for a take: the tracks `keep` selects and, when asked, the mix.
/// Recordings a browser can play; a keyboard's `.mid` track stays in the library.
fn is_audio(file: &str) -> bool {
    file.to_ascii_lowercase().ends_with(".wav")
}

struct TakeAudio<'a> {
    lib: &'a Library,
    jobs: &'a mut Vec<AudioJob>,
    mixes: &'a mut HashSet<i64>,
}

impl TakeAudio<'_> {
    fn track(
        &mut self,
        take: &TakeSummary,
        track: &TrackSummary,
        folder: &str,
        markers: &[String],
    ) -> AudioItem {
        let stem = format!(
            "audio/{folder}/{}-take-{}-track-{}",
            take_day(take),
            take.id,
            track.number
        );
        let caption = track_caption(take, track);
        if !self.jobs.iter().any(|j| j.stem == stem) {
            self.jobs.push(AudioJob {
                sources: vec![self.lib.take_folder(take).join(&track.file)],
                mix: false,
                stem: stem.clone(),
                caption: caption.clone(),
            });
        }
        AudioItem {
            caption,
            path: Some(stem),
            markers: markers.to_vec(),
        }
    }

    /// A pupil's own tracks of a take, then the take's mix.
    fn pupil_take(
        &mut self,
        take: &TakeSummary,
        pupil: i64,
        folder: &str,
        markers: &[String],
    ) -> Vec<AudioItem> {
        let mut items: Vec<AudioItem> = take
            .tracks
            .iter()
            .filter(|t| t.performers.iter().any(|p| p.pupil_id == pupil))
            .filter(|t| is_audio(&t.file))
            .map(|track| self.track(take, track, folder, markers))
            .collect();
        items.extend(self.mix(take));
        items
    }

    fn mix(&mut self, take: &TakeSummary) -> Option<AudioItem> {
        if !take.tracks.iter().any(|t| is_audio(&t.file)) {
            return None;
        }
        let stem = format!("audio/mixes/{}-take-{}-mix", take_day(take), take.id);
        let caption = format!("Take {} of {}: the whole ensemble", take.id, take_day(take));
        if self.mixes.insert(take.id) {
            let folder = self.lib.take_folder(take);
            self.jobs.push(AudioJob {
                sources: take
                    .tracks
                    .iter()
                    .filter(|t| is_audio(&t.file))
                    .map(|t| folder.join(&t.file))
                    .collect(),
                mix: true,
                stem: stem.clone(),
                caption: caption.clone(),
            });
        }
        Some(AudioItem {
            caption,
            path: Some(stem),
            markers: Vec::new(),
        })
    }
}

fn base_plan(request: &ExportRequest, scope: &Scope) -> Plan {
    let mut parameters = BTreeMap::new();
    let classes: Vec<String> = scope
        .classes
        .iter()
        .map(|(id, name)| {
            if scope.naming.pseudonymise {
                format!("#{id}")
            } else {
                name.clone()
            }
        })
        .collect();
    parameters.insert("classes".into(), classes.join(", "));
    if !request.criteria.is_empty() {
        parameters.insert("criteria".into(), request.criteria.join(", "));
    }
    if !request.pupils.is_empty() {
        parameters.insert("pupils".into(), request.pupils.len().to_string());
    }
    let class_ids: Vec<String> = scope
        .classes
        .iter()
        .map(|(id, _)| format!("#{id}"))
        .collect();
    let pupil_ids: Vec<String> = request.pupils.iter().map(|id| format!("#{id}")).collect();
    Plan {
        report: Report::default(),
        jobs: Vec::new(),
        sheets: Vec::new(),
        pupils: scope.pupils.len(),
        judgements: 0,
        parameters,
        pseudonymised: scope.naming.pseudonymise,
        audit_selection: format!(
            "classes {}{}{}",
            class_ids.join(" "),
            if pupil_ids.is_empty() {
                String::new()
            } else {
                format!(", pupils {}", pupil_ids.join(" "))
            },
            if request.criteria.is_empty() {
                String::new()
            } else {
                format!(", criteria {}", request.criteria.join(" "))
            }
        ),
        empty_reason: String::new(),
    }
}

fn title(scope: &Scope, what: &str) -> String {
    let names: Vec<&str> = scope.classes.iter().map(|(_, n)| n.as_str()).collect();
    format!("{}: {what}", names.join(", "))
}

fn subtitle(request: &ExportRequest, pseudonymised: bool, extra: &str) -> String {
    let period = if request.from.as_str() <= "2000-01-01" && request.to.as_str() >= "2999-12-31" {
        "All dates".to_string()
    } else {
        format!("From {} to {}", request.from, request.to)
    };
    format!(
        "{period}{}{extra}; exported by bandroom {}",
        if pseudonymised {
            ", pupils pseudonymised"
        } else {
            ""
        },
        env!("CARGO_PKG_VERSION")
    )
}

pub fn plan(lib: &mut Library, request: &ExportRequest) -> Result<Plan, ExportError> {
    match request.kind {
        BundleKind::Progress => plan_progress(lib, request),
        BundleKind::Lesson => plan_lesson(lib, request),
        BundleKind::Moderation => plan_moderation(lib, request),
    }
}

/// The class's criteria the request wants, with their positions in the grid.
fn criteria_of(request: &ExportRequest, grid: &ClassGrid) -> Vec<(usize, String, String, usize)> {
    grid.criteria
        .iter()
        .enumerate()
        .filter(|(_, (key, title, _))| wanted_criterion(request, key, title))
        .map(|(i, (key, title, levels))| (i, key.clone(), title.clone(), *levels))
        .collect()
}

fn picks_for(
    lib: &Library,
    request: &ExportRequest,
    class: i64,
    criteria: &[(usize, String, String, usize)],
) -> Result<Vec<EvidencePick>, ExportError> {
    Ok(lib
        .evidence_selection(class, &request.from, &request.to)?
        .into_iter()
        .filter(|p| criteria.iter().any(|c| c.1 == p.criterion))
        .collect())
}

fn plan_progress(lib: &mut Library, request: &ExportRequest) -> Result<Plan, ExportError> {
    let scope = scope(lib, request, request.pseudonymise)?;
    let mut plan = base_plan(request, &scope);
    plan.empty_reason = "no pupil in the selection has judgements in the period".into();
    plan.report.judgements = true;
    plan.report.title = title(&scope, "progress in music");
    plan.report.subtitle = subtitle(request, scope.naming.pseudonymise, "");
    let mut csv = vec![
        [
            "pupil",
            "class",
            "criterion",
            "level",
            "date",
            "assessor",
            "take",
            "comment",
        ]
        .map(String::from)
        .to_vec(),
    ];
    let mut mixes = HashSet::new();
    let mut monitoring = Vec::new();
    let mut shapes = HashSet::new();
    let several = scope.classes.len() > 1;
    for (class, class_name) in &scope.classes {
        let grid = lib.class_grid(*class)?;
        let criteria = criteria_of(request, &grid);
        shapes.insert(criteria.iter().map(|c| c.1.clone()).collect::<Vec<_>>());
        let picks = picks_for(lib, request, *class, &criteria)?;
        for (_, pupil) in scope.pupils.iter().filter(|(c, _)| c == class) {
            let label = scope.naming.label(pupil.id);
            let judged: Vec<_> = lib
                .assessments(pupil.id)?
                .into_iter()
                .filter(|a| in_period(request, &a.assessed_at))
                .filter(|a| criteria.iter().any(|c| c.1 == a.criterion))
                .collect();
            for a in &judged {
                csv.push(vec![
                    label.clone(),
                    a.class.clone().unwrap_or_default(),
                    a.criterion.clone(),
                    a.level.to_string(),
                    a.assessed_at[..10].to_string(),
                    a.assessor.clone(),
                    a.take.map(|t| t.to_string()).unwrap_or_default(),
                    scope.naming.hide(&a.comment),
                ]);
            }
            plan.judgements += judged.len();
            let mine: Vec<&EvidencePick> =
                picks.iter().filter(|p| p.pupil_id == pupil.id).collect();
            let rows = criteria
                .iter()
                .map(|(_, key, title, levels)| {
                    let pick = mine.iter().find(|p| &p.criterion == key);
                    let comment = judged
                        .iter()
                        .rev()
                        .find(|a| &a.criterion == key)
                        .map(|a| scope.naming.hide(&a.comment))
                        .unwrap_or_default();
                    CriterionRow {
                        title: title.clone(),
                        levels: *levels,
                        first: pick.map(|p| (p.first_level, p.first_at[..10].to_string())),
                        latest: pick.map(|p| (p.last_level, p.last_at[..10].to_string(), comment)),
                    }
                })
                .collect();
            let mut takes: Vec<i64> = mine
                .iter()
                .flat_map(|p| [p.first_take, p.last_take])
                .collect();
            takes.sort_unstable();
            takes.dedup();
            let mut audio = Vec::new();
            let folder = safe_name(&label);
            for take_id in takes {
                let take = lib.take(take_id)?;
                let take_markers = markers(lib, &take, &scope.naming)?;
                let mut writer = TakeAudio {
                    lib,
                    jobs: &mut plan.jobs,
                    mixes: &mut mixes,
                };
                audio.extend(writer.pupil_take(&take, pupil.id, &folder, &take_markers));
            }
            let reflections = lib
                .reflections(pupil.id)?
                .into_iter()
                .filter(|(_, at, _)| in_period(request, at))
                .map(|(take, at, text)| {
                    (
                        format!("{}, take {take}", &at[..10]),
                        scope.naming.hide(&text),
                    )
                })
                .collect();
            let grid_row = grid.rows.iter().find(|r| r.pupil_id == pupil.id);
            monitoring.push(PupilLevels {
                groups: pupil.groups.clone(),
                latest: criteria
                    .iter()
                    .map(|c| grid_row.and_then(|r| r.levels.get(c.0).copied().flatten()))
                    .collect(),
            });
            plan.report.pupils.push(PupilSection {
                label: if several && !scope.naming.pseudonymise {
                    format!("{label} ({class_name})")
                } else {
                    label
                },
                rows,
                audio,
                reflections,
            });
        }
    }
    // Groups are compared criterion by criterion, so only across classes judged alike.
    if shapes.len() == 1 {
        let count = shapes.iter().next().map_or(0, Vec::len);
        plan.report.monitoring = summarise(&monitoring, count);
    }
    plan.sheets.push(("assessments.csv".into(), csv));
    Ok(plan)
}

fn plan_lesson(lib: &mut Library, request: &ExportRequest) -> Result<Plan, ExportError> {
    let scope = scope(lib, request, request.pseudonymise)?;
    let mut plan = base_plan(request, &scope);
    plan.empty_reason = "no takes were recorded for the selection in the period".into();
    let in_scope: HashSet<i64> = scope.pupils.iter().map(|(_, p)| p.id).collect();
    let withheld: HashSet<i64> = lib
        .pupils(None)?
        .into_iter()
        .filter(|p| p.do_not_share)
        .map(|p| p.id)
        .collect();
    let mut csv = vec![
        [
            "take",
            "recorded",
            "arrangement",
            "tempo",
            "track",
            "performers",
            "part",
            "file",
        ]
        .map(String::from)
        .to_vec(),
    ];
    let mut mixes = HashSet::new();
    let mut left_out = 0usize;
    for (class, _) in &scope.classes {
        let takes = lib.takes(&TakeFilter {
            class: Some(*class),
            ..TakeFilter::default()
        })?;
        for take in takes.iter().filter(|t| in_period(request, &t.recorded_at)) {
            let take_markers = markers(lib, take, &scope.naming)?;
            let mut audio = Vec::new();
            let mut performers = Vec::new();
            let mut held_back = false;
            let mut writer = TakeAudio {
                lib,
                jobs: &mut plan.jobs,
                mixes: &mut mixes,
            };
            for track in &take.tracks {
                if track
                    .performers
                    .iter()
                    .any(|p| withheld.contains(&p.pupil_id))
                {
                    held_back = true;
                    left_out += 1;
                    continue;
                }
                let wanted = request.pupils.is_empty()
                    || track
                        .performers
                        .iter()
                        .any(|p| request.pupils.contains(&p.pupil_id));
                if !wanted {
                    continue;
                }
                let labels: Vec<String> = track
                    .performers
                    .iter()
                    .map(|p| {
                        if in_scope.contains(&p.pupil_id) || !scope.naming.pseudonymise {
                            scope.naming.label(p.pupil_id)
                        } else {
                            "another pupil".into()
                        }
                    })
                    .collect();
                let item = writer.track(take, track, "takes", &take_markers);
                csv.push(vec![
                    take.id.to_string(),
                    take.recorded_at.clone(),
                    take.arrangement.clone().unwrap_or_default(),
                    take.tempo_bpm.map(|t| format!("{t}")).unwrap_or_default(),
                    track.number.to_string(),
                    labels.join("; "),
                    track
                        .performers
                        .iter()
                        .find_map(|p| p.part.clone())
                        .unwrap_or_default(),
                    item.path.clone().unwrap_or_default(),
                ]);
                performers.extend(labels);
                audio.push(item);
            }
            // The mix would carry a withheld pupil's playing, or pupils outside the selection.
            if !held_back && request.pupils.is_empty() {
                audio.extend(writer.mix(take));
            }
            if audio.is_empty() {
                continue;
            }
            performers.sort();
            performers.dedup();
            plan.report.takes.push(TakeSection {
                caption: format!(
                    "Take {} of {}{}",
                    take.id,
                    take.recorded_at
                        .replace('T', " ")
                        .get(..16)
                        .unwrap_or(&take.recorded_at),
                    take.arrangement
                        .as_ref()
                        .map(|a| format!(": {a}"))
                        .unwrap_or_default()
                ),
                performers,
                audio,
            });
        }
    }
    plan.report.title = title(&scope, "lesson recordings");
    plan.report.subtitle = subtitle(
        request,
        scope.naming.pseudonymise,
        &if left_out > 0 {
            format!("; {left_out} track(s) of pupils who are not to be shared left out")
        } else {
            String::new()
        },
    );
    plan.sheets.push(("takes.csv".into(), csv));
    Ok(plan)
}

fn plan_moderation(lib: &mut Library, request: &ExportRequest) -> Result<Plan, ExportError> {
    let scope = scope(lib, request, true)?;
    let mut plan = base_plan(request, &scope);
    plan.empty_reason = "no pupil in the selection has judged evidence takes in the period".into();
    plan.report.title = title(&scope, "moderation pack");
    plan.report.subtitle = subtitle(
        request,
        true,
        "; the department's judgements are not included: judge each recording against \
         the levels below and fill in judgement-sheet.csv",
    );
    let mut sheet = vec![
        ["pupil", "criterion", "take", "level", "comment"]
            .map(String::from)
            .to_vec(),
    ];
    let mut mixes = HashSet::new();
    let mut guides: Vec<CriterionGuide> = Vec::new();
    for (class, _) in &scope.classes {
        let grid = lib.class_grid(*class)?;
        let criteria = criteria_of(request, &grid);
        for (key, title, levels) in lib.level_descriptors(*class)? {
            if criteria.iter().any(|c| c.1 == key) && !guides.iter().any(|g| g.key == key) {
                guides.push(CriterionGuide { key, title, levels });
            }
        }
        let picks = picks_for(lib, request, *class, &criteria)?;
        for (_, pupil) in scope.pupils.iter().filter(|(c, _)| c == class) {
            let label = scope.naming.label(pupil.id);
            let mine: Vec<&EvidencePick> =
                picks.iter().filter(|p| p.pupil_id == pupil.id).collect();
            if mine.is_empty() {
                continue;
            }
            let mut takes: Vec<i64> = mine.iter().map(|p| p.last_take).collect();
            takes.sort_unstable();
            takes.dedup();
            let mut audio = Vec::new();
            for take_id in takes {
                let take = lib.take(take_id)?;
                let mut writer = TakeAudio {
                    lib,
                    jobs: &mut plan.jobs,
                    mixes: &mut mixes,
                };
                audio.extend(writer.pupil_take(&take, pupil.id, &safe_name(&label), &[]));
                for pick in mine.iter().filter(|p| p.last_take == take_id) {
                    sheet.push(vec![
                        label.clone(),
                        pick.criterion.clone(),
                        take_id.to_string(),
                        String::new(),
                        String::new(),
                    ]);
                }
            }
            plan.report.pupils.push(PupilSection {
                label,
                rows: Vec::new(),
                audio,
                reflections: Vec::new(),
            });
        }
    }
    plan.report.guide = guides;
    plan.sheets.push(("judgement-sheet.csv".into(), sheet));
    Ok(plan)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_keep_letters_and_fit_the_file_system() {
        assert_eq!(safe_name("Zoë O'Brien-Smyth"), "Zoë-O-Brien-Smyth");
        assert_eq!(safe_name("  P-7Q3KXM "), "P-7Q3KXM");
        assert_eq!(safe_name("$(rm -rf ~)/.."), "rm--rf");
        let long = safe_name(&"𠀀".repeat(70));
        assert!(long.len() <= 120, "{} bytes", long.len());
        assert!(
            long.chars().all(|c| c == '𠀀'),
            "cut on a character boundary"
        );
    }

    #[test]
    fn the_period_is_inclusive_at_both_ends() {
        let request = ExportRequest {
            from: "2026-09-01".into(),
            to: "2026-09-30".into(),
            ..ExportRequest::default()
        };
        assert!(in_period(&request, "2026-09-01T08:00:00Z"));
        assert!(in_period(&request, "2026-09-30T23:59:59Z"));
        assert!(!in_period(&request, "2026-08-31T23:59:59Z"));
        assert!(!in_period(&request, "2026-10-01T00:00:00Z"));
    }
}
