//! The trend of a class's tightness across lessons: does the ensemble get tighter?
//!
//! Owns the arithmetic only (lesson means, a least-squares slope). Must not know where
//! the figures come from.

/// A class's spread (or asynchrony) from its first to its latest lesson.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Trend {
    pub lessons: usize,
    /// The mean of the first lesson's takes, in ms.
    pub first_ms: f64,
    /// The mean of the latest lesson's takes, in ms.
    pub latest_ms: f64,
    /// The least-squares change per lesson, in ms (negative: tighter).
    pub per_lesson_ms: f64,
}

impl Trend {
    /// From each take's figure in lesson order (`lesson` is any key that changes when
    /// the lesson does). Needs two lessons with figures.
    pub fn of<K: PartialEq>(takes: &[(K, f64)]) -> Option<Trend> {
        let mut lessons: Vec<(f64, usize)> = Vec::new();
        let mut last: Option<&K> = None;
        for (key, value) in takes {
            if !value.is_finite() {
                continue;
            }
            if last != Some(key) {
                lessons.push((0.0, 0));
                last = Some(key);
            }
            if let Some(l) = lessons.last_mut() {
                l.0 += value;
                l.1 += 1;
            }
        }
        let means: Vec<f64> = lessons.iter().map(|(s, n)| s / *n as f64).collect();
        if means.len() < 2 {
            return None;
        }
        let n = means.len() as f64;
        let x_mean = (n - 1.0) / 2.0;
        let y_mean = means.iter().sum::<f64>() / n;
        let (mut sxy, mut sxx) = (0.0, 0.0);
        for (i, y) in means.iter().enumerate() {
            let dx = i as f64 - x_mean;
            sxy += dx * (y - y_mean);
            sxx += dx * dx;
        }
        Some(Trend {
            lessons: means.len(),
            first_ms: means[0],
            latest_ms: means[means.len() - 1],
            per_lesson_ms: sxy / sxx,
        })
    }

    /// "tighter by 2.9 ms a lesson", "looser by …", or "about the same".
    pub fn words(&self) -> String {
        match self.per_lesson_ms {
            d if d <= -0.5 => format!("tighter by {:.1} ms a lesson", -d),
            d if d >= 0.5 => format!("looser by {d:.1} ms a lesson"),
            _ => "about the same from lesson to lesson".into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lessons_are_averaged_then_a_line_is_fitted() {
        let takes = [
            ("mon", 20.0),
            ("mon", 16.0),
            ("wed", 14.0),
            ("fri", 10.0),
            ("fri", f64::NAN),
        ];
        let trend = Trend::of(&takes);
        assert_eq!(
            trend,
            Some(Trend {
                lessons: 3,
                first_ms: 18.0,
                latest_ms: 10.0,
                per_lesson_ms: -4.0
            })
        );
        assert_eq!(
            trend.map(|t| t.words()).as_deref(),
            Some("tighter by 4.0 ms a lesson")
        );
        assert_eq!(
            Trend::of(&[("mon", 3.0), ("mon", 4.0)]),
            None,
            "one lesson is no trend"
        );
    }
}
