//! The app, driven headless through its AccessKit tree with egui_kittest: a teacher
//! picks the demo class, seats pupils on inputs, records a take on the virtual device
//! while the meters move (its players are named from the room plan), judges it with a click and a key, drops a marker, hands the
//! PC to a pupil who sees only their own takes, and leaves pupil mode with the PIN
//! (a wrong one is refused). Also: the Export screen writes a bundle in the
//! background while its progress bar fills.
#![allow(clippy::unwrap_used, clippy::expect_used)]
// A test here is one user's story, told in order from start to end.
#![allow(clippy::too_many_lines)]

mod common;

use bandroom::library::{DEMO_CLASS, TakeFilter};
use bandroom::ui::{BandroomApp, DeviceChoice, Mode, Screen};
use common::*;
use eframe::egui;
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable};
use std::path::Path;

fn harness(root: &Path) -> Harness<'static, BandroomApp> {
    let app = BandroomApp::open(root).unwrap();
    // Background work (analysis, reading waveforms) wakes the window when it ends, so a
    // frame that starts some needs a few more frames to settle than kittest's default.
    Harness::builder()
        .with_size(egui::vec2(1400.0, 1000.0))
        .with_max_steps(32)
        .build_state(|ctx, app: &mut BandroomApp| app.ui(ctx), app)
}

/// The app on the demo class's lesson screen, on the virtual device, with `arrangement`
/// chosen (if any).
fn demo_lesson(root: &Path, arrangement: Option<&str>) -> Harness<'static, BandroomApp> {
    let mut h = harness(root);
    h.run();
    let class = h.state().library().class_id(DEMO_CLASS).unwrap();
    h.state_mut().cx.class = Some(class);
    h.state_mut().devices.choice = DeviceChoice::Virtual;
    h.state_mut().cx.arrangement = arrangement.map(str::to_string);
    h.state_mut().screen = Screen::Lesson;
    h.run();
    h
}

/// The text a node gives assistive technology (its label, or a label's value).
fn shown_text(node: &egui_kittest::Node<'_>) -> String {
    let n = node.accesskit_node();
    n.label()
        .filter(|l| !l.is_empty())
        .or_else(|| n.value())
        .unwrap_or_default()
}

/// Scrolls the node labelled `label` into view and clicks it through AccessKit, as a
/// screen reader or switch would: it works at any UI scale.
fn press(h: &mut Harness<'static, BandroomApp>, label: &str) {
    h.get_by_label(label).scroll_to_me();
    h.run();
    h.get_by_label(label).click_accesskit();
}

/// Scrolls the node labelled `label` into view, as a teacher would, then clicks it.
fn click_in_view(h: &mut Harness<'static, BandroomApp>, label: &str) {
    h.get_by_label(label).scroll_to_me();
    h.run();
    h.get_by_label(label).click();
}

/// The app opened on the demo class and put into pupil mode, at the names; the PIN
/// asked for first is set to 2468 through the form, as a teacher would.
fn in_pupil_mode(root: &Path) -> Harness<'static, BandroomApp> {
    let mut h = harness(root);
    h.run();
    h.get_by_label(DEMO_CLASS).click();
    h.run();
    let had_pin = h.state().library().has_pin().unwrap();
    h.get_by_label("Pupil mode").click();
    h.run();
    if had_pin {
        return h;
    }
    h.get_by_label("New teacher PIN").click();
    h.run();
    h.get_by_label("New teacher PIN").type_text("2468");
    h.get_by_label("New teacher PIN again").click();
    h.run();
    h.get_by_label("New teacher PIN again").type_text("2468");
    h.run();
    h.get_by_label("Set the PIN and start pupil mode").click();
    h.run();
    h
}

/// Pupil mode on a PC with no teacher PIN asks for one first; without it nothing
/// starts, and "Leave pupil mode" never works with an empty field. A class without
/// sign-in says so on the names screen.
#[test]
fn pupil_mode_asks_for_a_pin_first_and_never_leaves_without_one() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("lib");
    let mut h = harness(&root);
    h.run();
    h.get_by_label(DEMO_CLASS).click();
    h.run();
    h.get_by_label("Pupil mode").click();
    h.run();
    assert_eq!(h.state().mode, Mode::Teacher, "not without a PIN");
    h.get_by_label("Set a teacher PIN first");
    h.get_by_label("Cancel").click();
    h.run();
    assert_eq!(h.state().mode, Mode::Teacher);
    assert!(!h.state().library().has_pin().unwrap());
    drop(h);
    let mut h = in_pupil_mode(&root);
    assert!(matches!(h.state().mode, Mode::Pupil { .. }));
    assert!(h.state().library().has_pin().unwrap());
    h.get_by_label_contains("any name opens that pupil's takes");
    h.get_by_label("Leave pupil mode").click();
    h.run();
    assert!(matches!(h.state().mode, Mode::Pupil { .. }), "an empty PIN");
}

/// Records a take on the virtual device into the demo class, as `bandroom record` does.
fn record_take(root: &Path) {
    record_on_virtual(
        root,
        &["--inputs", "1,2", "--seconds", "0.3", "--class", DEMO_CLASS],
    );
}

