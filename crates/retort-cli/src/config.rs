//! retort.toml, and the resolve step that turns command-line flags, the
//! environment and the file into validated [`Settings`] before any IO.
//!
//! Precedence: `-d/--database-url` > `DATABASE_URL` > `[database] url`;
//! `--models` > `[models] paths`. String values may use `${VAR}` and
//! `${VAR:-default}`. Relative paths in the file are relative to the file's
//! folder, so commands work from anywhere in the project.

use anyhow::{Context, Result, anyhow, bail};
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
    /// The configuration file, when one was read.
    pub config_path: Option<PathBuf>,
    /// Where the database lives; `None` where neither flag, environment nor
    /// file names one (commands that need it say so).
    pub database_url: Option<DatabaseUrl>,
    /// Model files and folders.
    pub model_paths: Vec<PathBuf>,
    /// The migrations folder; revision files live in its `versions/`.
    pub migrations_dir: PathBuf,
    pub version_table: String,
    /// PostgreSQL schemas to manage; empty is the connection's current one.
    pub schemas: Vec<String>,
    /// The runner's lock mode (`session` or `transaction`).
    pub lock: String,
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
}

impl DatabaseUrl {
    /// Checks the scheme; the error shows the URL redacted.
    pub fn parse(url: &str) -> Result<Self> {
        let dialect = Dialect::from_url(url).ok_or_else(|| {
            anyhow!(
                "unsupported database URL `{}`: expected sqlite://, postgres:// or mysql://",
                redact(url)
            )
        })?;
        Ok(DatabaseUrl {
            url: url.to_string(),
            dialect,
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
        f.write_str(&redact(&self.url))
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DatabaseUrl({})", redact(&self.url))
    }
}

/// `url` with the password of its user-info part and any `password=` query
/// parameter replaced by `***`.
pub fn redact(url: &str) -> String {
    let mut out = url.to_string();
    if let Some(scheme_end) = out.find("://") {
        let rest_start = scheme_end + 3;
        let authority_end = out[rest_start..]
            .find(['/', '?'])
            .map_or(out.len(), |i| rest_start + i);
        if let Some(at) = out[rest_start..authority_end].rfind('@') {
            let userinfo = &out[rest_start..rest_start + at];
            if let Some(colon) = userinfo.find(':') {
                let start = rest_start + colon + 1;
                out.replace_range(start..rest_start + at, "***");
            }
        }
    }
    if let Some(query_start) = out.find('?') {
        let (head, query) = out.split_at(query_start + 1);
        let redacted: Vec<String> = query
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some((key, _)) if key.eq_ignore_ascii_case("password") => format!("{key}=***"),
                _ => pair.to_string(),
            })
            .collect();
        out = format!("{head}{}", redacted.join("&"));
    }
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
            .map_err(|e| anyhow!("{}: {}", config_path.display(), e.to_string().trim_end()))?;
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
    if version_table.is_empty()
        || !version_table
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_')
    {
        bail!(
            "{name}: [database] version_table `{version_table}` must be a plain identifier (letters, digits, _)"
        );
    }

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

    #[test]
    fn redact_hides_passwords_in_userinfo_and_query() {
        assert_eq!(
            redact("postgres://app:s3cret@db:5432/app"),
            "postgres://app:***@db:5432/app"
        );
        assert_eq!(
            redact("mysql://root@localhost/test?password=hunter2&ssl=true"),
            "mysql://root@localhost/test?password=***&ssl=true"
        );
        assert_eq!(redact("sqlite://app.db"), "sqlite://app.db");
        assert_eq!(redact("postgres://u:p%40ss@h/db"), "postgres://u:***@h/db");
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
