\version "2.24.1"
% A tune that opens with a pickup and changes metre, engraved for bandroom's MIDI
% import tests: one beat of pickup before 4/4, two bars of 4/4, a bar of 2/4, then
% 4/4 again; a melody and a bass, exported to MIDI by LilyPond. Written for
% bandroom and licensed like the project (MIT OR Apache-2.0).
\header {
  title = "Pickup and Metre"
  tagline = ##f
}

melody = \relative c'' {
  \clef treble \key d \dorian \time 4/4
  \tempo 4 = 120
  \partial 4 a4 |
  d2 d4 e | f2 e4 d |
  \time 2/4 c4 a |
  \time 4/4 d1 \bar "|."
}

bass = \relative c {
  \clef bass \key d \dorian \time 4/4
  \partial 4 r4 |
  d2 a | d2 a |
  \time 2/4 c2 |
  \time 4/4 d1 \bar "|."
}

\score {
  <<
    \new Staff \with { instrumentName = "Voice" midiInstrument = "choir aahs" } \melody
    \new Staff \with { instrumentName = "Bass" midiInstrument = "acoustic bass" } \bass
  >>
  \layout { }
  \midi { }
}
