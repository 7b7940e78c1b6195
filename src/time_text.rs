//! Times as people and files read them: a position as `m:ss.s` for screens, reports and
//! the command line, and "now" as an RFC 3339 timestamp for records on disk.
//!
//! A leaf: every module may use it, and it uses nothing of bandroom's. Must not parse
//! musical time (`music::time` does) or read a clock a test may need to fix
//! (`library::clock` does, for the library's dates).

/// A position or length in seconds as `m:ss.s` (negative reads as 0).
pub fn clock(secs: f64) -> String {
    let secs = secs.max(0.0);
    format!("{}:{:04.1}", (secs / 60.0).floor(), secs % 60.0)
}

/// Whole minutes and seconds, "0:45": how a caption says where a take stopped.
pub fn minutes_seconds(secs: f64) -> String {
    let whole = secs.max(0.0).floor() as u64;
    format!("{}:{:02}", whole / 60, whole % 60)
}

/// Now, as an RFC 3339 timestamp in UTC.
pub fn now_rfc3339() -> String {
    humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clock_reads_minutes_and_tenths() {
        assert_eq!(clock(0.0), "0:00.0");
        assert_eq!(clock(-3.0), "0:00.0");
        assert_eq!(clock(75.25), "1:15.2");
        assert!(now_rfc3339().ends_with('Z'));
    }

    #[test]
    fn minutes_and_seconds_are_whole() {
        assert_eq!(minutes_seconds(45.9), "0:45");
        assert_eq!(minutes_seconds(-1.0), "0:00");
        assert_eq!(minutes_seconds(605.0), "10:05");
    }
}
