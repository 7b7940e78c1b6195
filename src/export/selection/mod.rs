//! What goes into a bundle of each kind: which recordings (as jobs for `bundle` to
//! write), the report's sections, the CSV sheets and the audit wording. Pupils are
//! named by their pseudonym wherever one is wanted (always in moderation packs), in
//! file names, the report and the sheets, and inside comments and reflections.
//! A pupil flagged "do not share" is left out of lesson bundles, the one kind that is
//! not assessment evidence.
//!
//! Must not write files. Each kind's plan is in a file of its own (`progress`,
//! `lesson`, `moderation`); what they share (scope, naming, audio jobs, the report's
//! frame) is here.

mod lesson;
mod moderation;
mod progress;

use super::bundle::{AudioJob, BundleKind, ExportError, ExportRequest};
use super::monitoring::{PupilLevels, summarise};
use super::report::{AudioItem, CriterionGuide, CriterionRow, PupilSection, Report, TakeSection};
use crate::library::{
    ClassGrid, EvidencePick, Library, PupilSummary, TakeFilter, TakeSummary, TrackSummary,
};
use crate::name_scrubber::{NameScrubber, Sought};
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
    // Each hidden pupil's admission number is part of their name: found whole.
    let hidden: Vec<Sought<'_>> = everyone
        .iter()
        .filter_map(|p| {
            let label = if pseudonymise {
                labels.get(&p.id).map_or(HIDDEN_PUPIL, String::as_str)
            } else if request.kind == BundleKind::Lesson && p.do_not_share {
                HIDDEN_PUPIL
            } else {
                return None;
            };
            Some(
                std::iter::once(Sought {
                    text: p.name.as_str(),
                    label,
                    parts: true,
                })
                .chain(p.number.as_deref().map(|number| Sought {
                    text: number,
                    label,
                    parts: false,
                })),
            )
        })
        .flatten()
        .collect();
    let scrubber = (!hidden.is_empty()).then(|| NameScrubber::of(hidden, HIDDEN_PUPIL));
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
        BundleKind::Progress => progress::plan_progress(lib, request),
        BundleKind::Lesson => lesson::plan_lesson(lib, request),
        BundleKind::Moderation => moderation::plan_moderation(lib, request),
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

/// Adds the level descriptors of `class`'s criteria in `criteria` to `guides` (each
/// criterion once, however many classes share it).
fn add_guides(
    lib: &Library,
    class: i64,
    criteria: &[(usize, String, String, usize)],
    guides: &mut Vec<CriterionGuide>,
) -> Result<(), ExportError> {
    for (key, title, levels) in lib.level_descriptors(class)? {
        if criteria.iter().any(|c| c.1 == key) && !guides.iter().any(|g| g.key == key) {
            guides.push(CriterionGuide { key, title, levels });
        }
    }
    Ok(())
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

/// A small class to plan bundles from in the kinds' tests: the demo class, with a
/// two-track take of Ada Brook and Ben Carter, one judgement each, and Chloe Dawes flagged
/// "do not share" on a take of her own.
#[cfg(test)]
pub(super) mod fixture {
    use crate::library::{Library, NewAssessment, NewTake, NewTrack, Purpose};

    pub struct Class {
        pub lib: Library,
        pub class: i64,
        pub pupils: Vec<(String, i64)>,
        pub _dir: tempfile::TempDir,
    }

    fn take(lib: &mut Library, class: i64, players: &[i64]) -> i64 {
        let lesson = lib.lesson_for_today(Some(class)).unwrap();
        let staged = lib.staging_folder().unwrap();
        let spec = hound::WavSpec {
            channels: 1,
            sample_rate: 48_000,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        for n in 1..=players.len() {
            let mut w =
                hound::WavWriter::create(staged.join(format!("input-{n}.wav")), spec).unwrap();
            for i in 0..4_800 {
                w.write_sample(((i * 37 + n * 11) % 200) as i16).unwrap();
            }
            w.finalize().unwrap();
        }
        let new = NewTake {
            recorded_at: crate::library::now(),
            arrangement: Some("clapping-music".into()),
            tempo_bpm: Some(160.0),
            repeats: None,
            count_in_bars: 1,
            section: None,
            host: "virtual".into(),
            input_device: "virtual".into(),
            output_device: "virtual".into(),
            sample_rate_hz: 48_000,
            latency_applied_frames: 0,
            frames: 4_800,
            duration_secs: 0.1,
            xruns: 0,
            gaps: 0,
            complete: true,
            purpose: Purpose::Assessment,
            music_frames: None,
            pass: None,
            tracks: (1..=players.len())
                .map(|n| NewTrack {
                    number: n as i64,
                    file: format!("input-{n}.wav"),
                    input_channel: Some(n as i64),
                    input_device: None,
                    midi_port: None,
                    frames: 4_800,
                })
                .collect(),
        };
        let (id, _) = lib.register_take(lesson, &staged, &new).unwrap();
        for (n, pupil) in players.iter().enumerate() {
            lib.attribute(id, n as i64 + 1, &[*pupil], Some("clapper 1"), None, None)
                .unwrap();
        }
        id
    }

    pub fn class() -> Class {
        let dir = tempfile::tempdir().unwrap();
        let mut lib = Library::open(dir.path()).unwrap();
        let class = lib.class_id(crate::library::DEMO_CLASS).unwrap();
        let pupils: Vec<(String, i64)> = lib
            .pupils(Some(class))
            .unwrap()
            .into_iter()
            .map(|p| (p.name, p.id))
            .collect();
        let id = |name: &str| pupils.iter().find(|(n, _)| n == name).unwrap().1;
        let (ada, ben, cai) = (id("Ada Brook"), id("Ben Carter"), id("Chloe Dawes"));
        let both = take(&mut lib, class, &[ada, ben]);
        take(&mut lib, class, &[cai]);
        lib.set_do_not_share(cai, true).unwrap();
        let criterion = lib.class_grid(class).unwrap().criteria[0].0.clone();
        for (pupil, level) in [(ada, "2"), (ben, "3")] {
            lib.assess(&NewAssessment {
                pupil,
                take: Some(both),
                criterion: criterion.clone(),
                level: level.into(),
                comment: format!(
                    "steady pulse, said {}",
                    if pupil == ada {
                        "Ben Carter"
                    } else {
                        "Ada Brook"
                    }
                ),
                assessor: "teacher".into(),
            })
            .unwrap();
        }
        Class {
            lib,
            class,
            pupils,
            _dir: dir,
        }
    }

    /// Every cell of every sheet, and the report's text, as one string to search.
    pub fn all_text(plan: &super::Plan) -> String {
        let mut text = format!("{:?}", plan.report);
        for (name, rows) in &plan.sheets {
            text.push_str(name);
            for row in rows {
                text.push_str(&row.join("|"));
            }
        }
        for job in &plan.jobs {
            text.push_str(&format!("{job:?}"));
        }
        text
    }

    pub fn request(c: &Class, kind: crate::export::bundle::BundleKind) -> super::ExportRequest {
        super::ExportRequest {
            kind,
            classes: vec![c.class],
            from: "2000-01-01".into(),
            to: "2999-12-31".into(),
            ..super::ExportRequest::default()
        }
    }
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
