//! Reading a service's log: where it is (each driver says, see
//! [`super::driver::Driver::log_source`]), its last lines read from the end
//! of the file in blocks (a log of a gigabyte costs what the lines shown
//! take), the lines since a time, and following the file as it grows and as
//! it is rotated.

use std::{
    fs::{self, File},
    io::{self, Read, Seek, SeekFrom},
    mem,
    os::unix::fs::MetadataExt,
    path::{Path, PathBuf},
};

use time::OffsetDateTime;

use super::log_time;
use crate::render::facts::Stamp;

/// Where the log of an instance is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogSource {
    /// The systemd journal, for this unit (a `journalctl --unit` pattern;
    /// `--user-unit` for a user's).
    Journal { unit: String, user: bool },
    /// A file (a host path), each line stamped as `stamp` says.
    File { path: String, stamp: Stamp },
}

/// What a person asked of a log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogQuery {
    /// How many of the last lines.
    pub lines: usize,
    /// Go on printing lines as they are written.
    pub follow: bool,
    /// Only lines from this time on, as the person wrote it.
    pub since: Option<String>,
    /// Lines as JSON objects.
    pub json: bool,
}

/// Why a log file cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum LogError {
    #[error("no log yet at {}: the service has not written anything", .0.display())]
    NotYet(PathBuf),
    #[error("cannot read {}: permission denied (the log is root's: run as root)", .0.display())]
    Denied(PathBuf),
    #[error("reading {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

impl LogError {
    fn of(path: &Path) -> impl FnOnce(io::Error) -> LogError + '_ {
        move |e| match e.kind() {
            io::ErrorKind::NotFound => LogError::NotYet(path.to_path_buf()),
            io::ErrorKind::PermissionDenied => LogError::Denied(path.to_path_buf()),
            _ => LogError::Io { path: path.to_path_buf(), source: e },
        }
    }
}

/// Opens a log file; `NotYet` when nothing is there.
pub fn open(path: &Path) -> Result<File, LogError> {
    File::open(path).map_err(LogError::of(path))
}

/// One line of a log: its time, where the log stamps lines, and its text without the stamp.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Line {
    #[serde(serialize_with = "json_time")]
    pub time: Option<OffsetDateTime>,
    pub text: String,
}

#[allow(clippy::ref_option)] // serde's `serialize_with` hands over a reference to the field
fn json_time<S: serde::Serializer>(t: &Option<OffsetDateTime>, s: S) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => s.serialize_str(&log_time::rfc3339(*t)),
        None => s.serialize_none(),
    }
}

impl Line {
    /// A line as the logger wrote it (without its newline).
    pub fn read(stamp: Stamp, raw: &[u8]) -> Line {
        let raw = String::from_utf8_lossy(raw);
        let (time, text) = log_time::split(stamp, &raw);
        Line { time, text: text.to_owned() }
    }

    /// The line as printed: the local time in place of the logger's stamp.
    pub fn shown(&self) -> String {
        match self.time {
            Some(t) => format!("{} {}", log_time::shown(t), self.text),
            None => self.text.clone(),
        }
    }
}

/// What a line read from the end does to the search.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keep {
    Line,
    Skip,
    /// This line and every earlier one are left out (older than `--since`).
    Stop,
}

/// The end of a file: its last lines, oldest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tail {
    pub lines: Vec<Vec<u8>>,
    /// Where the file's complete lines end: following goes on from there.
    pub complete_to: u64,
    /// The last line has no newline yet (the logger is writing it).
    pub partial: bool,
}

const BLOCK: u64 = 64 * 1024;

/// The last `n` lines of `r` that `keep` takes, read from the end in blocks
/// of 64 KiB. `keep` sees the lines newest first.
pub fn last_lines<R: Read + Seek>(r: &mut R, n: usize, mut keep: impl FnMut(&[u8]) -> Keep) -> io::Result<Tail> {
    let end = r.seek(SeekFrom::End(0))?;
    let mut tail = Tail { lines: Vec::new(), complete_to: end, partial: false };
    // Where the bytes not yet split into lines begin, and those bytes.
    let mut pos = end;
    let mut pending: Vec<u8> = Vec::new();
    let mut last = true;
    'search: loop {
        while n > tail.lines.len() {
            let start = match pending.iter().rposition(|&b| b == b'\n') {
                Some(i) => i + 1,
                None if pos == 0 => 0,
                None => break,
            };
            let line = pending.split_off(start);
            pending.pop();
            if mem::take(&mut last) {
                // What follows the file's last newline is a line still being written.
                tail.complete_to = end - line.len() as u64;
                tail.partial = !line.is_empty();
                if line.is_empty() && start > 0 {
                    continue;
                }
                if line.is_empty() {
                    break 'search;
                }
            }
            match keep(&line) {
                Keep::Line => tail.lines.push(line),
                Keep::Skip => {}
                Keep::Stop => break 'search,
            }
            if start == 0 {
                break 'search;
            }
        }
        if pos == 0 || n == tail.lines.len() {
            break;
        }
        let len = BLOCK.min(pos);
        pos -= len;
        r.seek(SeekFrom::Start(pos))?;
        let mut block = vec![0; usize::try_from(len).expect("a block fits in memory")];
        r.read_exact(&mut block)?;
        block.extend_from_slice(&pending);
        pending = block;
    }
    tail.lines.reverse();
    Ok(tail)
}

