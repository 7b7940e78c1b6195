//! Where a MIDI file's bar lines fall: its time signatures as stretches of whole bars,
//! with the pickup (anacrusis) a piece may open with.
//!
//! Notation software writes a pickup in one of two ways: as a short first bar in a meter
//! of its own (a bar of 1/4, then 4/4), or not at all, starting the piece's meter on the
//! pickup so that every later time signature falls part-way through a bar (LilyPond's
//! `\partial`). Both are read as a pickup. A time signature anywhere else part-way
//! through a bar is refused with the bar and beat. Must not know about notes, parts or
//! frames: `midi_file` builds the sections on these bar lines.

use super::time::Meter;

/// A stretch of the piece in one meter, starting on a bar line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MeterStretch {
    pub start: u64,
    pub meter: Meter,
    /// The opening incomplete bar: one bar of `meter`, counted as bar 0.
    pub pickup: bool,
}

/// The piece's bar lines, as stretches of whole bars.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BarLayout {
    pub stretches: Vec<MeterStretch>,
}

impl BarLayout {
    /// Lays bars out from the file's time signatures (tick, meter), in file order. A
    /// file with none is in 4/4, as MIDI says. The error says what and where, for the
    /// teacher.
    pub fn from_meters(meters: &[(u64, Meter)]) -> Result<BarLayout, String> {
        let four_four = Meter {
            beats_per_bar: 4,
            beat_unit: 4,
        };
        let mut changes: Vec<(u64, Meter)> = meters.to_vec();
        // A later signature at the same tick replaces an earlier one (a track that
        // restates it); the order of ticks is the file's.
        changes.sort_by_key(|(at, _)| *at);
        let mut merged: Vec<(u64, Meter)> = Vec::with_capacity(changes.len() + 1);
        for (at, meter) in changes {
            match merged.last_mut() {
                Some(last) if last.0 == at => last.1 = meter,
                _ => merged.push((at, meter)),
            }
        }
        if merged.first().is_none_or(|(at, _)| *at > 0) {
            merged.insert(0, (0, four_four));
        }
        merged.dedup_by(|later, earlier| later.1 == earlier.1);

        let mut layout = BarLayout {
            stretches: Vec::with_capacity(merged.len() + 1),
        };
        for (at, meter) in merged {
            let Some(last) = layout.stretches.last().copied() else {
                layout.stretches.push(MeterStretch {
                    start: 0,
                    meter,
                    pickup: false,
                });
                continue;
            };
            let bar = last.meter.bar_ticks();
            let off_line = (at - last.start) % bar;
            if off_line != 0 {
                let opening = layout.stretches.len() == 1;
                match (opening, pickup_meter(off_line, last.meter)) {
                    // The piece's meter started on a pickup: the bar lines are `off_line`
                    // later than the file's meter says.
                    (true, Some(short)) => {
                        layout.stretches = vec![
                            MeterStretch {
                                start: 0,
                                meter: short,
                                pickup: true,
                            },
                            MeterStretch {
                                start: off_line,
                                meter: last.meter,
                                pickup: false,
                            },
                        ];
                    }
                    _ => {
                        let (bar_number, beat) = layout.bar_and_beat(at);
                        return Err(format!(
                            "changes time signature from {} to {meter} part-way through bar \
                             {bar_number} (beat {beat}); a time signature can only change at \
                             a bar line: correct the bar in your notation software and export \
                             it again",
                            last.meter
                        ));
                    }
                }
            }
            layout.stretches.push(MeterStretch {
                start: at,
                meter,
                pickup: false,
            });
        }
        // A short first bar in a meter of its own, then a longer bar: a pickup.
        if let [first, second, ..] = layout.stretches.as_mut_slice()
            && !first.pickup
            && second.start == first.meter.bar_ticks()
            && first.meter.bar_ticks() < second.meter.bar_ticks()
        {
            first.pickup = true;
        }
        Ok(layout)
    }

    /// The stretch in force at `tick`.
    fn stretch_at(&self, tick: u64) -> Option<&MeterStretch> {
        self.stretches.iter().rev().find(|s| s.start <= tick)
    }

    /// The meter the piece is in: the first after any pickup.
    pub fn main_meter(&self) -> Option<Meter> {
        self.stretches.iter().find(|s| !s.pickup).map(|s| s.meter)
    }

    pub fn has_pickup(&self) -> bool {
        self.stretches.first().is_some_and(|s| s.pickup)
    }

    /// Whether `tick` is on a bar line.
    pub fn is_bar_line(&self, tick: u64) -> bool {
        self.stretch_at(tick)
            .is_some_and(|s| (tick - s.start).is_multiple_of(s.meter.bar_ticks()))
    }

    /// The first bar line at or after `tick`.
    pub fn bar_line_from(&self, tick: u64) -> u64 {
        match self.stretch_at(tick) {
            Some(s) => {
                let bar = s.meter.bar_ticks();
                let end = s.start + (tick - s.start).div_ceil(bar) * bar;
                // A pickup is one bar: the next stretch starts where it ends.
                match self.stretches.iter().find(|n| n.start > s.start) {
                    Some(next) if end > next.start => self.bar_line_from(next.start),
                    _ => end,
                }
            }
            None => tick,
        }
    }

