//! The progress bundle: every judgement of the selection, the latest level per
//! criterion per pupil with its first and latest evidence, radar diagrams, and the
//! sheets a head of department reads.
//!
//! Must not write files.

use super::*;

pub(super) fn plan_progress(
    lib: &mut Library,
    request: &ExportRequest,
) -> Result<Plan, ExportError> {
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
    let mut guides: Vec<CriterionGuide> = Vec::new();
    for (class, class_name) in &scope.classes {
        let grid = lib.class_grid(*class)?;
        let criteria = criteria_of(request, &grid);
        add_guides(lib, *class, &criteria, &mut guides)?;
        let names = lib.criterion_levels(*class)?;
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
            let rows = criterion_rows(&criteria, &names, &mine, &judged, &scope.naming);
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
                class: class_name.clone(),
                rows,
                audio,
                reflections,
            });
        }
    }
    // Groups are compared criterion by criterion, so only across classes judged alike;
    // and only for whole classes: two bundles of a class, one without a pupil, would
    // give that pupil's group and level by subtraction.
    let mut whole_classes = true;
    for (class, _) in &scope.classes {
        let members = lib.pupils(Some(*class))?.len();
        let chosen = scope.pupils.iter().filter(|(c, _)| c == class).count();
        whole_classes &= chosen == members;
    }
    if shapes.len() == 1 && whole_classes {
        let count = shapes.iter().next().map_or(0, Vec::len);
        plan.report.monitoring = summarise(&monitoring, count);
    }
    plan.report.guide = guides;
    plan.sheets.push(("assessments.csv".into(), csv));
    Ok(plan)
}

/// A pupil's first and latest level per criterion, each level named, with the comment
/// of the latest judgement (pupils' names in it hidden as the bundle's naming says).
fn criterion_rows(
    criteria: &[(usize, String, String, usize)],
    names: &[crate::library::CriterionLevels],
    mine: &[&EvidencePick],
    judged: &[crate::library::AssessmentRecord],
    naming: &Naming,
) -> Vec<CriterionRow> {
    criteria
        .iter()
        .map(|(_, key, title, levels)| {
            let pick = mine.iter().find(|p| &p.criterion == key);
            let comment = judged
                .iter()
                .rev()
                .find(|a| &a.criterion == key)
                .map(|a| naming.hide(&a.comment))
                .unwrap_or_default();
            CriterionRow {
                title: title.clone(),
                levels: *levels,
                names: names
                    .iter()
                    .find(|c| &c.key == key)
                    .map(|c| c.levels.iter().map(|l| l.label.clone()).collect())
                    .unwrap_or_default(),
                first: pick.map(|p| (p.first_level, p.first_at[..10].to_string())),
                latest: pick.map(|p| (p.last_level, p.last_at[..10].to_string(), comment)),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::fixture;
    use crate::export::bundle::BundleKind;

    #[test]
    fn a_progress_plan_holds_every_judgement_and_pseudonyms_hide_every_name() {
        let mut c = fixture::class();
        let request = fixture::request(&c, BundleKind::Progress);
        let plan = super::plan_progress(&mut c.lib, &request).unwrap();
        assert_eq!(plan.judgements, 2);
        assert_eq!(plan.pupils, c.pupils.len());
        let text = fixture::all_text(&plan);
        assert!(text.contains("Ada Brook") && text.contains("Ben Carter"));

        let hidden = crate::export::bundle::ExportRequest {
            pseudonymise: true,
            ..request
        };
        let plan = super::plan_progress(&mut c.lib, &hidden).unwrap();
        assert!(plan.pseudonymised);
        assert_eq!(plan.judgements, 2);
        let text = fixture::all_text(&plan);
        for (name, _) in &c.pupils {
            assert!(
                !text.contains(name.as_str()),
                "{name} is in the pseudonymised plan"
            );
        }
        assert!(
            !plan.audit_selection.contains("Demo"),
            "the audit names ids only"
        );
    }
}
