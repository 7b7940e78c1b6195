//! `bandroom recover DIR`: makes a cut-off take playable again.
//!
//! Owns the repair of a take folder after a crash or power loss: every track WAV's
//! header is rebuilt from what reached the disk, peak files are rebuilt, and
//! `take.json` is marked recovered with the true lengths. Must not change samples.

use anyhow::{Result, bail};
use bandroom::record::peaks::rebuild_peaks;
use bandroom::record::take_file::TakeRecord;
use bandroom::record::wav_repair::repair_wav;
use std::path::PathBuf;

#[derive(clap::Args, Debug)]
pub struct RecoverArgs {
    /// The take folder (the one holding take.json and the track WAVs)
    pub dir: PathBuf,
}

pub fn recover(args: &RecoverArgs) -> Result<()> {
    recover_folder(&args.dir).map(|_| ())
}

/// Repairs the take in `dir` and returns its take.json as updated, when it has one.
pub fn recover_folder(dir: &std::path::Path) -> Result<Option<TakeRecord>> {
    let entries = std::fs::read_dir(dir).map_err(|e| {
        anyhow::anyhow!(
            "cannot open the take folder {}: {e} (check the path)",
            dir.display()
        )
    })?;
    let mut wavs: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x.eq_ignore_ascii_case("wav")))
        .collect();
    wavs.sort();
    if wavs.is_empty() {
        bail!("{} holds no WAV files to recover", dir.display());
    }
    let mut take = TakeRecord::read(dir).ok();
    let mut shortest = u64::MAX;
    for wav in &wavs {
        let repaired = repair_wav(wav)?;
        let peaks = wav.with_extension("peaks");
        rebuild_peaks(wav, &peaks).map_err(|e| anyhow::anyhow!("rebuilding peaks: {e}"))?;
        shortest = shortest.min(repaired.frames);
        say!(
            "{}: {} frames{}",
            wav.display(),
            repaired.frames,
            if repaired.changed {
                " (header repaired)"
            } else {
                " (already complete)"
            }
        );
        if let Some(take) = take.as_mut() {
            let name = wav.file_name().map(|n| n.to_string_lossy().into_owned());
            if let Some(track) = take
                .tracks
                .iter_mut()
                .find(|t| Some(&t.file) == name.as_ref())
            {
                track.frames = repaired.frames;
            }
        }
    }
    if let Some(take) = take.as_mut() {
        if !take.complete {
            take.recovered = true;
            take.frames = shortest;
            take.duration_secs = shortest as f64 / f64::from(take.sample_rate_hz.max(1));
            take.error.get_or_insert_with(|| {
                "the recording was cut off; recovered with `bandroom recover`".into()
            });
        }
        take.write(dir)?;
        say!(
            "{}: updated",
            dir.join(bandroom::record::take_file::TAKE_FILE).display()
        );
    }
    Ok(take)
}
