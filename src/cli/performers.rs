//! `record --plays INPUT:PUPILS[:PART]`: who plays on each input of a take recorded
//! into the library, checked before recording starts, attributed as soon as the take
//! is registered, and analysed against the part there and then.
//!
//! Must not contain SQL or timing analysis; it calls the library and `take_analysis`.

use anyhow::{Context, Result, bail};
use bandroom::library::Library;
use bandroom::music::Arrangement;

/// Who plays on one recorded track: the track's number in the take, pupil ids, part.
#[derive(Clone, Debug, PartialEq)]
pub struct Players {
    pub track: i64,
    pub pupils: Vec<i64>,
    pub part: Option<String>,
}

/// Reads every `--plays` value against the inputs being recorded, the library's pupils
/// and the arrangement's parts, so a typo stops the take before it starts.
pub fn resolve(
    plays: &[String],
    inputs: &[usize],
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
        let input: usize = input
            .trim()
            .parse()
            .with_context(|| format!("--plays {text:?}: {input:?} is not an input number"))?;
        let Some(position) = inputs.iter().position(|i| *i == input) else {
            bail!("--plays {text:?}: input {input} is not one of --inputs");
        };
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
        let track = position as i64 + 1;
        if resolved.iter().any(|p| p.track == track) {
            bail!("--plays gives input {input} twice: list its pupils once, comma-separated");
        }
        resolved.push(Players {
            track,
            pupils,
            part,
        });
    }
    Ok(resolved)
}

/// Attributes the registered take's tracks and analyses those given a part.
pub fn attribute_and_analyse(lib: &mut Library, take: i64, players: &[Players]) -> Result<()> {
    for p in players {
        lib.attribute(take, p.track, &p.pupils, p.part.as_deref(), None, None)?;
    }
    let summary = lib.take(take)?;
    for p in players {
        if let Some(part) = &p.part {
            match bandroom::jobs::analyse_and_store(lib, &summary, p.track, part) {
                Ok(line) => say!("take {take} track {} ({part}): {line}", p.track),
                Err(e) => note!(
                    "note: take {take} track {} was not analysed: {e:#}",
                    p.track
                ),
            }
        }
    }
    Ok(())
}
