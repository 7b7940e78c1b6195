\version "2.24.1"
% A short piano piece written for bandroom's MIDI import tests: in each bar the left
% hand holds a note (or a chord released unevenly) while the right hand moves above it,
% all on one staff's track and channel, as most piano music is exported.
\header {
  title = "Held Notes for Zoë"
  composer = "written for bandroom's tests"
  tagline = ##f
}

upper = \relative c'' {
  \clef treble \key g \major \time 4/4 \tempo 4 = 96
  g4 a b d | c4 b a2 | b4 d g, a | g1 \bar "|."
}

lower = \relative c {
  \clef bass \key g \major \time 4/4
  << { g1 | a1 | <b d>2 <c e>2 | <g d'>1 } \\ { d'2 e4 fis | e2 d | s1 | b1 } >>
}

\score {
  \new PianoStaff <<
    \new Staff \with { midiInstrument = "acoustic grand" } \upper
    \new Staff \with { midiInstrument = "acoustic grand" } \lower
  >>
  \layout { }
  \midi { }
}