/// The last `n` lines of the log file at `path` (from `since` on, for a
/// stamped log), and where following goes on.
pub fn tail(
    file: &mut File,
    path: &Path,
    stamp: Stamp,
    n: usize,
    since: Option<OffsetDateTime>,
) -> Result<Tail, LogError> {
    last_lines(file, n, |raw| match (since, Line::read(stamp, raw).time) {
        // The file is in the order it was written: what comes before is older still.
        (Some(since), Some(t)) if t < since => Keep::Stop,
        _ => Keep::Line,
    })
    .map_err(LogError::of(path))
}

/// How much one read takes of what was appended: a burst is read over several polls.
const CHUNK: u64 = 1 << 20;

/// A log file followed as it grows: what was appended since the last look,
/// through rotation.
#[derive(Debug)]
pub struct Follower {
    path: PathBuf,
    file: Option<File>,
    /// The device and inode of the file open, to notice another at the path.
    id: Option<(u64, u64)>,
    offset: u64,
    partial: Vec<u8>,
}

impl Follower {
    /// Follows `path` from `offset` in `file` (the file open there); with no
    /// file, from the start of the one that appears.
    pub fn new(path: &Path, file: Option<File>, offset: u64) -> Result<Follower, LogError> {
        let id = match &file {
            Some(f) => {
                let m = f.metadata().map_err(LogError::of(path))?;
                Some((m.dev(), m.ino()))
            }
            None => None,
        };
        Ok(Follower { path: path.to_path_buf(), file, id, offset, partial: Vec::new() })
    }

    /// The lines completed since the last call. A file truncated in place
    /// (logrotate's copytruncate) is read again from its start; one replaced
    /// at the path (svlogd, s6-log and multilog rename `current` away,
    /// logrotate may move a file) is read to its end, then the new one from
    /// its start. A path with no file for a while is waited for.
    pub fn poll(&mut self) -> Result<Vec<Vec<u8>>, LogError> {
        let mut lines = Vec::new();
        if let Some(f) = &self.file {
            let len = f.metadata().map_err(LogError::of(&self.path))?.len();
            if len < self.offset {
                self.offset = 0;
                self.partial.clear();
            }
            if self.read_appended(&mut lines)? {
                return Ok(lines);
            }
        }
        let Ok(meta) = fs::metadata(&self.path) else { return Ok(lines) };
        if self.id == Some((meta.dev(), meta.ino())) {
            return Ok(lines);
        }
        // A new file: the old one's unfinished last line is all it will be.
        if !self.partial.is_empty() {
            lines.push(mem::take(&mut self.partial));
        }
        let file = match File::open(&self.path) {
            Ok(f) => f,
            // Gone again between the look and the open: the next poll sees.
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(lines),
            Err(e) => return Err(LogError::of(&self.path)(e)),
        };
        self.id = Some((meta.dev(), meta.ino()));
        self.file = Some(file);
        self.offset = 0;
        self.read_appended(&mut lines)?;
        Ok(lines)
    }

    /// Reads what was appended (a chunk at most) into complete lines;
    /// whether there may be more.
    fn read_appended(&mut self, lines: &mut Vec<Vec<u8>>) -> Result<bool, LogError> {
        let Some(f) = &mut self.file else { return Ok(false) };
        let mut buf = Vec::new();
        f.seek(SeekFrom::Start(self.offset))
            .and_then(|_| f.take(CHUNK).read_to_end(&mut buf))
            .map_err(LogError::of(&self.path))?;
        self.offset += buf.len() as u64;
        let more = buf.len() as u64 == CHUNK;
        self.partial.extend_from_slice(&buf);
        while let Some(i) = self.partial.iter().position(|&b| b == b'\n') {
            let rest = self.partial.split_off(i + 1);
            let mut line = mem::replace(&mut self.partial, rest);
            line.pop();
            lines.push(line);
        }
        Ok(more)
    }
}