#[test]
fn a_lesson_from_room_plan_to_pupil_review_and_back_with_the_pin() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("lib");
    let mut h = harness(&root);
    h.run();
    h.get_by_label_contains("new library");

    h.get_by_label(DEMO_CLASS).click();
    h.run();
    h.get_by_label("Go to the lesson").click();
    h.run();
    assert_eq!(h.state().screen, Screen::Lesson);
    h.get_by_label("Room plan");

    // Seat Ada on input 1 and Ben on input 2: choose the input, click the name in the
    // class list. The plan is kept for the class.
    for (input, pupil) in [(1, "Ada Brook"), (2, "Ben Carter")] {
        h.get_by_label(&format!("Input {input}")).click();
        h.run();
        h.get_by_label(pupil).click();
        h.run();
    }
    let class = h.state().cx.class.unwrap();
    let plan = h.state().library().room_plan(class).unwrap();
    assert_eq!(plan.iter().find(|s| s.input == 1).unwrap().pupils.len(), 1);

    // Record from the app on the virtual device, which plays Clapping Music back into
    // every input: the meters move while it runs.
    h.state_mut().devices.choice = DeviceChoice::Virtual;
    h.state_mut().cx.arrangement = Some("clapping-music".into());
    h.run();
    // Input 1 plays the first clapper's part.
    h.get_all_by_value("no part").next().unwrap().click();
    h.run();
    h.get_by_label("clapper 1").click();
    h.run();
    h.get_by_label("Record (R)").click();
    h.run_steps(2);
    assert!(h.state().is_recording());
    let mut loudest = 0.0f32;
    for _ in 0..60 {
        h.step();
        loudest = h.state().input_levels().into_iter().fold(loudest, f32::max);
        std::thread::sleep(std::time::Duration::from_millis(25));
    }
    assert!(h.state().meter_reads() >= 60, "meters are read every frame");
    assert!(
        loudest > 0.01,
        "the meters showed the count-in and claps: {loudest}"
    );
    h.get_by_label_contains("Input 1 level");
    // The input's waveform grows as the take does.
    let wave = shown_text(&h.get_by_label_contains("Input 1: waveform of"));
    let seconds: f64 = wave
        .split_whitespace()
        .nth(4)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("{wave}"));
    assert!(seconds >= 0.5, "{wave}");
    h.get_by_label("Stop (Space)").click();
    h.run_steps(2);
    assert!(!h.state().is_recording());
    wait_until_filed(&mut h);
    assert!(h.get_all_by_label_contains("Take 1 ·").next().is_some());
    let take = h.state().library().take(1).unwrap();
    assert!(take.duration_secs > 1.0, "{}", take.duration_secs);
    assert_eq!(take.arrangement.as_deref(), Some("clapping-music"));
    assert_eq!(take.tracks.len(), 2, "the two seated inputs");
    assert_eq!(
        take.tracks[0].performers[0].name, "Ada Brook",
        "named from the room plan"
    );
    assert_eq!(take.tracks[1].performers[0].name, "Ben Carter");
    // Ada's track (she has a part) is analysed in the background while the screen keeps
    // drawing; then its notes are marked on her waveform with a sentence under it.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while h.query_by_label_contains("Timing of clapper 1").is_none() {
        assert!(
            std::time::Instant::now() < deadline,
            "the take's timing never appeared"
        );
        h.step();
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    // Let the finished job be collected before anything is clicked, so the layout the
    // clicks aim at is the one drawn.
    for _ in 0..5 {
        h.step();
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    h.run();
    assert!(
        h.state()
            .banners()
            .iter()
            .all(|b| !b.contains("not analysed")),
        "{:?}",
        h.state().banners()
    );
    let analyses = h.state().library().analyses(1).unwrap();
    assert_eq!(analyses.len(), 1, "only the track with a part");
    assert_eq!(analyses[0].track_number, 1);

    // One click judges Ada's pulse; then the number key judges the highlighted row.
    click_in_view(&mut h, "Ada Brook Pulse and rhythm level 3: Secure rhythm");
    h.run();
    h.key_press(egui::Key::Num2);
    h.run();
    let ada = h
        .state()
        .library()
        .find_pupil("Ada Brook", Some(class))
        .unwrap();
    let judged = h.state().library().assessments(ada).unwrap();
    assert_eq!(judged.len(), 2, "{judged:?}");
    assert_eq!(
        (judged[0].criterion.as_str(), judged[0].level),
        ("pulse", 3),
        "{judged:?}"
    );
    assert_eq!(judged[1].level, 2, "the key judged the next criterion");
    // The framework's second strand, after pulse.
    assert_eq!(judged[1].criterion, "accuracy");
    // A slip is taken back at once: the newest judgement is withdrawn, the other stays.
    let slip = h
        .state_mut()
        .library_mut()
        .assess(&bandroom::library::NewAssessment {
            pupil: ada,
            take: Some(1),
            criterion: "pulse".into(),
            level: "5".into(),
            comment: String::new(),
            assessor: "teacher".into(),
        })
        .unwrap();
    h.run();
    click_in_view(&mut h, "Undo the last judgement (Ctrl+Z)");
    h.run();
    let counted = h.state().library().assessments(ada).unwrap();
    assert_eq!(counted.len(), 2, "{counted:?}");
    assert!(
        counted.iter().all(|a| a.id != slip),
        "the slip no longer counts"
    );

    click_in_view(&mut h, "Marker text");
    h.run();
    h.get_by_label("Marker text")
        .type_text("lovely entry in bar 5");
    h.run();
    click_in_view(&mut h, "Players may read it");
    h.run();
    click_in_view(&mut h, "Add marker (M)");
    h.run();
    let markers = h.state().library().markers(1).unwrap();
    assert_eq!(markers[0].1, "lovely entry in bar 5");

    // A second take only Ben plays in: Ada must not see it.
    record_take(&root);
    {
        let lib = h.state_mut().library_mut();
        let ben = lib.find_pupil("Ben Carter", Some(class)).unwrap();
        lib.attribute(2, 2, &[ben], None, None, None).unwrap();
        lib.set_pin(None, "2468").unwrap();
    }
    h.run();
    h.get_by_label("Pupil mode").click();
    h.run();
    h.get_by_label("Ada Brook").click();
    h.run();
    assert!(matches!(h.state().mode, Mode::Pupil { pupil: Some(_), .. }));
    assert!(h.get_all_by_label_contains("Take 1 ·").next().is_some());
    assert!(
        h.query_by_label_contains("Take 2 ·").is_none(),
        "only Ada's takes"
    );
    let mine = h
        .state()
        .library()
        .takes(&TakeFilter {
            pupil: Some(ada),
            ..TakeFilter::default()
        })
        .unwrap();
    assert_eq!(mine.len(), 1);

    h.get_all_by_label_contains("Take 1 ·")
        .next()
        .unwrap()
        .click();
    h.run();
    h.get_by_label_contains("lovely entry in bar 5");
    // Ada hears just her own track: playback runs on the (virtual) device and moves on.
    h.get_by_label("Hear just me").click();
    wait_for_playback(&mut h);
    assert_eq!(h.state().playback_tracks(), Some(1), "only Ada's track");
    let first = h.state().playback_position().expect("playing");
    for _ in 0..10 {
        h.step();
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let later = h.state().playback_position().unwrap_or(u64::MAX);
    assert!(later > first, "playback moves on: {first} then {later}");
    assert!(h.query_by_label_contains("Playing 0:").is_some());
    h.get_by_label("Stop playing").click();
    h.run();
    assert!(h.state().playback_position().is_none());
    // And her track against the clapper 1 part as written.
    h.get_by_label("Hear me with the part").click();
    wait_for_playback(&mut h);
    assert_eq!(
        h.state().playback_tracks(),
        Some(2),
        "Ada's track and the part"
    );
    h.get_by_label("Stop playing").click();
    h.run();
    // The page is in large type: what is below the first screen is scrolled to.
    click_in_view(&mut h, "Your reflection");
    h.run();
    h.get_by_label("Your reflection")
        .type_text("I came in late at the start");
    h.run();
    // The self-assessment's levels are in a pupil's words, from the framework.
    click_in_view(
        &mut h,
        "my Pulse and rhythm level 2: I can keep the beat going with the class.",
    );
    h.run();
    click_in_view(&mut h, "Save my reflection");
    h.run();
    let reflections = h.state().library().reflections(ada).unwrap();
    assert_eq!(reflections[0].2, "I came in late at the start");

    // Leaving needs the PIN: a wrong one is refused.
    h.get_by_label("Teacher PIN").click();
    h.run();
    h.get_by_label("Teacher PIN").type_text("0000");
    h.run();
    h.get_by_label("Leave pupil mode").click();
    h.run();
    assert!(matches!(h.state().mode, Mode::Pupil { .. }));
    h.get_by_label("That is not the teacher PIN.");
    h.get_by_label("Teacher PIN").click();
    h.run();
    h.get_by_label("Teacher PIN").type_text("2468");
    h.run();
    h.get_by_label("Leave pupil mode").click();
    h.run();
    assert_eq!(h.state().mode, Mode::Teacher);
}

/// Pupil mode holds: the app closed and opened again on this PC is still in pupil mode
/// for the class, at the names (not the last pupil's takes), with no teacher screen to
/// reach; "Not me" goes back to the names; only the teacher PIN ends it, for the next
/// start too.
#[test]
fn pupil_mode_survives_closing_and_reopening_the_app_until_the_pin_ends_it() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("lib");
    record_take(&root);
    judged_in_the_take(&root);
    bandroom::library::Library::open(&root)
        .unwrap()
        .set_pin(None, "2468")
        .unwrap();
    {
        let mut h = harness(&root);
        h.run();
        h.get_by_label(DEMO_CLASS).click();
        h.run();
        h.get_by_label("Pupil mode").click();
        h.run();
        h.get_by_label("Ada Brook").click();
        h.run();
        h.get_by_label_contains("Ada Brook: your takes");
        h.get_by_label("Not me").click();
        h.run();
        h.get_by_label("Who are you?");
        assert!(matches!(h.state().mode, Mode::Pupil { pupil: None, .. }));
        h.get_by_label("Ada Brook").click();
        h.run();
        h.get_all_by_label_contains("Take 1 ·")
            .next()
            .unwrap()
            .click();
        h.run();
        h.get_by_label_contains("Your track: Ada Brook");
        click_in_view(&mut h, "Your reflection");
        h.run();
        h.get_by_label("Your reflection")
            .type_text("I kept the pulse");
        h.run();
        click_in_view(&mut h, "Save my reflection");
        h.run();
        // The window is closed here, in pupil mode, with Ada's takes showing.
    }
    let mut h = harness(&root);
    h.run();
    assert!(
        matches!(h.state().mode, Mode::Pupil { pupil: None, .. }),
        "{:?}",
        h.state().mode
    );
    h.get_by_label("Who are you?");
    assert!(h.query_by_label("Export").is_none(), "no teacher screens");
    // What Ada wrote is there when she comes back to the take, to read and change.
    h.get_by_label("Ada Brook").click();
    h.run();
    h.get_all_by_label_contains("Take 1 ·")
        .next()
        .unwrap()
        .click();
    h.run();
    assert_eq!(
        h.get_by_label("Your reflection")
            .accesskit_node()
            .value()
            .as_deref(),
        Some("I kept the pulse")
    );
    h.get_by_label_contains("You wrote this on");
    h.get_by_label("Not me").click();
    h.run();
    assert!(h.query_by_label("Settings").is_none());
    h.get_by_label("Teacher PIN").click();
    h.run();
    h.get_by_label("Teacher PIN").type_text("2468");
    h.run();
    h.get_by_label("Leave pupil mode").click();
    h.run();
    assert_eq!(h.state().mode, Mode::Teacher);
    drop(h);
    let h = harness(&root);
    assert_eq!(h.state().mode, Mode::Teacher, "the PIN ended it for good");
}

/// Ada Brook is in take 1's first track and judged 3 for pulse on it.
fn judged_in_the_take(root: &Path) {
    let mut lib = bandroom::library::Library::open(root).unwrap();
    let class = lib.class_id(DEMO_CLASS).unwrap();
    let ada = lib.find_pupil("Ada Brook", Some(class)).unwrap();
    lib.attribute(1, 1, &[ada], None, None, None).unwrap();
    lib.assess(&bandroom::library::NewAssessment {
        pupil: ada,
        take: Some(1),
        criterion: "pulse".into(),
        level: "3".into(),
        comment: String::new(),
        assessor: "test".into(),
    })
    .unwrap();
}

/// The app on the demo class's Export screen, with one take in which Ada is judged.
fn export_screen_with_a_judged_take(root: &Path) -> Harness<'static, BandroomApp> {
    record_take(root);
    judged_in_the_take(root);
    let mut h = harness(root);
    h.run();
    h.get_by_label(DEMO_CLASS).click();
    h.run();
    h.get_by_label("Export").click();
    h.run();
    h
}

#[test]
fn the_export_screen_writes_a_bundle_in_the_background() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("lib");
    let mut h = export_screen_with_a_judged_take(&root);
    let out = dir.path().join("bundle");
    h.get_by_label("Bundle location").click();
    h.run();
    h.get_by_label("Bundle location")
        .type_text(out.to_str().unwrap());
    h.run();
    h.get_by_label("Write the bundle").click();
    // Wait for the export to finish, however busy the machine is (its speed is
    // measured in benches/export.rs, not here).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while h.query_by_label_contains("Done:").is_none() && std::time::Instant::now() < deadline {
        h.step();
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    h.get_by_label_contains("Done: 2 recordings, 1 judgements");
    assert!(out.join("report.html").is_file());
    assert_ok(&in_library(&root, &["verify", out.to_str().unwrap()]));
}

/// The export screen says which class and dates it exports, refuses a bare name (it
/// would land wherever the app was started), and, once "Write the bundle" is clicked,
/// shows "Done" and "Open folder" with no further input: frames run only when the app
/// asks for one, as a window's event loop runs them. Another class starts it afresh.
#[test]
fn the_export_screen_says_what_it_exports_and_finishes_with_no_further_input() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("lib");
    let mut h = export_screen_with_a_judged_take(&root);
    h.get_by_label(&format!("Export evidence for {DEMO_CLASS}"));
    let today = bandroom::time_text::now_rfc3339();
    let term = bandroom::library::terms::Term::of(&today).unwrap();
    h.get_by_label(&format!("{} (this term)", term.name()))
        .click();
    h.run();
    h.get_by_label_contains(&format!(
        "a progress bundle of {DEMO_CLASS}, {}",
        term.name()
    ));

    h.get_by_label("Bundle location").click();
    h.run();
    h.get_by_label("Bundle location").type_text("bundle");
    h.run();
    h.get_by_label("Write the bundle").click();
    h.run();
    h.get_by_label_contains("\"bundle\" is not a full path");
    assert!(!dir.path().join("bundle").exists() && !std::path::Path::new("bundle").exists());

    let out = dir.path().join("evidence");
    h.get_by_label("Bundle location").click();
    h.run();
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    h.get_by_label("Bundle location")
        .type_text(out.to_str().unwrap());
    h.run();
    h.get_by_label("Write the bundle").click();
    // The click's press and release take a frame each; after them no input at all:
    // a frame only when the app has asked for one.
    h.step();
    h.step();
    assert!(
        h.query_by_label("Cancel export").is_some(),
        "the export started"
    );
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while h.query_by_label("Open folder").is_none() && std::time::Instant::now() < deadline {
        if h.ctx.has_requested_repaint() {
            h.step();
        } else {
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
    }
    h.get_by_label("Open folder");
    h.get_by_label_contains("Done:");
    let report = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(
        report.contains(&format!("From {}", term.from())),
        "the term's dates"
    );

    // Another class: the screen starts afresh, for that class.
    {
        let mut lib = bandroom::library::Library::open(&root).unwrap();
        lib.add_class("9C", None, None).unwrap();
    }
    h.get_by_label("Start").click();
    h.run();
    h.get_by_label("9C").click();
    h.run();
    h.get_by_label("Export").click();
    h.run();
    h.get_by_label("Export evidence for 9C");
    assert!(h.query_by_label("Open folder").is_none());
    assert!(h.query_by_label_contains("Done:").is_none());
}

