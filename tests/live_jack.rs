//! Capture through real cpal streams on a real JACK server (dummy driver), started by
//! the test under a unique name and stopped when it ends.

// JACK (its server, cpal's and midir's JACK backends) is built on Linux only.
#![cfg(target_os = "linux")]
#![allow(clippy::unwrap_used, clippy::expect_used)]
// a failed test should stop at the failing line
// A test here is one session at the JACK server, told in order from start to end.
#![allow(clippy::too_many_lines)]

mod common;

use common::*;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// One server at a time: the dummy driver runs late (xruns) when several share 2 cores.
static ONE_SERVER_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// A JACK server of the test's own, stopped on drop.
struct JackServer {
    name: String,
    process: Child,
    _turn: std::sync::MutexGuard<'static, ()>,
}

impl JackServer {
    fn start(tag: &str) -> JackServer {
        let turn = ONE_SERVER_AT_A_TIME
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        // A server that was ever killed rather than stopped keeps its entry in JACK's
        // shared-memory registry, and after eight of those no server starts ("Too many
        // servers already active"). The registry is one file for the machine, so it is
        // cleared only when no JACK server of any kind (jackd, or jackdbus behind a
        // desktop) is running; under `make test` the JACK tests run one at a time (a
        // nextest group), so no other test process is starting one meanwhile.
        let running = |process: &str| {
            Command::new("pgrep")
                .args(["-x", process])
                .status()
                .is_ok_and(|s| s.success())
        };
        let none_running = !running("jackd") && !running("jackdbus");
        if none_running && let Ok(entries) = std::fs::read_dir("/dev/shm") {
            for entry in entries.filter_map(Result::ok) {
                if entry.file_name().to_string_lossy().starts_with("jack") {
                    let _ = std::fs::remove_dir_all(entry.path());
                    let _ = std::fs::remove_file(entry.path());
                }
            }
        }
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
        let server = JackServer {
            name,
            process,
            _turn: turn,
        };
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

    /// One of JACK's example clients (MIDI sequencer, MIDI monitor) on this server.
    fn spawn_tool(&self, tool: &str, args: &[&str]) -> Child {
        Command::new(tool)
            .args(args)
            .env("JACK_DEFAULT_SERVER", &self.name)
            .env("JACK_NO_START_SERVER", "1")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("JACK's example clients are installed (jackd2)")
    }

    /// Waits until every one of `ports` exists.
    fn wait_for_ports(&self, ports: &[&str]) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let listed = String::from_utf8_lossy(&self.tool("jack_lsp", &[]).stdout).to_string();
            if ports.iter().all(|p| listed.lines().any(|l| l == *p)) {
                return;
            }
            assert!(Instant::now() < deadline, "ports {ports:?} never appeared");
            std::thread::sleep(Duration::from_millis(2));
        }
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

impl JackServer {
    /// Stops the server the way a shutdown does. A SIGKILLed jackd leaves its entry in
    /// JACK's shared-memory registry, and after a few such runs no new server can start.
    fn stop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.process.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.process.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.process.kill();
        let _ = self.process.wait();
        // A killed server leaves its own files behind: remove those, and only those.
        if let Ok(entries) = std::fs::read_dir("/dev/shm") {
            for entry in entries.filter_map(Result::ok) {
                if entry.file_name().to_string_lossy().contains(&self.name) {
                    let _ = std::fs::remove_file(entry.path());
                }
            }
        }
    }
}

