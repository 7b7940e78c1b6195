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
        let Some((input, rest)) = split_seat(text, inputs) else {
            bail!(
                "--plays {text:?}: write INPUT:PUPIL[,PUPIL][:PART], e.g. 2:Amira Okafor:clapper 2"
            );
        };
        let mut fields = rest.splitn(2, ':');
        let Some(pupils) = fields.next() else {
            bail!("--plays {text:?}: name who plays after the input, e.g. 2:Amira Okafor");
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

/// Splits `--plays` text into its seat and the rest (pupils, part). A further device's
/// name may itself hold ':' (ALSA ids, "USB Audio: Blue Yeti"), so a seat that starts with
/// a device named in `--inputs` is read up to the first ':' after its `@N`; the longest
/// such name wins, so "Mic" never cuts "Mic: Zoom" short.
fn split_seat<'a>(text: &'a str, inputs: &InputList) -> Option<(&'a str, &'a str)> {
    let mut devices: Vec<&str> = inputs.extra.iter().map(|d| d.device.as_str()).collect();
    devices.sort_by_key(|d| std::cmp::Reverse(d.len()));
    for device in devices {
        let Some(after) = text
            .strip_prefix(device)
            .and_then(|rest| rest.strip_prefix('@'))
        else {
            continue;
        };
        if let Some((number, rest)) = after.split_once(':') {
            let seat_len = device.len() + 1 + number.len();
            return text.get(..seat_len).map(|seat| (seat, rest));
        }
    }
    text.split_once(':')
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

#[cfg(test)]
mod tests {
    use super::*;
    use bandroom::session::DeviceInputs;

    fn inputs_with(devices: &[&str]) -> InputList {
        InputList {
            main: vec![1, 2],
            extra: devices
                .iter()
                .map(|d| DeviceInputs {
                    device: (*d).to_string(),
                    channels: vec![1],
                })
                .collect(),
        }
    }

    #[test]
    fn a_device_name_with_colons_stays_one_seat() {
        let inputs = inputs_with(&["alsa:hw:CARD=Mic,DEV=0", "USB Audio: Blue Yeti"]);
        assert_eq!(
            split_seat("USB Audio: Blue Yeti@1:Amira Okafor:clapper 2", &inputs),
            Some(("USB Audio: Blue Yeti@1", "Amira Okafor:clapper 2"))
        );
        assert_eq!(
            split_seat("alsa:hw:CARD=Mic,DEV=0@1:Jan Nowak", &inputs),
            Some(("alsa:hw:CARD=Mic,DEV=0@1", "Jan Nowak"))
        );
        let seat = seat_of("", "USB Audio: Blue Yeti@1", &inputs).unwrap_or(Seat::Input(0));
        assert_eq!(
            seat,
            Seat::DeviceInput {
                device: "USB Audio: Blue Yeti".into(),
                input: 1
            }
        );
    }

    #[test]
    fn the_longest_device_name_wins_and_plain_inputs_split_at_the_first_colon() {
        let inputs = inputs_with(&["Mic", "Mic: Zoom"]);
        assert_eq!(
            split_seat("Mic: Zoom@1:Ben Ali", &inputs),
            Some(("Mic: Zoom@1", "Ben Ali"))
        );
        assert_eq!(
            split_seat("Mic@1:Ben Ali", &inputs),
            Some(("Mic@1", "Ben Ali"))
        );
        assert_eq!(
            split_seat("2:Ben Ali:clapper 1", &inputs),
            Some(("2", "Ben Ali:clapper 1"))
        );
        assert_eq!(split_seat("2", &inputs), None);
    }
}