#[test]
fn the_real_window_opens_under_xvfb_and_closes_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("lib");
    let screen = VirtualDisplay::start(1280, 800);
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_bandroom"))
        .arg("--library")
        .arg(&root)
        .env("DISPLAY", &screen.display)
        .env("BANDROOM_QUIT_AFTER_FRAMES", "10")
        .env_remove("WAYLAND_DISPLAY")
        .output()
        .expect("the bandroom binary runs");
    assert_ok(&output);
    assert!(
        root.join("bandroom.sqlite").is_file(),
        "the app opened the library"
    );
}

#[test]
fn the_class_view_shows_the_clapping_music_shift_the_engine_reports() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("lib");
    let mut h = harness(&root);
    // One bar per shift, so shift 1 comes about a second after the count-in.
    record_clapping_music(&mut h, Some(1));
    h.get_by_label("Class view").click();
    h.run_steps(2);
    h.get_by_label("count-in");
    h.get_by_label("REC");
    let mut seen = None;
    let mut sections = Vec::new();
    for _ in 0..1000 {
        h.step();
        sections.push(h.state().engine_section());
        if let Some(section) = h.state().engine_section()
            && section == "shift 1"
        {
            // The screen drawn in this frame shows what the engine reports now.
            let on_screen = shown_text(&h.get_by_label_contains("Section "));
            seen = Some(on_screen);
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    sections.dedup();
    let seen = seen.unwrap_or_else(|| panic!("the engine never reached shift 1: {sections:?}"));
    assert_eq!(seen, "Section shift 1");
    // Both 12-cell patterns, the second rotated by one step.
    let first = shown_text(&h.get_by_label_contains("clapper 1 pattern"));
    let second = shown_text(&h.get_by_label_contains("clapper 2 pattern"));
    let (a, b) = (
        first.rsplit(' ').next().unwrap().to_string(),
        second.rsplit(' ').next().unwrap().to_string(),
    );
    assert_eq!(a.len(), 12, "{first}");
    assert_eq!(
        format!("{}{}", &a[1..], &a[..1]),
        b,
        "shift 1 is the pattern moved one step"
    );
    h.state_mut().screen = Screen::Lesson;
    h.run_steps(2);
    assert!(h.query_by_label_contains("Bar ").is_none());
    // The projector window shows the class view beside the teacher's lesson screen.
    h.get_by_label("Projector window").click();
    h.run_steps(3);
    assert!(h.state().projector);
    assert_contains(&shown_text(&h.get_by_label_contains("Bar ")), "beat");
    h.get_by_label_contains("clapper 2 pattern");
    // Closed from the top bar again, so it does not cover the Stop button.
    h.get_by_label("Projector window").click();
    h.run_steps(2);
    assert!(h.query_by_label_contains("Bar ").is_none());
    stop_take(&mut h);
}

#[test]
fn a_timing_suggestion_is_shown_and_enter_accepts_it() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("lib");
    // Clapping Music, once through each shift, played into the virtual loopback with
    // Ada on the first clapper's part: the take is analysed as it is filed.
    record_on_virtual(
        &root,
        &[
            "--inputs",
            "1",
            "--play",
            "clapping-music",
            "--repeats",
            "1",
            "--class",
            DEMO_CLASS,
            "--plays",
            "1:Ada Brook:clapper 1",
        ],
    );
    let mut h = harness(&root);
    h.run();
    h.get_by_label(DEMO_CLASS).click();
    h.run();
    h.get_by_label("Go to the lesson").click();
    h.run();
    let suggestion = shown_text(&h.get_by_label_contains("suggested"));
    let level: i64 = suggestion
        .split_whitespace()
        .nth(1)
        .and_then(|l| l.parse().ok())
        .unwrap_or_else(|| panic!("{suggestion}"));
    assert_contains(&suggestion, "Enter accepts");
    // The engine's own take is on time to the sample: the timing rule's top level.
    assert_eq!(level, 5, "{suggestion}");
    let class = h.state().cx.class.unwrap();
    let ada = h
        .state()
        .library()
        .find_pupil("Ada Brook", Some(class))
        .unwrap();
    assert!(
        h.state().library().assessments(ada).unwrap().is_empty(),
        "only suggested"
    );
    h.key_press(egui::Key::Enter);
    h.run();
    let judged = h.state().library().assessments(ada).unwrap();
    assert_eq!(judged.len(), 1);
    assert_eq!(
        (judged[0].criterion.as_str(), judged[0].level),
        ("pulse", level)
    );
}

#[test]
fn a_part_can_be_soloed_while_the_class_plays() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("lib");
    let mut h = harness(&root);
    record_clapping_music(&mut h, None);
    h.get_by_label("Solo clapper 2").click();
    h.run_steps(2);
    // From now on only clapper 2 sounds in the room: clapper 1's meter stays at zero.
    let _ = (h.state().lane_peak(0), h.state().lane_peak(1));
    let (mut one, mut two) = (0.0f32, 0.0f32);
    // The count-in (one bar) comes first; then both parts would play.
    for _ in 0..200 {
        h.step();
        one = one.max(h.state().lane_peak(0).unwrap_or(0.0));
        two = two.max(h.state().lane_peak(1).unwrap_or(0.0));
        std::thread::sleep(std::time::Duration::from_millis(25));
    }
    assert!(two > 0.01, "clapper 2 is heard: {two}");
    assert_eq!(one, 0.0, "clapper 1 is silent while clapper 2 is soloed");
    stop_take(&mut h);
}

/// Starts recording Clapping Music from the lesson screen on the virtual device.
fn record_clapping_music(h: &mut Harness<'static, BandroomApp>, repeats: Option<u32>) {
    h.run();
    h.state_mut().devices.choice = DeviceChoice::Virtual;
    h.state_mut().cx.arrangement = Some("clapping-music".into());
    h.state_mut().lesson.repeats = repeats;
    h.state_mut().screen = Screen::Lesson;
    h.run();
    h.get_by_label("Record (R)").click();
    h.run_steps(2);
}

