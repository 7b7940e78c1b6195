//! The app's analysis of a take it has just filed, on a thread of its own with its own
//! library connection, so the lesson screen keeps drawing while onsets are found.
//!
//! Owns the thread and its result. Must not touch the app's state: the app polls.

use super::take_analysis::analyse_and_store;
use crate::library::Library;
use std::path::PathBuf;
use std::thread::JoinHandle;

/// Analysing every attributed track (with a part) of one take.
pub struct AnalysisJob {
    pub take: i64,
    thread: Option<JoinHandle<Vec<String>>>,
}

impl AnalysisJob {
    /// Starts analysing `take` of the library in `root`; `done` is called from the
    /// job's thread when it ends (the app asks for a redraw there).
    pub fn start(root: PathBuf, take: i64, done: Box<dyn FnOnce() + Send>) -> AnalysisJob {
        let thread = std::thread::Builder::new()
            .name("bandroom-analysis".into())
            .spawn(move || {
                let problems = run(&root, take);
                done();
                problems
            })
            .ok();
        AnalysisJob { take, thread }
    }

    /// The problems found, once done (`None` while it runs).
    pub fn poll(&mut self) -> Option<Vec<String>> {
        if self.thread.as_ref().is_some_and(|t| !t.is_finished()) {
            return None;
        }
        Some(
            self.thread
                .take()
                .and_then(|t| t.join().ok())
                .unwrap_or_default(),
        )
    }
}

fn run(root: &std::path::Path, take: i64) -> Vec<String> {
    let mut lib = match Library::open(root) {
        Ok(lib) => lib,
        Err(e) => return vec![format!("take {take} was not analysed: {e}")],
    };
    let summary = match lib.take(take) {
        Ok(s) => s,
        Err(e) => return vec![format!("take {take} was not analysed: {e}")],
    };
    let mut problems = Vec::new();
    for track in &summary.tracks {
        let Some(part) = track.performers.iter().find_map(|p| p.part.clone()) else {
            continue;
        };
        if let Err(e) = analyse_and_store(&mut lib, &summary, track.number, &part) {
            problems.push(format!(
                "take {take} track {} was not analysed: {e}",
                track.number
            ));
        }
    }
    problems
}
