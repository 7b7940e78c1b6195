//! Capture through real cpal streams on a real JACK server (dummy driver), started by
//! the test under a unique name and stopped when it ends.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed test should stop at the failing line

mod common;

use common::*;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// A JACK server of the test's own, killed on drop.
struct JackServer {
    name: String,
    process: Child,
}

impl JackServer {
    fn start(tag: &str) -> JackServer {
        let name = format!("bandroom-{tag}-{}", std::process::id());
        let process = Command::new("jackd")
            .args([
                "-r", "-n", &name, "-d", "dummy", "-r", "48000", "-p", "256", "-C", "4", "-P", "4",
            ])
            .env("JACK_NO_AUDIO_RESERVATION", "1")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("jackd starts (make test installs jackd2)");
        let server = JackServer { name, process };
        let deadline = Instant::now() + Duration::from_secs(10);
        while !server.tool("jack_lsp", &[]).status.success() {
            assert!(Instant::now() < deadline, "the JACK server did not come up");
            std::thread::sleep(Duration::from_millis(50));
        }
        server
    }

    fn tool(&self, tool: &str, args: &[&str]) -> Output {
        Command::new(tool)
            .args(args)
            .env("JACK_DEFAULT_SERVER", &self.name)
            .env("JACK_NO_START_SERVER", "1")
            .output()
            .expect("JACK's command-line tools are installed")
    }

    fn bandroom(&self, dir: &Path, args: &[&str]) -> Child {
        let library = dir.join("library");
        Command::new(env!("CARGO_BIN_EXE_bandroom"))
            .arg("--library")
            .arg(&library)
            .args(args)
            .current_dir(dir)
            .env("JACK_DEFAULT_SERVER", &self.name)
            .env("JACK_NO_START_SERVER", "1")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    }

    /// Patches bandroom's first output port to its first input port, as a loopback
    /// cable would, as soon as both exist.
    fn loopback_when_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let ports = String::from_utf8_lossy(&self.tool("jack_lsp", &[]).stdout).to_string();
            let input = ports
                .lines()
                .find(|p| p.starts_with("cpal_client_") && p.ends_with("_in:in_0"));
            let output = ports
                .lines()
                .find(|p| p.starts_with("cpal_client_") && p.ends_with("_out:out_0"));
            if let (Some(i), Some(o)) = (input, output)
                && self.tool("jack_connect", &[o, i]).status.success()
            {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "bandroom's JACK ports never appeared"
            );
            std::thread::sleep(Duration::from_millis(2));
        }
    }
}

impl Drop for JackServer {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

fn finish(child: Child) -> Output {
    let output = child.wait_with_output().unwrap();
    assert_ok(&output);
    output
}

#[test]
fn records_four_channels_for_exactly_the_asked_length_on_the_servers_clock() {
    let server = JackServer::start("four");
    let dir = tempfile::tempdir().unwrap();
    let started = Instant::now();
    finish(server.bandroom(
        dir.path(),
        &[
            "record",
            "--host",
            "jack",
            "--inputs",
            "1,2,3,4",
            "--seconds",
            "3",
            "--out",
            "take",
        ],
    ));
    let wall = started.elapsed().as_secs_f64();
    // The server, not the CPU, sets the pace: three seconds of frames take three seconds.
    assert!(wall >= 2.9, "3 s recorded in {wall:.2} s of wall time");
    let take: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("take/take.json")).unwrap())
            .unwrap();
    assert_eq!(take["host"], "jack");
    assert_eq!(take["complete"], true);
    assert_eq!(take["sample_rate_hz"], 48_000);
    assert_eq!(
        take["buffer_frames"], 256,
        "the server's period is the granted buffer"
    );
    for n in 1..=4 {
        let reader =
            hound::WavReader::open(dir.path().join(format!("take/input-{n}.wav"))).unwrap();
        assert_eq!(reader.duration(), 144_000, "input-{n}");
        assert_eq!(reader.spec().sample_rate, 48_000);
    }
}

#[test]
fn a_calibrated_loopback_take_lines_up_with_the_render() {
    let server = JackServer::start("loop");
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let calibrate = server.bandroom(d, &["calibrate", "--host", "jack"]);
    server.loopback_when_ready();
    let said = String::from_utf8_lossy(&finish(calibrate).stdout).to_string();
    assert!(said.contains("comes back"), "{said}");

    let record = server.bandroom(
        d,
        &[
            "record",
            "--host",
            "jack",
            "--inputs",
            "1",
            "--play",
            "clapping-music",
            "--repeats",
            "1",
            "--out",
            "take",
        ],
    );
    server.loopback_when_ready();
    finish(record);
    assert_ok(&bandroom(
        &[
            "render",
            "clapping-music",
            "--repeats",
            "1",
            "--out",
            "render.wav",
        ],
        d,
    ));
    let (render, channels) = read_wav(&d.join("render.wav"));
    let left: Vec<f32> = render.iter().step_by(channels).copied().collect();
    let (take, _) = read_wav(&d.join("take/input-1.wav"));
    assert_eq!(take.len(), left.len());
    // From two seconds in (the cable is patched in a moment after the ports appear),
    // every sample is the one that was played at that frame.
    let from = 2 * 48_000;
    let first_miss = take[from..]
        .iter()
        .zip(&left[from..])
        .position(|(a, b)| a != b);
    assert_eq!(
        first_miss,
        None,
        "the take drifts from the render at frame {:?}",
        first_miss.map(|m| m + from)
    );
    assert!(
        take[from..].iter().any(|s| s.abs() > 0.01),
        "the loopback carried sound"
    );
}

#[test]
fn a_server_that_is_not_running_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_bandroom"))
        .args([
            "--library",
            "lib",
            "record",
            "--host",
            "jack",
            "--inputs",
            "1",
            "--seconds",
            "1",
            "--out",
            "take",
        ])
        .current_dir(dir.path())
        .env(
            "JACK_DEFAULT_SERVER",
            format!("bandroom-absent-{}", std::process::id()),
        )
        .env("JACK_NO_START_SERVER", "1")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let message = stderr(&output);
    let last = message
        .trim_end()
        .lines()
        .last()
        .unwrap_or_default()
        .to_string();
    assert!(
        last.contains("jack") && last.contains("JACK server"),
        "{message}"
    );
    assert!(!dir.path().join("take").exists());
}