/// Steps frames while the take is made ready in the background, until it plays.
fn wait_for_playback(h: &mut Harness<'static, BandroomApp>) {
    for _ in 0..500 {
        h.step();
        if h.state().playback_position().is_some() {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    panic!("the take never started playing");
}

/// Stops the take the lesson screen is recording, checks it stopped, and steps frames
/// while it is filed in the background.
fn stop_take(h: &mut Harness<'static, BandroomApp>) {
    h.get_by_label("Stop (Space)").click();
    h.run_steps(2);
    assert!(!h.state().is_recording());
    wait_until_filed(h);
}

/// Steps frames until every stopped take, rehearsal or voice note is closed and filed.
fn wait_until_filed(h: &mut Harness<'static, BandroomApp>) {
    let until = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while h.state().is_finishing() {
        assert!(
            std::time::Instant::now() < until,
            "the take was never filed"
        );
        h.step();
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    h.run();
}

#[test]
fn how_long_takes_are_kept_is_set_in_settings() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("lib");
    let mut h = harness(&root);
    h.run();
    h.state_mut().screen = Screen::Settings;
    h.run();
    click_in_view(&mut h, "Rehearsals kept for");
    h.run();
    h.get_by_label("Rehearsals kept for").type_text("6");
    h.key_press(egui::Key::Enter);
    h.run();
    click_in_view(&mut h, "Save how long takes are kept");
    h.run();
    h.get_by_label("Saved.");
    let policy = h.state().library().retention_policy().unwrap();
    assert_eq!(policy.rehearsal_months, 6);
    assert_eq!(
        policy.assessment_months, 36,
        "the others are left as they were"
    );
}

#[test]
fn progress_draws_an_outline_per_term_and_filters_the_grid() {
    // Judgements made "now" fall in Autumn 2026 whatever day the test runs.
    bandroom::library::clock::fix_for_this_thread("2026-11-10T10:00:00Z").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("lib");
    record_take(&root);
    let mut h = harness(&root);
    h.run();
    let class = h.state().library().class_id(DEMO_CLASS).unwrap();
    let ada = h
        .state()
        .library()
        .find_pupil("Ada Brook", Some(class))
        .unwrap();
    let take = h.state().library().takes(&TakeFilter::default()).unwrap()[0].id;
    let lib = h.state_mut().library_mut();
    lib.attribute(take, 1, &[ada], Some("clapper 1"), Some("core"), None)
        .unwrap();
    let judge = |lib: &mut bandroom::library::Library, level: &str| {
        lib.assess(&bandroom::library::NewAssessment {
            pupil: ada,
            take: Some(take),
            criterion: "pulse".into(),
            level: level.into(),
            comment: String::new(),
            assessor: "Ms Test".into(),
        })
        .unwrap()
    };
    let summer = judge(lib, "2");
    judge(lib, "4");
    // The first judgement was made last summer.
    let db = rusqlite::Connection::open(root.join("bandroom.sqlite")).unwrap();
    db.execute(
        "UPDATE assessment SET assessed_at = '2026-06-15T10:00:00Z' WHERE id = ?1",
        [summer],
    )
    .unwrap();
    let title = h.state().library().class_grid(class).unwrap().criteria[0]
        .1
        .clone();

    h.state_mut().cx.class = Some(class);
    h.state_mut().screen = Screen::Progress;
    h.run();
    h.get_by_label("Ada Brook").click();
    h.run();
    let radar = shown_text(&h.get_by_label_contains("Radar diagram"));
    let now = bandroom::library::terms::Term::of(&bandroom::library::now())
        .unwrap()
        .name();
    assert_eq!(now, "Autumn 2026");
    assert_contains(&radar, &format!("Summer 2026: {title} 2/"));
    assert_contains(&radar, &format!("{now}: {title} 4/"));
    // A criterion Ada was never judged on is named as such, not drawn as a zero.
    let unjudged = h.state().library().class_grid(class).unwrap().criteria[1]
        .1
        .clone();
    assert_contains(&radar, &format!("{unjudged} not judged yet"));
    // The grid says each cell's level, how it moved since the first, and what is a gap.
    let levels = h.state().library().class_grid(class).unwrap().criteria[0].2;
    h.get_by_label(&format!(
        "Ada Brook, {title}: level 4 of {levels}, up since the first judgement"
    ));
    h.get_by_label(&format!("Ada Brook, {unjudged}: not judged yet"));

    // The grid for last summer shows what Ada reached then.
    h.get_by_label("Term").click();
    h.run();
    h.get_by_label("Summer 2026").click();
    h.run();
    h.get_by_label_contains("latest level per criterion in Summer 2026");
    // One judgement in that term: a level, no trend yet.
    assert!(
        h.query_by_label(&format!("Ada Brook, {title}: level 2 of {levels}"))
            .is_some()
    );
    assert!(
        h.query_by_label_contains(&format!("Ada Brook, {title}: level 4"))
            .is_none()
    );

    // Each point's history links to its evidence on the lesson screen (the history
    // scrolls beside the grid).
    h.get_all_by_label(&format!("take {take}"))
        .next()
        .unwrap()
        .scroll_to_me();
    h.run();
    h.get_all_by_label(&format!("take {take}"))
        .next()
        .unwrap()
        .click();
    h.run();
    assert_eq!(h.state().screen, Screen::Lesson);

    // Another class: Ada is no longer shown over its grid.
    let other = h
        .state_mut()
        .library_mut()
        .add_class("9C", None, None)
        .unwrap();
    h.state_mut().cx.class = Some(other);
    h.state_mut().screen = Screen::Progress;
    h.run();
    assert!(h.query_by_label_contains("Radar diagram").is_none());
    assert!(h.query_by_label("Ada Brook").is_none());
}

/// Steps frames for `seconds` of wall time.
fn step_for(h: &mut Harness<'static, BandroomApp>, seconds: f64) {
    let until = std::time::Instant::now() + std::time::Duration::from_secs_f64(seconds);
    while std::time::Instant::now() < until {
        h.step();
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

#[test]
fn a_section_goes_round_when_played_and_each_pass_is_a_take_when_recorded_again() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("lib");
    let mut h = demo_lesson(&root, Some("clapping-music"));
    // Nothing here measures real time: the virtual device runs four times faster.
    h.state_mut().devices.choice = DeviceChoice::VirtualWith(faster(4.0));
    h.state_mut().lesson.repeats = Some(1);
    h.run();
    h.get_by_label("Section").click();
    h.run();
    h.get_by_label("shift 1").click();
    h.run();

    // Play: the one-bar section goes round (count-in and one pass would be over in
    // about 4 s of music, 1 s here) and nothing is kept.
    h.get_by_label("Play (P)").click();
    h.run_steps(2);
    step_for(&mut h, 2.0);
    assert!(h.state().is_recording(), "still going round");
    assert_eq!(h.state().engine_section().as_deref(), Some("shift 1"));
    assert!(h.query_by_label("REC").is_none());
    stop_take(&mut h);
    let takes = |h: &Harness<'static, BandroomApp>| {
        h.state().library().takes(&TakeFilter::default()).unwrap()
    };
    assert!(takes(&h).is_empty(), "a rehearsal keeps no take");

    // Again: each pass is filed as its own take until Stop.
    h.get_by_label("Again (A)").click();
    h.run();
    h.get_by_label("Record (R)").click();
    h.run_steps(2);
    let until = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while takes(&h).len() < 2 && std::time::Instant::now() < until {
        h.step();
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert!(takes(&h).len() >= 2, "two passes filed");
    assert!(h.state().is_recording(), "and the next pass under way");
    stop_take(&mut h);
    let all = takes(&h);
    assert!(all.len() >= 3, "{} takes", all.len());
    for take in &all {
        assert_eq!(take.section.as_deref(), Some("shift 1"));
        assert_eq!(take.arrangement.as_deref(), Some("clapping-music"));
    }
    // A pass that ran to its end lasts the count-in and the one bar.
    let finished = all.iter().rfind(|t| t.duration_secs > 3.0).unwrap();

    // The best pass is starred.
    h.get_by_label(&format!("Star take {}", finished.id))
        .click();
    h.run();
    assert!(h.state().library().take(finished.id).unwrap().starred);
    h.get_by_label_contains(&format!("Take {} ·", finished.id));
}

#[test]
fn a_voice_note_is_recorded_at_the_moment_played_and_played_back() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("lib");
    record_take(&root);
    let mut h = demo_lesson(&root, None);
    let take = h.state().library().takes(&TakeFilter::default()).unwrap()[0].id;

    // While the take plays, the button pins the note to the moment being heard.
    h.get_by_label("Play the take").click();
    wait_for_playback(&mut h);
    step_for(&mut h, 0.1);
    h.get_by_label_contains("Voice note at").click();
    h.run_steps(2);
    assert!(h.state().is_recording_voice_note());
    assert!(h.state().playback_position().is_none(), "playback gave way");
    step_for(&mut h, 0.8);
    h.get_by_label("Stop and keep the voice note (V)").click();
    h.run_steps(2);
    assert!(!h.state().is_recording_voice_note());
    wait_until_filed(&mut h);
    let notes = h.state().library().voice_notes(take).unwrap();
    assert_eq!(notes.len(), 1);
    assert!(notes[0].frame.is_some_and(|f| f > 0), "{:?}", notes[0]);
    let lib = h.state().library();
    let folder = lib.take_folder(&lib.take(take).unwrap());
    let spec = hound::WavReader::open(folder.join(&notes[0].file)).unwrap();
    let seconds = spec.duration() as f64 / f64::from(spec.spec().sample_rate);
    assert!(seconds > 0.5, "{seconds} s kept");
    // Nothing is left in staging.
    let staging = std::fs::read_dir(root.join(bandroom::library::INCOMING_DIR))
        .map(|d| d.count())
        .unwrap_or(0);
    assert_eq!(staging, 0, "scratch cleared");

    h.get_by_label_contains("Voice note on 0:");
    h.get_by_label("Play").click();
    wait_for_playback(&mut h);
    assert_eq!(h.state().playback_tracks(), Some(1));
}

/// Steps frames until a node whose label contains `text` shows, or `seconds` pass.
fn wait_for_label(h: &mut Harness<'static, BandroomApp>, text: &str, seconds: f64) -> String {
    let until = std::time::Instant::now() + std::time::Duration::from_secs_f64(seconds);
    while std::time::Instant::now() < until {
        h.step();
        if let Some(node) = h.query_by_label_contains(text) {
            return shown_text(&node);
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    panic!("'{text}' never showed");
}

/// Settings › Sound: the virtual host chosen, saved and tested; what the test said.
fn open_settings_on_the_virtual_host(h: &mut Harness<'static, BandroomApp>) -> String {
    h.state_mut().screen = Screen::Settings;
    h.run();
    h.get_by_label("Host").click();
    h.run();
    h.get_by_label("virtual").click();
    h.run();
    h.get_by_label("Save and test").click();
    wait_for_label(h, "Opened ", 10.0)
}

#[test]
fn sound_settings_test_the_device_and_the_calibration_wizard_measures_and_stores() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("lib");
    let mut h = harness(&root);
    h.run();
    let opened = open_settings_on_the_virtual_host(&mut h);
    assert_contains(&opened, "48000 Hz");
    let settings = std::fs::read_to_string(root.join("settings.toml")).unwrap();
    assert_contains(&settings, "host = \"virtual\"");

    h.get_by_label("a microphone in front of the speaker")
        .click();
    h.run();
    h.get_by_label("Measure").click();
    let result = wait_for_label(&mut h, "Sound comes back", 30.0);
    assert_contains(&result, "Stability");
    assert_contains(&result, "flight through the air");
    let settings = std::fs::read_to_string(root.join("settings.toml")).unwrap();
    assert_contains(&settings, "[[calibration]]");
    assert_contains(&settings, "correction_frames");
}

#[test]
fn a_pupil_is_dragged_from_the_class_list_onto_an_input() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("lib");
    let mut h = demo_lesson(&root, Some("clapping-music"));
    let class = h.state().cx.class.unwrap();
    let from = h.get_by_label("Drag Ada Brook").rect().center();
    let to = h.get_by_label("Input 3").rect().center();
    h.hover_at(from);
    h.run();
    h.drag_at(from);
    h.run();
    for step in 1..=10 {
        h.hover_at(from + (to - from) * (step as f32 / 10.0));
        h.run();
    }
    h.drop_at(to);
    h.run();
    let ada = h
        .state()
        .library()
        .find_pupil("Ada Brook", Some(class))
        .unwrap();
    let plan = h.state().library().room_plan(class).unwrap();
    let seat = plan
        .iter()
        .find(|s| s.pupils.contains(&ada))
        .expect("seated");
    assert_eq!(seat.input, 3);
    // Dragged again onto input 1, she moves rather than sitting in two places.
    let from = h.get_by_label("Drag Ada Brook").rect().center();
    let to = h.get_by_label("Input 1").rect().center();
    h.drag_at(from);
    h.run();
    for step in 1..=10 {
        h.hover_at(from + (to - from) * (step as f32 / 10.0));
        h.run();
    }
    h.drop_at(to);
    h.run();
    let plan = h.state().library().room_plan(class).unwrap();
    let seats: Vec<usize> = plan
        .iter()
        .filter(|s| s.pupils.contains(&ada))
        .map(|s| s.input)
        .collect();
    assert_eq!(seats, [1]);
}

#[test]
fn a_broken_school_arrangement_is_named_and_the_good_ones_still_play() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("lib");
    let mut h = harness(&root);
    h.run();
    let own = root.join("arrangements");
    std::fs::create_dir_all(&own).unwrap();
    let sailor = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/arrangements/drunken-sailor.toml"),
    )
    .unwrap();
    std::fs::write(own.join("our-sailor.toml"), sailor).unwrap();
    std::fs::write(own.join("broken.toml"), "# written by hand\ntitle = 3\n").unwrap();
    h.get_by_label("Look again").click();
    h.run();
    let warning = shown_text(&h.get_by_label_contains("broken.toml cannot be used"));
    assert_contains(&warning, "line 2");
    h.get_by_label("Drunken Sailor (the school's)").click();
    h.run();
    h.get_by_label("Go to the lesson").click();
    h.run();
    assert_eq!(h.state().cx.arrangement.as_deref(), Some("our-sailor"));
    h.get_by_label("Section");
}

