//! A class's sign-in cards as one printable page: a card per pupil with their name and
//! their two code words in large type, cut-out size, so a teacher hands each pupil
//! theirs at the start of the lesson.
//!
//! Owns the page (self-contained HTML with a print stylesheet, no scripts, no network).
//! Must not make or read codes (the library does) or write anywhere but where asked.

use maud::{DOCTYPE, PreEscaped, html};
use std::path::Path;

/// The card sheet for `class`: (name, code) of each pupil, in the order given. Every
/// value goes through the template's escaping (maud), so a name cannot become markup.
pub fn render_cards(class: &str, cards: &[(String, String)]) -> String {
    let page = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta http-equiv="Content-Security-Policy"
                    content="default-src 'none'; style-src 'unsafe-inline'";
                title { (class) ": sign-in cards" }
                style { (PreEscaped(STYLE)) }
            }
            body {
                h1 { (class) ": sign-in cards" }
                p class="how" {
                    "Cut out the cards. In bandroom's pupil mode a pupil chooses their name, \
                     then types the two words on their card. Keep the cards with the class's \
                     books; a lost card is replaced with "
                    code { "bandroom pupils new-code NAME" }
                    ", which stops the old words working."
                }
                div class="cards" {
                    @for (name, code) in cards {
                        div class="card" {
                            div class="class" { (class) }
                            div class="name" { (name) }
                            div class="code" { (code) }
                            div class="hint" { "Choose your name, then type these two words." }
                        }
                    }
                }
            }
        }
    };
    let mut out = page.into_string();
    out.push('\n');
    out
}

/// Writes the card sheet to `path` as a private file (it holds every pupil's code). An
/// existing file is never replaced unless `replace_own` says it is one bandroom wrote.
pub fn write_cards(
    path: &Path,
    class: &str,
    cards: &[(String, String)],
    replace_own: bool,
) -> std::io::Result<()> {
    use std::io::Write;
    let page = render_cards(class, cards);
    if replace_own {
        // The app's own sheet in the library: written whole under a temporary name and
        // renamed over the old one (a link there is replaced, never followed).
        let (pending, mut file) = crate::atomic_file::PendingFile::create(path)
            .map_err(|e| std::io::Error::other(e.to_string()))?;
        file.write_all(page.as_bytes())?;
        pending
            .commit()
            .map_err(|e| std::io::Error::other(e.to_string()))?;
        return Ok(());
    }
    // A path a person gave: created new, or refused (a dangling link is not followed).
    let mut file = crate::own_files::create_private_new(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            std::io::Error::new(
                std::io::ErrorKind::AlreadyExists,
                format!(
                    "{} already exists (or is a link): choose another name, or move it away \
                     first",
                    path.display()
                ),
            )
        } else {
            e
        }
    })?;
    file.write_all(page.as_bytes())?;
    file.sync_all()
}

const STYLE: &str = "
body { font-family: 'DejaVu Sans', Arial, sans-serif; margin: 1.5em; color: #111; }
h1 { font-size: 1.4em; margin: 0 0 .3em; }
.how { max-width: 46em; font-size: .9em; }
.cards { display: grid; grid-template-columns: repeat(3, 1fr); gap: 0; }
.card { border: 1px dashed #888; padding: .8em 1em; min-height: 6.5em; break-inside: avoid; }
.class { font-size: .8em; color: #555; }
.name { font-size: 1.1em; font-weight: bold; margin: .2em 0; overflow-wrap: anywhere; }
.code { font-size: 1.8em; letter-spacing: .04em; margin: .2em 0; }
.hint { font-size: .75em; color: #555; }
@media print {
  @page { size: A4; margin: 12mm; }
  body { margin: 0; }
  .how { display: none; }
  .cards { grid-template-columns: repeat(3, 1fr); }
}
";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_codes_are_escaped() {
        let html = render_cards(
            "8B <b>",
            &[("Zoë O'Brien<script>".into(), "otter drum".into())],
        );
        // Text content: `<`, `>` and `&` escaped (an apostrophe is harmless there).
        assert!(html.contains("Zoë O'Brien&lt;script&gt;"), "{html}");
        assert!(!html.contains("<script>"));
        assert!(html.contains("8B &lt;b&gt;"));
        assert!(html.contains("otter drum"));
    }
}
