//! The parser on damaged input: mutated catalogue recipes never panic, and every
//! problem it reports points at a real line and column of the file.
//! (A fuzzer in the spirit of ripgrep's fuzz/, runnable on stable Rust.)

mod common;

use std::path::Path;

use initkit::{catalogue::EMBEDDED, recipe::parse_recipe};
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Edit {
    Delete { at: usize, len: usize },
    Insert { at: usize, text: String },
    DuplicateLine { at: usize },
}

fn edit() -> impl Strategy<Value = Edit> {
    let junk = prop::collection::vec(
        prop::sample::select(vec![
            "\"", "'", "{", "}", "[", "]", "=", "\n", "#", "é", "✓", "\\", "[[x]]", "a.b", "0x", "-", "{port", "}}",
        ]),
        1..4,
    )
    .prop_map(|v| v.concat());
    prop_oneof![
        (any::<usize>(), 1..40usize).prop_map(|(at, len)| Edit::Delete { at, len }),
        (any::<usize>(), junk).prop_map(|(at, text)| Edit::Insert { at, text }),
        any::<usize>().prop_map(|at| Edit::DuplicateLine { at }),
    ]
}

/// The nearest char boundary at or before `at` (modulo the length).
fn boundary(text: &str, at: usize) -> usize {
    let mut i = at % (text.len() + 1);
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn apply(text: &mut String, e: &Edit) {
    match e {
        Edit::Delete { at, len } => {
            let start = boundary(text, *at);
            let end = boundary(text, (start + len).min(text.len()));
            text.replace_range(start..end.max(start), "");
        }
        Edit::Insert { at, text: t } => {
            let at = boundary(text, *at);
            text.insert_str(at, t);
        }
        Edit::DuplicateLine { at } => {
            let lines: Vec<&str> = text.lines().collect();
            if !lines.is_empty() {
                let i = at % lines.len();
                let mut out: Vec<&str> = lines[..=i].to_vec();
                out.extend_from_slice(&lines[i..]);
                *text = out.join("\n");
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn damaged_recipes_give_located_errors_and_never_panic(
        which in 0..EMBEDDED.len(),
        edits in prop::collection::vec(edit(), 1..4),
    ) {
        let mut text = EMBEDDED[which].1.to_owned();
        for e in &edits {
            apply(&mut text, e);
        }
        if let Err(errors) = parse_recipe(Path::new("fuzz.toml"), &text) {
            prop_assert!(!errors.diagnostics.is_empty());
            let drawn = errors.to_string();
            let line_count = text.lines().count().max(1);
            for d in &errors.diagnostics {
                if let Some(span) = &d.span {
                    prop_assert!(span.start <= text.len(), "span {:?} past the end", span);
                    let (line, col) = errors.line_col(span.start);
                    prop_assert!(line >= 1 && line <= line_count + 1, "line {} of {}", line, line_count);
                    prop_assert!(col >= 1);
                    prop_assert!(drawn.contains(&format!("fuzz.toml:{line}:{col}: ")), "{}", drawn);
                }
            }
        }
    }
}
