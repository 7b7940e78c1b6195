//! Helpers shared by the integration tests: running the CLI, reading WAV and CSV
//! outputs, and the exact frame arithmetic the tests compare against (written here
//! independently of `engine::tempo_map`).
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)] // shared by several test binaries; failures stop at the line

use std::path::Path;
use std::process::{Command, Output};

pub fn bandroom(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_bandroom"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("the bandroom binary runs")
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

pub fn assert_ok(output: &Output) {
    assert!(
        output.status.success(),
        "bandroom failed: {}",
        stderr(output)
    );
}

/// Interleaved samples of a 32-bit float WAV, and its channel count.
pub fn read_wav(path: &Path) -> (Vec<f32>, usize) {
    let mut reader = hound::WavReader::open(path)
        .unwrap_or_else(|e| panic!("{} is a WAV file: {e}", path.display()));
    let channels = usize::from(reader.spec().channels);
    let samples = reader
        .samples::<f32>()
        .collect::<Result<Vec<_>, _>>()
        .expect("float samples");
    (samples, channels)
}

/// One row of an events CSV.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct EventRow {
    pub frame: u64,
    pub part: String,
    pub kind: String,
    pub velocity: u8,
}

pub fn read_events(path: &Path) -> Vec<EventRow> {
    let text = std::fs::read_to_string(path).expect("events CSV exists");
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("frame,part,kind,velocity"));
    lines
        .map(|line| {
            let fields: Vec<&str> = line.split(',').collect();
            assert_eq!(fields.len(), 4, "{line}");
            EventRow {
                frame: fields[0].parse().expect("frame"),
                part: fields[1].to_string(),
                kind: fields[2].to_string(),
                velocity: fields[3].parse().expect("velocity"),
            }
        })
        .collect()
}

/// round(units · sample_rate · 60 / (bpm · units_per_quarter)), half up, in integers.
pub fn exact_frame(units: u64, units_per_quarter: u64, bpm: u64, sample_rate: u64) -> u64 {
    let num = u128::from(units) * u128::from(sample_rate) * 60;
    let den = u128::from(bpm) * u128::from(units_per_quarter);
    u64::try_from((2 * num + den) / (2 * den)).expect("fits")
}

/// Reich's pattern as booleans.
pub const CLAPPING_PATTERN: [bool; 12] = [
    true, true, true, false, true, true, false, true, false, true, true, false,
];

/// Mean square of `samples[from..to]` for one channel of interleaved audio.
pub fn energy(samples: &[f32], channels: usize, channel: usize, from: u64, to: u64) -> f64 {
    let (from, to) = (from as usize, to as usize);
    let sum: f64 = (from..to)
        .map(|f| f64::from(samples[f * channels + channel]).powi(2))
        .sum();
    sum / (to - from).max(1) as f64
}