#[test]
fn a_backup_is_made_from_settings_and_a_missing_recording_is_shown_with_the_check() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("lib");
    record_take(&root);
    let mut h = harness(&root);
    h.run();
    // A backup from Settings goes into an empty folder, off the UI thread.
    h.state_mut().screen = Screen::Settings;
    h.run();
    let backup = dir.path().join("usb");
    click_in_view(&mut h, "Backup folder");
    h.run();
    h.get_by_label("Backup folder")
        .type_text(&backup.display().to_string());
    h.run();
    click_in_view(&mut h, "Back up now");
    let said = wait_for_label(&mut h, "Backed up", 20.0);
    assert_contains(&said, "Backed up 1 takes");
    assert!(backup.join("bandroom.sqlite").is_file());

    let class = h.state().library().class_id(DEMO_CLASS).unwrap();
    let lib = h.state().library();
    let take = lib.takes(&TakeFilter::default()).unwrap().remove(0);
    let lost = lib.take_folder(&take).join(&take.tracks[1].file);
    std::fs::remove_file(&lost).unwrap();
    h.state_mut().cx.class = Some(class);
    h.state_mut().screen = Screen::Lesson;
    h.run();
    h.get_by_label_contains("1 recording of this take is missing");
    h.get_by_label("Check the library").click();
    let finding = wait_for_label(&mut h, &format!("{} is missing", take.tracks[1].file), 10.0);
    assert_contains(&finding, &take.tracks[1].file);
}

#[test]
fn the_class_view_shows_this_bars_chord_and_the_next() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("lib");
    let mut h = demo_lesson(&root, Some("bandroom-blues"));
    // Four times real time: the fourth bar still shows for about half a second.
    h.state_mut().devices.choice = DeviceChoice::VirtualWith(faster(4.0));
    h.run();
    h.get_by_label("Record (R)").click();
    h.run_steps(2);
    h.get_by_label("Class view").click();
    let until = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let mut seen = None;
    while std::time::Instant::now() < until {
        h.step();
        // The intro's fourth bar is G7, after three of C7.
        if let Some(node) = h.query_by_label("G7") {
            seen = Some(shown_text(&node));
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert_eq!(
        seen.as_deref(),
        Some("G7"),
        "the intro's last bar showed its chord"
    );
    assert!(h.query_by_label_contains("then ").is_some());
    h.state_mut().screen = Screen::Lesson;
    h.run_steps(2);
    stop_take(&mut h);
}

#[test]
fn settings_changes_the_pin_only_with_the_current_one() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("lib");
    bandroom::library::Library::open(&root)
        .unwrap()
        .set_pin(None, "2468")
        .unwrap();
    let mut h = harness(&root);
    h.run();
    h.state_mut().screen = Screen::Settings;
    h.run();
    let set = |h: &mut Harness<'static, BandroomApp>, current: &str, new: &str| {
        for (field, text) in [
            ("Current teacher PIN", current),
            ("New teacher PIN", new),
            ("New teacher PIN again", new),
        ] {
            h.get_by_label(field).click();
            h.run();
            h.get_by_label(field).type_text(text);
            h.run();
        }
        h.get_by_label("Set PIN").click();
        h.run();
    };
    // Without the current PIN (a pupil at an unlocked screen) nothing changes.
    set(&mut h, "", "1357");
    h.get_by_label_contains("that is not the current teacher PIN");
    set(&mut h, "2468", "1357");
    h.get_by_label("PIN set.");
    drop(h);
    let mut lib = bandroom::library::Library::open(&root).unwrap();
    assert!(lib.check_pin("1357").unwrap());
}

/// Asks the window to close, as the title bar's close button does.
fn request_close(h: &mut Harness<'static, BandroomApp>) {
    h.input_mut()
        .viewports
        .entry(egui::ViewportId::ROOT)
        .or_default()
        .events
        .push(egui::ViewportEvent::Close);
    h.run_steps(2);
}

#[test]
fn closing_the_window_while_recording_asks_then_keeps_a_complete_take() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("lib");
    let mut h = harness(&root);
    record_clapping_music(&mut h, Some(1));
    assert!(h.state().is_recording());
    // Half a second of the take, so there is something to keep however busy the machine.
    step_for(&mut h, 0.5);
    request_close(&mut h);
    h.get_by_label_contains("A take is being recorded");
    assert!(h.state().is_recording(), "the question comes first");
    h.get_by_label("Keep recording").click();
    // While recording the meters repaint every frame: step, do not run to rest.
    h.run_steps(2);
    assert!(h.state().is_recording(), "Keep recording keeps recording");
    assert!(
        h.query_by_label_contains("A take is being recorded")
            .is_none()
    );
    request_close(&mut h);
    h.get_by_label("Stop, keep the take and close").click();
    h.run_steps(2);
    assert!(!h.state().is_recording());
    wait_until_filed(&mut h);
    assert!(
        !h.state().closes_when_filed(),
        "and closes once it is filed"
    );
    let takes = h.state().library().takes(&TakeFilter::default()).unwrap();
    assert_eq!(takes.len(), 1, "the take was filed");
    assert!(takes[0].complete, "{:?}", takes[0]);
    assert!(takes[0].duration_secs > 0.0);
    assert!(h.state().library().check().unwrap().findings.is_empty());
}

/// The virtual device at `speed` times real time.
fn faster(speed: f64) -> bandroom::audio::virtual_device::VirtualSettings {
    bandroom::audio::virtual_device::VirtualSettings {
        speed,
        ..Default::default()
    }
}

#[test]
fn dropouts_and_a_silent_input_are_shown_while_recording() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("lib");
    let mut h = demo_lesson(&root, None);
    // An interface that loses every twentieth input block.
    h.state_mut().devices.choice =
        DeviceChoice::VirtualWith(bandroom::audio::virtual_device::VirtualSettings {
            dropout_every: Some(20),
            ..Default::default()
        });
    h.run();
    h.get_by_label("Record (R)").click();
    h.run_steps(2);
    // Nothing is played, so every input is silent: after 10 s the teacher is told.
    let until = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while h
        .query_all_by_label_contains("has been silent for")
        .next()
        .is_none()
        && std::time::Instant::now() < until
    {
        h.step();
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    h.get_by_label_contains("Input 1 has been silent for 1");
    h.get_by_label_contains("dropout(s): the take keeps its timing");
    stop_take(&mut h);
    let takes = h.state().library().takes(&TakeFilter::default()).unwrap();
    assert_eq!(takes.len(), 1);
    assert!(takes[0].gaps > 0, "the dropped blocks are gaps of the take");
    assert!(takes[0].xruns > 0);
}

/// A school arrangement in the library's folder: two one-bar sections of 4/4 at 120 BPM,
/// a clapped part, and (when `stem` is given) a backing part played from that file.
fn school_piece(root: &Path, stem: Option<&str>) {
    let folder = bandroom::library::arrangements_folder(root);
    std::fs::create_dir_all(&folder).unwrap();
    let backing = stem.map_or(String::new(), |file| {
        format!("[[part]]\nname = \"backing\"\nstem = \"{file}\"\n")
    });
    std::fs::write(
        folder.join("short.toml"),
        format!(
            "title = \"Short\"\nmeter = \"4/4\"\n[tempo]\nbpm = 120\n\
             [[part]]\nname = \"claps\"\nsound = \"clap\"\n{backing}\
             [[section]]\nname = \"A\"\nbars = 1\n\
             [[section.play]]\npart = \"claps\"\nrhythm = \"x x x x\"\n\
             [[section]]\nname = \"B\"\nbars = 1\n\
             [[section.play]]\npart = \"claps\"\nrhythm = \"x . x .\"\n"
        ),
    )
    .unwrap();
}

/// How strongly `samples` hold a tone of `hz` (Goertzel power per sample).
fn tone_power(samples: &[f32], rate: f64, hz: f64) -> f64 {
    let w = 2.0 * std::f64::consts::PI * hz / rate;
    let (mut s1, mut s2) = (0.0f64, 0.0f64);
    for &x in samples {
        let s = f64::from(x) + 2.0 * w.cos() * s1 - s2;
        s2 = s1;
        s1 = s;
    }
    (s1 * s1 + s2 * s2 - 2.0 * w.cos() * s1 * s2) / samples.len().max(1) as f64
}

/// Records the lesson screen's piece until it ends by itself and is filed.
fn record_to_the_end(h: &mut Harness<'static, BandroomApp>) -> bandroom::library::TakeSummary {
    h.get_by_label("Record (R)").click();
    h.run_steps(2);
    assert!(h.state().is_recording(), "{:?}", h.state().error());
    let until = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while h.state().is_recording() {
        assert!(std::time::Instant::now() < until, "the take never ended");
        h.step();
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    wait_until_filed(h);
    let takes = h.state().library().takes(&TakeFilter::default()).unwrap();
    assert_eq!(takes.len(), 1, "{:?}", h.state().banners());
    takes.into_iter().next().unwrap()
}

#[test]
fn a_take_from_the_lesson_screen_plays_the_backing_stem() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("lib");
    std::fs::create_dir_all(&root).unwrap();
    let tone_hz = 1_000.0;
    let stem: Vec<f32> = (0..48_000 * 4)
        .map(|i| 0.4 * (2.0 * std::f32::consts::PI * tone_hz as f32 * i as f32 / 48_000.0).sin())
        .collect();
    school_piece(&root, Some("tone.wav"));
    write_mono_wav(
        &bandroom::library::arrangements_folder(&root).join("tone.wav"),
        &stem,
    );
    let mut h = demo_lesson(&root, Some("short"));
    h.state_mut().devices.choice = DeviceChoice::VirtualWith(faster(4.0));
    h.run();
    let take = record_to_the_end(&mut h);
    assert_eq!(take.arrangement.as_deref(), Some("short"));
    let folder = h.state().library().take_folder(&take);
    let (samples, channels) = read_wav(&folder.join(&take.tracks[0].file));
    assert_eq!(channels, 1);
    // The loopback hears the piece: the stem's tone stands far above a neighbouring
    // frequency (the claps and the click are broadband; without the stem the two match).
    let rate = f64::from(take.sample_rate_hz);
    let on = tone_power(&samples, rate, tone_hz);
    let off = tone_power(&samples, rate, 1_370.0);
    assert!(
        on > 100.0 * off,
        "tone {on:e} against {off:e}: the stem is not heard"
    );
}

#[test]
fn the_count_in_and_repeats_chosen_on_the_lesson_screen_are_what_the_take_plays() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("lib");
    std::fs::create_dir_all(&root).unwrap();
    school_piece(&root, None);
    let mut h = demo_lesson(&root, Some("short"));
    h.state_mut().devices.choice = DeviceChoice::VirtualWith(faster(4.0));
    h.run();
    h.get_by_label("Count-in").click();
    h.run();
    h.get_by_label("2 bars").click();
    h.run();
    h.get_by_label("Each section").click();
    h.run();
    h.get_by_label("2 times").click();
    h.run();
    let take = record_to_the_end(&mut h);
    assert_eq!(take.count_in_bars, 2);
    assert_eq!(take.repeats, Some(2));
    let json = take_json(&h.state().library().take_folder(&take));
    assert_eq!(json["arrangement"]["count_in_bars"], 2);
    assert_eq!(json["arrangement"]["repeats"], 2);
    // Two bars of count-in, two sections twice each, and the tail: 2 s a bar.
    let bars = 2.0 + 2.0 * 2.0;
    let expected = bars * 2.0 + 1.0;
    assert!(
        (take.duration_secs - expected).abs() < 0.2,
        "{} s recorded, {expected} s expected",
        take.duration_secs
    );
}

