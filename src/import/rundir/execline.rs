//! An execline run script (`#!/command/execlineb -P`) cut into its words and
//! `{ … }` blocks; the blocks the chain runs and goes on from (`foreground`,
//! `if`) become setup steps. Nothing is evaluated.

use crate::import::words::{Piece, Word};

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    Word(String),
    Open,
    Close,
}

/// What an execline script says, in the order it runs.
#[derive(Debug, Clone, Default)]
pub struct Script {
    /// `foreground { … }` and `if { … }` blocks of the chain: their line,
    /// program, and words (`None` when a block nests another).
    pub steps: Vec<(usize, String, Option<Vec<String>>)>,
    /// The chain and the daemon, one line number per word.
    pub words: Vec<Word>,
    pub lines: Vec<usize>,
    /// A block after the chain began (`backtick`, `ifelse`…): the script is
    /// not a plain chain.
    pub block_at: Option<usize>,
}

fn tokens(text: &str) -> Result<Vec<(usize, Tok)>, (usize, String)> {
    let mut out = Vec::new();
    let mut n = 1;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\n' => n += 1,
            c if c.is_whitespace() => {}
            '#' => {
                while chars.peek().is_some_and(|&c| c != '\n') {
                    chars.next();
                }
            }
            _ => {
                let start = n;
                let mut w = String::new();
                let mut quoted = false;
                let mut c = Some(c);
                while let Some(ch) = c {
                    match ch {
                        '"' => {
                            quoted = true;
                            loop {
                                match chars.next() {
                                    None => return Err((start, "a quote is not closed".into())),
                                    Some('"') => break,
                                    Some('\\') => match chars.next() {
                                        Some('n') => w.push('\n'),
                                        Some('t') => w.push('\t'),
                                        Some('\n') => n += 1,
                                        Some(e) => w.push(e),
                                        None => return Err((start, "a quote is not closed".into())),
                                    },
                                    Some(q) => {
                                        if q == '\n' {
                                            n += 1;
                                        }
                                        w.push(q);
                                    }
                                }
                            }
                        }
                        '\\' => match chars.next() {
                            Some('\n') => n += 1,
                            Some(e) => w.push(e),
                            None => {}
                        },
                        _ => w.push(ch),
                    }
                    c = chars.next_if(|c| !c.is_whitespace());
                }
                out.push((
                    start,
                    match w.as_str() {
                        "{" if !quoted => Tok::Open,
                        "}" if !quoted => Tok::Close,
                        _ => Tok::Word(w),
                    },
                ));
            }
        }
    }
    Ok(out)
}

/// Reads the script after its shebang line (`text` is the whole file).
#[allow(clippy::many_single_char_names)] // token indices and the script
pub fn read(text: &str) -> Result<Script, (usize, String)> {
    let body = text.split_once('\n').map_or("", |(_, b)| b);
    let toks: Vec<(usize, Tok)> =
        tokens(body).map_err(|(n, m)| (n + 1, m))?.into_iter().map(|(n, t)| (n + 1, t)).collect();
    let mut s = Script::default();
    let mut i = 0;
    // `foreground { … }`, `if [-n] { … }`: a block the chain runs and goes on from.
    while let Some((n, t)) = toks.get(i) {
        let Tok::Word(w) = t else {
            s.block_at.get_or_insert(*n);
            i += 1;
            continue;
        };
        let mut j = i + 1;
        while matches!(toks.get(j), Some((_, Tok::Word(o))) if o.starts_with('-')) {
            j += 1;
        }
        let block =
            matches!(w.as_str(), "foreground" | "if" | "background") && toks.get(j).map(|(_, t)| t) == Some(&Tok::Open);
        if !block {
            s.words.push(vec![Piece::Lit(w.clone())]);
            s.lines.push(*n);
            i += 1;
            continue;
        }
        let mut depth = 0;
        let mut inner = Vec::new();
        let mut nested = false;
        let mut k = j;
        while let Some((_, t)) = toks.get(k) {
            match t {
                Tok::Open => {
                    depth += 1;
                    nested |= depth > 1;
                }
                Tok::Close => {
                    depth -= 1;
                    if depth == 0 {
                        break;
                    }
                }
                Tok::Word(x) => inner.push(x.clone()),
            }
            k += 1;
        }
        if depth != 0 {
            return Err((*n, format!("`{w}` opens a block that is not closed")));
        }
        s.steps.push((*n, w.clone(), (!nested).then_some(inner)));
        i = k + 1;
    }
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_words_and_quotes() {
        let s = read("#!/command/execlineb -P\nforeground { mkdir -p /run/x }\n# c\nfdmove -c 2 1\n/bin/x \"a b\" c\n")
            .unwrap();
        assert_eq!(s.steps, [(2, "foreground".to_owned(), Some(vec!["mkdir".into(), "-p".into(), "/run/x".into()]))]);
        let words: Vec<String> = s.words.iter().map(super::super::chain::text).collect();
        assert_eq!(words, ["fdmove", "-c", "2", "1", "/bin/x", "a b", "c"]);
        assert_eq!(s.lines, [4, 4, 4, 4, 5, 5, 5]);
        assert!(read("#!x\n/bin/x \"open\n").is_err());
    }
}