/// A take's take.json.
pub fn take_json(take_dir: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(take_dir.join("take.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// Waits (at most 20 s) until a recording has written its first take.json.
pub fn wait_for_take(take_dir: &Path) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while !take_dir.join("take.json").exists() {
        assert!(
            std::time::Instant::now() < deadline,
            "the take never started"
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}

/// Starts `bandroom --library DIR/library ARGS` in `dir` without waiting for it.
pub fn spawn_bandroom(dir: &Path, args: &[&str]) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_bandroom"))
        .arg("--library")
        .arg(dir.join("library"))
        .args(args)
        .current_dir(dir)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap()
}

/// Renders Clapping Music with one repeat per bar into `dir` and returns each channel:
/// what a take made while playing it must hold.
pub fn clapping_music_render(dir: &Path) -> Vec<Vec<f32>> {
    assert_ok(&bandroom(
        &[
            "render",
            "clapping-music",
            "--repeats",
            "1",
            "--out",
            "render.wav",
        ],
        dir,
    ));
    let (samples, channels) = read_wav(&dir.join("render.wav"));
    (0..channels)
        .map(|c| samples.iter().skip(c).step_by(channels).copied().collect())
        .collect()
}

/// A small RAM disk (needs root, as CI and `make test` have), unmounted when dropped.
pub struct SmallDisk(std::path::PathBuf);

impl SmallDisk {
    pub fn mount(at: &Path, size: &str) -> SmallDisk {
        std::fs::create_dir_all(at).unwrap();
        let mounted = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(at)
            .status()
            .unwrap();
        assert!(
            mounted.success(),
            "mounting a small tmpfs needs root (CI and `make test` run as root)"
        );
        SmallDisk(at.to_path_buf())
    }

    /// Makes the disk read-only, as a locked-down or failing drive would be.
    pub fn remount_read_only(&self) {
        let done = Command::new("mount")
            .args(["-o", "remount,ro"])
            .arg(&self.0)
            .status()
            .unwrap();
        assert!(done.success(), "remounting read-only");
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

/// Runs `work` on a named thread (the project names every thread it starts).
pub fn spawn_named<T: Send + 'static>(
    name: &str,
    work: impl FnOnce() -> T + Send + 'static,
) -> std::thread::JoinHandle<T> {
    std::thread::Builder::new()
        .name(name.into())
        .spawn(work)
        .unwrap()
}

/// Fails with the whole text when it does not contain `expected`.
pub fn assert_contains(text: &str, expected: &str) {
    assert!(text.contains(expected), "expected {expected:?} in:\n{text}");
}

/// Records a take into the library on the virtual device at ten times real speed:
/// `bandroom record --host virtual --virtual-speed 10 ARGS`; fails the test if it fails.
#[allow(dead_code)] // not every test file records
pub fn record_on_virtual(library: &Path, args: &[&str]) {
    let mut all = vec!["record", "--host", "virtual", "--virtual-speed", "10"];
    all.extend_from_slice(args);
    assert_ok(&in_library(library, &all));
}

/// Runs `bandroom --library LIBRARY ARGS` in the library's parent folder.
pub fn in_library(library: &Path, args: &[&str]) -> Output {
    let mut all = vec!["--library", library.to_str().expect("a UTF-8 path")];
    all.extend_from_slice(args);
    bandroom(
        &all,
        library.parent().expect("the library has a parent folder"),
    )
}

/// `record` arguments for a Clapping Music take (one bar a section) on the virtual
/// device, corrected for its 256-frame loopback as a calibration would be, into class 8B.
pub const CLAPPING_TAKE_IN_8B: &[&str] = &[
    "record",
    "--host",
    "virtual",
    "--inputs",
    "1,2",
    "--play",
    "clapping-music",
    "--repeats",
    "1",
    "--virtual-speed",
    "20",
    "--latency",
    "256",
    "--class",
    "8B",
];

/// Class 8B with Amira Okafor and Jan Nowak, in a new library at `library`.
pub fn class_8b(library: &Path) {
    assert_ok(&in_library(library, &["class", "add", "8B"]));
    let roster = library.parent().expect("a parent folder").join("8b.csv");
    std::fs::write(&roster, "name\nAmira Okafor\nJan Nowak\n").expect("roster written");
    assert_ok(&in_library(
        library,
        &[
            "pupils",
            "import",
            roster.to_str().expect("UTF-8"),
            "--class",
            "8B",
        ],
    ));
}

/// Writes `samples` as a mono 48 kHz 32-bit float WAV.
pub fn write_mono_wav(path: &Path, samples: &[f32]) {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 48_000,
        bits_per_sample: 32,
        sample_format: hound::SampleFormat::Float,
    };
    let mut writer = hound::WavWriter::create(path, spec).expect("WAV created");
    for s in samples {
        writer.write_sample(*s).expect("sample written");
    }
    writer.finalize().expect("WAV finished");
}

pub fn write_wav(path: &Path, frames: usize, seed: usize) {
    let samples: Vec<f32> = (0..frames)
        .map(|i| ((i * (seed + 1)) as f32 * 0.01).sin() * 0.5)
        .collect();
    write_mono_wav(path, &samples);
}

/// Registers a take of `tracks` WAV tracks of `frames` frames each in today's lesson of
/// `class`, straight through the library (no device), for tests that need many takes.
pub fn register_take_of(
    lib: &mut bandroom::library::Library,
    class: Option<i64>,
    tracks: usize,
    frames: usize,
) -> i64 {
    use bandroom::library::{NewTake, NewTrack, Purpose};
    let lesson = lib.lesson_for_today(class).unwrap();
    let staged = lib.staging_folder().unwrap();
    for n in 1..=tracks {
        write_wav(&staged.join(format!("input-{n}.wav")), frames, n);
    }
    let take = NewTake {
        recorded_at: bandroom::library::now(),
        arrangement: Some("clapping-music".into()),
        tempo_bpm: Some(160.0),
        repeats: None,
        count_in_bars: 1,
        section: None,
        host: "virtual".into(),
        input_device: "virtual loopback".into(),
        output_device: "virtual loopback".into(),
        sample_rate_hz: 48_000,
        latency_applied_frames: 256,
        frames: frames as u64,
        duration_secs: frames as f64 / 48_000.0,
        xruns: 0,
        gaps: 0,
        complete: true,
        purpose: Purpose::Assessment,
        music_frames: None,
        pass: None,
        tracks: (1..=tracks)
            .map(|n| NewTrack {
                number: n as i64,
                file: format!("input-{n}.wav"),
                input_channel: Some(n as i64),
                input_device: None,
                midi_port: None,
                frames: frames as u64,
            })
            .collect(),
    };
    lib.register_take(lesson, &staged, &take).unwrap().0
}

/// A virtual X display of its own for a test that opens the real window. Xvfb picks a
/// free display number itself (`-displayfd`) and says which, so two tests (or two test
/// processes) starting displays at once never race for one, as `xvfb-run -a` does.
/// Stopped when dropped.
pub struct VirtualDisplay {
    server: std::process::Child,
    pub display: String,
}

impl VirtualDisplay {
    pub fn start(width: u32, height: u32) -> VirtualDisplay {
        use std::io::Read;
        let mut server = Command::new("Xvfb")
            .args(["-displayfd", "1", "-nolisten", "tcp", "-screen", "0"])
            .arg(format!("{width}x{height}x24"))
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("Xvfb is needed for this test: `make test` installs it");
        let mut stdout = server.stdout.take().expect("Xvfb's output is piped");
        // Xvfb writes the display number and a newline once it accepts clients.
        let mut number = String::new();
        let mut byte = [0u8; 1];
        while stdout.read(&mut byte).is_ok_and(|n| n == 1) && byte[0] != b'\n' {
            number.push(byte[0] as char);
        }
        assert!(
            !number.trim().is_empty(),
            "Xvfb did not say which display it started"
        );
        VirtualDisplay {
            server,
            display: format!(":{}", number.trim()),
        }
    }
}

impl Drop for VirtualDisplay {
    fn drop(&mut self) {
        let _ = self.server.kill();
        let _ = self.server.wait();
    }
}

/// The one number `sql` gives on the database at `db` (a count, a version).
pub fn count(db: &Path, sql: &str) -> i64 {
    let conn = rusqlite::Connection::open(db).expect("the database opens");
    conn.query_row(sql, [], |r| r.get(0))
        .expect("the query gives one number")
}
