//! retort.toml, and the resolve step that turns command-line flags, the
//! environment and the file into validated [`Settings`] before any IO.
//!
//! Precedence: `-d/--database-url` > `DATABASE_URL` > `[database] url`;
//! `--models` > `[models] paths`. String values may use `${VAR}` and
//! `${VAR:-default}`. Relative paths in the file are relative to the file's
//! folder, so commands work from anywhere in the project.

use anyhow::{Context, Result, anyhow, bail};
use retort_migrate::{LockMode, VersionTable};
use retort_schema::Dialect;
use serde::Deserialize;
use std::fmt;
use std::path::{Path, PathBuf};

use crate::args::GlobalArgs;
use crate::filter::SchemaFilter;
use crate::naming::{NamedKind, NamingConvention, Template};

/// The configuration file's name.
pub const CONFIG_FILE: &str = "retort.toml";

/// The version table's default name.
pub const DEFAULT_VERSION_TABLE: &str = "retort_version";

/// retort.toml as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    #[serde(default)]
    database: DatabaseSection,
    #[serde(default)]
    models: ModelsSection,
    #[serde(default)]
    migrations: MigrationsSection,
    #[serde(default)]
    autogen: AutogenSection,
    #[serde(default)]
    naming: NamingSection,
}

/// `[autogen]`: what the differ leaves out (see crate::filter), and whether
/// drafts are proven on a scratch database.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct AutogenSection {
    /// PostgreSQL: the schemas whose tables take part.
    include_schemas: Option<Vec<String>>,
    /// Globs of table names left out.
    exclude_tables: Option<Vec<String>>,
    /// `table.object` globs of indexes and constraints left out.
    exclude_objects: Option<Vec<String>>,
    /// Prove every draft on a scratch database, as `autogen --verify`.
    verify: Option<bool>,
    /// PostgreSQL: render online-safe statements (as `--online`).
    online: Option<bool>,
    /// PostgreSQL: `SET LOCAL lock_timeout` for each transaction of a
    /// generated revision.
    lock_timeout: Option<String>,
    /// Confirmed renames: `"users.name" = "full_name"`, `"old" = "new"`.
    renames: Option<std::collections::BTreeMap<String, String>>,
}