/// A screen is drawn from a context and the devices alone, with no app around it: what
/// it asks for comes out as actions, and a second frame reads nothing from the library.
#[test]
fn a_screen_is_driven_alone_with_a_context_and_no_app() {
    use bandroom::ui::{Action, AppContext, Devices, Keep, LessonState, StartState};
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("lib");
    record_take(&root);
    let lib = bandroom::library::Library::open(&root).unwrap();
    let demo = lib.class_id(DEMO_CLASS).unwrap();

    let state = (StartState::default(), AppContext::new(lib, &root));
    let mut h = Harness::builder()
        .with_size(egui::vec2(1024.0, 768.0))
        .build_ui_state(
            |ui, (screen, cx): &mut (StartState, AppContext)| {
                cx.begin_frame(ui.ctx());
                screen.ui(cx, ui);
            },
            state,
        );
    h.run();
    h.get_by_label(DEMO_CLASS).click();
    h.run();
    h.get_by_label("Clapping Music").click();
    h.run();
    h.get_by_label("Go to the lesson").click();
    h.run();
    let asked = std::mem::take(&mut h.state_mut().1.actions);
    assert_eq!(
        asked,
        [
            Action::ChooseClass(Some(demo)),
            Action::ChooseArrangement(Some("clapping-music".into())),
            Action::Open(bandroom::ui::Screen::Lesson)
        ]
    );

    // The lesson screen, with its take list, from the same kind of context.
    let mut cx = AppContext::new(bandroom::library::Library::open(&root).unwrap(), &root);
    cx.class = Some(demo);
    let state = (LessonState::default(), cx, Devices::default());
    let mut h = Harness::builder()
        .with_size(egui::vec2(1400.0, 1000.0))
        .build_ui_state(
            |ui, (screen, cx, devices): &mut (LessonState, AppContext, Devices)| {
                cx.begin_frame(ui.ctx());
                screen.ui(cx, devices, ui);
            },
            state,
        );
    h.run();
    h.get_all_by_label_contains("Take 1 ·").next().unwrap();
    let reads = h.state().1.cache.reads;
    assert!(reads > 0);
    h.run_steps(3);
    assert_eq!(
        h.state().1.cache.reads,
        reads,
        "nothing is queried per frame"
    );
    h.get_by_label("Record (R)").click();
    h.run();
    assert_eq!(h.state().1.actions, [Action::StartTake(Keep::Take)]);
    assert!(!h.state().2.is_recording(), "the screen only asks");
}

/// The shared 30-pupil export from a school system (accents, apostrophes, long
/// double-barrelled names, two Mohammed Ahmeds and two Chloe Smiths told apart by their
/// preferred names).
fn class_8b_roster() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/class-8B-30-pupils.csv")
}

/// The app at `width`×`height` pixels and UI scale `zoom`, where class 8B has been
/// added and its 30-pupil roster imported through the start screen (previewed first).
fn class_8b_set_up_in_the_app(
    root: &Path,
    width: f32,
    height: f32,
    zoom: f32,
) -> (Harness<'static, BandroomApp>, i64) {
    let roster = class_8b_roster();
    let app = BandroomApp::open(root).unwrap();
    // A screen of `width`×`height` pixels at UI scale `zoom`: that many points fewer.
    let mut h = Harness::builder()
        .with_size(egui::vec2(width / zoom, height / zoom))
        .with_pixels_per_point(zoom)
        .with_max_steps(32)
        .build_state(|ctx, app: &mut BandroomApp| app.ui(ctx), app);
    h.run();
    // The class is made and its pupils brought in on the start screen, nowhere else.
    press(&mut h, "New class name");
    h.run();
    h.get_by_label("New class name").focus();
    h.run();
    h.get_by_label("New class name").type_text("8B");
    h.run();
    press(&mut h, "Add a class");
    h.run();
    let class = h.state().library().class_id("8B").unwrap_or_else(|e| {
        let shown: Vec<String> = h.query_all_by(|_| true).map(|n| shown_text(&n)).collect();
        panic!("{e}: {:?} / {shown:?}", h.state().error())
    });
    assert_eq!(h.state().cx.class, Some(class), "the new class is in hand");
    press(&mut h, "Roster file");
    h.run();
    h.get_by_label("Roster file").focus();
    h.run();
    h.get_by_label("Roster file")
        .type_text(roster.to_str().unwrap());
    h.run();
    press(&mut h, "Read the file");
    // The file is read off the UI thread: the preview arrives a few frames later.
    wait_for_label(&mut h, "30 pupil(s) found", 10.0);
    assert!(
        h.state().library().pupils(Some(class)).unwrap().is_empty(),
        "a preview writes nothing"
    );
    press(&mut h, "Add these 30 pupil(s) to 8B");
    h.run();
    let pupils = h.state().library().pupils(Some(class)).unwrap();
    assert_eq!(pupils.len(), 30);
    (h, class)
}

/// Every node AccessKit reports lies inside the window from left to right.
fn nodes_off_the_sides(h: &Harness<'static, BandroomApp>, width: f32) -> Vec<String> {
    h.query_all_by(|_| true)
        .filter_map(|n| {
            let b = n.accesskit_node().bounding_box()?;
            let off = b.width() > 0.0 && (b.x0 < -0.5 || b.x1 > f64::from(width) + 0.5);
            off.then(|| format!("{:?} at {b:?}", shown_text(&n)))
        })
        .collect()
}

#[test]
fn a_class_of_30_is_set_up_in_the_app_and_its_lesson_screen_fits_the_window() {
    let roster = class_8b_roster();
    if !roster.is_file() {
        panic!("the shared roster {} is missing", roster.display());
    }
    for (width, height, zoom) in [
        (1024.0, 768.0, 1.0),
        (1920.0, 1080.0, 1.0),
        (1920.0, 1080.0, 2.0),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let (mut h, class) =
            class_8b_set_up_in_the_app(&dir.path().join("lib"), width, height, zoom);
        // A piece in hand: the tempo, section, count-in and repeats row is shown too.
        h.state_mut().cx.arrangement = Some("clapping-music".into());
        press(&mut h, "Go to the lesson");
        h.run();
        assert_eq!(h.state().screen, Screen::Lesson);
        // AccessKit reports bounds in pixels of the screen.
        let off = nodes_off_the_sides(&h, width);
        assert!(off.is_empty(), "{width}×{height} at {zoom}: {off:#?}");
        // The class list, the room plan and the take list are all on the first screen.
        for label in [
            "Class (30)",
            "Room plan",
            "Takes",
            "Input 1",
            "Find a pupil",
        ] {
            let r = h.get_by_label(label).rect();
            assert!(
                r.bottom() <= height,
                "{label} is below the fold at {width}×{height}×{zoom}: {r:?}"
            );
        }
        // Seat three pupils by choosing an input and clicking names.
        let mut chosen = None;
        for (input, pupil) in [
            (1, "Amelia-Rose Fitzgerald-Montgomery"),
            (1, "Caoimhe Ó Súilleabháin"),
            (2, "Mo Ahmed"),
        ] {
            if chosen != Some(input) {
                press(&mut h, &format!("Input {input}"));
                h.run();
                chosen = Some(input);
            }
            // The teacher scrolls the class list to the name.
            press(&mut h, pupil);
            h.run();
        }
        // Seated pupils are marked, not moved: the class list keeps the roster's order,
        // so a name does not slide away from under the pointer between two clicks.
        let order: Vec<String> = h.query_all_by(|_| true).map(|n| shown_text(&n)).collect();
        let place = |name: &str| order.iter().position(|t| t == name).unwrap();
        assert!(
            place("Amelia-Rose Fitzgerald-Montgomery") < place("Ana Papadopoulou"),
            "a seated pupil moved in the class list"
        );
        let plan = h.state().library().room_plan(class).unwrap();
        let seated = |input: usize| {
            plan.iter()
                .find(|s| s.input == input)
                .map_or(0, |s| s.pupils.len())
        };
        assert_eq!((seated(1), seated(2)), (2, 1), "{plan:?}");
        let off = nodes_off_the_sides(&h, width);
        assert!(
            off.is_empty(),
            "after seating, {width}×{height} at {zoom}: {off:#?}"
        );
    }
}

/// The projector names the piece by its title while it waits, and says which repeat of
/// a section the class is in.
#[test]
fn the_class_view_shows_the_title_when_idle_and_which_repeat_is_playing() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("lib");
    let mut h = demo_lesson(&root, Some("clapping-music"));
    h.state_mut().screen = Screen::ClassView;
    h.run();
    h.get_by_label("Clapping Music");
    assert!(
        h.query_by_label("clapping-music").is_none(),
        "not the file name"
    );
    h.state_mut().screen = Screen::Lesson;
    h.state_mut().devices.choice = DeviceChoice::VirtualWith(faster(4.0));
    h.state_mut().lesson.repeats = Some(2);
    h.run();
    h.get_by_label("Record (R)").click();
    h.run_steps(2);
    h.state_mut().screen = Screen::ClassView;
    h.run_steps(2);
    wait_for_label(&mut h, "repeat 1 of 2", 20.0);
    wait_for_label(&mut h, "repeat 2 of 2", 20.0);
    h.state_mut().screen = Screen::Lesson;
    h.run_steps(2);
    stop_take(&mut h);
}

