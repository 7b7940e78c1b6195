//! School terms, as English schools name them: Autumn (September to December), Spring
//! (January to March) and Summer (April to August). Judgements are grouped by term for
//! the radar's coloured outlines and the progress filters.
//!
//! Term dates follow the calendar months, not a school's own Easter-dependent dates:
//! a judgement in the first days of April after a late Easter counts as Summer.
//! Must not read the library: it only names and bounds dates given as text.

/// One school term: its name and the dates it covers, as `YYYY-MM-DD` text with an
/// exclusive end, so `from <= assessed_at < to` compares as text.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Term {
    /// The calendar year it starts in, then 0 Spring, 1 Summer, 2 Autumn: sorts in time order.
    key: (i32, u8),
}

impl Term {
    /// The term a date (`YYYY-MM-DD…`, as stored) falls in; `None` if it is not a date.
    pub fn of(date: &str) -> Option<Term> {
        let year: i32 = date.get(0..4)?.parse().ok()?;
        let month: u8 = date.get(5..7)?.parse().ok()?;
        let season = match month {
            1..=3 => 0,
            4..=8 => 1,
            9..=12 => 2,
            _ => return None,
        };
        Some(Term {
            key: (year, season),
        })
    }

    /// "Autumn 2026".
    pub fn name(&self) -> String {
        let season = ["Spring", "Summer", "Autumn"][usize::from(self.key.1)];
        format!("{season} {}", self.key.0)
    }

    /// The first day of the term.
    pub fn from(&self) -> String {
        let month = [1, 4, 9][usize::from(self.key.1)];
        format!("{:04}-{month:02}-01", self.key.0)
    }

    /// The first day after the term.
    pub fn to(&self) -> String {
        match self.key.1 {
            0 => format!("{:04}-04-01", self.key.0),
            1 => format!("{:04}-09-01", self.key.0),
            _ => format!("{:04}-01-01", self.key.0 + 1),
        }
    }

    /// Whether a stored date falls in this term.
    pub fn contains(&self, date: &str) -> bool {
        Term::of(date).as_ref() == Some(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_fall_in_the_terms_schools_name() {
        let names: Vec<String> = [
            "2026-09-01T08:00:00Z",
            "2026-12-31",
            "2027-01-04",
            "2027-03-31",
            "2027-04-19",
            "2027-07-20",
        ]
        .iter()
        .map(|d| Term::of(d).map(|t| t.name()).unwrap_or_default())
        .collect();
        assert_eq!(
            names,
            [
                "Autumn 2026",
                "Autumn 2026",
                "Spring 2027",
                "Spring 2027",
                "Summer 2027",
                "Summer 2027"
            ]
        );
        assert_eq!(Term::of("not a date"), None);
        assert_eq!(Term::of("2026-13-01"), None);
    }

    #[test]
    fn bounds_compare_as_text_and_terms_sort_in_time_order() {
        let autumn = Term::of("2026-10-10").unwrap();
        assert_eq!(
            (autumn.from().as_str(), autumn.to().as_str()),
            ("2026-09-01", "2027-01-01")
        );
        let spring = Term::of("2027-02-02").unwrap();
        assert_eq!(
            (spring.from().as_str(), spring.to().as_str()),
            ("2027-01-01", "2027-04-01")
        );
        let summer = Term::of("2027-05-05").unwrap();
        assert!(autumn < spring && spring < summer);
        assert!(spring.contains("2027-03-31T23:59:59Z"));
        assert!(!spring.contains("2027-04-01T00:00:00Z"));
    }
}
