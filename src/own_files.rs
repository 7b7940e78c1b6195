//! Touch only what is ours: the names bandroom gives its temporary files and folders,
//! the test that a path is one of them, files and folders private to the user, plain
//! file names for paths read from files, and regular files only where bandroom reads
//! what a user names.
//!
//! A leaf helper: every layer may use it; it knows nothing of takes, bundles or audio.
//! Must never delete anything itself: callers remove only what [`is_scratch_of`] says
//! they made.

use std::fs::File;
use std::io;
use std::path::{Component, Path, PathBuf};

/// The marker every temporary name carries, so none can be mistaken for a user's file.
const SCRATCH_MARK: &str = ".bandroom-";

/// A temporary name beside `dest` for the work of `role` ("partial", "replaced"):
/// `.NAME.bandroom-ROLE-PID`, hidden, unique to this process and unmistakably bandroom's.
pub fn scratch_path(dest: &Path, role: &str) -> PathBuf {
    let name = dest
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "bandroom".to_string());
    // Keep the temporary name within the file system's 255-byte limit.
    let suffix = format!("{SCRATCH_MARK}{role}-{}", std::process::id());
    let room = 255usize.saturating_sub(suffix.len() + 1);
    let name = truncate_to_bytes(&name, room);
    dest.with_file_name(format!(".{name}{suffix}"))
}

/// True when `path` is a temporary name [`scratch_path`] gives for `dest` (any role,
/// any process), and so a leftover bandroom may remove.
pub fn is_scratch_of(path: &Path, dest: &Path) -> bool {
    let (Some(name), Some(dest_name)) = (
        path.file_name().and_then(|n| n.to_str()),
        dest.file_name().map(|n| n.to_string_lossy()),
    ) else {
        return false;
    };
    path.parent() == dest.parent()
        && name.starts_with('.')
        && name[1..].starts_with(truncate_to_bytes(&dest_name, 200))
        && name.contains(SCRATCH_MARK)
}

/// The process id a scratch name was made by, if it is one.
fn scratch_pid(path: &Path) -> Option<u32> {
    let name = path.file_name()?.to_str()?;
    let (_, rest) = name.rsplit_once(SCRATCH_MARK)?;
    rest.rsplit_once('-')?.1.parse().ok()
}

/// True when a process `pid` is running on this machine. Off Unix bandroom cannot tell,
/// and says yes, so a leftover is never removed from under a running export.
fn process_alive(pid: u32) -> bool {
    #[cfg(unix)]
    {
        let Some(pid) = i32::try_from(pid)
            .ok()
            .and_then(rustix::process::Pid::from_raw)
        else {
            return false;
        };
        // Permission denied still means the process exists (another user's).
        !matches!(
            rustix::process::test_kill_process(pid),
            Err(rustix::io::Errno::SRCH)
        )
    }
    #[cfg(not(unix))]
    {
        let _ = pid;
        true
    }
}

/// bandroom's own temporary files and folders beside `dest` left by a process that is
/// gone (killed, or the power cut) — an export's or backup's half copy of children's
/// data. Only names [`is_scratch_of`] recognises are listed; the caller removes them.
pub fn leftovers_of(dest: &Path) -> Vec<PathBuf> {
    let Some(parent) = dest.parent() else {
        return Vec::new();
    };
    let parent = if parent.as_os_str().is_empty() {
        Path::new(".")
    } else {
        parent
    };
    let Ok(entries) = std::fs::read_dir(parent) else {
        return Vec::new();
    };
    let mut found: Vec<PathBuf> = entries
        .flatten()
        .map(|e| dest.with_file_name(e.file_name()))
        .filter(|path| is_scratch_of(path, dest))
        .filter(|path| scratch_pid(path).is_some_and(|pid| !process_alive(pid)))
        .collect();
    found.sort();
    found
}

/// Removes a leftover [`leftovers_of`] listed (a folder with what is in it, or a file).
/// Refuses anything that is not one of bandroom's scratch names for `dest`.
pub fn remove_leftover(path: &Path, dest: &Path) -> io::Result<()> {
    if !is_scratch_of(path, dest) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "not one of bandroom's temporary names",
        ));
    }
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.is_dir() => std::fs::remove_dir_all(path),
        Ok(_) => std::fs::remove_file(path),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    }
}

/// Scratch paths this process is writing now, so a SIGINT, SIGTERM or SIGHUP can remove
/// them before it exits (a half export on a USB stick holds children's data).
static IN_PROGRESS: std::sync::Mutex<Vec<PathBuf>> = std::sync::Mutex::new(Vec::new());