/// Judging in seconds: five pupils seated, a take recorded and stopped early, two focus
/// criteria chosen, and all ten judgements made in at most twelve clicks and keys, each
/// to the pupil the cursor walks to in seat order. The focus stays with the class, the
/// level buttons carry the framework's words, and the caption says where the take
/// stopped.
#[test]
fn five_pupils_are_judged_on_two_focus_criteria_in_twelve_events() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("lib");
    let (mut h, class) = class_8b_set_up_in_the_app(&root, 1024.0, 768.0, 1.0);
    h.state_mut().devices.choice = DeviceChoice::VirtualWith(faster(4.0));
    h.state_mut().cx.arrangement = Some("clapping-music".into());
    press(&mut h, "Go to the lesson");
    h.run();
    // Seat order is input order, not the roster's: the cursor must follow the room.
    let seats = [
        (1, "Emeka Okafor"),
        (2, "Amelia-Rose Fitzgerald-Montgomery"),
        (3, "Mo Ahmed"),
        (4, "Caoimhe Ó Súilleabháin"),
        (5, "Ana Papadopoulou"),
    ];
    for (input, pupil) in seats {
        press(&mut h, &format!("Input {input}"));
        h.run();
        press(&mut h, pupil);
        h.run();
    }
    press(&mut h, "Record (R)");
    h.run_steps(2);
    assert!(
        h.state().is_recording(),
        "{:?} {:?}",
        h.state().error(),
        h.state().banners()
    );
    step_for(&mut h, 1.5);
    stop_take(&mut h);
    let take = h
        .state()
        .library()
        .takes(&TakeFilter::default())
        .unwrap()
        .remove(0);
    assert!(take.stopped_early, "{take:?}");
    let caption = format!(
        "stopped at {}",
        bandroom::time_text::minutes_seconds(take.duration_secs)
    );
    assert!(
        h.query_all_by_label_contains(&caption).next().is_some(),
        "no caption says {caption:?}"
    );
    // The level buttons name the level; its descriptor is on hover.
    h.get_by_label("Emeka Okafor Pulse and rhythm level 1: Finding the pulse");

    let mut events = 0;
    for criterion in ["Pulse and rhythm", "Ensemble awareness"] {
        press(&mut h, &format!("Focus on {criterion}"));
        h.run();
        events += 1;
    }
    for level in [
        egui::Key::Num3,
        egui::Key::Num2,
        egui::Key::Num4,
        egui::Key::Num4,
        egui::Key::Num2,
        egui::Key::Num1,
        egui::Key::Num5,
        egui::Key::Num3,
        egui::Key::Num3,
        egui::Key::Num3,
    ] {
        h.key_press(level);
        h.run();
        events += 1;
    }
    assert!(events <= 12);
    let lib = h.state().library();
    assert_eq!(
        lib.focus_criteria(class).unwrap(),
        ["pulse", "ensemble"],
        "remembered for the class"
    );
    let mut judged = Vec::new();
    for (_, name) in seats {
        let all = lib.pupils(Some(class)).unwrap();
        // Two pupils share "Mo Ahmed": the seated one is the one on the take.
        let pupil = all
            .iter()
            .filter(|p| p.name == name)
            .map(|p| p.id)
            .find(|id| {
                take.tracks
                    .iter()
                    .any(|t| t.performers.iter().any(|p| p.pupil_id == *id))
            })
            .unwrap_or_else(|| panic!("{name} is not on the take"));
        let levels: Vec<(String, i64)> = lib
            .assessments(pupil)
            .unwrap()
            .into_iter()
            .filter(|a| a.take == Some(take.id))
            .map(|a| (a.criterion, a.level))
            .collect();
        judged.push(levels);
    }
    let expect = |a: i64, b: i64| vec![("pulse".to_string(), a), ("ensemble".to_string(), b)];
    assert_eq!(
        judged,
        [
            expect(3, 2),
            expect(4, 4),
            expect(2, 1),
            expect(5, 3),
            expect(3, 3)
        ],
        "each key judged the next row, pupils in seat order"
    );
    // A slip is taken back at once: the last judgement (Ana's ensemble) no longer counts.
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::Z);
    h.run();
    let counted: usize = take
        .tracks
        .iter()
        .flat_map(|t| &t.performers)
        .map(|p| {
            h.state()
                .library()
                .assessments(p.pupil_id)
                .unwrap()
                .iter()
                .filter(|a| a.take == Some(take.id))
                .count()
        })
        .sum();
    assert_eq!(counted, 9, "undo withdrew one judgement");
}

/// The window opens at the size it had when it last closed; a size saved on a bigger
/// screen, or a damaged one, still opens a usable window.
#[test]
fn the_window_size_is_remembered_between_starts() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("lib");
    let mut app = BandroomApp::open(&root).unwrap();
    assert_eq!(app.window_to_open(), [1280.0, 800.0], "the first start");
    app.remember_window([1500.0, 900.0]);
    drop(app);
    let mut app = BandroomApp::open(&root).unwrap();
    assert_eq!(app.window_to_open(), [1500.0, 900.0]);
    app.remember_window([100_000.0, 10.0]);
    drop(app);
    let app = BandroomApp::open(&root).unwrap();
    assert_eq!(app.window_to_open(), [7680.0, 400.0], "kept within bounds");
    drop(app);
    let mut lib = bandroom::library::Library::open(&root).unwrap();
    lib.set_app_state(r#"{"dark":true,"window":[1.0e40,"wide"]}"#)
        .unwrap();
    drop(lib);
    let app = BandroomApp::open(&root).unwrap();
    assert_eq!(
        app.window_to_open(),
        [1280.0, 800.0],
        "damaged: the default"
    );
}

/// A OneRoster zip of two classes is previewed, the class chosen from it and imported,
/// all on the start screen; then a pupil is corrected and the class renamed there too.
#[test]
fn a_one_roster_zip_is_imported_and_a_pupil_corrected_in_the_app() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("lib");
    let mut h = harness(&root);
    h.run();
    let class = h
        .state_mut()
        .library_mut()
        .add_class("Year 8 band", None, None)
        .unwrap();
    h.state_mut().cx.class = Some(class);
    h.run();
    // "Set up a class" is open: the library had one class when the screen first showed.
    let zip = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/rosters/oneroster-8B.zip");
    h.get_by_label("Roster file").focus();
    h.run();
    h.get_by_label("Roster file")
        .type_text(zip.to_str().unwrap());
    h.run();
    press(&mut h, "Read the file");
    wait_for_label(&mut h, "a OneRoster bundle holds 2 classes", 10.0);
    h.get_by_label_contains("a OneRoster bundle holds 2 classes. Which is Year 8 band?");
    assert!(
        h.query_by_label_contains("pupil(s) found").is_none(),
        "nothing to add until the class is chosen"
    );
    press(&mut h, "8B Music (6 pupils)");
    h.run();
    h.get_by_label_contains("class 8B Music (8B/Mu1): 6 pupil(s) found, 1 line(s)");
    press(&mut h, "Add these 6 pupil(s) to Year 8 band");
    h.run();
    let pupils = h.state().library().pupils(Some(class)).unwrap();
    assert_eq!(pupils.len(), 6, "{pupils:?}");

    press(&mut h, "Change Year 8 band and its pupils");
    h.run();
    press(&mut h, "Edit Seán O'Brien (A1002)");
    h.run();
    h.get_by_label("Name").focus();
    h.run();
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    h.run();
    h.get_by_label("Name").type_text("Seán O'Brien-Walsh");
    h.run();
    press(&mut h, "Save");
    h.run();
    let sean = h.state().library().find_pupil("A1002", None).unwrap();
    assert_eq!(
        h.state().library().pupil_name(sean).unwrap(),
        "Seán O'Brien-Walsh"
    );
    h.get_by_label("Class name").focus();
    h.run();
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    h.run();
    h.get_by_label("Class name").type_text("8B");
    h.run();
    press(&mut h, "Rename");
    h.run();
    assert_eq!(h.state().library().class_id("8B").unwrap(), class);
}

/// Take 1: Ada on track 1, Ben on track 2, with a voice note for each audience; take 2:
/// Ben alone. Returns (Ada's id, Ben's id).
fn two_players_and_their_voice_notes(root: &Path) -> (i64, i64) {
    use bandroom::library::NoteAudience;
    record_take(root);
    record_take(root);
    let mut lib = bandroom::library::Library::open(root).unwrap();
    let class = lib.class_id(DEMO_CLASS).unwrap();
    let ada = lib.find_pupil("Ada Brook", Some(class)).unwrap();
    let ben = lib.find_pupil("Ben Carter", Some(class)).unwrap();
    lib.attribute(1, 1, &[ada], Some("pattern 1"), None, None)
        .unwrap();
    lib.attribute(1, 2, &[ben], Some("pattern 2"), None, None)
        .unwrap();
    lib.attribute(2, 1, &[ben], Some("pattern 2"), None, None)
        .unwrap();
    let note = root.join("note.wav");
    write_wav(&note, 4_800, 3);
    for (frame, audience) in [
        (10, NoteAudience::Teacher),
        (20, NoteAudience::Players),
        (30, NoteAudience::Pupil(ben)),
        (40, NoteAudience::Pupil(ada)),
    ] {
        lib.add_voice_note(1, Some(frame), &note, "teacher", audience)
            .unwrap();
    }
    std::fs::remove_file(&note).unwrap();
    (ada, ben)
}

#[test]
fn with_sign_in_a_pupil_needs_their_code_and_hears_only_what_is_theirs() {
    use bandroom::ui::context::{Action, Listen};
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("lib");
    let (ada, _) = two_players_and_their_voice_notes(&root);
    let code = {
        let mut lib = bandroom::library::Library::open(&root).unwrap();
        let class = lib.class_id(DEMO_CLASS).unwrap();
        lib.set_sign_in(class, true).unwrap();
        let codes = lib.sign_in_codes(class).unwrap();
        assert_eq!(codes.len(), 10, "every member of the demo class has a code");
        codes.into_iter().find(|(id, _, _)| *id == ada).unwrap().2
    };
    let wrong = if code == "owl moon" {
        "moon owl"
    } else {
        "owl moon"
    };
    let mut h = in_pupil_mode(&root);
    h.get_by_label("Ada Brook").click();
    h.run();
    h.get_by_label("Hello Ada Brook");
    h.get_by_label("Your sign-in words").click();
    h.run();
    h.get_by_label("Your sign-in words").type_text(wrong);
    h.run();
    h.get_by_label("Sign in").click();
    h.run();
    h.get_by_label_contains("not the words on your card");
    assert!(matches!(h.state().mode, Mode::Pupil { pupil: None, .. }));
    assert!(h.query_by_label_contains("your takes").is_none());
    // Typed as a pupil would: capitals and a stray space.
    h.get_by_label("Your sign-in words").click();
    h.run();
    h.get_by_label("Your sign-in words")
        .type_text(&format!(" {} ", code.to_uppercase()));
    h.run();
    h.get_by_label("Sign in").click();
    h.run();
    assert!(matches!(h.state().mode, Mode::Pupil { pupil: Some(p), .. } if p == ada));
    h.get_by_label("Ada Brook: your takes");
    // Take 2 is Ben's alone: it is not listed.
    let takes: Vec<String> = h
        .get_all_by_label_contains("Take ")
        .map(|n| shown_text(&n))
        .filter(|t| t.starts_with("Take "))
        .collect();
    assert_eq!(takes.len(), 1, "{takes:?}");
    h.get_all_by_label_contains("Take 1 ·")
        .next()
        .unwrap()
        .click();
    h.run();
    h.get_by_label("Your track: Ada Brook, pattern 1");
    assert!(h.query_by_label_contains("Ben Carter").is_none());
    // Of four voice notes she hears two: the one for the players and her own.
    let notes: Vec<String> = h
        .get_all_by_label_contains("Your teacher's voice note")
        .map(|n| shown_text(&n))
        .collect();
    assert_eq!(notes.len(), 2, "{notes:?}");
    // However a request to hear Ben's track or his note came, it is refused.
    let take = h.state().library().take(1).unwrap();
    let bens_note = h.state().library().voice_notes(1).unwrap()[2].file.clone();
    for listen in [Listen::JustMe(2), Listen::VoiceNote(bens_note)] {
        h.state_mut().cx.notices.error = None;
        h.state_mut()
            .cx
            .act(Action::Play(Box::new(take.clone()), listen));
        h.run();
        assert!(h.state().devices.loading_take().is_none());
        let said = h.state().cx.notices.error.clone().unwrap_or_default();
        assert!(said.contains("not yours to hear"), "{said:?}");
    }
}