/// `[naming]`: templates for constraints the models leave unnamed (see
/// crate::naming).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct NamingSection {
    index: Option<String>,
    unique: Option<String>,
    foreign_key: Option<String>,
    check: Option<String>,
    primary_key: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct DatabaseSection {
    url: Option<String>,
    version_table: Option<String>,
    /// PostgreSQL schemas to manage; empty is the connection's current one.
    schemas: Option<Vec<String>>,
    /// How concurrent runners are kept apart: "session" or "transaction".
    lock: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ModelsSection {
    paths: Option<Vec<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct MigrationsSection {
    dir: Option<String>,
}

/// Everything a command needs to know, validated.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The working directory the command was given: messages show paths
    /// under it relative to it.
    pub working_dir: PathBuf,
    /// The configuration file, when one was read.
    pub config_path: Option<PathBuf>,
    /// Where the database lives; `None` where neither flag, environment nor
    /// file names one (commands that need it say so).
    pub database_url: Option<DatabaseUrl>,
    /// Model files and folders.
    pub model_paths: Vec<PathBuf>,
    /// The migrations folder; revision files live in its `versions/`.
    pub migrations_dir: PathBuf,
    pub version_table: VersionTable,
    /// PostgreSQL schemas to manage; empty is the connection's current one.
    pub schemas: Vec<String>,
    /// The runner's lock mode (`session` or `transaction`).
    pub lock: LockMode,
    /// `[autogen]` filters, applied to both schemas before diffing.
    pub filter: SchemaFilter,
    /// `[naming]` templates for constraints the models leave unnamed.
    pub naming: NamingConvention,
    /// `[autogen] verify`: prove every draft on a scratch database.
    pub autogen_verify: bool,
    /// `[autogen] online`: PostgreSQL online-safe statements.
    pub online: bool,
    /// `[autogen] lock_timeout`, validated (`5s`, `500ms`, `1min`).
    pub lock_timeout: Option<String>,
    /// `[autogen.renames]`: confirmed renames (see crate::renames).
    pub renames: Vec<retort_diff::Rename>,
}

impl Settings {
    /// The folder holding revision files.
    pub fn versions_dir(&self) -> PathBuf {
        self.migrations_dir.join("versions")
    }

    /// The database URL, or an error telling the user how to give one.
    pub fn require_database(&self) -> Result<&DatabaseUrl> {
        self.database_url.as_ref().ok_or_else(|| {
            anyhow!(
                "no database URL: pass -d/--database-url, set DATABASE_URL, or set [database] url in {}",
                self.config_name()
            )
        })
    }

    /// The model paths, or an error telling the user how to give them.
    pub fn require_models(&self) -> Result<&[PathBuf]> {
        if self.model_paths.is_empty() {
            bail!(
                "no model files: pass --models PATH or set [models] paths in {}",
                self.config_name()
            );
        }
        Ok(&self.model_paths)
    }

    /// `path` as messages show it: relative to the working directory
    /// where it lies under it, whole otherwise.
    pub fn display_path(&self, path: &Path) -> String {
        path.strip_prefix(&self.working_dir)
            .unwrap_or(path)
            .display()
            .to_string()
    }

    /// What the introspector reads: the version table and schemas, and
    /// the `[autogen]` filters as exclusions, since an object they leave
    /// out is never compared and a feature retort cannot carry there must
    /// not fail the run.
    pub fn introspect_options(&self) -> retort_introspect::IntrospectOptions {
        let excluded = if self.filter.is_empty() {
            retort_introspect::Exclusions::default()
        } else {
            let filter = self.filter.clone();
            retort_introspect::Exclusions::new(move |schema, table, object| {
                filter.excludes(schema, table, object)
            })
        };
        retort_introspect::IntrospectOptions {
            version_table: self.version_table.name().to_string(),
            bookkeeping_tables: vec![self.version_table.progress_name()],
            schemas: self.schemas.clone(),
            excluded,
        }
    }

    fn config_name(&self) -> String {
        match &self.config_path {
            Some(path) => path.display().to_string(),
            None => CONFIG_FILE.to_string(),
        }
    }
}

/// A database URL whose `Display` hides the password, so that it can go
/// into any message. [`DatabaseUrl::expose`] gives the real text, for the
/// driver only.
#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseUrl {
    url: String,
    dialect: Dialect,
    /// The URL as messages show it: for a server, re-serialized by the
    /// `url` crate with every secret replaced by `***`.
    shown: String,
}

/// What a redacted secret reads as.
const REDACTED: &str = "***";

impl DatabaseUrl {
    /// Checks the scheme and, for a server, that the URL parses exactly as
    /// the driver will read it. No error shows the text given: one that
    /// does not parse cannot be redacted reliably.
    pub fn parse(url: &str) -> Result<Self> {
        let Some(dialect) = Dialect::from_url(url) else {
            return Err(unsupported_url(url));
        };
        let shown = match dialect {
            // A file path: there is no secret to hide, and the text stays
            // byte for byte what the user wrote.
            Dialect::Sqlite => url.to_string(),
            Dialect::Postgres | Dialect::Mysql => server_url_shown(url, dialect)?,
        };
        Ok(DatabaseUrl {
            url: url.to_string(),
            dialect,
            shown,
        })
    }

    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// The URL with its password, for the database driver only.
    pub fn expose(&self) -> &str {
        &self.url
    }
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.shown)
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DatabaseUrl({})", self.shown)
    }
}

/// The error for a URL whose scheme retort does not know. Only the scheme
/// is named: the rest may hold a password.
fn unsupported_url(url: &str) -> anyhow::Error {
    const EXPECTED: &str = "expected sqlite:PATH, postgres://… or mysql://…";
    if url.trim().is_empty() {
        return anyhow!("the database URL is empty: {EXPECTED}");
    }
    match url.split_once(':') {
        Some((scheme, _))
            if !scheme.is_empty()
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c)) =>
        {
            anyhow!("unsupported database URL scheme `{scheme}`: {EXPECTED}")
        }
        _ if !url.contains(['@', ':']) => {
            anyhow!("`{url}` is not a database URL: {EXPECTED} (a SQLite file is sqlite:{url})")
        }
        _ => anyhow!(
            "the database URL has no scheme: {EXPECTED} (the URL is not shown, since it may hold a password)"
        ),
    }
}

