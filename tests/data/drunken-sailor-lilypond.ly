\version "2.24.1"
% What Shall We Do with the Drunken Sailor (traditional, public domain),
% engraved for bandroom's tests: melody (voice) and bass, with a tempo change
% and a rehearsal mark, exported to MIDI by LilyPond.
\header {
  title = "Drunken Sailor"
  composer = "Traditional"
  tagline = ##f
}

melody = \relative c'' {
  \clef treble \key d \dorian \time 4/4
  \tempo 4 = 120
  a4 a8 a a4 a8 a | a4 d, f a | g4 g8 g g4 g8 g | g4 c, e g |
  a4 a8 a a4 a8 a | a4 b c d | c4 a g e | d2 d2 |
  \mark \default
  \tempo 4 = 100
  a'2 a2 | a4 d, f a | g2 g2 | g4 c, e g |
  a2 a2 | a4 b c d | c4 a g e | d2 d2 \bar "|."
}

bass = \relative c {
  \clef bass \key d \dorian \time 4/4
  d2 a | d2 a | c2 g | c2 g | d2 a | d2 a | c2 g | d1 |
  d2 a | d2 a | c2 g | c2 g | d2 a | d2 a | c2 g | d1 \bar "|."
}

\score {
  <<
    \new Staff \with { instrumentName = "Voice" midiInstrument = "choir aahs" } \melody
    \new Staff \with { instrumentName = "Bass" midiInstrument = "acoustic bass" } \bass
  >>
  \layout { }
  \midi { }
}
