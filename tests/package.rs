//! The Linux package a school technician installs: `.ci/make-deb` builds it from the
//! binary under test, lintian finds no error in it, apt can satisfy its dependencies on
//! this machine, and the installed files work: `bandroom --version`, a render of
//! Clapping Music, the app's window under Xvfb, the manual page and the completions.
#![cfg(target_os = "linux")]
#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed test should stop at the failing line

mod common;

use common::*;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Builds the package from the test build of the binary into `dir/deb`.
fn build_package(dir: &Path) -> PathBuf {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join(".ci/make-deb");
    let out = Command::new("bash")
        .arg(&script)
        .args(["--binary", env!("CARGO_BIN_EXE_bandroom"), "--out"])
        .arg(dir.join("deb"))
        .output()
        .expect("bash runs .ci/make-deb");
    assert_ok(&out);
    let deb = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    assert!(deb.is_file(), "no package at {}", deb.display());
    deb
}

fn field(deb: &Path, name: &str) -> String {
    let out = Command::new("dpkg-deb")
        .arg("--field")
        .arg(deb)
        .arg(name)
        .output()
        .expect("dpkg-deb runs");
    assert_ok(&out);
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

#[test]
fn the_package_installs_and_its_bandroom_renders_and_opens_a_window() {
    let dir = tempfile::tempdir().unwrap();
    let deb = build_package(dir.path());

    // lintian: no errors (warnings are printed for a person to read).
    let lint = Command::new("lintian")
        .arg(&deb)
        .output()
        .expect("lintian is needed for this test: `make test` installs it");
    let said = String::from_utf8_lossy(&lint.stdout).to_string();
    print!("{said}");
    let errors: Vec<&str> = said.lines().filter(|l| l.starts_with("E:")).collect();
    assert!(errors.is_empty(), "lintian errors:\n{}", errors.join("\n"));

    // Runtime libraries only, never the -dev packages the build needs.
    let depends = field(&deb, "Depends");
    assert!(depends.contains("libasound2"), "{depends}");
    assert!(depends.contains("libgl1"), "{depends}");
    assert!(!depends.contains("-dev"), "{depends}");
    // apt can satisfy every dependency here (simulated: nothing is installed).
    let apt = Command::new("apt-get")
        .args(["install", "--simulate", "--no-install-recommends"])
        .arg(&deb)
        .output()
        .expect("apt-get runs");
    assert_ok(&apt);

    // Installed into a scratch root, the files are where a desktop looks for them.
    let root = dir.path().join("root");
    let out = Command::new("dpkg-deb")
        .arg("--extract")
        .arg(&deb)
        .arg(&root)
        .output()
        .unwrap();
    assert_ok(&out);
    for file in [
        "usr/bin/bandroom",
        "usr/share/applications/org.bandroom.bandroom.desktop",
        "usr/share/metainfo/org.bandroom.bandroom.metainfo.xml",
        "usr/share/icons/hicolor/scalable/apps/org.bandroom.bandroom.svg",
        "usr/share/icons/hicolor/48x48/apps/org.bandroom.bandroom.png",
        "usr/share/icons/hicolor/256x256/apps/org.bandroom.bandroom.png",
        "usr/share/man/man1/bandroom.1.gz",
        "usr/share/man/man1/bandroom-record.1.gz",
        "usr/share/bash-completion/completions/bandroom",
        "usr/share/zsh/vendor-completions/_bandroom",
        "usr/share/fish/vendor_completions.d/bandroom.fish",
        "usr/share/doc/bandroom/copyright",
        "usr/share/doc/bandroom/changelog.gz",
    ] {
        assert!(root.join(file).is_file(), "{file} is not in the package");
    }
    let desktop =
        std::fs::read_to_string(root.join("usr/share/applications/org.bandroom.bandroom.desktop"))
            .unwrap();
    assert!(desktop.contains("Categories=AudioVideo;Audio;Education;"));
    assert!(desktop.contains("Exec=bandroom"));
    // The completion script is valid bash.
    let bash = Command::new("bash")
        .arg("-n")
        .arg(root.join("usr/share/bash-completion/completions/bandroom"))
        .output()
        .unwrap();
    assert_ok(&bash);

    // The installed binary runs.
    let installed = root.join("usr/bin/bandroom");
    let version = Command::new(&installed).arg("--version").output().unwrap();
    assert_ok(&version);
    assert_eq!(
        String::from_utf8_lossy(&version.stdout).trim(),
        format!("bandroom {}", env!("CARGO_PKG_VERSION"))
    );
    let wav = dir.path().join("clapping-music.wav");
    let render = Command::new(&installed)
        .args(["render", "clapping-music", "--repeats", "1", "--out"])
        .arg(&wav)
        .output()
        .unwrap();
    assert_ok(&render);
    let (samples, channels) = read_wav(&wav);
    let seconds = samples.len() as f64 / channels as f64 / 48_000.0;
    assert!(seconds > 10.0, "a render of {seconds} s");
    assert!(
        samples.iter().any(|s| s.abs() > 0.1),
        "the render is silent"
    );

    // The installed app opens its window and closes after a few frames.
    let screen = VirtualDisplay::start(1024, 768);
    let library = dir.path().join("library");
    let app = Command::new(&installed)
        .arg("--library")
        .arg(&library)
        .env("DISPLAY", &screen.display)
        .env("BANDROOM_QUIT_AFTER_FRAMES", "10")
        .env_remove("WAYLAND_DISPLAY")
        .output()
        .unwrap();
    assert_ok(&app);
    assert!(
        library.join("bandroom.sqlite").is_file(),
        "the app opened its library"
    );
}

#[test]
fn the_package_is_never_built_over_an_existing_folder() {
    let dir = tempfile::tempdir().unwrap();
    let taken = dir.path().join("taken");
    std::fs::create_dir(&taken).unwrap();
    std::fs::write(taken.join("teacher's notes.txt"), "mine").unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join(".ci/make-deb");
    let out = Command::new("bash")
        .arg(&script)
        .args(["--binary", env!("CARGO_BIN_EXE_bandroom"), "--out"])
        .arg(&taken)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert_contains(&stderr(&out), "already exists");
    assert_eq!(
        std::fs::read_to_string(taken.join("teacher's notes.txt")).unwrap(),
        "mine"
    );
}

/// `make package` runs `.ci/make-deb` from the repository with relative paths; the
/// package it makes depends on the C library and ALSA (found by dpkg-shlibdeps), as one
/// made with absolute paths does.
#[test]
fn the_readme_s_relative_paths_give_a_package_that_depends_on_libc_and_alsa() {
    let top = Path::new(env!("CARGO_MANIFEST_DIR"));
    let binary = Path::new(env!("CARGO_BIN_EXE_bandroom"));
    let relative_binary = binary.strip_prefix(top).unwrap_or(binary);
    let out = format!("target/deb-relative-{}", std::process::id());
    let _ = std::fs::remove_dir_all(top.join(&out));
    let made = Command::new("bash")
        .arg(".ci/make-deb")
        .arg("--binary")
        .arg(relative_binary)
        .args(["--out", &out])
        .current_dir(top)
        .output()
        .expect("bash runs .ci/make-deb");
    let deb = PathBuf::from(String::from_utf8_lossy(&made.stdout).trim());
    let depends = if made.status.success() {
        field(&deb, "Depends")
    } else {
        String::new()
    };
    let _ = std::fs::remove_dir_all(top.join(&out));
    assert_ok(&made);
    for library in ["libc6", "libasound2", "libgcc-s1"] {
        assert!(depends.contains(library), "{library} missing: {depends}");
    }
}