/// The next step for a server URL the parser refused.
const ENCODE_HINT: &str = "percent-encode `/`, `?`, `#`, `@` and `:` in the user name and password (`/` as %2F, `?` as %3F, `#` as %23, `@` as %40, `:` as %3A); the URL is not shown, since it may hold a password";

/// `url` (PostgreSQL or MySQL) as messages show it: the password and every
/// query parameter whose name contains `pass` replaced by `***`, the
/// fragment dropped. Refuses what the driver would read differently from
/// what the user meant, since such a URL cannot be redacted reliably.
fn server_url_shown(url: &str, dialect: Dialect) -> Result<String> {
    let (scheme, rest) = url.split_once(':').unwrap_or((url, ""));
    let Some(after_slashes) = rest.strip_prefix("//") else {
        bail!(
            "the {dialect} database URL must start with `{scheme}://`, as in {scheme}://user:password@host/database (the URL is not shown, since it may hold a password)"
        );
    };
    let parsed = url::Url::parse(url)
        .map_err(|err| anyhow!("invalid {dialect} database URL ({err}): {ENCODE_HINT}"))?;
    // An unencoded `/`, `?` or `#` in the password ends the host part early;
    // the rest of the password then lands in the path, query or fragment,
    // where no redaction can find it. An `@` there is the sign of it.
    let authority_end = after_slashes
        .find(['/', '?', '#'])
        .unwrap_or(after_slashes.len());
    if after_slashes[authority_end..].contains('@') {
        bail!(
            "invalid {dialect} database URL: an `@` follows the host part, so the user name or password holds an unencoded `/`, `?` or `#`: {ENCODE_HINT}"
        );
    }
    Ok(redacted(parsed))
}

/// `url` with its password, every query parameter whose name contains
/// `pass` (any case: `password`, `sslpassword`) and its fragment hidden.
fn redacted(mut url: url::Url) -> String {
    if url.password().is_some() {
        // Fails only for a URL without a host, which has no password.
        let _ = url.set_password(Some(REDACTED));
    }
    let secret = |name: &str| name.to_ascii_lowercase().contains("pass");
    if url.query_pairs().any(|(name, _)| secret(&name)) {
        let pairs: Vec<(String, String)> = url
            .query_pairs()
            .map(|(name, value)| {
                let value = if secret(&name) {
                    REDACTED.to_string()
                } else {
                    value.into_owned()
                };
                (name.into_owned(), value)
            })
            .collect();
        url.query_pairs_mut().clear().extend_pairs(pairs);
    }
    url.set_fragment(None);
    url.to_string()
}

/// A retort.toml error as `path:line:column: message`. toml's own text
/// quotes the source line, which may be `url = "…"` with a password, and
/// serde names a mistyped string's value; neither is shown.
fn toml_error(path: &Path, text: &str, err: &toml::de::Error) -> String {
    let message = hide_string_values(err.message().trim_end());
    match err.span() {
        Some(span) => {
            let before = &text[..span.start.min(text.len())];
            let line = before.matches('\n').count() + 1;
            let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
            format!("{}:{line}:{column}: {message}", path.display())
        }
        None => format!("{}: {message}", path.display()),
    }
}

/// `message` with every `string "…"` (serde's name for an unexpected
/// string value) reduced to `a string`.
fn hide_string_values(message: &str) -> String {
    const OPEN: &str = "string \"";
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    while let Some(start) = rest.find(OPEN) {
        out.push_str(&rest[..start]);
        out.push_str("a string");
        let value = &rest[start + OPEN.len()..];
        // The value is Debug-formatted: a `"` inside it is escaped.
        let mut end = value.len();
        let mut escaped = false;
        for (i, c) in value.char_indices() {
            match c {
                '\\' if !escaped => escaped = true,
                '"' if !escaped => {
                    end = i + 1;
                    break;
                }
                _ => escaped = false,
            }
        }
        rest = &value[end..];
    }
    out.push_str(rest);
    out
}