/// A scratch path registered while it is being written; dropping it forgets it (the
/// work either renamed it into place or removed it).
#[derive(Debug)]
pub struct InProgress(PathBuf);

/// Registers `scratch` (a [`scratch_path`] of this process) as being written.
pub fn in_progress(scratch: &Path) -> InProgress {
    if let Ok(mut list) = IN_PROGRESS.lock() {
        list.push(scratch.to_path_buf());
    }
    InProgress(scratch.to_path_buf())
}

impl Drop for InProgress {
    fn drop(&mut self) {
        if let Ok(mut list) = IN_PROGRESS.lock()
            && let Some(at) = list.iter().position(|p| *p == self.0)
        {
            list.swap_remove(at);
        }
    }
}

/// Removes every scratch path this process is writing: called once, on the way out
/// after a termination signal. Only names carrying this process's own mark are touched.
pub fn remove_in_progress() {
    let paths: Vec<PathBuf> = IN_PROGRESS.lock().map(|l| l.clone()).unwrap_or_default();
    for path in paths {
        let ours = scratch_pid(&path) == Some(std::process::id())
            && path
                .file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with('.') && n.contains(SCRATCH_MARK));
        if !ours {
            continue;
        }
        let _ = match std::fs::symlink_metadata(&path) {
            Ok(meta) if meta.is_dir() => std::fs::remove_dir_all(&path),
            Ok(_) => std::fs::remove_file(&path),
            Err(_) => Ok(()),
        };
    }
}

/// The longest prefix of `text` of at most `bytes` bytes that ends on a character.
pub fn truncate_to_bytes(text: &str, bytes: usize) -> &str {
    if text.len() <= bytes {
        return text;
    }
    let mut end = bytes;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// True when `name` (read from a file bandroom did not necessarily write) is one plain
/// file name: no folder separators of any platform, no `.` or `..`, no drive or root,
/// no NUL. Such a name joined to a folder stays inside it.
pub fn is_plain_file_name(name: &str) -> bool {
    !name.is_empty()
        && name != "."
        && name != ".."
        && !name.contains(['/', '\\', '\0', ':'])
        && matches!(
            Path::new(name).components().collect::<Vec<_>>().as_slice(),
            [Component::Normal(_)]
        )
}

/// True when `relative` (a `/`-separated path read from a manifest or zip) names a place
/// inside the folder it is joined to: only plain names, no `..`, no root, no `\`.
pub fn is_inside_relative(relative: &str) -> bool {
    !relative.is_empty() && relative.split('/').all(is_plain_file_name)
}

/// Creates `dir` and its missing parents; the folders bandroom creates are private to
/// the user (0700 on Unix) because they hold children's names and recordings.
pub fn create_private_dir_all(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
    }
    #[cfg(not(unix))]
    {
        std::fs::create_dir_all(dir)
    }
}

/// Creates (or truncates) `path` as a file only its owner may read (0600 on Unix).
pub fn create_private_file(path: &Path) -> io::Result<File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let file = options.open(path)?;
    // A file that existed before keeps its old mode through `open`: tighten it.
    make_private(path)?;
    Ok(file)
}

/// Creates a new private file at `path`, refusing anything already there, a dangling
/// link included (`O_EXCL` never follows a link), so a file a person names is never
/// written somewhere a link points.
pub fn create_private_new(path: &Path) -> io::Result<File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)
}

/// Makes one file or folder private to its owner (0600 / 0700 on Unix; nothing to do on
/// platforms whose user folders are private by their access lists). Fails only when
/// `path` cannot be found: a disk that keeps no Unix modes (a FAT or exFAT USB stick)
/// refuses the change, and its files are as private as that disk allows, so that is
/// not an error.
pub fn make_private(path: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let meta = std::fs::symlink_metadata(path)?;
        if meta.file_type().is_symlink() {
            return Ok(());
        }
        let mode = if meta.is_dir() { 0o700 } else { 0o600 };
        if meta.permissions().mode() & 0o777 != mode {
            let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode));
        }
    }
    #[cfg(not(unix))]
    {
        let _ = path;
    }
    Ok(())
}

/// Makes a whole tree bandroom wrote (a bundle, a backup) private, never following a
/// link out of it.
pub fn make_tree_private(root: &Path) -> io::Result<()> {
    let mut stack = vec![root.to_path_buf()];
    while let Some(path) = stack.pop() {
        make_private(&path)?;
        let meta = std::fs::symlink_metadata(&path)?;
        if meta.is_dir() {
            for entry in std::fs::read_dir(&path)? {
                stack.push(entry?.path());
            }
        }
    }
    Ok(())
}

