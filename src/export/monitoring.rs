//! The monitoring summary: how pupils in each monitoring group (pupil premium, SEN,
//! EAL …) progressed compared with the rest of the class, as aggregates only. A group
//! (or its comparison) of fewer than five pupils is not shown, and a mean level is shown
//! only when at least five pupils on each side were judged for it, so no figure can
//! point at one child.
//!
//! Must not name or list pupils.

/// Smallest group whose figures are shown.
pub const MIN_GROUP: usize = 5;

/// One pupil's part in the summary: their groups and latest level per criterion.
#[derive(Clone, Debug, PartialEq)]
pub struct PupilLevels {
    pub groups: Vec<String>,
    pub latest: Vec<Option<i64>>,
}

#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct GroupRow {
    pub group: String,
    /// `None` when the group or its comparison is under [`MIN_GROUP`].
    pub pupils: Option<usize>,
    /// Share of the group with at least one judgement, and of the others.
    pub participation: Option<(f64, f64)>,
    /// Mean latest level per criterion for the group and for the others; `None` unless
    /// at least [`MIN_GROUP`] pupils on each side were judged on that criterion.
    pub mean_levels: Vec<Option<(f64, f64)>>,
}

/// The mean of the levels, only when at least [`MIN_GROUP`] pupils were judged: the
/// average of one or two children's levels is those children's levels.
fn mean(values: impl Iterator<Item = i64>) -> Option<f64> {
    let (sum, count) = values.fold((0i64, 0usize), |(s, c), v| (s + v, c + 1));
    (count >= MIN_GROUP).then(|| sum as f64 / count as f64)
}

pub fn summarise(pupils: &[PupilLevels], criteria: usize) -> Vec<GroupRow> {
    let mut groups: Vec<String> = pupils
        .iter()
        .flat_map(|p| p.groups.iter().cloned())
        .collect();
    groups.sort_by_key(|g| g.to_lowercase());
    groups.dedup_by(|a, b| a.eq_ignore_ascii_case(b));
    groups
        .into_iter()
        .map(|group| {
            let (members, others): (Vec<&PupilLevels>, Vec<&PupilLevels>) = pupils
                .iter()
                .partition(|p| p.groups.iter().any(|g| g.eq_ignore_ascii_case(&group)));
            if members.len() < MIN_GROUP || others.len() < MIN_GROUP {
                return GroupRow {
                    group,
                    pupils: None,
                    participation: None,
                    mean_levels: vec![None; criteria],
                };
            }
            let took_part = |set: &[&PupilLevels]| {
                set.iter()
                    .filter(|p| p.latest.iter().any(Option::is_some))
                    .count() as f64
                    / set.len() as f64
            };
            let mean_levels = (0..criteria)
                .map(|c| {
                    let level = |set: &[&PupilLevels]| {
                        mean(
                            set.iter()
                                .filter_map(|p| p.latest.get(c).copied().flatten()),
                        )
                    };
                    level(&members).zip(level(&others))
                })
                .collect();
            GroupRow {
                pupils: Some(members.len()),
                participation: Some((took_part(&members), took_part(&others))),
                mean_levels,
                group,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pupil(groups: &[&str], level: Option<i64>) -> PupilLevels {
        PupilLevels {
            groups: groups.iter().map(|g| g.to_string()).collect(),
            latest: vec![level],
        }
    }

    #[test]
    fn small_groups_are_suppressed_and_large_ones_compared() {
        let mut class: Vec<PupilLevels> = (0..6).map(|_| pupil(&["PP"], Some(2))).collect();
        class.extend((0..4).map(|_| pupil(&["SEN"], Some(3))));
        class.extend((0..2).map(|_| pupil(&[], None)));
        class.push(pupil(&[], Some(3)));
        let rows = summarise(&class, 1);
        let pp = rows.iter().find(|r| r.group == "PP").unwrap();
        assert_eq!(pp.pupils, Some(6));
        assert_eq!(pp.mean_levels[0], Some((2.0, 3.0)));
        assert_eq!(pp.participation, Some((1.0, 5.0 / 7.0)));
        let sen = rows.iter().find(|r| r.group == "SEN").unwrap();
        assert_eq!(sen.pupils, None, "four pupils: not shown");
        assert!(sen.mean_levels.iter().all(Option::is_none));
    }

    #[test]
    fn a_mean_needs_five_judged_on_each_side() {
        // Six PP pupils of whom two were judged, seven others of whom all were.
        let mut class: Vec<PupilLevels> = (0..2).map(|_| pupil(&["PP"], Some(4))).collect();
        class.extend((0..4).map(|_| pupil(&["PP"], None)));
        class.extend((0..7).map(|_| pupil(&[], Some(2))));
        let pp = summarise(&class, 1)
            .into_iter()
            .find(|r| r.group == "PP")
            .unwrap();
        assert_eq!(pp.pupils, Some(6));
        assert_eq!(pp.mean_levels[0], None, "two judged PP pupils: no mean");
    }
}
