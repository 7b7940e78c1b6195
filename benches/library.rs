//! Library queries at school scale: ten school years (2,000 pupils, 100,000 takes,
//! 500,000 tracks, 1,000,000 judgements), against the 50 ms budget of DESIGN.md for
//! every query a screen needs.
//!
//! The generated library is kept in Cargo's target tmp folder and reused by later runs
//! (generating it takes a while on 2 cores). Under `cargo test` (no `--bench`) a library
//! a hundredth of the size is used, so the suite only checks the benchmark still runs.
//! Run with `cargo bench --bench library`.
#![allow(clippy::unwrap_used, clippy::expect_used)] // benchmark set-up; a failure should stop the run

use bandroom::library::{LATEST_VERSION, Library, TakeFilter};
use criterion::{Criterion, criterion_group, criterion_main};
use rusqlite::params;
use std::path::{Path, PathBuf};
use std::time::Instant;

struct Scale {
    pupils: usize,
    takes: usize,
    tracks_per_take: usize,
    assessments: usize,
}

const PUPILS_PER_CLASS: usize = 25;
const YEARS: usize = 10;

fn scale() -> Scale {
    let divisor = if std::env::args().any(|a| a == "--bench") {
        1
    } else {
        100
    };
    Scale {
        pupils: 2_000 / divisor,
        takes: 100_000 / divisor,
        tracks_per_take: 5,
        assessments: 1_000_000 / divisor,
    }
}

/// A small deterministic generator: the same library every run.
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((self.0 >> 33) as usize) % n.max(1)
    }
}

#[allow(clippy::too_many_lines)] // builds one whole school year of data, in order
fn generate(root: &Path, scale: &Scale) {
    let lib = Library::open(root).unwrap();
    let framework = lib.framework_id("ks3-progression").unwrap();
    drop(lib);
    let mut conn = rusqlite::Connection::open(root.join("bandroom.sqlite")).unwrap();
    let tx = conn.transaction().unwrap();
    let levels: Vec<i64> = {
        let mut s = tx
            .prepare("SELECT l.id FROM level l JOIN strand s ON s.id = l.strand_id WHERE s.framework_id = ?1")
            .unwrap();
        s.query_map([framework], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    let classes = (scale.pupils / PUPILS_PER_CLASS).max(1);
    let mut rng = Lcg(7);
    let mut class_ids = Vec::new();
    for c in 0..classes {
        let year = c * YEARS / classes;
        tx.execute(
            "INSERT OR IGNORE INTO school_year (name) VALUES (?1)",
            [format!("{}-{}", 2016 + year, 2017 + year)],
        )
        .unwrap();
        tx.execute(
            "INSERT INTO class (name, year_id, framework_id, created_at)
             VALUES (?1, (SELECT id FROM school_year WHERE name = ?2), ?3, ?4)",
            params![
                format!("G{c}"),
                format!("{}-{}", 2016 + year, 2017 + year),
                framework,
                format!("{}-09-01T08:00:00Z", 2016 + year)
            ],
        )
        .unwrap();
        class_ids.push((tx.last_insert_rowid(), 2016 + year));
    }
    let mut pupil_ids: Vec<Vec<i64>> = vec![Vec::new(); classes];
    {
        let mut insert = tx
            .prepare("INSERT INTO pupil (display_name, number, created_at) VALUES (?1, ?2, '2016-09-01T08:00:00Z')")
            .unwrap();
        let mut member = tx
            .prepare("INSERT INTO class_member VALUES (?1, ?2)")
            .unwrap();
        for p in 0..scale.pupils {
            let class = p % classes;
            insert
                .execute(params![format!("Pupil {p}"), format!("G{p}")])
                .unwrap();
            let id = tx.last_insert_rowid();
            member.execute(params![class_ids[class].0, id]).unwrap();
            pupil_ids[class].push(id);
        }
    }
    // Takes per class, spread over 40 lessons a year; remembered per class for judgements.
    let mut class_takes: Vec<Vec<(i64, String)>> = vec![Vec::new(); classes];
    {
        let mut lesson = tx
            .prepare("INSERT INTO lesson (class_id, title, started_at) VALUES (?1, 'Lesson', ?2)")
            .unwrap();
        let mut take = tx
            .prepare(
                "INSERT INTO take (lesson_id, folder, recorded_at, arrangement, tempo_bpm, host,
                     input_device, output_device, sample_rate_hz, latency_applied_frames, frames,
                     duration_secs, xruns, gaps, complete, purpose, retain_until)
                 VALUES (?1, ?2, ?3, 'clapping-music', 160, 'alsa', 'in', 'out', 48000, 300,
                     4800000, 100, 0, 0, 1, 'assessment', date(?3, '+36 months'))",
            )
            .unwrap();
        let mut track = tx
            .prepare(
                "INSERT INTO track (take_id, number, file, input_channel, frames, sha256)
                 VALUES (?1, ?2, ?3, ?2, 4800000, ?4)",
            )
            .unwrap();
        let mut performer = tx
            .prepare("INSERT OR IGNORE INTO performer (track_id, pupil_id, part, tier) VALUES (?1, ?2, 'part 1', 'core')")
            .unwrap();
        let per_class = scale.takes / classes;
        let lessons = 40;
        let hash = "0".repeat(64);
        for (c, (class_id, year)) in class_ids.iter().enumerate() {
            let mut lesson_id = 0;
            for t in 0..per_class {
                let l = t * lessons / per_class;
                const MONTHS: [usize; 10] = [9, 10, 11, 12, 1, 2, 3, 4, 5, 6];
                let term_month = l * MONTHS.len() / lessons;
                let day = format!(
                    "{}-{:02}-{:02}",
                    year + usize::from(term_month >= 4),
                    MONTHS[term_month],
                    1 + (l * 7) % 28
                );
                if t == 0 || (t * lessons / per_class) != ((t - 1) * lessons / per_class) {
                    lesson
                        .execute(params![class_id, format!("{day}T09:00:00Z")])
                        .unwrap();
                    lesson_id = tx.last_insert_rowid();
                }
                let at = format!("{day}T09:{:02}:{:02}Z", t % 60, (t / 60) % 60);
                take.execute(params![lesson_id, format!("takes/gen/{c}-{t}"), at])
                    .unwrap();
                let take_id = tx.last_insert_rowid();
                for n in 1..=scale.tracks_per_take {
                    track
                        .execute(params![take_id, n as i64, format!("input-{n}.wav"), hash])
                        .unwrap();
                    let track_id = tx.last_insert_rowid();
                    let players = if n == 1 { 2 } else { 1 };
                    for _ in 0..players {
                        let pupil = pupil_ids[c][rng.below(pupil_ids[c].len())];
                        performer.execute(params![track_id, pupil]).unwrap();
                    }
                }
                class_takes[c].push((take_id, at));
            }
        }
    }
    {
        let mut assess = tx
            .prepare(
                "INSERT INTO assessment (pupil_id, level_id, take_id, class_id, part, tier, groups,
                     comment, assessor, assessed_at)
                 VALUES (?1, ?2, ?3, ?4, 'part 1', 'core', '', '', 'teacher', ?5)",
            )
            .unwrap();
        for _ in 0..scale.assessments {
            let c = rng.below(classes);
            let pupil = pupil_ids[c][rng.below(pupil_ids[c].len())];
            let (take, at) = &class_takes[c][rng.below(class_takes[c].len())];
            let level = levels[rng.below(levels.len())];
            assess
                .execute(params![pupil, level, take, class_ids[c].0, at])
                .unwrap();
        }
    }
    tx.commit().unwrap();
    conn.execute_batch("ANALYZE; PRAGMA wal_checkpoint(TRUNCATE);")
        .unwrap();
}

