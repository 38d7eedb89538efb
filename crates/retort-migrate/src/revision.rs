//! Revision files: parse, render, name and write them.
//!
//! The format is a public contract (see the crate docs):
//!
//! ```text
//! -- retort:revision a1b2c3d4e5f6
//! -- retort:parents 0f9e8d7c6b5a
//! -- retort:message add age column
//! -- retort:created 2026-11-22T22:40:00Z
//!
//! -- retort:up
//! ALTER TABLE users ADD COLUMN age INTEGER;
//!
//! -- retort:down
//! ALTER TABLE users DROP COLUMN age;
//! ```
//!
//! Inside a section, `-- retort:transaction off` and `-- retort:transaction on`
//! lines switch between autocommit and transactional segments; they stay in
//! the section text ([`crate::split_segments`] interprets them).

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::MigrateError;
use crate::error::Direction;
use crate::split::{Segment, split_segments};
use retort_schema::Dialect;

/// Length of a revision id in hex characters.
pub const REVISION_ID_LEN: usize = 12;

/// Maximum length of a file-name slug.
pub const SLUG_MAX_LEN: usize = 40;

const PREFIX: &str = "-- retort:";

/// The directive that marks work the reviewer must finish before the
/// revision may run, e.g. `-- retort:todo backfill users.nickname: …` above
/// an `UPDATE` whose value only the reviewer knows. `upgrade` and
/// `downgrade` refuse a section that still holds one
/// ([`MigrateError::Unfinished`]); the reviewer does what it says and
/// deletes the line.
pub const TODO_DIRECTIVE: &str = "-- retort:todo";

/// One revision file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revision {
    /// 12 lowercase hex characters.
    pub id: String,
    /// Parent ids: empty for a base revision, several for a merge.
    pub parents: Vec<String>,
    /// One-line description.
    pub message: String,
    /// Creation time, RFC 3339 UTC (`2026-11-22T22:40:00Z`).
    pub created: String,
    /// The `-- retort:up` section, applied as written.
    pub up: String,
    /// The `-- retort:down` section, applied as written.
    pub down: String,
    /// The file the revision was read from or written to (empty if neither).
    pub path: PathBuf,
    /// 1-based line in the file where the `up` SQL starts (for error messages).
    pub up_line: usize,
    /// 1-based line in the file where the `down` SQL starts.
    pub down_line: usize,
}

impl Revision {
    /// A new revision with a fresh id and the current time, not yet written.
    ///
    /// Line breaks in `message` become spaces: the message lives on one header line.
    pub fn new(parents: Vec<String>, message: &str, up: &str, down: &str) -> Revision {
        let mut rev = Revision {
            id: new_revision_id(),
            parents,
            message: message.split_whitespace().collect::<Vec<_>>().join(" "),
            created: now_timestamp(),
            up: up.trim_end().to_string(),
            down: down.trim_end().to_string(),
            path: PathBuf::new(),
            up_line: 0,
            down_line: 0,
        };
        rev.set_lines_from_render();
        rev
    }

    /// The [`TODO_DIRECTIVE`] lines of the `up` (or `down`) section: their
    /// 1-based line in the file and their text, in order.
    pub fn todos(&self, up: bool) -> Vec<(usize, String)> {
        let (text, first) = if up {
            (&self.up, self.up_line)
        } else {
            (&self.down, self.down_line)
        };
        text.lines()
            .enumerate()
            .filter(|(_, line)| is_todo(line))
            .map(|(i, line)| (first + i, line.trim().to_string()))
            .collect()
    }

    /// The file name this revision is written under: `<id>_<slug>.sql`.
    pub fn file_name(&self) -> String {
        format!("{}_{}.sql", self.id, slug(&self.message))
    }

    /// Recomputes `up_line`/`down_line` for the text [`render_revision`] produces.
    fn set_lines_from_render(&mut self) {
        // Header: 4 directive lines, a blank line, then `-- retort:up` on line 6.
        self.up_line = 7;
        let up_lines = if self.up.is_empty() {
            0
        } else {
            self.up.lines().count()
        };
        // up body, a blank line, `-- retort:down`, then the down body.
        self.down_line = self.up_line + up_lines + 2;
    }
}

/// Whether `line` is a [`TODO_DIRECTIVE`] line.
fn is_todo(line: &str) -> bool {
    let line = line.trim();
    line.strip_prefix(TODO_DIRECTIVE)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with([' ', ':']))
}