/// `url` with a relative SQLite file path made absolute against `base`;
/// other URLs, in-memory databases and absolute paths are returned as they
/// are.
fn absolute_sqlite_url(url: &str, base: &Path) -> String {
    let Some(rest) = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
    else {
        return url.to_string();
    };
    let (path, query) = match rest.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (rest, None),
    };
    if path.is_empty() || path.contains(":memory:") || Path::new(path).is_absolute() {
        return url.to_string();
    }
    let absolute = base.join(path);
    match query {
        Some(query) => format!("sqlite://{}?{query}", absolute.display()),
        None => format!("sqlite://{}", absolute.display()),
    }
}

/// Replaces `${VAR}` and `${VAR:-default}` in `value` from `lookup`.
fn interpolate(value: &str, what: &str, lookup: &dyn Fn(&str) -> Option<String>) -> Result<String> {
    let mut out = String::with_capacity(value.len());
    let mut rest = value;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after
            .find('}')
            .ok_or_else(|| anyhow!("{what}: `${{` without a closing `}}`"))?;
        let expr = &after[..end];
        let (name, default) = match expr.split_once(":-") {
            Some((name, default)) => (name, Some(default)),
            None => (expr, None),
        };
        match (lookup(name), default) {
            (Some(v), _) => out.push_str(&v),
            (None, Some(d)) => out.push_str(d),
            (None, None) => bail!(
                "{what} uses ${{{name}}}, which is not set: set the environment variable or write ${{{name}:-default}}"
            ),
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// Resolves settings from flags, the environment (through `env`) and the
/// configuration file, relative to `cwd`.
pub fn resolve(
    args: &GlobalArgs,
    cwd: &Path,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Settings> {
    let explicit = args.config.is_some();
    let config_path = match &args.config {
        Some(path) => cwd.join(path),
        None => cwd.join(CONFIG_FILE),
    };
    let (file, config_path) = if config_path.is_file() {
        let text = std::fs::read_to_string(&config_path)
            .with_context(|| format!("cannot read {}", config_path.display()))?;
        let file: ConfigFile = toml::from_str(&text)
            .map_err(|e| anyhow!("{}", toml_error(&config_path, &text, &e)))?;
        (file, Some(config_path))
    } else if explicit {
        bail!(
            "configuration file {} does not exist: check the -c/--config path or run `retort init`",
            config_path.display()
        );
    } else {
        (ConfigFile::default(), None)
    };
    let base = config_path
        .as_deref()
        .and_then(Path::parent)
        .map_or_else(|| cwd.to_path_buf(), Path::to_path_buf);
    let name = config_path
        .as_deref()
        .map_or_else(|| CONFIG_FILE.to_string(), |p| p.display().to_string());

    // A relative SQLite path given on the command line or in the
    // environment is relative to the working directory; one in retort.toml
    // to the file's folder, so that the project works from anywhere.
    let url_text = match (&args.database_url, env("DATABASE_URL"), &file.database.url) {
        (Some(url), _, _) => Some(absolute_sqlite_url(url, cwd)),
        (None, Some(url), _) if !url.is_empty() => Some(absolute_sqlite_url(&url, cwd)),
        (None, _, Some(url)) => Some(absolute_sqlite_url(
            &interpolate(url, &format!("{name}: [database] url"), env)?,
            &base,
        )),
        _ => None,
    };
    let database_url = url_text.as_deref().map(DatabaseUrl::parse).transpose()?;

    let model_paths = if !args.models.is_empty() {
        args.models.iter().map(|p| cwd.join(p)).collect()
    } else {
        let mut paths = Vec::new();
        for path in file.models.paths.iter().flatten() {
            let path = interpolate(path, &format!("{name}: [models] paths"), env)?;
            paths.push(base.join(path));
        }
        paths
    };

    let migrations_dir = match &file.migrations.dir {
        Some(dir) => base.join(interpolate(dir, &format!("{name}: [migrations] dir"), env)?),
        None => base.join("migrations"),
    };
    let version_table = match &file.database.version_table {
        Some(table) => interpolate(table, &format!("{name}: [database] version_table"), env)?,
        None => DEFAULT_VERSION_TABLE.to_string(),
    };
    // The runner's own check, so a name accepted here is one it accepts.
    let version_table = VersionTable::new(&version_table).map_err(|_| {
        anyhow!(
            "{name}: [database] version_table `{version_table}` must be a plain identifier (letters, digits, _, not starting with a digit, at most 63 characters)"
        )
    })?;

    let mut schemas = Vec::new();
    for schema in file.database.schemas.iter().flatten() {
        schemas.push(interpolate(
            schema,
            &format!("{name}: [database] schemas"),
            env,
        )?);
    }
    let lock = match &file.database.lock {
        Some(lock) => interpolate(lock, &format!("{name}: [database] lock"), env)?,
        None => "session".to_string(),
    };
    let lock =
        LockMode::from_name(&lock).map_err(|err| anyhow!("{name}: [database] lock: {err}"))?;
    let (schemas, filter) = resolve_filter(&name, &file.autogen, schemas, database_url.as_ref())?;
    let naming = resolve_naming(&name, &file.naming)?;
    let lock_timeout = file
        .autogen
        .lock_timeout
        .as_deref()
        .map(|value| check_lock_timeout(&name, value))
        .transpose()?;
    let renames = match &file.autogen.renames {
        Some(entries) => crate::renames::config_renames(&name, entries)?,
        None => Vec::new(),
    };

    Ok(Settings {
        working_dir: cwd.to_path_buf(),
        config_path,
        database_url,
        model_paths,
        migrations_dir,
        version_table,
        schemas,
        lock,
        filter,
        naming,
        autogen_verify: file.autogen.verify.unwrap_or(false),
        online: file.autogen.online.unwrap_or(false),
        lock_timeout,
        renames,
    })
}

/// A PostgreSQL duration for `lock_timeout`: a number and an optional
/// unit (`us`, `ms`, `s`, `min`, `h`, `d`). Checked here because it is
/// written into every generated revision.
fn check_lock_timeout(name: &str, value: &str) -> Result<String> {
    let value = value.trim();
    let digits = value.trim_end_matches(|c: char| c.is_ascii_alphabetic());
    let unit = &value[digits.len()..];
    let number = !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit());
    if !number || !["", "us", "ms", "s", "min", "h", "d"].contains(&unit) {
        bail!(
            "{name}: [autogen] lock_timeout `{value}` is not a duration: write a number and a unit, e.g. \"5s\" or \"500ms\""
        );
    }
    Ok(value.to_string())
}

/// The schemas to read and the `[autogen]` filter. `include_schemas`
/// narrows `[database] schemas` (each must be one of them); without
/// `[database] schemas` it is also the list the introspector reads, its
/// first entry the default schema.
fn resolve_filter(
    name: &str,
    section: &AutogenSection,
    schemas: Vec<String>,
    url: Option<&DatabaseUrl>,
) -> Result<(Vec<String>, SchemaFilter)> {
    let include = section.include_schemas.clone().unwrap_or_default();
    if !include.is_empty()
        && let Some(url) = url
        && url.dialect() != Dialect::Postgres
    {
        bail!(
            "{name}: [autogen] include_schemas is for PostgreSQL; {} has no schemas to choose from: remove the key",
            url.dialect()
        );
    }
    if let Some(missing) = include
        .iter()
        .find(|s| !schemas.is_empty() && !schemas.contains(s))
    {
        bail!(
            "{name}: [autogen] include_schemas names `{missing}`, which [database] schemas does not list: add it there (retort reads only those schemas) or remove it"
        );
    }
    let schemas = if schemas.is_empty() {
        include.clone()
    } else {
        schemas
    };
    let filter = SchemaFilter::new(
        name,
        include,
        schemas.first().cloned(),
        section.exclude_tables.as_deref().unwrap_or_default(),
        section.exclude_objects.as_deref().unwrap_or_default(),
        url.is_some_and(|url| names_ignore_case(url.dialect())),
    )?;
    Ok((schemas, filter))
}

/// Whether `dialect` compares every kind of name ignoring case (SQLite),
/// so that filter globs must too. MySQL's table names depend on a server
/// setting the configuration cannot see; the filter runs on models spelled
/// as the database spells them, which covers the objects both have.
fn names_ignore_case(dialect: Dialect) -> bool {
    retort_schema::NameRules::new(dialect).ignores_every_case()
}

/// Parses the `[naming]` templates; an error names the key and the
/// placeholder.
fn resolve_naming(name: &str, section: &NamingSection) -> Result<NamingConvention> {
    let parse = |kind, text: &Option<String>| {
        text.as_deref()
            .map(|t| Template::parse(kind, t))
            .transpose()
            .map_err(|e| anyhow!("{name}: {e}"))
    };
    Ok(NamingConvention {
        index: parse(NamedKind::Index, &section.index)?,
        unique: parse(NamedKind::Unique, &section.unique)?,
        foreign_key: parse(NamedKind::ForeignKey, &section.foreign_key)?,
        check: parse(NamedKind::Check, &section.check)?,
        primary_key: parse(NamedKind::PrimaryKey, &section.primary_key)?,
    })
}

/// The retort.toml that `retort init` writes.
pub fn init_config(dialect: Dialect) -> String {
    let url = match dialect {
        Dialect::Sqlite => "sqlite://app.db",
        Dialect::Postgres => {
            "postgres://${PGUSER:-postgres}@${PGHOST:-localhost}/${PGDATABASE:-app}"
        }
        Dialect::Mysql => {
            "mysql://${MYSQL_USER:-root}@${MYSQL_HOST:-localhost}/${MYSQL_DATABASE:-app}"
        }
    };
    format!(
        r#"# retort configuration. Values may use ${{VAR}} and ${{VAR:-default}}.
# The database URL can also come from -d/--database-url or DATABASE_URL.

[database]
url = "{url}"
# version_table = "retort_version"
# PostgreSQL: the schemas retort manages (default: the connection's current schema),
# and how concurrent `retort upgrade` runs are kept apart: "session" (an advisory
# lock held for the run) or "transaction" (one per revision; use it behind
# transaction-pooling proxies such as PgBouncer).
# schemas = ["public"]
# lock = "session"

[models]
# SQL DDL files (or folders of .sql files) declaring the tables.
paths = ["schema.sql"]

[migrations]
# Revision files are written to <dir>/versions/.
dir = "migrations"

# [autogen]
# exclude_tables = ["spatial_ref_sys", "tmp_*"]   # globs; never diffed, either way
# exclude_objects = ["users.ix_legacy"]           # table.index or table.constraint
# include_schemas = ["public"]                    # PostgreSQL
# online = true        # PostgreSQL: CONCURRENTLY, NOT VALID + VALIDATE (as --online)
# lock_timeout = "5s"  # PostgreSQL: SET LOCAL lock_timeout in each transaction

# [naming]   # names for constraints the models leave unnamed
# index = "ix_{{table}}_{{columns}}"
# unique = "uq_{{table}}_{{columns}}"
# foreign_key = "fk_{{table}}_{{columns}}_{{referred_table}}"
# check = "ck_{{table}}_{{constraint_hash}}"
# primary_key = "pk_{{table}}"
"#
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `retort.toml` holding `database` as its `[database]` section,
    /// resolved for `retort current`.
    fn resolved_with(database: &str) -> Result<Settings> {
        use clap::Parser;
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join(CONFIG_FILE),
            format!("[database]\nurl = \"sqlite://db.sqlite\"\n{database}\n"),
        )
        .unwrap();
        let cli = crate::args::Cli::try_parse_from(["retort", "current"]).unwrap();
        resolve(&cli.global, dir.path(), &|_| None)
    }

    #[test]
    fn the_version_table_is_refused_where_the_runner_would_refuse_it() {
        let too_long = format!("version_table = \"{}\"", "t".repeat(64));
        for database in [
            "version_table = \"1versions\"",
            "version_table = \"my-versions\"",
            too_long.as_str(),
        ] {
            let err = resolved_with(database).unwrap_err().to_string();
            assert!(
                err.contains("must be a plain identifier"),
                "{database}: {err}"
            );
        }
        let settings = resolved_with("version_table = \"app_versions\"").unwrap();
        assert_eq!(settings.version_table.name(), "app_versions");
    }

    #[test]
    fn paths_show_relative_to_the_given_working_directory() {
        let settings = resolved_with("").unwrap();
        let inside = settings.working_dir.join("migrations/versions/a_b.sql");
        assert_eq!(
            settings.display_path(&inside),
            Path::new("migrations/versions/a_b.sql")
                .display()
                .to_string()
        );
        let outside = Path::new("/elsewhere/a_b.sql");
        assert_eq!(
            settings.display_path(outside),
            outside.display().to_string()
        );
    }

    #[test]
    fn the_lock_mode_is_checked_when_the_settings_are_resolved() {
        let err = resolved_with("lock = \"table\"").unwrap_err().to_string();
        assert!(
            err.contains("[database] lock: invalid lock mode `table`"),
            "{err}"
        );
        let settings = resolved_with("lock = \"transaction\"").unwrap();
        assert_eq!(settings.lock, LockMode::Transaction);
    }

    /// The message for `url`, which must not hold `secret`.
    fn refused(url: &str, secret: &str) -> String {
        let err = DatabaseUrl::parse(url).unwrap_err().to_string();
        assert!(!err.contains(secret), "{url}: {err}");
        err
    }

    #[test]
    fn userinfo_passwords_are_redacted() {
        let url = DatabaseUrl::parse("postgres://app:s3cret@db:5432/app").unwrap();
        assert_eq!(url.to_string(), "postgres://app:***@db:5432/app");
        assert_eq!(url.expose(), "postgres://app:s3cret@db:5432/app");
        assert_eq!(
            format!("{url:?}"),
            "DatabaseUrl(postgres://app:***@db:5432/app)"
        );
        assert_eq!(
            DatabaseUrl::parse("postgres://u:p%40ss@h/db")
                .unwrap()
                .to_string(),
            "postgres://u:***@h/db"
        );
        // An unencoded `@` in the password: the last one ends it.
        assert_eq!(
            DatabaseUrl::parse("mysql://root:a@b@h/db")
                .unwrap()
                .to_string(),
            "mysql://root:***@h/db"
        );
        assert_eq!(
            DatabaseUrl::parse("postgres://u:a:b@h/db")
                .unwrap()
                .to_string(),
            "postgres://u:***@h/db"
        );
    }

    #[test]
    fn query_parameters_naming_a_password_are_redacted() {
        assert_eq!(
            DatabaseUrl::parse("mysql://root@localhost/test?password=hunter2&ssl=true")
                .unwrap()
                .to_string(),
            "mysql://root@localhost/test?password=***&ssl=true"
        );
        assert_eq!(
            DatabaseUrl::parse("postgres://app@h/db?sslmode=require&sslpassword=Secret3")
                .unwrap()
                .to_string(),
            "postgres://app@h/db?sslmode=require&sslpassword=***"
        );
        assert_eq!(
            DatabaseUrl::parse("postgres://h/db?SSLPassWord=x&PASS=y#frag-secret")
                .unwrap()
                .to_string(),
            "postgres://h/db?SSLPassWord=***&PASS=***"
        );
        // Percent-encoded names are read as the driver reads them.
        assert_eq!(
            DatabaseUrl::parse("postgres://h/db?ssl%70assword=Secret")
                .unwrap()
                .to_string(),
            "postgres://h/db?sslpassword=***"
        );
    }

    #[test]
    fn a_url_without_slashes_is_refused_unshown() {
        let err = refused("postgres:Secret4@host/db", "Secret4");
        assert!(err.contains("must start with `postgres://`"), "{err}");
        refused("mysql:root:Secret4@host/db", "Secret4");
    }

    #[test]
    fn an_unencoded_slash_question_mark_or_hash_in_the_password_is_refused_unshown() {
        for url in [
            "postgres://app:ab/Secret1@host/db",
            "postgres://app:ab?Secret1@host/db",
            "postgres://app:ab#Secret1@host/db",
            // The part before the `/` reads as a port: the URL parses, and
            // the rest of the password would be the database name.
            "postgres://app:12/Secret1@host/db",
            "postgres://app:12?x=Secret1@host/db",
            "mysql://app:12#Secret1@host/db",
        ] {
            let err = refused(url, "Secret1");
            assert!(err.contains("percent-encode"), "{url}: {err}");
        }
    }

    #[test]
    fn unsupported_schemes_name_only_the_scheme() {
        let err = refused("oracle://u:Secret@h/db", "Secret");
        assert!(
            err.contains("unsupported database URL scheme `oracle`"),
            "{err}"
        );
        refused("u:Secret@h/db", "Secret");
        refused("//u:Secret@h/db", "Secret");
        let err = refused("app.db", "Secret");
        assert!(err.contains("sqlite:app.db"), "{err}");
        let err = refused("", "Secret");
        assert!(err.contains("the database URL is empty"), "{err}");
    }

    #[test]
    fn sqlite_urls_are_kept_as_written() {
        for text in [
            "sqlite:foo.db",
            "sqlite://app.db",
            "sqlite:///abs/path with space.db",
            "sqlite::memory:",
            "sqlite:data/app.db?mode=rwc",
        ] {
            let url = DatabaseUrl::parse(text).unwrap();
            assert_eq!(url.dialect(), Dialect::Sqlite);
            assert_eq!(url.expose(), text);
            assert_eq!(url.to_string(), text);
        }
    }

    #[test]
    fn toml_errors_show_line_and_column_but_not_the_line() {
        let text = "[database]\nurl = \"postgres://app:Secret7@h/db\" oops\n";
        let err = toml::from_str::<ConfigFile>(text).unwrap_err();
        let shown = toml_error(Path::new("retort.toml"), text, &err);
        assert!(shown.starts_with("retort.toml:2:"), "{shown}");
        assert!(!shown.contains("Secret7"), "{shown}");
        // A string where a table belongs: serde would name the value.
        let text = "database = \"postgres://app:Secret8@h/db\"\n";
        let err = toml::from_str::<ConfigFile>(text).unwrap_err();
        let shown = toml_error(Path::new("retort.toml"), text, &err);
        assert!(shown.starts_with("retort.toml:1:"), "{shown}");
        assert!(!shown.contains("Secret8"), "{shown}");
        assert!(shown.contains("invalid type: a string"), "{shown}");
    }

    #[test]
    fn hide_string_values_keeps_the_rest() {
        assert_eq!(
            hide_string_values(r#"invalid type: string "a\"b", expected struct X"#),
            "invalid type: a string, expected struct X"
        );
        assert_eq!(hide_string_values("unknown field `x`"), "unknown field `x`");
    }

    #[test]
    fn relative_sqlite_paths_become_absolute() {
        let base = Path::new("/srv/app");
        assert_eq!(
            absolute_sqlite_url("sqlite://app.db", base),
            "sqlite:///srv/app/app.db"
        );
        assert_eq!(
            absolute_sqlite_url("sqlite:data/app.db?mode=rwc", base),
            "sqlite:///srv/app/data/app.db?mode=rwc"
        );
        assert_eq!(
            absolute_sqlite_url("sqlite::memory:", base),
            "sqlite::memory:"
        );
        assert_eq!(
            absolute_sqlite_url("sqlite:///x.db", base),
            "sqlite:///x.db"
        );
        assert_eq!(
            absolute_sqlite_url("postgres://h/db", base),
            "postgres://h/db"
        );
    }

    #[test]
    fn lock_timeouts_are_durations() {
        assert_eq!(check_lock_timeout("f", "5s").unwrap(), "5s");
        assert_eq!(check_lock_timeout("f", "250ms").unwrap(), "250ms");
        assert_eq!(check_lock_timeout("f", "1000").unwrap(), "1000");
        for bad in ["", "s", "5 s", "5sec", "5s'; DROP TABLE x; --", "1.5s"] {
            let err = check_lock_timeout("f", bad).unwrap_err().to_string();
            assert!(err.contains("lock_timeout"), "{bad}: {err}");
        }
    }

    #[test]
    fn interpolate_reads_variables_and_defaults() {
        let env = |name: &str| (name == "HOST").then(|| "db".to_string());
        assert_eq!(
            interpolate("pg://${HOST}/${DB:-app}", "url", &env).unwrap(),
            "pg://db/app"
        );
        let err = interpolate("pg://${NOPE}/x", "retort.toml: [database] url", &env).unwrap_err();
        assert!(err.to_string().contains("${NOPE}"), "{err}");
    }
}
