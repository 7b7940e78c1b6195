//! The library's clock: what "now" and "today" are when judgements, lessons, takes and
//! audit entries are stamped. Real time, unless the calling thread has fixed it: tests
//! fix it so that what they check (which term a judgement falls in, which lesson is
//! today's) does not depend on the day they run, or on a run crossing midnight.
//!
//! Must not be used to measure durations (that is `Instant`'s job).

use super::error::{LibraryError, Result};
use std::cell::Cell;
use std::time::SystemTime;

thread_local! {
    static FIXED: Cell<Option<SystemTime>> = const { Cell::new(None) };
}

/// Fixes "now" for the calling thread at `at` (RFC 3339, e.g. `2026-11-10T10:00:00Z`);
/// it stays there until [`release_this_thread`].
pub fn fix_for_this_thread(at: &str) -> Result<()> {
    let time = humantime::parse_rfc3339(at)
        .map_err(|e| LibraryError::Invalid(format!("{at:?} is not an RFC 3339 time: {e}")))?;
    FIXED.with(|fixed| fixed.set(Some(time)));
    Ok(())
}

/// Gives the calling thread the real time again.
pub fn release_this_thread() {
    FIXED.with(|fixed| fixed.set(None));
}

fn current() -> SystemTime {
    FIXED.with(Cell::get).unwrap_or_else(SystemTime::now)
}

/// Now, as the library stores times: RFC 3339 in UTC to the second.
pub fn now() -> String {
    humantime::format_rfc3339_seconds(current()).to_string()
}

/// Today's date in UTC, `YYYY-MM-DD`.
pub fn today() -> String {
    now()[..10].to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fixed_clock_stays_on_its_thread() {
        fix_for_this_thread("2026-06-15T23:59:59Z").unwrap();
        assert_eq!(now(), "2026-06-15T23:59:59Z");
        assert_eq!(today(), "2026-06-15");
        let elsewhere = std::thread::Builder::new()
            .name("clock-elsewhere".into())
            .spawn(now)
            .unwrap()
            .join()
            .unwrap();
        assert_ne!(elsewhere, "2026-06-15T23:59:59Z");
        release_this_thread();
        assert_ne!(now(), "2026-06-15T23:59:59Z");
        assert!(fix_for_this_thread("yesterday").is_err());
    }
}
