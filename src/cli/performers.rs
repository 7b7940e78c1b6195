//! `record --plays INPUT:PUPILS[:PART]`: who plays on each input of a take recorded
//! into the library, checked before recording starts, attributed as soon as the take
//! is registered, and analysed against the part there and then.
//!
//! Must not contain SQL or timing analysis; it calls the library and `take_analysis`.

use anyhow::{Context, Result, bail};
use bandroom::audio::device::DeviceInfo;
use bandroom::library::Library;
use bandroom::music::Arrangement;
use bandroom::session::{FiledTake, InputList, Players, Seat};

/// Reads every `--plays` value against the inputs being recorded, the library's pupils
/// and the arrangement's parts, so a typo stops the take before it starts.
pub fn resolve(
    plays: &[String],
    inputs: &InputList,
    lib: &Library,
    class: Option<i64>,
    arrangement: Option<&Arrangement>,
) -> Result<Vec<Players>> {
    let mut resolved: Vec<Players> = Vec::new();
    for text in plays {
        let mut fields = text.splitn(3, ':');
        let (Some(input), Some(pupils)) = (fields.next(), fields.next()) else {
            bail!(
                "--plays {text:?}: write INPUT:PUPIL[,PUPIL][:PART], e.g. 2:Amira Okafor:clapper 2"
            );
        };
        let seat = seat_of(text, input, inputs)?;
        let pupils = pupils
            .split(',')
            .map(|p| lib.find_pupil(p.trim(), class))
            .collect::<Result<Vec<_>, _>>()
            .with_context(|| format!("--plays {text:?}"))?;
        let part = fields.next().map(|p| p.trim().to_string());
        if let Some(part) = &part {
            match arrangement {
                Some(a) if a.part_index(part).is_none() => {
                    let names: Vec<&str> = a.parts.iter().map(|p| p.name.as_str()).collect();
                    bail!(
                        "--plays {text:?}: '{}' has no part '{part}'; parts are: {}",
                        a.title,
                        names.join(", ")
                    );
                }
                None => bail!("--plays {text:?}: a part needs --play ARR"),
                Some(_) => {}
            }
        }
        if resolved.iter().any(|p| p.seat == seat) {
            bail!(
                "--plays gives input {} twice: list its pupils once, comma-separated",
                input.trim()
            );
        }
        resolved.push(Players { seat, pupils, part });
    }
    Ok(resolved)
}

/// The seat `--plays` names: input N of the main device, or `DEVICE@N` written as in
/// `--inputs` (the device's name as recorded is filled in once it is open).
fn seat_of(text: &str, input: &str, inputs: &InputList) -> Result<Seat> {
    let (device, number) = match input.rsplit_once('@') {
        Some((device, number)) => (Some(device.trim()), number),
        None => (None, input),
    };
    let number: usize = number
        .trim()
        .parse()
        .with_context(|| format!("--plays {text:?}: {input:?} is not an input number"))?;
    match device {
        None if inputs.main.contains(&number) => Ok(Seat::Input(number)),
        None => bail!("--plays {text:?}: input {number} is not one of --inputs"),
        Some(device) => {
            let listed = inputs
                .extra
                .iter()
                .any(|d| d.device == device && d.channels.contains(&number));
            if !listed {
                bail!(
                    "--plays {text:?}: {device}@{number} is not one of --inputs (write the device as --inputs does)"
                );
            }
            Ok(Seat::DeviceInput {
                device: device.to_string(),
                input: number,
            })
        }
    }
}

/// Puts the opened devices' names into `DEVICE@N` seats, which `--plays` wrote as
/// `--inputs` did (the `i`th further device of `inputs` was opened as the `i`th of `info`).
pub fn name_device_seats(players: &mut [Players], inputs: &InputList, info: &DeviceInfo) {
    for player in players {
        if let Seat::DeviceInput { device, .. } = &mut player.seat
            && let Some(opened) = inputs
                .extra
                .iter()
                .position(|d| d.device == *device)
                .and_then(|i| info.extra_inputs.get(i))
        {
            device.clone_from(&opened.name);
        }
    }
}

/// Analyses the filed take's tracks that were given a part, there and then.
pub fn analyse(lib: &mut Library, filed: &FiledTake) -> Result<()> {
    if filed.to_analyse.is_empty() {
        return Ok(());
    }
    let take = filed.id;
    let summary = lib.take(take)?;
    for (track, part) in &filed.to_analyse {
        match bandroom::jobs::analyse_and_store(lib, &summary, *track, part) {
            Ok(line) => say!("take {take} track {track} ({part}): {line}"),
            Err(e) => note!("note: take {take} track {track} was not analysed: {e:#}"),
        }
    }
    Ok(())
}
