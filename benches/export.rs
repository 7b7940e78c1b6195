//! Evidence export: a class of 30 pupils, each on their own track of two 60-second
//! evidence takes (so 60 pupil tracks and 2 mixes, each a tone), written as WAV and as FLAC; and
//! FLAC encoding speed on one 60-second track, in multiples of real time.
//!
//! Under `cargo test` (no `--bench`) the takes are 2 seconds long. Run with
//! `cargo bench --bench export`; the bundle sizes are printed once per format.
#![allow(clippy::unwrap_used, clippy::expect_used)] // benchmark set-up; a failure should stop the run

use bandroom::export::audio::{AudioFormat, write_track};
use bandroom::export::bundle::{BundleKind, ExportRequest, export};
use bandroom::library::roster::parse_roster;
use bandroom::library::{Library, NewAssessment};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::path::Path;

#[path = "../tests/common/mod.rs"]
mod common;
use common::{register_take_of, write_wav};

const RATE: u32 = 48_000;
const PUPILS: usize = 30;

/// A library with one class of 30 pupils and two judged takes, each with a track per pupil.
fn class_library(root: &Path, frames: usize) -> i64 {
    let mut lib = Library::open(root).unwrap();
    let class = lib.add_class("10M", None, None).unwrap();
    let roster: String = std::iter::once("name".to_string())
        .chain((0..PUPILS).map(|i| format!("Pupil {i:02}")))
        .collect::<Vec<_>>()
        .join("\n");
    let (rows, problems) = parse_roster(roster.as_bytes(), "bench").unwrap();
    lib.import_roster(class, &rows, problems, true).unwrap();
    let pupils = lib.pupils(Some(class)).unwrap();
    for level in ["2", "3"] {
        let take_id = register_take_of(&mut lib, Some(class), PUPILS, frames);
        for (n, pupil) in pupils.iter().enumerate() {
            lib.attribute(take_id, n as i64 + 1, &[pupil.id], None, None, None)
                .unwrap();
            lib.assess(&NewAssessment {
                pupil: pupil.id,
                take: Some(take_id),
                criterion: "pulse".into(),
                level: level.into(),
                comment: String::new(),
                assessor: "bench".into(),
            })
            .unwrap();
        }
    }
    class
}

fn export_class(c: &mut Criterion) {
    let secs = if std::env::args().any(|a| a == "--bench") {
        60
    } else {
        2
    };
    let frames = secs * RATE as usize;
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("lib");
    let class = class_library(&root, frames);
    let mut lib = Library::open(&root).unwrap();
    let mut group = c.benchmark_group("export 30 pupils x 2 evidence takes");
    group.sample_size(10);
    for format in [AudioFormat::Wav, AudioFormat::Flac] {
        let out = dir.path().join(format!("bundle-{}", format.extension()));
        let request = ExportRequest {
            kind: BundleKind::Progress,
            classes: vec![class],
            from: "2000-01-01".into(),
            to: "2999-12-31".into(),
            audio: format,
            force: true,
            out: out.clone(),
            ..ExportRequest::default()
        };
        let summary = export(&mut lib, &request, &mut |_, _| true).unwrap();
        println!(
            "{}-second takes as {}: {} recordings, {:.1} MB",
            secs,
            format.extension(),
            summary.recordings,
            summary.bytes as f64 / 1e6
        );
        group.bench_function(format.extension(), |b| {
            b.iter(|| export(&mut lib, &request, &mut |_, _| true).unwrap())
        });
    }
    group.finish();

    let track = dir.path().join("one.wav");
    write_wav(&track, frames, 3);
    let mut group = c.benchmark_group("FLAC encoding");
    group.sample_size(10);
    group.throughput(Throughput::Elements(frames as u64));
    group.bench_function(format!("{secs} s mono 48 kHz track"), |b| {
        b.iter(|| write_track(&track, &dir.path().join("one.flac"), AudioFormat::Flac).unwrap())
    });
    group.finish();
}

/// `verify` on a zip of 100,000 small entries listed in its manifest, and a moderator's
/// sheet of 100,000 judgements compared with ours: both linear (they were quadratic).
fn verify_and_compare_at_scale(c: &mut Criterion) {
    use bandroom::export::moderation::{Judgement, compare};
    use std::io::Write;
    let entries = if std::env::args().any(|a| a == "--bench") {
        100_000
    } else {
        2_000
    };
    let dir = tempfile::tempdir().unwrap();
    let zip_path = dir.path().join("many.zip");
    let mut zip = zip::ZipWriter::new(std::fs::File::create(&zip_path).unwrap());
    let options =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    let hash = bandroom::library::sha256_reader(&mut &b"x"[..]).unwrap().0;
    let files: Vec<serde_json::Value> = (0..entries)
        .map(|i| serde_json::json!({"path": format!("audio/{i}.txt"), "size": 1, "sha256": hash}))
        .collect();
    zip.start_file("manifest.json", options).unwrap();
    let manifest = serde_json::json!({
        "format": "bandroom-bundle/1", "app_version": "0", "library_id": "x",
        "created_at": "2026-01-01T00:00:00Z", "parameters": {}, "files": files,
    });
    zip.write_all(manifest.to_string().as_bytes()).unwrap();
    for i in 0..entries {
        zip.start_file(format!("audio/{i}.txt"), options).unwrap();
        zip.write_all(b"x").unwrap();
    }
    zip.finish().unwrap();
    let mut group = c.benchmark_group("bundles and sheets at scale");
    group.sample_size(10);
    group.throughput(Throughput::Elements(entries as u64));
    group.bench_function(format!("verify a zip of {entries} entries"), |b| {
        b.iter(|| {
            let result = bandroom::export::zip_bundle::verify_zip(&zip_path).unwrap();
            assert!(result.is_intact());
        })
    });
    let sheet: Vec<Judgement> = (0..entries)
        .map(|i| Judgement {
            pupil: format!("P-{i:06}"),
            criterion: "pulse".into(),
            take: (i % 500).to_string(),
            level: (i % 5) as i64 + 1,
        })
        .collect();
    group.bench_function(format!("compare two sheets of {entries} judgements"), |b| {
        b.iter(|| compare(&sheet, &sheet))
    });
    group.finish();
}

criterion_group!(benches, export_class, verify_and_compare_at_scale);
criterion_main!(benches);
