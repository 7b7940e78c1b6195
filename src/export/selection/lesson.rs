//! The lesson bundle: the takes of the period with their tracks and markers, for
//! pupils and parents; pupils flagged "do not share" are left out.
//!
//! Must not write files.

use super::*;

pub(super) fn plan_lesson(lib: &mut Library, request: &ExportRequest) -> Result<Plan, ExportError> {
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

#[cfg(test)]
mod tests {
    use super::super::fixture;
    use crate::export::bundle::BundleKind;

    #[test]
    fn a_lesson_plan_copies_the_takes_but_not_a_pupil_who_may_not_be_shared() {
        let mut c = fixture::class();
        let request = fixture::request(&c, BundleKind::Lesson);
        let plan = super::plan_lesson(&mut c.lib, &request).unwrap();
        let text = fixture::all_text(&plan);
        assert!(text.contains("Ada Brook"), "{text}");
        assert!(
            !text.contains("Chloe Dawes"),
            "a do-not-share pupil stays out"
        );
        assert!(
            !plan.jobs.is_empty(),
            "the shared take's tracks are copied: {:?}",
            plan.jobs
        );
        assert!(
            plan.jobs
                .iter()
                .all(|j| !format!("{j:?}").contains("Chloe")),
            "and none of hers"
        );
    }
}