/// The last `n` lines of an instance's log under `root`, as shown to a
/// person, for an error message: empty when there is no log or it cannot
/// be read (the message says where it is).
pub fn recent(root: &Path, source: &LogSource, n: usize) -> Vec<String> {
    match source {
        LogSource::Journal { unit, user } => {
            let query = LogQuery { lines: n, follow: false, since: None, json: false };
            std::process::Command::new("journalctl")
                .args(super::drivers::systemd::journal_args(unit, *user, root, &query))
                .stdin(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .output()
                .ok()
                .filter(|o| o.status.success())
                .map(|o| String::from_utf8_lossy(&o.stdout).lines().map(str::to_owned).collect())
                .unwrap_or_default()
        }
        LogSource::File { path, stamp } => {
            let path = super::manifest::under(root, path);
            let Ok(mut file) = open(&path) else { return Vec::new() };
            tail(&mut file, &path, *stamp, n, None)
                .map(|t| t.lines.iter().map(|raw| Line::read(*stamp, raw).shown()).collect())
                .unwrap_or_default()
        }
    }
}

/// Where a person reads the log `source` names.
pub fn described(source: &LogSource) -> String {
    match source {
        LogSource::Journal { unit, user: false } => format!("journalctl -u {unit}"),
        LogSource::Journal { unit, user: true } => format!("journalctl --user-unit {unit}"),
        LogSource::File { path, .. } => path.clone(),
    }
}

#[cfg(test)]
mod tests {
    use std::io::{Cursor, Write};

    use super::*;

    fn last(text: &str, n: usize) -> (Vec<String>, u64, bool) {
        let t = last_lines(&mut Cursor::new(text.as_bytes().to_vec()), n, |_| Keep::Line).unwrap();
        (t.lines.iter().map(|l| String::from_utf8_lossy(l).into_owned()).collect(), t.complete_to, t.partial)
    }

    #[test]
    fn the_last_lines_of_short_and_odd_files() {
        assert_eq!(last("", 5), (vec![], 0, false));
        assert_eq!(last("\n", 5), (vec![String::new()], 1, false));
        assert_eq!(last("a\nb\nc\n", 2), (vec!["b".into(), "c".into()], 6, false));
        assert_eq!(last("a\nb\nc\n", 9), (vec!["a".into(), "b".into(), "c".into()], 6, false));
        assert_eq!(last("a\n\nc", 9), (vec!["a".into(), String::new(), "c".into()], 3, true));
        assert_eq!(last("only", 1), (vec!["only".into()], 0, true));
        assert_eq!(last("a\nb\n", 0), (vec![], 4, false));
    }

    #[test]
    fn lines_across_blocks_come_back_whole() {
        let lines: Vec<String> = (0..20_000).map(|i| format!("line {i} {}", "x".repeat(i % 97))).collect();
        let text = lines.join("\n") + "\n";
        let (got, end, partial) = last(&text, 3_000);
        assert_eq!(got, lines[17_000..]);
        assert_eq!((end, partial), (text.len() as u64, false));
        // A line longer than a block.
        let long = format!("first\n{}\nlast\n", "y".repeat(200_000));
        assert_eq!(last(&long, 2).0, vec!["y".repeat(200_000), "last".to_owned()]);
    }

    #[test]
    fn a_time_filter_stops_at_the_first_older_line() {
        let text = "1\n2\n3\n4\n5\n";
        let mut seen = Vec::new();
        let t = last_lines(&mut Cursor::new(text.as_bytes().to_vec()), 10, |l| {
            seen.push(l.to_vec());
            if l < b"3".as_slice() { Keep::Stop } else { Keep::Line }
        })
        .unwrap();
        assert_eq!(t.lines, [b"3".to_vec(), b"4".to_vec(), b"5".to_vec()]);
        assert_eq!(seen.len(), 4, "nothing is read past the first older line");
    }

    #[test]
    fn following_survives_appends_truncation_and_replacement() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("current");
        let mut follower = Follower::new(&path, None, 0).unwrap();
        assert!(follower.poll().unwrap().is_empty(), "no file yet");
        let mut f = File::create(&path).unwrap();
        f.write_all(b"one\ntw").unwrap();
        assert_eq!(follower.poll().unwrap(), [b"one".to_vec()]);
        f.write_all(b"o\n").unwrap();
        assert_eq!(follower.poll().unwrap(), [b"two".to_vec()]);
        // copytruncate: the same file, shorter.
        f.set_len(0).unwrap();
        let mut f = fs::OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(b"three\n").unwrap();
        assert_eq!(follower.poll().unwrap(), [b"three".to_vec()]);
        // svlogd's rotation: the old file renamed away after a last line, a new one made.
        f.write_all(b"four\nfive").unwrap();
        fs::rename(&path, dir.path().join("@400000000000000000000000.s")).unwrap();
        assert_eq!(follower.poll().unwrap(), [b"four".to_vec()], "the old file to its end");
        fs::write(&path, "six\n").unwrap();
        assert_eq!(follower.poll().unwrap(), [b"five".to_vec(), b"six".to_vec()]);
        assert!(follower.poll().unwrap().is_empty());
    }
}
