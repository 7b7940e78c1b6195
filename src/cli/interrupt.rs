//! Ctrl-C, SIGTERM and SIGHUP (a closed terminal, a logout, `kill`) for the whole
//! command line, handled alike: a recording is asked to stop and keeps what it has; any
//! other command removes the half-written export, backup or file it was making (a half
//! bundle on a USB stick holds children's data) and exits with 130.
//!
//! Owns the one handler a process may have. Must not do the commands' work.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

/// Set when a running recording should stop; the recording installs it.
static STOP_FLAG: OnceLock<Arc<AtomicBool>> = OnceLock::new();

/// Installs the handler (once, at start). A second signal during a recording's stop
/// ends the process as for any other command.
pub fn install() {
    let _ = ctrlc::set_handler(|| {
        if let Some(flag) = STOP_FLAG.get()
            && !flag.swap(true, Ordering::AcqRel)
        {
            return;
        }
        bandroom::own_files::remove_in_progress();
        std::process::exit(130);
    });
}

/// The flag a recording polls: set by the first signal instead of exiting.
pub fn stop_flag() -> Arc<AtomicBool> {
    Arc::clone(STOP_FLAG.get_or_init(|| Arc::new(AtomicBool::new(false))))
}