impl Drop for JackServer {
    fn drop(&mut self) {
        self.stop();
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
    let take = take_json(&dir.path().join("take"));
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

/// A second input device on the same server shares its clock: it goes through the same
/// follow-and-resample path as a USB microphone would, and must measure no drift.
#[test]
fn a_further_device_on_the_servers_own_clock_measures_no_drift() {
    let server = JackServer::start("twoclients");
    let dir = tempfile::tempdir().unwrap();
    finish(server.bandroom(
        dir.path(),
        &[
            "record",
            "--host",
            "jack",
            "--inputs",
            "1,JACK Input@1",
            "--seconds",
            "12",
            "--out",
            "take",
        ],
    ));
    let take = take_json(&dir.path().join("take"));
    let devices = take["devices"].as_array().unwrap();
    assert_eq!(devices.len(), 1, "{take}");
    let device = &devices[0];
    assert_eq!(device["name"], "JACK Input");
    assert_eq!(device["id"], "jack:input");
    assert_eq!(device["clock_followed"], true);
    let drift = device["drift_ppm"]
        .as_f64()
        .unwrap_or_else(|| panic!("the clock was never measured: {device}"));
    assert!(
        drift.abs() <= 5.0,
        "one clock, yet {drift} ppm measured: {device}"
    );
    let tracks = take["tracks"].as_array().unwrap();
    assert_eq!(tracks.len(), 2, "{take}");
    let frames: Vec<u64> = tracks
        .iter()
        .map(|t| t["frames"].as_u64().unwrap())
        .collect();
    assert_eq!(frames, vec![12 * 48_000; 2], "{take}");
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
    let left = clapping_music_render(d).swap_remove(0);
    let (take, _) = read_wav(&d.join("take/input-1.wav"));
    assert_eq!(take.len(), left.len());
    // Input lost to an xrun (the dummy server runs late when the machine is busy) is
    // silence of exactly the lost length, listed in take.json; everything else must be
    // the very sample that was played at that frame.
    let info = take_json(&d.join("take"));
    let mut expected = left.clone();
    let mut lost = 0u64;
    for gap in info["gaps"].as_array().unwrap() {
        let at = gap["at_frame"].as_u64().unwrap() as usize;
        let frames = gap["frames"].as_u64().unwrap() as usize;
        expected[at..at + frames].fill(0.0);
        lost += frames as u64;
    }
    assert!(lost < take.len() as u64 / 10, "{lost} frames lost to xruns");
    // Every 256-frame period must hold exactly what was played at those frames. In an
    // xrun the loopback itself may carry a stale buffer for a period, so each xrun the
    // server reported excuses at most two periods; a take misaligned by even one frame
    // differs in nearly every period that has a clap in it.
    let period = 256;
    // The comparison starts a second after sound first arrives (the cable is patched by
    // this test, a moment after the ports appear — later when the machine is busy), and
    // must still cover most of the take.
    let arrived = take
        .iter()
        .position(|s| *s != 0.0)
        .expect("the loopback carried sound");
    let from = (arrived + 48_000).next_multiple_of(period);
    assert!(
        from < take.len() / 2,
        "the loopback was only connected at frame {arrived}"
    );
    let differing: Vec<usize> = (from / period..take.len() / period)
        .filter(|p| take[p * period..(p + 1) * period] != expected[p * period..(p + 1) * period])
        .collect();
    let xruns = info["xruns"].as_u64().unwrap() as usize;
    assert!(
        differing.len() <= 2 * xruns,
        "{} periods differ from the render with {xruns} xruns; first at frame {:?} (gaps: {})",
        differing.len(),
        differing.first().map(|p| p * period),
        info["gaps"]
    );
    assert!(
        take[from..].iter().any(|s| s.abs() > 0.01),
        "the loopback carried sound"
    );
}

#[test]
fn a_server_that_goes_away_mid_take_stops_it_and_keeps_what_was_recorded() {
    let mut server = JackServer::start("gone");
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let record = server.bandroom(
        d,
        &[
            "record",
            "--host",
            "jack",
            "--inputs",
            "1,2",
            "--seconds",
            "30",
            "--out",
            "take",
        ],
    );
    wait_for_take(&d.join("take"));
    std::thread::sleep(Duration::from_secs(2));
    server.stop(); // to bandroom, as sudden as pulling the interface's cable
    let output = record.wait_with_output().unwrap();
    assert!(!output.status.success());
    let message = stderr(&output);
    assert!(message.contains("JACK server"), "{message}");
    assert!(message.contains("kept in take"), "{message}");
    let take = take_json(&d.join("take"));
    assert_eq!(take["complete"], false);
    assert!(take["error"].as_str().unwrap().contains("JACK"));
    for n in [1, 2] {
        let reader = hound::WavReader::open(d.join(format!("take/input-{n}.wav"))).unwrap();
        let secs = f64::from(reader.duration()) / 48_000.0;
        assert!((1.0..4.0).contains(&secs), "input-{n}: {secs:.2} s kept");
    }
}

#[test]
fn unknown_devices_and_refused_rates_are_named() {
    let server = JackServer::start("refuse");
    let dir = tempfile::tempdir().unwrap();
    let cases: &[(&[&str], &str)] = &[
        (
            &["--input", "Tascam", "--seconds", "1"],
            "no input device called 'Tascam' on jack; available: JACK Input",
        ),
        (
            &["--sample-rate", "44100", "--seconds", "1"],
            "cannot run at 44100 Hz",
        ),
    ];
    for (extra, expected) in cases {
        let mut args = vec!["record", "--host", "jack", "--inputs", "1", "--out", "take"];
        args.extend_from_slice(extra);
        let output = server
            .bandroom(dir.path(), &args)
            .wait_with_output()
            .unwrap();
        assert!(!output.status.success(), "{args:?}");
        let message = stderr(&output);
        assert!(message.contains(expected), "{args:?}: {message}");
        assert!(
            !dir.path().join("take").exists(),
            "{args:?} left a take folder"
        );
    }
}

#[test]
fn calibration_without_a_loopback_says_nothing_came_back() {
    let server = JackServer::start("silent");
    let dir = tempfile::tempdir().unwrap();
    let output = server
        .bandroom(dir.path(), &["calibrate", "--host", "jack"])
        .wait_with_output()
        .unwrap();
    assert!(!output.status.success());
    let message = stderr(&output);
    assert!(
        message.contains("nothing came back on input 1"),
        "{message}"
    );
    assert!(
        !dir.path().join("library/settings.toml").exists(),
        "a failed calibration stores nothing"
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

/// Stops one of JACK's example clients as a shutdown would (SIGTERM: it closes its
/// client), so the server is left in order.
fn stop_client(mut client: Child) {
    let _ = Command::new("kill")
        .args(["-TERM", &client.id().to_string()])
        .status();
    let _ = client.wait();
}

/// One message of a MIDI monitor's line ("time: 99 24 7f"), as bytes.
fn monitored_message(line: &str) -> Option<Vec<u8>> {
    let (_, bytes) = line.split_once(':')?;
    let bytes: Vec<u8> = bytes
        .split_whitespace()
        .map_while(|b| u8::from_str_radix(b, 16).ok())
        .collect();
    (!bytes.is_empty()).then_some(bytes)
}

/// What a MIDI monitor (started line-buffered) printed, read as it arrives until `done`
/// says everything expected is there, or 30 s pass: the test never guesses how long the
/// monitor needs, and a message that truly went missing fails the exact counts after.
fn monitored_until(mut monitor: Child, done: impl Fn(&[Vec<u8>]) -> bool) -> Vec<Vec<u8>> {
    use std::io::BufRead;
    let stdout = monitor
        .stdout
        .take()
        .expect("the monitor's output is piped");
    let (lines, arriving) = crossbeam_channel::bounded::<String>(4096);
    let reader = spawn_named("midi-monitor", move || {
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            if lines.send(line).is_err() {
                break;
            }
        }
    });
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut messages = Vec::new();
    while !done(&messages) {
        let left = deadline.saturating_duration_since(Instant::now());
        match arriving.recv_timeout(left) {
            Ok(line) => messages.extend(monitored_message(&line)),
            Err(_) => break,
        }
    }
    stop_client(monitor);
    drop(arriving);
    let _ = reader.join();
    messages
}

#[test]
fn a_part_sent_out_over_midi_and_played_back_in_lines_up_with_the_timeline() {
    let server = JackServer::start("midi");
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // A monitor stands for the sound module; a silent sequencer for a keyboard nobody plays.
    // Line-buffered, so each message can be read as soon as the monitor prints it.
    let monitor = server.spawn_tool("stdbuf", &["-oL", "jack_midi_dump", "mon"]);
    let keyboard = server.spawn_tool(
        "jack_midiseq",
        &["idle", "48000000", "47999000", "60", "10"],
    );
    server.wait_for_ports(&["mon:input", "idle:out"]);
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
            "--tempo",
            "184",
            "--midi-out",
            "clapper-1=mon@10#1",
            "--midi-clock",
            "mon",
            "--midi-inputs",
            "idle",
            "--out",
            "take",
        ],
    );
    // The part also goes straight back into bandroom's keyboard input: a MIDI loopback.
    server.wait_for_ports(&["bandroom-out-1:part-1", "bandroom-in-1:keys-1"]);
    assert!(
        server
            .tool(
                "jack_connect",
                &["bandroom-out-1:part-1", "bandroom-in-1:keys-1"]
            )
            .status
            .success()
    );
    finish(record);
    stop_client(keyboard);

    let events = read_events(&{
        let out = common::bandroom(
            &[
                "render",
                "clapping-music",
                "--repeats",
                "1",
                "--tempo",
                "184",
                "--out",
                "r.wav",
                "--events",
                "ev.csv",
            ],
            d,
        );
        assert_ok(&out);
        d.join("ev.csv")
    });
    let expected = events.iter().filter(|e| e.part == "clapper 1").count();
    let is_on = |m: &Vec<u8>| m[0] == 0x99 && m[2] > 0;
    let is_off = |m: &Vec<u8>| m[0] == 0x89 || (m[0] == 0x99 && m[2] == 0);
    // Read until every note has started and ended and the clock has stopped.
    let messages = monitored_until(monitor, |seen| {
        seen.iter().filter(|m| is_on(m)).count() >= expected
            && seen.iter().filter(|m| is_off(m)).count() >= expected
            && seen.iter().any(|m| m == &vec![0xFC])
    });
    let note_ons: Vec<&Vec<u8>> = messages
        .iter()
        .filter(|m| m[0] == 0x99 && m[2] > 0)
        .collect();
    let note_offs = messages
        .iter()
        .filter(|m| m[0] == 0x89 || (m[0] == 0x99 && m[2] == 0))
        .count();
    eprintln!(
        "monitor: {} ons, {note_offs} offs, {} messages in all",
        note_ons.len(),
        messages.len()
    );
    // The monitor is read to the end (above), so every message is counted exactly.
    assert_eq!(
        note_ons.len(),
        expected,
        "every note of clapper 1, on channel 10"
    );
    assert_eq!(note_offs, expected, "and every one ended");
    assert!(
        messages.iter().all(|m| m[0] >= 0xF0 || (m[0] & 0x0F) == 9),
        "nothing on another channel"
    );
    assert_eq!(
        messages[0],
        vec![0xC9, 0],
        "the program is chosen before the first note"
    );
    let first_note = messages.iter().position(|m| m[0] == 0x99).unwrap();
    let start = messages.iter().position(|m| m == &vec![0xFA]).unwrap();
    let stop = messages.iter().rposition(|m| m == &vec![0xFC]).unwrap();
    assert!(
        start < first_note && stop > first_note,
        "clock start before, stop after"
    );
    let pulses = messages.iter().filter(|m| m == &&vec![0xF8]).count();
    // Clapping Music is in 12/8: each clicked beat is a dotted quarter, 1.5 quarters.
    let quarters = events.iter().filter(|e| e.part == "click").count() * 3 / 2;
    assert!(
        pulses.abs_diff(24 * quarters) <= 24,
        "24 clock pulses per quarter note: {pulses} for {quarters} quarters"
    );

    // The keyboard track holds the part as it came back, on the take's timeline.
    let analysis = common::bandroom(
        &[
            "analyze",
            "take/keys-1.mid",
            "--arrangement",
            "clapping-music",
            "--part",
            "clapper 1",
            "--repeats",
            "1",
            "--tempo",
            "184",
            "--json",
        ],
        d,
    );
    assert_ok(&analysis);
    let json: serde_json::Value = serde_json::from_slice(&analysis.stdout).unwrap();
    let summary = &json["summary"];
    let hits = summary["hits"].as_u64().unwrap() as usize;
    assert_eq!(hits, expected, "{summary}");
    assert_eq!(summary["extras"], 0, "{summary}");
    // Out and back in costs JACK a period or two each way (5.3 ms per period here), and
    // midir stamps a whole period's messages with one time: late by 0-4 periods, steady.
    let mean = summary["mean_deviation_ms"].as_f64().unwrap();
    let sd = summary["sd_deviation_ms"].as_f64().unwrap();
    println!("MIDI out and back in: mean deviation {mean:.1} ms, spread {sd:.1} ms");
    assert!((0.0..=11.0).contains(&mean), "mean deviation {mean} ms");
    assert!(sd < 5.0, "spread {sd} ms");
    let take = take_json(&d.join("take"));
    assert_eq!(
        take["midi_tracks"][0]["notes"].as_u64().unwrap() as usize,
        expected
    );
    assert_eq!(take["midi_tracks"][0]["port"], "idle:out");
    // The keyboard track is a Standard MIDI File other readers take as it is: midly
    // (the parser notation software's files go through) and Python's mido (`make test`
    // installs it) both find every note.
    let bytes = std::fs::read(d.join("take/keys-1.mid")).unwrap();
    let smf = midly::Smf::parse(&bytes).unwrap();
    let ons = smf
        .tracks
        .iter()
        .flatten()
        .filter(|e| {
            matches!(
                e.kind,
                midly::TrackEventKind::Midi {
                    message: midly::MidiMessage::NoteOn { vel, .. },
                    ..
                } if vel > 0
            )
        })
        .count();
    assert_eq!(ons, expected, "midly reads every note");
    // Debian's Python, where python3-mido is installed (not another python3 on PATH).
    let mido = Command::new("/usr/bin/python3")
        .args([
            "-c",
            "import sys, mido\n\
             f = mido.MidiFile(sys.argv[1])\n\
             print(sum(1 for m in f if m.type == 'note_on' and m.velocity > 0))",
        ])
        .arg(d.join("take/keys-1.mid"))
        .output()
        .expect("python3 runs");
    assert!(
        mido.status.success(),
        "mido (python3-mido, installed by make test): {}",
        String::from_utf8_lossy(&mido.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&mido.stdout).trim(),
        expected.to_string(),
        "mido reads every note"
    );
}

#[test]
fn a_learnt_pedal_starts_and_stops_a_take_and_an_unplugged_keyboard_keeps_its_notes() {
    let server = JackServer::start("pedal");
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // A "pedal" pressed every 3 s (a key, C4) and a keyboard playing E4 four times a second.
    let pedal = server.spawn_tool("jack_midiseq", &["pedal", "144000", "0", "60", "2400"]);
    let keys = server.spawn_tool("jack_midiseq", &["keys", "12000", "0", "64", "2000"]);
    server.wait_for_ports(&["pedal:out", "keys:out"]);
    let learn = server.bandroom(
        d,
        &[
            "pedal",
            "learn",
            "record",
            "--port",
            "pedal",
            "--timeout",
            "10",
        ],
    );
    let said = String::from_utf8_lossy(&finish(learn).stdout).to_string();
    assert!(said.contains("note60@1"), "{said}");

    let mut record = server.bandroom(
        d,
        &[
            "record",
            "--host",
            "jack",
            "--inputs",
            "1",
            "--midi-inputs",
            "keys",
            "--pedal-port",
            "pedal",
            "--wait-for-pedal",
            "--out",
            "take",
        ],
    );
    // Once the take runs, the keyboard is unplugged part-way.
    let stderr = record.stderr.take().unwrap();
    let lines = spawn_named("record-stderr", move || {
        use std::io::BufRead;
        let mut seen = Vec::new();
        for line in std::io::BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
        {
            seen.push(line);
        }
        seen
    });
    let deadline = Instant::now() + Duration::from_secs(10);
    while !d.join("take/take.json").exists() {
        assert!(
            Instant::now() < deadline,
            "the pedal never started the take"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    std::thread::sleep(Duration::from_millis(1500));
    stop_client(keys);
    let status = record.wait().unwrap();
    let stderr = lines.join().unwrap().join("\n");
    stop_client(pedal);
    assert!(status.success(), "{stderr}");
    assert!(stderr.contains("pedal: stopping the take"), "{stderr}");
    assert!(stderr.contains("keys:out disappeared"), "{stderr}");
    let take = take_json(&d.join("take"));
    let secs = take["duration_secs"].as_f64().unwrap();
    assert!(
        (2.5..=3.5).contains(&secs),
        "one press to the next is 3 s: {secs}"
    );
    let track = &take["midi_tracks"][0];
    let unplugged = track["unplugged_at_frame"].as_u64().unwrap();
    assert!(
        unplugged > 48_000 && unplugged < 144_000,
        "unplugged at {unplugged}"
    );
    let notes = track["notes"].as_u64().unwrap();
    assert!(
        (4..=11).contains(&notes),
        "about 1.5 s of E4s at 4 a second are kept: {notes}"
    );
    let onsets = bandroom::midi::read_note_onsets(&d.join("take/keys-1.mid"), 48_000).unwrap();
    assert_eq!(onsets.len() as u64, notes);
    assert!(
        onsets
            .windows(2)
            .all(|w| (w[1] - w[0]).abs_diff(12_000) <= 600),
        "{onsets:?}"
    );
}

#[test]
fn a_midi_port_that_does_not_exist_is_named_before_anything_is_recorded() {
    let server = JackServer::start("noport");
    let dir = tempfile::tempdir().unwrap();
    let output = server
        .bandroom(
            dir.path(),
            &[
                "record",
                "--host",
                "jack",
                "--inputs",
                "1",
                "--seconds",
                "1",
                "--midi-inputs",
                "keystation",
                "--out",
                "take",
            ],
        )
        .wait_with_output()
        .unwrap();
    assert!(!output.status.success());
    let said = stderr(&output);
    assert!(
        said.contains("no MIDI input port called \"keystation\""),
        "{said}"
    );
    assert!(said.contains("plug the keyboard in"), "{said}");
    assert!(
        !dir.path().join("take/take.json").exists(),
        "no take was started"
    );
}

/// Folders of takes the library has filed (not those still coming in).
fn filed_takes(library: &Path) -> Vec<std::path::PathBuf> {
    let Ok(days) = std::fs::read_dir(library.join("takes")) else {
        return Vec::new();
    };
    days.filter_map(Result::ok)
        .filter(|day| day.file_name() != ".incoming")
        .filter_map(|day| std::fs::read_dir(day.path()).ok())
        .flatten()
        .filter_map(Result::ok)
        .map(|take| take.path())
        .filter(|take| take.join("take.json").is_file())
        .collect()
}

#[test]
fn the_app_starts_and_stops_a_take_from_the_learnt_pedal() {
    let server = JackServer::start("apppedal");
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let library = d.join("library");
    // A pedal pressed every 3 s (C4), stored as the record pedal.
    let pedal = server.spawn_tool("jack_midiseq", &["pedal", "144000", "0", "60", "2400"]);
    // A keyboard playing two notes every half second, with Ada at it on the room plan.
    let keys = server.spawn_tool(
        "jack_midiseq",
        &["keys", "24000", "0", "64", "2400", "12000", "67", "2400"],
    );
    server.wait_for_ports(&["pedal:out", "keys:out"]);
    finish(server.bandroom(d, &["pedal", "set", "record", "note60", "--port", "pedal"]));
    let ada = {
        let mut lib = bandroom::library::Library::open(&library).unwrap();
        let class = lib.class_id("Demo 7X").unwrap();
        let ada = lib.find_pupil("Ada Brook", Some(class)).unwrap();
        let mut seat = bandroom::library::Seat::keyboard("keys:out");
        seat.pupils = vec![ada];
        lib.set_room_plan(class, &[seat]).unwrap();
        ada
    };
    // The real app in a real window, on the lesson screen: no one touches the mouse.
    let screen = VirtualDisplay::start(1280, 800);
    let mut app = Command::new(env!("CARGO_BIN_EXE_bandroom"))
        .arg("--library")
        .arg(&library)
        .args(["--open-class", "Demo 7X", "--open-screen", "lesson"])
        .env("DISPLAY", &screen.display)
        .env("JACK_DEFAULT_SERVER", &server.name)
        .env("JACK_NO_START_SERVER", "1")
        .env_remove("WAYLAND_DISPLAY")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the bandroom binary runs");
    let deadline = Instant::now() + Duration::from_secs(60);
    let take = loop {
        if let Some(take) = filed_takes(&library).into_iter().next() {
            break take;
        }
        assert!(
            Instant::now() < deadline,
            "the pedal never started and stopped a take in the app"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    // The app names the players as it files the take: give it a moment.
    let named_by = Instant::now() + Duration::from_secs(10);
    let named = loop {
        let lib = bandroom::library::Library::open(&library).unwrap();
        let filed = lib
            .takes(&bandroom::library::TakeFilter::default())
            .unwrap();
        let named = filed
            .iter()
            .flat_map(|t| t.tracks.iter())
            .filter(|t| t.midi_port.is_some())
            .any(|t| t.performers.iter().any(|p| p.pupil_id == ada));
        if named || Instant::now() > named_by {
            break named;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    // The app is stopped as a shutdown would (a take it may have started since is the
    // next press's, not this test's).
    let _ = Command::new("pkill")
        .args(["-TERM", "-f", &library.display().to_string()])
        .status();
    let _ = app.wait();
    stop_client(pedal);
    stop_client(keys);
    let json = take_json(&take);
    let secs = json["duration_secs"].as_f64().unwrap();
    assert!(
        (2.0..=3.6).contains(&secs),
        "one press to the next is 3 s: {secs}"
    );
    assert_eq!(json["tracks"].as_array().unwrap().len(), 2);
    // The keyboard on the room plan was recorded beside the microphones, as Ada's.
    let keyboards = json["midi_tracks"].as_array().unwrap();
    assert_eq!(keyboards.len(), 1, "{json}");
    let notes = keyboards[0]["notes"].as_u64().unwrap();
    assert!(
        (8..=16).contains(&notes),
        "four notes a second for ~3 s: {notes}"
    );
    assert!(
        named,
        "the keyboard's track is named as Ada's from the room plan"
    );
}