/// True when `path` is a symbolic link. A take's folder holds only files bandroom wrote,
/// so a link there is never a track: `check` reports it and no reader follows it.
pub fn is_link(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink())
}

/// Opens a file a user named for reading, refusing anything that is not a regular file
/// (a FIFO or a device would block the read forever or never end).
pub fn open_regular(path: &Path) -> io::Result<File> {
    let meta = std::fs::metadata(path)?;
    if !meta.is_file() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "not a regular file (a folder, pipe or device cannot be read as one)",
        ));
    }
    File::open(path)
}

/// Reads a whole file a user named, refusing non-regular files and anything larger than
/// `limit_bytes` before reading it.
pub fn read_regular_limited(path: &Path, limit_bytes: u64) -> io::Result<Vec<u8>> {
    use std::io::Read;
    let file = open_regular(path)?;
    let size = file.metadata()?.len();
    if size > limit_bytes {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "{} is larger than bandroom reads ({} MB at most)",
                display_size(size),
                limit_bytes / 1_000_000
            ),
        ));
    }
    let mut bytes = Vec::with_capacity(size as usize);
    file.take(limit_bytes + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit_bytes {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "the file grew while it was read",
        ));
    }
    Ok(bytes)
}

/// As [`read_regular_limited`], as UTF-8 text.
pub fn read_regular_text(path: &Path, limit_bytes: u64) -> io::Result<String> {
    String::from_utf8(read_regular_limited(path, limit_bytes)?).map_err(|_| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            "not UTF-8 text (save it as UTF-8 and try again)",
        )
    })
}

/// The most bandroom reads of a small file a person or another program made (an
/// arrangement, a MIDI file, a take.json, settings, a framework).
pub const SMALL_FILE_LIMIT: u64 = 32 << 20;

fn display_size(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / 1e6)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scratch_names_are_hidden_marked_and_recognised() {
        let dest = Path::new("/tmp/x/year8.zip");
        let scratch = scratch_path(dest, "partial");
        let name = scratch.file_name().unwrap().to_str().unwrap();
        assert_eq!(
            name,
            format!(".year8.zip.bandroom-partial-{}", std::process::id())
        );
        assert!(is_scratch_of(&scratch, dest));
        for foreign in ["year8.partial", "year8.folder", ".year8.zip", "year8.zip"] {
            assert!(!is_scratch_of(&Path::new("/tmp/x").join(foreign), dest));
        }
        assert!(!is_scratch_of(
            Path::new("/tmp/y/.year8.zip.bandroom-partial-1"),
            dest
        ));
    }

    #[test]
    fn leftovers_are_those_of_processes_that_are_gone() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("8B.zip");
        let mine = scratch_path(&dest, "partial");
        std::fs::write(&mine, b"mine").unwrap();
        // No process has id 4,194,304 or more on Linux (pid_max's ceiling).
        let dead = dir.path().join(".8B.zip.bandroom-partial-4194999");
        std::fs::create_dir(&dead).unwrap();
        std::fs::write(dir.path().join(".8B.zip.someone-else"), b"x").unwrap();
        assert_eq!(leftovers_of(&dest), vec![dead.clone()]);
        remove_leftover(&dead, &dest).unwrap();
        assert!(!dead.exists() && mine.exists());
        assert!(remove_leftover(&dir.path().join(".8B.zip.someone-else"), &dest).is_err());
    }

    #[test]
    fn long_names_keep_scratch_names_within_255_bytes() {
        let long = "é".repeat(120);
        let scratch = scratch_path(&Path::new("/tmp").join(&long), "replaced");
        assert!(scratch.file_name().unwrap().len() <= 255);
    }

    #[test]
    fn only_plain_names_pass() {
        for bad in [
            "",
            ".",
            "..",
            "../x.wav",
            "/etc/passwd",
            "a/b.wav",
            "a\\b.wav",
            "c:x.wav",
            "x\0.wav",
        ] {
            assert!(!is_plain_file_name(bad), "{bad:?}");
        }
        assert!(is_plain_file_name("input-1.wav"));
        assert!(is_inside_relative("audio/p01/take.wav"));
        for bad in ["../etc/passwd", "/abs", "a/../b", "a\\..\\b", "a//b", ""] {
            assert!(!is_inside_relative(bad), "{bad:?}");
        }
    }
}
