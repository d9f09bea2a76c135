//! JSON that is safe on a terminal and exact for programs: every character that could change
//! how a terminal shows text (`text::is_unsafe`: DEL, C1 controls, bidirectional overrides,
//! invisible formatting) is written as a `\uXXXX` escape, as serde_json already writes the
//! C0 controls. A path or commit message keeps its exact value for whoever parses the report.

use std::io::{self, Write};

use serde::Serialize;
use serde_json::ser::{CompactFormatter, Formatter, PrettyFormatter};

use crate::text::is_unsafe;

/// Writes `value` as indented JSON.
pub fn pretty(out: &mut dyn Write, value: &impl Serialize) -> io::Result<()> {
    write(out, value, PrettyFormatter::new())
}

/// Writes `value` as JSON on one line.
pub fn compact(out: &mut dyn Write, value: &impl Serialize) -> io::Result<()> {
    write(out, value, CompactFormatter)
}

fn write(out: &mut dyn Write, value: &impl Serialize, f: impl Formatter) -> io::Result<()> {
    let mut ser = serde_json::Serializer::with_formatter(out, Escaping(f));
    value.serialize(&mut ser).map_err(io::Error::from)
}

/// A formatter that escapes unsafe characters in strings and lays out like `F`.
struct Escaping<F>(F);

impl<F: Formatter> Formatter for Escaping<F> {
    fn write_string_fragment<W: ?Sized + Write>(&mut self, w: &mut W, s: &str) -> io::Result<()> {
        let mut rest = s;
        while let Some((i, c)) = rest.char_indices().find(|&(_, c)| is_unsafe(c)) {
            w.write_all(&rest.as_bytes()[..i])?;
            // Every unsafe character is in the Basic Multilingual Plane: one escape each.
            write!(w, "\\u{:04x}", c as u32)?;
            rest = &rest[i + c.len_utf8()..];
        }
        w.write_all(rest.as_bytes())
    }

    fn begin_array<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_array(w)
    }

    fn end_array<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_array(w)
    }

    fn begin_array_value<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        self.0.begin_array_value(w, first)
    }

    fn end_array_value<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_array_value(w)
    }

    fn begin_object<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_object(w)
    }

    fn end_object<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_object(w)
    }

    fn begin_object_key<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        self.0.begin_object_key(w, first)
    }

    fn begin_object_value<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_object_value(w)
    }

    fn end_object_value<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_object_value(w)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unsafe_characters_are_escaped_and_the_value_kept() {
        let path = "d/evil\u{202e}txt\u{9b}31m\u{7f}\u{1b}[2J é.env";
        for write in [pretty, compact] {
            let mut out = Vec::new();
            write(&mut out, &serde_json::json!({ "path": [path] })).unwrap();
            let text = String::from_utf8(out).unwrap();
            assert!(!text.contains(is_unsafe_but_newline), "{text:?}");
            assert!(text.contains(r"evil\u202etxt\u009b31m\u007f\u001b[2J é.env"));
            let back: serde_json::Value = serde_json::from_str(&text).unwrap();
            assert_eq!(back["path"][0], path);
        }
    }

    fn is_unsafe_but_newline(c: char) -> bool {
        is_unsafe(c) && c != '\n'
    }
}
