//! Text that leaves bandroom as data and must never act as anything else: names refused
//! when they carry control or direction-override characters, text escaped before it
//! reaches a terminal, spreadsheet cells that cannot become formulas, and arguments
//! quoted for the shell.
//!
//! A leaf helper: every layer may use it. Must not decide what a text means.

use std::borrow::Cow;

/// True for characters that change how text around them is shown or read: C0 and C1
/// controls (NUL, escape sequences, carriage returns), and the Unicode direction
/// overrides and isolates that make a name read differently from how it is stored.
pub fn is_hidden_control(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{200E}' | '\u{200F}' | '\u{061C}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'
        )
}

/// The first hidden control character in `text`, if any (for "refuse on input").
pub fn first_hidden_control(text: &str) -> Option<char> {
    text.chars().find(|c| is_hidden_control(*c))
}

/// `text` with every hidden control character written as `\u{XXXX}`, so printing it
/// can neither move the cursor, recolour the terminal nor reverse the line.
pub fn escape_for_terminal(text: &str) -> Cow<'_, str> {
    if first_hidden_control(text).is_none() {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if is_hidden_control(c) {
            out.push_str(&format!("\\u{{{:04X}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Free text (a marker, a comment, a reflection) as it may be shown in a page or a
/// sheet: line breaks and tabs kept, every other control character (ESC and the rest)
/// and every direction override or isolate removed, so a text can neither drive a
/// terminal nor reverse the words around it.
pub fn shown_free_text(text: &str) -> Cow<'_, str> {
    if !text
        .chars()
        .any(|c| is_hidden_control(c) && c != '\n' && c != '\t')
    {
        return Cow::Borrowed(text);
    }
    Cow::Owned(
        text.chars()
            .filter(|c| !is_hidden_control(*c) || *c == '\n' || *c == '\t')
            .collect(),
    )
}

/// As [`escape_for_terminal`] for output of several lines: line breaks and tabs stay,
/// every other hidden control is escaped.
pub fn escape_lines(text: &str) -> Cow<'_, str> {
    if !text
        .chars()
        .any(|c| is_hidden_control(c) && c != '\n' && c != '\t')
    {
        return Cow::Borrowed(text);
    }
    Cow::Owned(
        text.split('\n')
            .map(|line| {
                line.split('\t')
                    .map(|part| escape_for_terminal(part).into_owned())
                    .collect::<Vec<_>>()
                    .join("\t")
            })
            .collect::<Vec<_>>()
            .join("\n"),
    )
}

/// A cell for a CSV that a spreadsheet will open: a cell that starts with `=`, `+`,
/// `-`, `@`, tab or carriage return is prefixed with `'` (OWASP's rule for CSV
/// injection), so it stays text. Numbers such as `-3` are left alone.
pub fn csv_cell(text: &str) -> Cow<'_, str> {
    if needs_neutralising(text) {
        Cow::Owned(format!("'{text}"))
    } else {
        Cow::Borrowed(text)
    }
}

/// Undoes [`csv_cell`] for a sheet bandroom wrote and a person filled in.
pub fn csv_cell_read(text: &str) -> &str {
    match text.strip_prefix('\'') {
        Some(rest) if needs_neutralising(rest) => rest,
        _ => text,
    }
}

fn needs_neutralising(text: &str) -> bool {
    match text.chars().next() {
        Some('=' | '+' | '@' | '\t' | '\r') => true,
        Some('-') => text.parse::<f64>().is_err(),
        _ => false,
    }
}

/// `text` quoted so a POSIX shell reads it back as one word and runs nothing in it.
pub fn shell_quote(text: &str) -> String {
    // shlex refuses only NUL, which names never hold (refused on input); quote it away.
    shlex::try_quote(text)
        .map(|q| q.into_owned())
        .unwrap_or_else(|_| format!("'{}'", text.replace('\0', "").replace('\'', r"'\''")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_and_overrides_are_found_and_escaped() {
        assert_eq!(first_hidden_control("Amara Okafor"), None);
        assert_eq!(first_hidden_control("Zoë O'Brien-Smyth"), None);
        assert_eq!(first_hidden_control("a\u{202E}b"), Some('\u{202E}'));
        assert_eq!(first_hidden_control("a\u{1b}[31mb"), Some('\u{1b}'));
        assert_eq!(escape_for_terminal("x\u{1b}y"), "x\\u{001B}y");
    }

    #[test]
    fn formula_cells_are_neutralised_and_read_back() {
        for (cell, written) in [
            ("=HYPERLINK(\"x\")", "'=HYPERLINK(\"x\")"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("+cmd", "'+cmd"),
            ("-cmd", "'-cmd"),
            ("\tx", "'\tx"),
            ("-3", "-3"),
            ("Amara", "Amara"),
        ] {
            assert_eq!(csv_cell(cell), written);
            assert_eq!(csv_cell_read(&csv_cell(cell)), cell);
        }
        assert_eq!(csv_cell_read("'quoted"), "'quoted");
    }

    #[test]
    fn shell_quoting_runs_nothing() {
        assert_eq!(shell_quote("Amara Okafor"), "'Amara Okafor'");
        assert_eq!(shell_quote("$(rm -rf ~)"), "'$(rm -rf ~)'");
        let quoted = shell_quote("O'Brien $(x)");
        assert_eq!(
            shlex::split(&quoted),
            Some(vec!["O'Brien $(x)".to_string()])
        );
    }
}
