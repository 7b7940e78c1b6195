//! Work on a thread of its own, so the app's window keeps drawing: the analysis of a
//! take just filed (with its own library connection), loading a take to play, learning
//! a pedal, writing an export.
//!
//! Owns the thread and its result; `done` is called on the thread when the work ends
//! (the app asks for a redraw there). Must not touch the app's state: the app polls.

use super::take_analysis::analyse_and_store;
use crate::library::Library;
use std::path::PathBuf;
use std::thread::JoinHandle;

/// Something being worked out off the UI thread.
pub struct Background<T> {
    thread: Option<JoinHandle<T>>,
    /// Why the thread could not be started, if it was not.
    not_started: Option<String>,
}

impl<T: Send + 'static> Background<T> {
    /// Starts `work` on a thread called `name`; `done` runs on that thread after it.
    pub fn start(
        name: &str,
        work: impl FnOnce() -> T + Send + 'static,
        done: Box<dyn FnOnce() + Send>,
    ) -> Self {
        let spawned = std::thread::Builder::new()
            .name(name.to_string())
            .spawn(move || {
                let result = work();
                done();
                result
            });
        match spawned {
            Ok(thread) => Background {
                thread: Some(thread),
                not_started: None,
            },
            Err(e) => Background {
                thread: None,
                not_started: Some(format!("{name} could not start: {e}")),
            },
        }
    }

    pub fn is_running(&self) -> bool {
        self.thread.as_ref().is_some_and(|t| !t.is_finished())
    }

    /// The result once the work has ended (`None` while it runs, and after the result
    /// was taken). An error says the thread could not start or stopped unexpectedly.
    pub fn poll(&mut self) -> Option<Result<T, String>> {
        if self.is_running() {
            return None;
        }
        if let Some(why) = self.not_started.take() {
            return Some(Err(why));
        }
        let thread = self.thread.take()?;
        Some(
            thread
                .join()
                .map_err(|_| "the work stopped unexpectedly".to_string()),
        )
    }
}

/// Analysing every attributed track (with a part) of one take.
pub struct AnalysisJob {
    pub take: i64,
    work: Background<Vec<String>>,
}

impl AnalysisJob {
    /// Starts analysing `take` of the library in `root`.
    pub fn start(root: PathBuf, take: i64, done: Box<dyn FnOnce() + Send>) -> AnalysisJob {
        AnalysisJob {
            take,
            work: Background::start("bandroom-analysis", move || run(&root, take), done),
        }
    }

    /// The problems found, once done (`None` while it runs).
    pub fn poll(&mut self) -> Option<Vec<String>> {
        self.work.poll().map(|result| {
            result.unwrap_or_else(|e| vec![format!("take {} was not analysed: {e}", self.take)])
        })
    }
}

fn run(root: &std::path::Path, take: i64) -> Vec<String> {
    let mut lib = match Library::reopen(root) {
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    #[test]
    fn the_result_comes_once_and_done_is_called() {
        let called = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&called);
        let (go, wait) = crossbeam_channel::bounded::<()>(1);
        let mut job = Background::start(
            "test",
            move || {
                let _ = wait.recv();
                6 * 7
            },
            Box::new(move || flag.store(true, Ordering::SeqCst)),
        );
        assert!(job.poll().is_none(), "still waiting");
        go.send(()).unwrap();
        let result = loop {
            if let Some(r) = job.poll() {
                break r;
            }
            std::thread::sleep(std::time::Duration::from_millis(1));
        };
        assert_eq!(result, Ok(42));
        assert!(called.load(Ordering::SeqCst));
        assert!(job.poll().is_none(), "taken once");
    }

    #[test]
    fn a_panicking_job_is_reported_not_propagated() {
        let mut job: Background<()> = Background::start("test", || panic!("boom"), Box::new(|| {}));
        let result = loop {
            if let Some(r) = job.poll() {
                break r;
            }
            std::thread::sleep(std::time::Duration::from_millis(1));
        };
        assert!(result.is_err());
    }
}