/// The current UTC time in the `created` header format.
pub fn now_timestamp() -> String {
    chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// A fresh random revision id: 12 lowercase hex characters (48 random bits).
///
/// Falls back to a hash of time, process id and a counter if the OS random
/// source is unavailable, so the function never fails.
pub fn new_revision_id() -> String {
    let mut bytes = [0u8; REVISION_ID_LEN / 2];
    if getrandom::fill(&mut bytes).is_err() {
        use std::hash::{BuildHasher, Hasher};
        use std::sync::atomic::{AtomicU64, Ordering};
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u128(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or_default(),
        );
        h.write_u32(std::process::id());
        h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
        bytes.copy_from_slice(&h.finish().to_le_bytes()[..REVISION_ID_LEN / 2]);
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Whether `s` is a well-formed revision id (12 lowercase hex characters).
pub fn is_revision_id(s: &str) -> bool {
    s.len() == REVISION_ID_LEN && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// The file-name slug of a message: ASCII-lowercased, each run of
/// non-alphanumerics replaced by one `_`, trimmed of `_`, at most 40 characters.
/// An empty result becomes `revision` so file names never end in `_`.
pub fn slug(message: &str) -> String {
    let mut out = String::new();
    for c in message.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('_') {
            out.push('_');
        }
    }
    let trimmed = out.trim_matches('_');
    let cut: String = trimmed.chars().take(SLUG_MAX_LEN).collect();
    let cut = cut.trim_end_matches('_');
    if cut.is_empty() {
        "revision".to_string()
    } else {
        cut.to_string()
    }
}

/// The file text of a revision.
pub fn render_revision(rev: &Revision) -> String {
    let mut out = String::new();
    out.push_str(&format!("{PREFIX}revision {}\n", rev.id));
    if rev.parents.is_empty() {
        out.push_str(&format!("{PREFIX}parents\n"));
    } else {
        out.push_str(&format!("{PREFIX}parents {}\n", rev.parents.join(" ")));
    }
    out.push_str(&format!("{PREFIX}message {}\n", rev.message));
    out.push_str(&format!("{PREFIX}created {}\n", rev.created));
    out.push('\n');
    out.push_str(&format!("{PREFIX}up\n"));
    if !rev.up.is_empty() {
        out.push_str(rev.up.trim_end());
        out.push('\n');
    }
    out.push('\n');
    out.push_str(&format!("{PREFIX}down\n"));
    if !rev.down.is_empty() {
        out.push_str(rev.down.trim_end());
        out.push('\n');
    }
    out
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Section {
    Header,
    Up,
    Down,
}

/// Parses a revision file. `path` is used in errors and stored in the result.
pub fn parse_revision(text: &str, path: &Path) -> Result<Revision, MigrateError> {
    let err = |line: usize, message: String| MigrateError::Parse {
        path: path.to_path_buf(),
        line,
        message,
    };
    let mut id: Option<(String, usize)> = None;
    let mut parents: Option<Vec<String>> = None;
    let mut message: Option<String> = None;
    let mut created: Option<String> = None;
    let mut up_marker: Option<usize> = None;
    let mut down_marker: Option<usize> = None;
    let mut up = Vec::new();
    let mut down = Vec::new();
    let mut section = Section::Header;

    for (i, raw) in text.lines().enumerate() {
        let line_no = i + 1;
        let line = raw.trim_end();
        if let Some(rest) = line.strip_prefix(PREFIX) {
            let (key, value) = match rest.split_once(' ') {
                Some((k, v)) => (k, v.trim()),
                None => (rest, ""),
            };
            let header = |slot_set: bool, name: &str| -> Result<(), MigrateError> {
                if section != Section::Header {
                    return Err(err(
                        line_no,
                        format!("`{PREFIX}{name}` must come before `{PREFIX}up`"),
                    ));
                }
                if slot_set {
                    return Err(err(line_no, format!("duplicate `{PREFIX}{name}` header")));
                }
                Ok(())
            };
            match key {
                "revision" => {
                    header(id.is_some(), key)?;
                    if !is_revision_id(value) {
                        return Err(err(
                            line_no,
                            format!(
                                "bad revision id `{value}`: expected 12 lowercase hex characters"
                            ),
                        ));
                    }
                    id = Some((value.to_string(), line_no));
                }
                "parents" => {
                    header(parents.is_some(), key)?;
                    let mut list: Vec<String> = Vec::new();
                    for p in value.split_whitespace() {
                        if !is_revision_id(p) {
                            return Err(err(
                                line_no,
                                format!(
                                    "bad parent id `{p}`: expected 12 lowercase hex characters"
                                ),
                            ));
                        }
                        if list.iter().any(|q| q == p) {
                            return Err(err(line_no, format!("parent `{p}` is listed twice")));
                        }
                        list.push(p.to_string());
                    }
                    parents = Some(list);
                }
                "message" => {
                    header(message.is_some(), key)?;
                    message = Some(value.to_string());
                }
                "created" => {
                    header(created.is_some(), key)?;
                    created = Some(value.to_string());
                }
                "up" | "down" if !value.is_empty() => {
                    return Err(err(
                        line_no,
                        format!(
                            "`{PREFIX}{key}` must be alone on its line; put the SQL on the following lines"
                        ),
                    ));
                }
                "up" => {
                    if up_marker.is_some() {
                        return Err(err(line_no, format!("duplicate `{PREFIX}up` section")));
                    }
                    if down_marker.is_some() {
                        return Err(err(
                            line_no,
                            format!("`{PREFIX}up` must come before `{PREFIX}down`"),
                        ));
                    }
                    up_marker = Some(line_no);
                    section = Section::Up;
                }
                "down" => {
                    if down_marker.is_some() {
                        return Err(err(line_no, format!("duplicate `{PREFIX}down` section")));
                    }
                    if up_marker.is_none() {
                        return Err(err(
                            line_no,
                            format!("`{PREFIX}down` must come after `{PREFIX}up`"),
                        ));
                    }
                    down_marker = Some(line_no);
                    section = Section::Down;
                }
                "todo" => {
                    if section == Section::Header {
                        return Err(err(
                            line_no,
                            format!(
                                "`{TODO_DIRECTIVE}` belongs inside the `{PREFIX}up` or `{PREFIX}down` section"
                            ),
                        ));
                    }
                    // Kept in the section text, where the runner finds it
                    // and refuses to run the section.
                    match section {
                        Section::Up => up.push(raw),
                        Section::Down => down.push(raw),
                        Section::Header => {}
                    }
                    continue;
                }
                "transaction" => {
                    if section == Section::Header {
                        return Err(err(
                            line_no,
                            format!(
                                "`{PREFIX}transaction` belongs inside the `{PREFIX}up` or `{PREFIX}down` section"
                            ),
                        ));
                    }
                    if value != "on" && value != "off" {
                        return Err(err(
                            line_no,
                            format!(
                                "bad `{PREFIX}transaction {value}`: expected `{PREFIX}transaction off` or `{PREFIX}transaction on`"
                            ),
                        ));
                    }
                    // Kept in the section text: the runner splits the
                    // section into segments at these lines.
                    match section {
                        Section::Up => up.push(raw),
                        Section::Down => down.push(raw),
                        Section::Header => {}
                    }
                    continue;
                }
                // `-- retort:allow <hazard>` accepts a hazard of the next
                // statement (read by `retort lint`); the runner ignores it.
                "allow" if section != Section::Header => {
                    match section {
                        Section::Up => up.push(raw),
                        Section::Down => down.push(raw),
                        Section::Header => {}
                    }
                    continue;
                }
                other => {
                    return Err(err(
                        line_no,
                        format!(
                            "unknown directive `{PREFIX}{other}`: expected revision, parents, message, created, up, down or (inside a section) transaction, allow or todo"
                        ),
                    ));
                }
            }
            continue;
        }
        match section {
            Section::Header => {
                let t = line.trim();
                if !(t.is_empty() || t.starts_with("--")) {
                    return Err(err(
                        line_no,
                        format!(
                            "unexpected text before `{PREFIX}up`: only headers and comments may appear here"
                        ),
                    ));
                }
            }
            Section::Up => up.push(raw),
            Section::Down => down.push(raw),
        }
    }

    let missing = |name: &str| err(1, format!("missing `{PREFIX}{name}` header"));
    let (id, id_line) = id.ok_or_else(|| missing("revision"))?;
    let parents = parents.ok_or_else(|| missing("parents"))?;
    let message = message.ok_or_else(|| missing("message"))?;
    let created = created.ok_or_else(|| missing("created"))?;
    let up_marker = up_marker.ok_or_else(|| missing("up"))?;
    let down_marker = down_marker.ok_or_else(|| missing("down"))?;
    if parents.contains(&id) {
        return Err(err(
            id_line,
            format!("revision {id} lists itself as a parent"),
        ));
    }
    if let Some(stem) = path.file_name().and_then(|n| n.to_str()) {
        let prefix = stem.split('_').next().unwrap_or_default();
        if is_revision_id(prefix) && prefix != id {
            return Err(err(
                id_line,
                format!(
                    "the file name says revision {prefix} but the header says {id}; rename the file or fix the header"
                ),
            ));
        }
    }

    Ok(Revision {
        id,
        parents,
        message,
        created,
        up: up.join("\n").trim_end().to_string(),
        down: down.join("\n").trim_end().to_string(),
        path: path.to_path_buf(),
        up_line: up_marker + 1,
        down_line: down_marker + 1,
    })
}

/// Reads and parses one revision file.
pub fn read_revision(path: &Path) -> Result<Revision, MigrateError> {
    let text = std::fs::read_to_string(path).map_err(|source| MigrateError::Io {
        action: "read revision file",
        path: path.to_path_buf(),
        source,
    })?;
    parse_revision(&text, path)
}

/// Writes `rev` to `dir/<id>_<slug>.sql` atomically (temp file in `dir`, then a
/// no-clobber rename) and returns the path. Refuses to overwrite an existing
/// file, or to write a second file for an id that already has one.
pub fn write_revision(dir: &Path, rev: &Revision) -> Result<PathBuf, MigrateError> {
    let path = dir.join(rev.file_name());
    let io = |action: &'static str, path: &Path| {
        let path = path.to_path_buf();
        move |source| MigrateError::Io {
            action,
            path,
            source,
        }
    };
    let entries = std::fs::read_dir(dir).map_err(io("list revisions directory", dir))?;
    let id_prefix = format!("{}_", rev.id);
    for entry in entries {
        let entry = entry.map_err(io("list revisions directory", dir))?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with(&id_prefix) || name == format!("{}.sql", rev.id) {
            return Err(MigrateError::FileExists { path: entry.path() });
        }
    }
    let mut builder = tempfile::Builder::new();
    builder.prefix(".retort-").suffix(".tmp");
    // tempfile creates 0600 files; a revision is a source file like any
    // other, so it gets the mode an editor would give it (0666 less the
    // umask, which the kernel applies at creation).
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(0o666));
    }
    let mut tmp = builder
        .tempfile_in(dir)
        .map_err(io("create a temporary file in", dir))?;
    tmp.write_all(render_revision(rev).as_bytes())
        .and_then(|()| tmp.as_file().sync_all())
        .map_err(io("write", tmp.path()))?;
    tmp.persist_noclobber(&path).map_err(|e| {
        if e.error.kind() == std::io::ErrorKind::AlreadyExists {
            MigrateError::FileExists { path: path.clone() }
        } else {
            MigrateError::Io {
                action: "write",
                path: path.clone(),
                source: e.error,
            }
        }
    })?;
    Ok(path)
}

/// Refuses to run while a revision is partly applied (MySQL) unless this
/// run resumes it: anything else would build on a half-changed schema.
/// Refuses the whole run, before anything is applied, when a revision it
/// would run still holds a `-- retort:todo` line in that section.
pub(crate) fn check_finished(plan: &[&Revision], direction: Direction) -> Result<(), MigrateError> {
    for rev in plan {
        if let Some((line, todo)) = rev
            .todos(direction == Direction::Upgrade)
            .into_iter()
            .next()
        {
            return Err(MigrateError::Unfinished {
                id: rev.id.clone(),
                path: rev.path.clone(),
                line,
                todo,
                direction,
            });
        }
    }
    Ok(())
}

/// A section's segments with line numbers made absolute in the file.
pub(crate) fn section_segments(
    rev: &Revision,
    direction: Direction,
    dialect: Dialect,
) -> Vec<Segment> {
    let (sql, first_line) = match direction {
        Direction::Upgrade => (&rev.up, rev.up_line),
        Direction::Downgrade => (&rev.down, rev.down_line),
    };
    let mut segments = split_segments(sql, dialect);
    for stmt in segments.iter_mut().flat_map(|s| s.statements.iter_mut()) {
        stmt.line += first_line.saturating_sub(1);
    }
    segments
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Revision {
        Revision {
            id: "a1b2c3d4e5f6".into(),
            parents: vec!["0f9e8d7c6b5a".into()],
            message: "add age column".into(),
            created: "2026-11-22T22:40:00Z".into(),
            up: "ALTER TABLE users ADD COLUMN age INTEGER;".into(),
            down: "ALTER TABLE users DROP COLUMN age;".into(),
            path: PathBuf::new(),
            up_line: 7,
            down_line: 10,
        }
    }

    const SAMPLE_TEXT: &str = "\
-- retort:revision a1b2c3d4e5f6
-- retort:parents 0f9e8d7c6b5a
-- retort:message add age column
-- retort:created 2026-11-22T22:40:00Z

-- retort:up
ALTER TABLE users ADD COLUMN age INTEGER;

-- retort:down
ALTER TABLE users DROP COLUMN age;
";

    #[test]
    fn render_matches_the_documented_format_exactly() {
        assert_eq!(render_revision(&sample()), SAMPLE_TEXT);
    }

    #[test]
    fn parse_then_render_round_trips() {
        let path = Path::new("a1b2c3d4e5f6_add_age_column.sql");
        let rev = parse_revision(SAMPLE_TEXT, path).unwrap();
        assert_eq!(
            rev,
            Revision {
                path: path.to_path_buf(),
                ..sample()
            }
        );
        assert_eq!(render_revision(&rev), SAMPLE_TEXT);
    }

    #[test]
    fn base_revision_has_an_empty_parents_line_and_merge_has_several() {
        let mut rev = sample();
        rev.parents.clear();
        let text = render_revision(&rev);
        assert!(text.contains("\n-- retort:parents\n"), "{text}");
        assert!(
            parse_revision(&text, Path::new("x.sql"))
                .unwrap()
                .parents
                .is_empty()
        );

        rev.parents = vec!["111111111111".into(), "222222222222".into()];
        let text = render_revision(&rev);
        assert!(text.contains("-- retort:parents 111111111111 222222222222\n"));
        let back = parse_revision(&text, Path::new("x.sql")).unwrap();
        assert_eq!(back.parents, rev.parents);
    }

    #[test]
    fn new_revision_lines_match_the_rendered_text() {
        let rev = Revision::new(
            vec![],
            "two\nlines",
            "CREATE TABLE a (x);\nCREATE TABLE b (y);",
            "DROP TABLE b;",
        );
        assert_eq!(rev.message, "two lines");
        let back = parse_revision(&render_revision(&rev), Path::new("x.sql")).unwrap();
        assert_eq!((back.up_line, back.down_line), (rev.up_line, rev.down_line));
        assert_eq!(
            (back.up.as_str(), back.down.as_str()),
            (rev.up.as_str(), rev.down.as_str())
        );
    }

    #[test]
    fn hand_edited_sql_is_kept_as_written_with_its_line_numbers() {
        let text = "-- retort:revision a1b2c3d4e5f6\n-- retort:parents\n-- retort:message m\n-- retort:created t\n-- a note\n\n-- retort:up\n\n-- keep me\nSELECT 1;\n\n\n-- retort:down\n";
        let rev = parse_revision(text, Path::new("x.sql")).unwrap();
        assert_eq!(rev.up, "\n-- keep me\nSELECT 1;");
        assert_eq!(rev.up_line, 8);
        assert_eq!(rev.down, "");
        assert_eq!(rev.down_line, 14);
    }

    fn parse_err(text: &str) -> String {
        parse_revision(text, Path::new("revs/f.sql"))
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn allow_lines_stay_in_the_section_text_and_not_in_the_header() {
        let text = SAMPLE_TEXT.replace(
            "-- retort:down\n",
            "-- retort:down\n-- retort:allow data_loss\n",
        );
        let rev = parse_revision(&text, Path::new("f.sql")).unwrap();
        assert!(
            rev.down.starts_with("-- retort:allow data_loss\n"),
            "{}",
            rev.down
        );
        let header = SAMPLE_TEXT.replace(
            "-- retort:created",
            "-- retort:allow data_loss\n-- retort:created",
        );
        assert!(parse_err(&header).contains("unknown directive `-- retort:allow`"));
    }

    #[test]
    fn parse_errors_name_the_file_and_line() {
        let no_id = SAMPLE_TEXT.replace("-- retort:revision a1b2c3d4e5f6\n", "");
        assert_eq!(
            parse_err(&no_id),
            "revs/f.sql:1: missing `-- retort:revision` header"
        );

        let bad_id = SAMPLE_TEXT.replace("a1b2c3d4e5f6", "A1B2");
        assert_eq!(
            parse_err(&bad_id),
            "revs/f.sql:1: bad revision id `A1B2`: expected 12 lowercase hex characters"
        );

        let bad_parent = SAMPLE_TEXT.replace("0f9e8d7c6b5a", "0f9e8d7c6b5a xyz");
        assert!(parse_err(&bad_parent).starts_with("revs/f.sql:2: bad parent id `xyz`"));

        let dup_up = format!("{SAMPLE_TEXT}-- retort:up\nSELECT 1;\n");
        assert_eq!(
            parse_err(&dup_up),
            "revs/f.sql:11: duplicate `-- retort:up` section"
        );

        let dup_header = SAMPLE_TEXT.replace(
            "-- retort:created",
            "-- retort:message again\n-- retort:created",
        );
        assert_eq!(
            parse_err(&dup_header),
            "revs/f.sql:4: duplicate `-- retort:message` header"
        );

        let late_header = format!("{SAMPLE_TEXT}-- retort:parents\n");
        assert!(
            parse_err(&late_header)
                .starts_with("revs/f.sql:11: `-- retort:parents` must come before")
        );

        let no_down = SAMPLE_TEXT
            .split("-- retort:down")
            .next()
            .unwrap()
            .to_string();
        assert_eq!(
            parse_err(&no_down),
            "revs/f.sql:1: missing `-- retort:down` header"
        );

        let stray = SAMPLE_TEXT.replace("\n\n-- retort:up", "\nSELECT 1;\n-- retort:up");
        assert!(parse_err(&stray).starts_with("revs/f.sql:5: unexpected text before"));

        let unknown = SAMPLE_TEXT.replace(
            "-- retort:created",
            "-- retort:author me\n-- retort:created",
        );
        assert!(
            parse_err(&unknown).starts_with("revs/f.sql:4: unknown directive `-- retort:author`")
        );
    }

    #[test]
    fn file_name_must_agree_with_the_header() {
        let e = parse_revision(SAMPLE_TEXT, Path::new("d/0123456789ab_x.sql")).unwrap_err();
        assert!(
            e.to_string()
                .contains("the file name says revision 0123456789ab"),
            "{e}"
        );
    }

    #[test]
    fn slug_rules() {
        assert_eq!(slug("Add age column"), "add_age_column");
        assert_eq!(slug("  --Users: add e-mail!  "), "users_add_e_mail");
        assert_eq!(slug(&"x".repeat(60)), "x".repeat(40));
        assert_eq!(slug(&format!("{} tail", "a".repeat(39))), "a".repeat(39));
        assert_eq!(slug("!!!"), "revision");
    }

    #[test]
    fn ids_are_twelve_hex_chars_and_unique() {
        let ids: std::collections::BTreeSet<String> = (0..200).map(|_| new_revision_id()).collect();
        assert_eq!(ids.len(), 200);
        assert!(ids.iter().all(|id| is_revision_id(id)));
    }

    #[test]
    fn write_is_atomic_and_refuses_to_overwrite() {
        let dir = tempfile::tempdir().unwrap();
        let rev = sample();
        let path = write_revision(dir.path(), &rev).unwrap();
        assert_eq!(path, dir.path().join("a1b2c3d4e5f6_add_age_column.sql"));
        assert_eq!(std::fs::read_to_string(&path).unwrap(), SAMPLE_TEXT);
        // Only the revision file is left: the temp file was renamed.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);

        let again = write_revision(dir.path(), &rev).unwrap_err();
        assert!(matches!(again, MigrateError::FileExists { .. }), "{again}");
        let other_slug = Revision {
            message: "something else".into(),
            ..sample()
        };
        assert!(matches!(
            write_revision(dir.path(), &other_slug),
            Err(MigrateError::FileExists { .. })
        ));
        assert_eq!(std::fs::read_to_string(&path).unwrap(), SAMPLE_TEXT);
    }

    #[cfg(unix)]
    #[test]
    fn revision_files_get_the_mode_an_editor_would() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = write_revision(dir.path(), &sample()).unwrap();
        // std's File::create opens with 0666 less the process umask, as
        // editors do; a revision must match it (tempfile alone gives 0600).
        let plain = dir.path().join("plain.txt");
        std::fs::File::create(&plain).unwrap();
        let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&path), mode(&plain));
    }
}