/// The generated library, made once and reused.
fn school_library() -> PathBuf {
    let scale = scale();
    let root = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!(
        "library-bench-v{LATEST_VERSION}-{}-{}",
        scale.pupils, scale.assessments
    ));
    // A library kept from an older build of the same schema version may not open.
    let usable = root.join("complete").exists() && Library::open(&root).is_ok();
    if !usable {
        let _ = std::fs::remove_dir_all(&root);
        let started = Instant::now();
        generate(&root, &scale);
        std::fs::write(root.join("complete"), "").unwrap();
        eprintln!(
            "generated {} pupils, {} takes, {} tracks, {} judgements in {:.1} s",
            scale.pupils,
            scale.takes,
            scale.takes * scale.tracks_per_take,
            scale.assessments,
            started.elapsed().as_secs_f64()
        );
    }
    root
}

fn screen_queries(c: &mut Criterion) {
    let root = school_library();
    let lib = Library::open(&root).unwrap();
    let classes = lib.classes().unwrap();
    let class = &classes[classes.len() / 2];
    let pupil = lib.pupils(Some(class.id)).unwrap()[3].id;
    let lesson = lib
        .takes(&TakeFilter {
            pupil: Some(pupil),
            ..TakeFilter::default()
        })
        .unwrap()[0]
        .lesson_id;
    let year_start = format!("{}-09-01", 2016 + classes.len() / 2 * YEARS / classes.len());
    let mut group = c.benchmark_group("library");
    group.sample_size(20);
    group.bench_function("class list (start screen)", |b| {
        b.iter(|| lib.classes().unwrap())
    });
    group.bench_function("class grid (pupils x criteria, latest level)", |b| {
        b.iter(|| lib.class_grid(class.id).unwrap())
    });
    group.bench_function("pupil history (progress, every judgement)", |b| {
        b.iter(|| lib.progress(pupil).unwrap())
    });
    group.bench_function("takes of a lesson (with tracks and performers)", |b| {
        b.iter(|| {
            lib.takes(&TakeFilter {
                lesson: Some(lesson),
                ..TakeFilter::default()
            })
            .unwrap()
        })
    });
    group.bench_function("a pupil's takes (pupil review)", |b| {
        b.iter(|| {
            lib.takes(&TakeFilter {
                pupil: Some(pupil),
                ..TakeFilter::default()
            })
            .unwrap()
        })
    });
    group.bench_function("export selection (class, two years)", |b| {
        b.iter(|| {
            lib.evidence_selection(class.id, &year_start, "2030-08-31")
                .unwrap()
        })
    });
    // Every command opens the library with a quick check of every page, so a damaged
    // database is named before anything reads it as empty.
    group.sample_size(10);
    group.bench_function("open with its quick check (every command)", |b| {
        b.iter(|| Library::open(&root).unwrap())
    });
    group.bench_function(
        "reopen without the check (the app's background jobs)",
        |b| b.iter(|| Library::reopen(&root).unwrap()),
    );
    group.finish();
}

criterion_group!(benches, screen_queries);
criterion_main!(benches);
