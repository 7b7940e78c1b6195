//! The moderation pack: a sample of pupils across levels, always pseudonymised, with the
//! evidence behind each judgement for a moderator outside the school.
//!
//! Must not write files.

use super::*;

pub(super) fn plan_moderation(
    lib: &mut Library,
    request: &ExportRequest,
) -> Result<Plan, ExportError> {
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
    for (class, class_name) in &scope.classes {
        let grid = lib.class_grid(*class)?;
        let criteria = criteria_of(request, &grid);
        add_guides(lib, *class, &criteria, &mut guides)?;
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
                class: class_name.clone(),
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
    use super::super::fixture;
    use crate::export::bundle::BundleKind;

    #[test]
    fn a_moderation_pack_is_pseudonymised_even_when_not_asked() {
        let mut c = fixture::class();
        let request = fixture::request(&c, BundleKind::Moderation);
        assert!(!request.pseudonymise);
        let plan = super::plan_moderation(&mut c.lib, &request).unwrap();
        assert!(plan.pseudonymised);
        // Both judged pupils' evidence goes to the moderator, without the department's
        // levels: the sheet has a row per judgement to fill in.
        assert_eq!(plan.report.pupils.len(), 2, "{:?}", plan.report.pupils);
        assert!(!plan.jobs.is_empty());
        let (name, rows) = &plan.sheets[0];
        assert_eq!(name, "judgement-sheet.csv");
        assert_eq!(rows.len(), 3, "a header and one row per judgement");
        assert!(rows[1..].iter().all(|r| r[3].is_empty()), "{rows:?}");
        let text = fixture::all_text(&plan);
        for (name, _) in &c.pupils {
            assert!(
                !text.contains(name.as_str()),
                "{name} is in the moderation pack"
            );
        }
    }
}
