//! Moderation: how far two assessors' judgements of the same evidence agree, per
//! criterion: exact agreement, agreement within one level, and Cohen's kappa with
//! quadratic weights (1 is perfect, 0 no better than chance), and where they differ by
//! two levels or more, so the audio can settle it.
//!
//! Must not read files: it compares judgement lists it is given.

use std::collections::BTreeMap;

/// One judgement: who, on what, from which take, at what level.
#[derive(Clone, Debug, PartialEq)]
pub struct Judgement {
    pub pupil: String,
    pub criterion: String,
    pub take: String,
    pub level: i64,
}

#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct CriterionAgreement {
    pub criterion: String,
    pub pairs: usize,
    pub exact: f64,
    pub adjacent: f64,
    /// `None` when every judgement was the same level (kappa is undefined).
    pub weighted_kappa: Option<f64>,
    /// (pupil, take, ours, theirs) where the two differ by two levels or more.
    pub disagreements: Vec<(String, String, i64, i64)>,
}

/// Cohen's kappa with quadratic weights over paired levels.
pub fn weighted_kappa(pairs: &[(i64, i64)]) -> Option<f64> {
    let low = pairs.iter().map(|(a, b)| (*a).min(*b)).min()?;
    let high = pairs.iter().map(|(a, b)| (*a).max(*b)).max()?;
    let k = (high - low + 1) as usize;
    if k < 2 {
        return None;
    }
    let n = pairs.len() as f64;
    let mut observed = vec![vec![0.0f64; k]; k];
    let (mut rows, mut cols) = (vec![0.0f64; k], vec![0.0f64; k]);
    for (a, b) in pairs {
        let (i, j) = ((a - low) as usize, (b - low) as usize);
        observed[i][j] += 1.0;
        rows[i] += 1.0;
        cols[j] += 1.0;
    }
    let weight = |i: usize, j: usize| ((i as f64 - j as f64) / (k as f64 - 1.0)).powi(2);
    let (mut disagreement, mut chance) = (0.0, 0.0);
    for i in 0..k {
        for j in 0..k {
            disagreement += weight(i, j) * observed[i][j];
            chance += weight(i, j) * rows[i] * cols[j] / n;
        }
    }
    (chance > 0.0).then(|| 1.0 - disagreement / chance)
}

/// Agreement per criterion between `ours` and `theirs`, pairing judgements of the same
/// pupil, criterion and take.
pub fn compare(ours: &[Judgement], theirs: &[Judgement]) -> Vec<CriterionAgreement> {
    let mut by_criterion: BTreeMap<String, Vec<(String, String, i64, i64)>> = BTreeMap::new();
    // One pass over each side: a moderator's sheet of 100,000 rows compares in moments.
    let index: std::collections::HashMap<(&str, &str, &str), &Judgement> = theirs
        .iter()
        .map(|b| ((b.pupil.as_str(), b.criterion.as_str(), b.take.as_str()), b))
        .collect();
    for a in ours {
        if let Some(b) = index.get(&(a.pupil.as_str(), a.criterion.as_str(), a.take.as_str())) {
            by_criterion.entry(a.criterion.clone()).or_default().push((
                a.pupil.clone(),
                a.take.clone(),
                a.level,
                b.level,
            ));
        }
    }
    by_criterion
        .into_iter()
        .map(|(criterion, rows)| {
            let n = rows.len() as f64;
            let levels: Vec<(i64, i64)> = rows.iter().map(|r| (r.2, r.3)).collect();
            CriterionAgreement {
                pairs: rows.len(),
                exact: levels.iter().filter(|(a, b)| a == b).count() as f64 / n,
                adjacent: levels.iter().filter(|(a, b)| (a - b).abs() <= 1).count() as f64 / n,
                weighted_kappa: weighted_kappa(&levels),
                disagreements: rows
                    .into_iter()
                    .filter(|r| (r.2 - r.3).abs() >= 2)
                    .collect(),
                criterion,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kappa_is_one_for_full_agreement_and_matches_a_worked_example() {
        assert_eq!(weighted_kappa(&[(1, 1), (2, 2), (3, 3)]), Some(1.0));
        assert_eq!(
            weighted_kappa(&[(2, 2), (2, 2)]),
            None,
            "one level only: undefined"
        );
        // Worked by hand: levels 1–3, pairs (1,1) (1,2) (2,2) (3,2) (3,3).
        // Weights 0, 1/4 and 1; observed weighted disagreement 0.5; marginals (2, 1, 2)
        // and (1, 3, 1) give a chance disagreement of 7.5 / 5 = 1.5; kappa = 1 - 0.5/1.5.
        let kappa = weighted_kappa(&[(1, 1), (1, 2), (2, 2), (3, 2), (3, 3)]).unwrap();
        assert!((kappa - 2.0 / 3.0).abs() < 1e-12, "{kappa}");
        // Systematic disagreement at the extremes is worse than chance.
        assert!(weighted_kappa(&[(1, 3), (3, 1)]).unwrap() < 0.0);
    }

    #[test]
    fn judgements_pair_by_pupil_criterion_and_take_and_big_gaps_are_listed() {
        let j = |pupil: &str, take: &str, level| Judgement {
            pupil: pupil.into(),
            criterion: "pulse".into(),
            take: take.into(),
            level,
        };
        let ours = [
            j("P-1", "4", 3),
            j("P-2", "4", 2),
            j("P-3", "5", 4),
            j("P-4", "5", 1),
        ];
        let theirs = [
            j("P-1", "4", 3),
            j("P-2", "4", 3),
            j("P-3", "5", 2),
            j("P-9", "5", 1),
        ];
        let result = compare(&ours, &theirs);
        assert_eq!(result.len(), 1);
        let pulse = &result[0];
        assert_eq!(pulse.pairs, 3, "P-4 and P-9 have no partner");
        assert!((pulse.exact - 1.0 / 3.0).abs() < 1e-12);
        assert!((pulse.adjacent - 2.0 / 3.0).abs() < 1e-12);
        assert_eq!(
            pulse.disagreements,
            [("P-3".to_string(), "5".to_string(), 4, 2)]
        );
    }
}