    /// The bar (from 1, or 0 for a pickup) and beat (from 1) of `tick`, as a teacher
    /// counts them.
    pub fn bar_and_beat(&self, tick: u64) -> (u64, u64) {
        let mut bar = u64::from(!self.has_pickup());
        for (index, s) in self.stretches.iter().enumerate() {
            let end = self.stretches.get(index + 1).map_or(u64::MAX, |n| n.start);
            let bar_ticks = s.meter.bar_ticks();
            if tick < end {
                let into = tick - s.start;
                return (
                    bar + into / bar_ticks,
                    (into % bar_ticks) / s.meter.beat_ticks() + 1,
                );
            }
            bar += (end - s.start).div_ceil(bar_ticks);
        }
        (bar, 1)
    }
}

/// A meter for a pickup of `ticks` in a piece in `meter`: whole beats of the piece's
/// beat unit when they fit, else of the shortest unit that fits (an eighth-note pickup
/// in 4/4 is a bar of 1/8).
fn pickup_meter(ticks: u64, meter: Meter) -> Option<Meter> {
    [meter.beat_unit, 8, 16, 32]
        .into_iter()
        .filter(|unit| *unit >= meter.beat_unit)
        .find_map(|unit| {
            let probe = Meter::new(1, unit).ok()?;
            let unit_ticks = probe.unit_ticks();
            let beats = u32::try_from(ticks / unit_ticks).ok()?;
            (ticks.is_multiple_of(unit_ticks) && beats > 0)
                .then(|| Meter::new(beats, unit).ok())
                .flatten()
        })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::music::TICKS_PER_QUARTER as Q;

    fn m(top: u32, bottom: u32) -> Meter {
        Meter::new(top, bottom).unwrap()
    }

    #[test]
    fn a_short_first_bar_before_a_longer_meter_is_a_pickup() {
        let layout = BarLayout::from_meters(&[(0, m(1, 4)), (Q, m(4, 4))]).unwrap();
        assert!(layout.has_pickup());
        assert_eq!(layout.main_meter(), Some(m(4, 4)));
        assert_eq!(layout.bar_and_beat(0), (0, 1));
        assert_eq!(layout.bar_and_beat(Q), (1, 1));
        assert_eq!(layout.bar_and_beat(Q + 4 * Q + 2 * Q), (2, 3));
        assert!(layout.is_bar_line(5 * Q) && !layout.is_bar_line(2 * Q));
    }

    #[test]
    fn a_meter_started_on_the_pickup_is_moved_to_its_bar_lines() {
        // LilyPond's \partial 4 in 4/4, then 3/4 after two full bars.
        let layout = BarLayout::from_meters(&[(0, m(4, 4)), (9 * Q, m(3, 4))]).unwrap();
        let starts: Vec<(u64, String, bool)> = layout
            .stretches
            .iter()
            .map(|s| (s.start, s.meter.to_string(), s.pickup))
            .collect();
        assert_eq!(
            starts,
            [
                (0, "1/4".to_string(), true),
                (Q, "4/4".to_string(), false),
                (9 * Q, "3/4".to_string(), false)
            ]
        );
        assert_eq!(layout.bar_and_beat(9 * Q), (3, 1));
        assert_eq!(layout.bar_line_from(9 * Q + 1), 12 * Q);
        // An eighth-note pickup is a bar of 1/8.
        let eighth = BarLayout::from_meters(&[(0, m(4, 4)), (Q / 2 + 4 * Q, m(2, 4))]).unwrap();
        assert_eq!(eighth.stretches[0].meter, m(1, 8));
    }

    #[test]
    fn a_change_part_way_through_a_later_bar_is_refused_with_bar_and_beat() {
        let said = BarLayout::from_meters(&[(0, m(3, 4)), (6 * Q, m(4, 4)), (9 * Q, m(3, 4))])
            .unwrap_err();
        assert!(
            said.contains("from 4/4 to 3/4 part-way through bar 3 (beat 4)"),
            "{said}"
        );
        // A real change on a bar line is kept, and numbers bars on through it.
        let waltz = BarLayout::from_meters(&[(0, m(3, 4)), (6 * Q, m(4, 4))]).unwrap();
        assert!(!waltz.has_pickup());
        assert_eq!(waltz.bar_and_beat(6 * Q + Q), (3, 2));
        assert_eq!(waltz.main_meter(), Some(m(3, 4)));
    }

    #[test]
    fn no_time_signature_is_four_four_and_repeats_are_one_stretch() {
        assert_eq!(
            BarLayout::from_meters(&[]).unwrap().stretches,
            [MeterStretch {
                start: 0,
                meter: m(4, 4),
                pickup: false
            }]
        );
        let restated = BarLayout::from_meters(&[(0, m(6, 8)), (12 * Q, m(6, 8))]).unwrap();
        assert_eq!(restated.stretches.len(), 1);
    }
}