#[test]
fn three_wrong_codes_make_the_sign_in_wait() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("lib");
    let mut lib = bandroom::library::Library::open(&root).unwrap();
    let class = lib.class_id(DEMO_CLASS).unwrap();
    lib.set_sign_in(class, true).unwrap();
    drop(lib);
    let mut h = in_pupil_mode(&root);
    h.get_by_label("Chloe Dawes").click();
    h.run();
    for _ in 0..3 {
        h.get_by_label("Your sign-in words").click();
        h.run();
        // Not two code words at all, so never Chloe's code.
        h.get_by_label("Your sign-in words").type_text("guess");
        h.run();
        h.get_by_label("Sign in").click();
        h.run();
    }
    h.get_by_label_contains("Too many tries. Wait");
    // Going back to the names and choosing again does not end the wait.
    h.get_by_label("Not me: back to the names").click();
    h.run();
    h.get_by_label("Chloe Dawes").click();
    h.run();
    h.get_by_label_contains("Too many tries. Wait");
    // Another pupil is not locked out by Chloe's wrong tries.
    h.get_by_label("Not me: back to the names").click();
    h.run();
    h.get_by_label("Ada Brook").click();
    h.run();
    assert!(h.query_by_label_contains("Too many tries").is_none());
    // A restart (the app opened again, in pupil mode) keeps Chloe's wait.
    drop(h);
    let mut h = harness(&root);
    h.run();
    h.get_by_label("Chloe Dawes").click();
    h.run();
    h.get_by_label_contains("Too many tries. Wait");
}

#[test]
fn the_groups_view_holds_back_a_figure_when_fewer_than_five_were_judged() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("lib");
    let mut lib = bandroom::library::Library::open(&root).unwrap();
    let class = lib.add_class("7A", None, None).unwrap();
    // Six pupil premium pupils and six others; two of the others have SEN support.
    let mut csv = String::from("Name,Pupil Premium,SEN\n");
    for n in 0..12 {
        let pp = if n < 6 { "Yes" } else { "No" };
        let sen = if n >= 10 { "K" } else { "" };
        csv.push_str(&format!("Pupil {n:02},{pp},{sen}\n"));
    }
    let (rows, problems) =
        bandroom::library::roster::parse_roster(csv.as_bytes(), "7A.csv").unwrap();
    lib.import_roster(class, &rows, problems, true).unwrap();
    let pupils = lib.pupils(Some(class)).unwrap();
    assert_eq!(pupils.len(), 12);
    let judge = |lib: &mut bandroom::library::Library, pupil: i64, criterion: &str| {
        lib.assess(&bandroom::library::NewAssessment {
            pupil,
            take: None,
            criterion: criterion.into(),
            level: "3".into(),
            comment: String::new(),
            assessor: "Ms Test".into(),
        })
        .unwrap();
    };
    for (n, p) in pupils.iter().enumerate() {
        judge(&mut lib, p.id, "accuracy");
        // Pulse: two of the pupil premium pupils, all six others.
        if !(2..6).contains(&n) {
            judge(&mut lib, p.id, "pulse");
        }
    }
    let criteria = lib.class_grid(class).unwrap().criteria;
    let title = |key: &str| criteria.iter().find(|c| c.0 == key).unwrap().1.clone();
    drop(lib);
    let mut h = harness(&root);
    h.run();
    h.state_mut().cx.class = Some(class);
    h.state_mut().screen = Screen::Progress;
    h.run();
    h.get_by_label("Groups (PP, SEN, EAL)").click();
    h.run();
    h.get_by_label(&format!("PP, {}: fewer than 5 judged", title("pulse")));
    h.get_by_label(&format!("PP, {}: 3.0 / 3.0", title("accuracy")));
    h.get_by_label("SEN: fewer than 5 pupils in the group or the rest: not shown");
    // No pupil is named in the groups view.
    assert!(h.query_by_label_contains("Pupil 0").is_none());
}

/// `press` while something keeps the window drawing (a spinner, meters): a few frames
/// are stepped instead of running until the window settles, which it never does.
fn press_while_busy(h: &mut Harness<'static, BandroomApp>, label: &str) {
    h.get_by_label(label).scroll_to_me();
    h.run_steps(2);
    h.get_by_label(label).click_accesskit();
    h.run_steps(2);
}

/// A box of USB microphones in the app: "Which mic is this?" lights the one clapped at
/// and puts it on the plan by its identity; a pupil sat at it is named on its track of
/// the next take, recorded beside the interface on the microphone's own clock.
#[test]
fn a_usb_microphone_found_by_a_clap_records_its_pupil() {
    use bandroom::audio::virtual_device::VirtualSettings;
    use bandroom::audio::virtual_mics::VirtualMic;
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("lib");
    let mut h = demo_lesson(&root, None);
    let mic = |ppm: f64, hears_a_clap: bool| VirtualMic {
        ppm,
        hears_a_clap,
        ..VirtualMic::default()
    };
    h.state_mut().devices.choice = DeviceChoice::VirtualWith(VirtualSettings {
        mics: vec![mic(120.0, false), mic(-90.0, true), mic(40.0, false)],
        ..VirtualSettings::default()
    });
    h.run();

    // The list of microphones to add holds the three, not the interface itself.
    press_while_busy(&mut h, "Add a microphone");
    wait_for_label(&mut h, "Put virtual mic 3 on the plan", 10.0);
    assert!(h.query_by_label_contains("virtual loopback").is_none());

    press_while_busy(&mut h, "Which mic is this?");
    wait_for_label(&mut h, "Heard virtual mic 2: put it on the plan", 10.0);
    assert!(h.query_by_label_contains("Heard virtual mic 1").is_none());
    press_while_busy(&mut h, "Heard virtual mic 2: put it on the plan");
    let class = h.state().cx.class.unwrap();
    let plan = h.state().library().room_plan(class).unwrap();
    let seat = plan
        .iter()
        .find(|s| s.device.is_some())
        .expect("the microphone is on the plan");
    assert_eq!(seat.device.as_deref(), Some("virtual:mic-2"));
    assert_eq!(seat.title(), "virtual mic 2, input 1");
    // Its card lights at the next clap.
    wait_for_label(&mut h, "◀ heard now", 5.0);
    press_while_busy(&mut h, "Stop listening");
    h.run();
    assert!(h.state().devices.identifying().is_none());

    // Ada sits at the microphone; the take records it beside the interface's input 1.
    press_while_busy(&mut h, "virtual mic 2, input 1");
    h.run();
    press_while_busy(&mut h, "Ada Brook");
    h.run();
    h.get_by_label_contains("and 1 microphone");
    h.get_by_label("Record (R)").click();
    h.run_steps(2);
    assert!(h.state().is_recording(), "{:?}", h.state().banners());
    for _ in 0..60 {
        h.step();
        std::thread::sleep(std::time::Duration::from_millis(25));
    }
    h.get_by_label_contains("virtual mic 2, input 1 level");
    h.get_by_label("Stop (Space)").click();
    h.run_steps(2);
    wait_until_filed(&mut h);
    let take = h.state().library().take(1).unwrap();
    assert_eq!(take.tracks.len(), 2, "{:?}", take.tracks);
    let on_mic = take
        .tracks
        .iter()
        .find(|t| t.input_device.as_deref() == Some("virtual mic 2"))
        .expect("a track from the microphone");
    assert_eq!(on_mic.performers.len(), 1);
    assert_eq!(on_mic.performers[0].name, "Ada Brook");
    let on_interface = take
        .tracks
        .iter()
        .find(|t| t.input_device.is_none())
        .unwrap();
    assert!(on_interface.performers.is_empty(), "nobody sat at input 1");
}

/// The calibration wizard measures the USB microphones on the class's room plan with the
/// interface, each in front of the speaker, and keeps each by its identity.
#[test]
fn the_calibration_wizard_measures_the_microphones_on_the_room_plan() {
    use bandroom::audio::virtual_device::VirtualSettings;
    use bandroom::audio::virtual_mics::VirtualMic;
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("lib");
    let mut h = demo_lesson(&root, None);
    let class = h.state().cx.class.unwrap();
    let ada = h
        .state()
        .library()
        .find_pupil("Ada Brook", Some(class))
        .unwrap();
    let mut seat = bandroom::library::Seat::on_device("virtual:mic-2", "virtual mic 2", 1);
    seat.pupils = vec![ada];
    h.state_mut()
        .library_mut()
        .set_room_plan(class, &[seat])
        .unwrap();
    h.state_mut().devices.choice = DeviceChoice::VirtualWith(VirtualSettings {
        mics: vec![
            VirtualMic::default(),
            VirtualMic {
                latency_frames: 700,
                ppm: 60.0,
                ..VirtualMic::default()
            },
        ],
        ..VirtualSettings::default()
    });
    open_settings_on_the_virtual_host(&mut h);
    h.get_by_label_contains("stand virtual mic 2 in front of the speaker");
    h.get_by_label("Measure").click();
    let result = wait_for_label(&mut h, "Sound comes back", 60.0);
    assert_contains(&result, "virtual mic 2: ");
    assert_contains(&result, "saved.");
    let settings = std::fs::read_to_string(root.join("settings.toml")).unwrap();
    assert_contains(&settings, "input = \"virtual:mic-2\"");
}
