//! A deterministic schema generator: the same seed and size give the same
//! DDL, byte for byte, so figures from two runs (or two machines) describe
//! the same schema.
//!
//! The mix follows the benchmark issue: 8–12 columns per table of mixed
//! types, defaults (including a string with a quote, `'it''s'`, which
//! crashes Alembic on PostgreSQL), NOT NULLs, unique constraints, 1–3
//! indexes per table (a plain, a multi-column and a partial one), about one
//! foreign key per table to an earlier table (so the DDL loads in order),
//! CHECK constraints on a third of the tables and, where the dialect has
//! them, table and column comments.

use retort_schema::Dialect;
use std::fmt::Write as _;

/// The seed every figure in docs/performance.md was measured with.
pub const DEFAULT_SEED: u64 = 0x5eed_2026;

/// A 64-bit linear congruential generator (Knuth's MMIX constants). Plenty
/// for picking a column mix, and it keeps the output stable across crate
/// versions, which a `rand` upgrade would not promise.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        // The high bits of an LCG are the well-mixed ones.
        self.0 >> 33
    }

    /// A number in `low..=high`.
    fn between(&mut self, low: u64, high: u64) -> u64 {
        low + self.next() % (high - low + 1)
    }

    /// True with probability `percent` / 100.
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

/// The column types the generator mixes, spelled per dialect by
/// [`spell`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Integer,
    BigInt,
    Varchar(u16),
    Text,
    Boolean,
    Numeric(u8, u8),
    Timestamp,
    TimestampTz,
    Date,
    Uuid,
    Json,
}

fn spell(kind: Kind, dialect: Dialect) -> String {
    match (kind, dialect) {
        (Kind::Integer, _) => "integer".into(),
        (Kind::BigInt, _) => "bigint".into(),
        (Kind::Varchar(n), _) => format!("varchar({n})"),
        (Kind::Text, _) => "text".into(),
        (Kind::Boolean, _) => "boolean".into(),
        (Kind::Numeric(p, s), _) => format!("numeric({p},{s})"),
        (Kind::Timestamp, Dialect::Mysql) => "datetime".into(),
        (Kind::Timestamp, _) => "timestamp".into(),
        (Kind::TimestampTz, Dialect::Postgres) => "timestamptz".into(),
        (Kind::TimestampTz, Dialect::Mysql) => "timestamp".into(),
        (Kind::TimestampTz, _) => "timestamp".into(),
        (Kind::Date, _) => "date".into(),
        (Kind::Uuid, Dialect::Postgres) => "uuid".into(),
        (Kind::Uuid, _) => "char(36)".into(),
        (Kind::Json, Dialect::Postgres) => "jsonb".into(),
        (Kind::Json, Dialect::Mysql) => "json".into(),
        (Kind::Json, _) => "text".into(),
    }
}

/// The kinds a generated column may take in `dialect` (no uuid/jsonb where
/// the dialect has no such type, so the mix stays meaningful).
fn kinds(dialect: Dialect) -> Vec<Kind> {
    let mut kinds = vec![
        Kind::Integer,
        Kind::BigInt,
        Kind::Varchar(40),
        Kind::Varchar(255),
        Kind::Text,
        Kind::Boolean,
        Kind::Numeric(12, 2),
        Kind::Timestamp,
        Kind::TimestampTz,
        Kind::Date,
    ];
    if dialect == Dialect::Postgres {
        kinds.extend([Kind::Uuid, Kind::Json]);
    }
    kinds
}

/// A default that suits `kind`, or `None`.
fn default_for(kind: Kind, rng: &mut Lcg) -> Option<&'static str> {
    match kind {
        Kind::Integer | Kind::BigInt => Some(["0", "1", "42", "-1"][rng.between(0, 3) as usize]),
        Kind::Numeric(..) => Some(["0", "1.50", "100"][rng.between(0, 2) as usize]),
        Kind::Varchar(_) | Kind::Text => {
            Some(["'it''s'", "''", "'new'"][rng.between(0, 2) as usize])
        }
        Kind::Boolean => Some(["TRUE", "FALSE"][rng.between(0, 1) as usize]),
        Kind::Timestamp | Kind::TimestampTz => Some("CURRENT_TIMESTAMP"),
        Kind::Date | Kind::Uuid | Kind::Json => None,
    }
}

/// Whether `kind` can carry a plain b-tree index in every dialect (MySQL
/// cannot index text/json without a prefix length).
fn indexable(kind: Kind) -> bool {
    !matches!(kind, Kind::Text | Kind::Json)
}

/// The name of table `i`.
pub fn table_name(i: usize) -> String {
    format!("t{i:05}")
}

/// Model DDL for `tables` tables in `dialect`: one `CREATE TABLE` per table
/// followed by its indexes and comments, tables in dependency order.
pub fn schema_ddl(tables: usize, dialect: Dialect, seed: u64) -> String {
    let mut rng = Lcg(seed ^ tables as u64);
    let kinds = kinds(dialect);
    let mut out = String::new();
    for i in 0..tables {
        table_ddl(&mut out, i, dialect, &kinds, &mut rng);
    }
    out
}

fn table_ddl(out: &mut String, i: usize, dialect: Dialect, kinds: &[Kind], rng: &mut Lcg) {
    let table = table_name(i);
    let mut lines = vec!["id bigint PRIMARY KEY".to_string()];
    // (name, kind, nullable) of the generated non-key columns.
    let mut columns: Vec<(String, Kind, bool)> = Vec::new();

    let mut foreign_key = None;
    let parent = (i > 0 && rng.chance(95)).then(|| rng.between(0, i as u64 - 1) as usize);
    if let Some(parent) = parent {
        let action = match rng.between(0, 3) {
            0 => " ON DELETE CASCADE",
            1 => " ON DELETE SET NULL",
            _ => "",
        };
        // MySQL parses a column-level REFERENCES and ignores it (MariaDB
        // honours it since 10.5): the table-level form means a foreign key
        // on every server.
        if dialect == Dialect::Mysql {
            lines.push("parent_id bigint".to_string());
            foreign_key = Some(format!(
                "FOREIGN KEY (parent_id) REFERENCES {}(id){action}",
                table_name(parent)
            ));
        } else {
            lines.push(format!(
                "parent_id bigint REFERENCES {}(id){action}",
                table_name(parent)
            ));
        }
        columns.push(("parent_id".into(), Kind::BigInt, true));
    }

    let total = rng.between(8, 12) as usize;
    let mut n = 0;
    while lines.len() < total {
        let kind = kinds[rng.between(0, kinds.len() as u64 - 1) as usize];
        let name = format!("c{n:02}");
        n += 1;
        let mut line = format!("{name} {}", spell(kind, dialect));
        let not_null = rng.chance(40);
        if not_null {
            line.push_str(" NOT NULL");
        }
        // A NOT NULL column gets a default more often, as real schemas do.
        if rng.chance(if not_null { 70 } else { 25 })
            && let Some(default) = default_for(kind, rng)
        {
            write!(line, " DEFAULT {default}").ok();
        }
        lines.push(line);
        columns.push((name, kind, !not_null));
    }

    // MySQL's comments are clauses of the column and the table.
    let mysql_comments = dialect == Dialect::Mysql;
    let mut table_comment = None;
    if mysql_comments {
        if rng.chance(50) {
            table_comment = Some(format!("Table {i}''s rows"));
        }
        if !columns.is_empty() && rng.chance(30) {
            let name = &columns[0].0;
            // lines[1] is the first generated column (lines[0] is the key).
            write!(lines[1], " COMMENT 'Column {name}'").ok();
        }
    }

    let indexable: Vec<&(String, Kind, bool)> =
        columns.iter().filter(|(_, k, _)| indexable(*k)).collect();
    if rng.chance(30)
        && let Some((name, ..)) = indexable.last()
    {
        lines.push(format!("CONSTRAINT uq_{table}_{name} UNIQUE ({name})"));
    }
    if rng.chance(33)
        && let Some((name, ..)) = columns
            .iter()
            .find(|(_, k, _)| matches!(k, Kind::Integer | Kind::Numeric(..)))
    {
        lines.push(format!("CONSTRAINT ck_{table}_{name} CHECK ({name} >= 0)"));
    }

    lines.extend(foreign_key);
    let options = table_comment.map_or_else(String::new, |c| format!(" COMMENT='{c}'"));
    writeln!(
        out,
        "CREATE TABLE {table} (\n    {}\n){options};",
        lines.join(",\n    ")
    )
    .ok();

    // 1–3 indexes: a plain one (on the FK column where there is one), then
    // a multi-column one, then a partial one where the dialect has them.
    let wanted = rng.between(1, 3);
    let first = columns
        .iter()
        .find(|(name, ..)| name == "parent_id")
        .or(indexable.first().copied());
    if let Some((name, ..)) = first {
        writeln!(out, "CREATE INDEX ix_{table}_{name} ON {table} ({name});").ok();
    }
    if wanted >= 2 && indexable.len() >= 3 {
        let (a, b) = (&indexable[1].0, &indexable[2].0);
        writeln!(
            out,
            "CREATE INDEX ix_{table}_{a}_{b} ON {table} ({a}, {b} DESC);"
        )
        .ok();
    }
    if wanted >= 3
        && dialect.partial_index()
        && let Some((name, ..)) = indexable.iter().rev().find(|(_, _, nullable)| *nullable)
    {
        writeln!(
            out,
            "CREATE INDEX ix_{table}_{name}_partial ON {table} ({name}) WHERE {name} IS NOT NULL;"
        )
        .ok();
    }

    if dialect.comments() && !mysql_comments {
        if rng.chance(50) {
            writeln!(out, "COMMENT ON TABLE {table} IS 'Table {i}''s rows';").ok();
        }
        if let Some((name, ..)) = columns.first()
            && rng.chance(30)
        {
            writeln!(out, "COMMENT ON COLUMN {table}.{name} IS 'Column {name}';").ok();
        }
    }
    out.push('\n');
}

#[cfg(test)]
mod tests {
    use super::*;
    use retort_diff::{DiffOptions, diff};

    fn load(tables: usize, dialect: Dialect) -> retort_schema::Schema {
        let ddl = schema_ddl(tables, dialect, DEFAULT_SEED);
        match retort_models::load_str(&ddl, "generated.sql", dialect) {
            Ok(schema) => schema,
            Err(err) => panic!("generated {dialect} DDL does not load: {err:?}\n{ddl}"),
        }
    }

    #[test]
    fn generated_ddl_loads_and_diffs_empty_against_itself() {
        for dialect in [Dialect::Sqlite, Dialect::Postgres, Dialect::Mysql] {
            let schema = load(20, dialect);
            assert_eq!(schema.tables.len(), 20, "{dialect}");
            let plan = diff(&schema, &schema, &DiffOptions { dialect });
            assert!(plan.is_empty(), "{dialect}: {:?}", plan.ops());
        }
    }

    #[test]
    fn generated_tables_have_the_issue_mix() {
        let schema = load(20, Dialect::Postgres);
        for table in &schema.tables {
            assert!((8..=12).contains(&table.columns.len()), "{}", table.name);
            assert!(!table.indexes.is_empty(), "{} has no index", table.name);
        }
        let fks: usize = schema.tables.iter().map(|t| t.foreign_keys.len()).sum();
        assert!(fks >= 15, "about one FK per table, got {fks}");
        let ddl = schema_ddl(20, Dialect::Postgres, DEFAULT_SEED);
        for needle in [
            "'it''s'",
            "COMMENT ON",
            "WHERE",
            "DESC",
            "CHECK",
            "UNIQUE",
            "jsonb",
        ] {
            assert!(ddl.contains(needle), "no {needle} in the generated DDL");
        }
    }

    #[test]
    fn same_seed_same_ddl() {
        assert_eq!(
            schema_ddl(50, Dialect::Sqlite, 7),
            schema_ddl(50, Dialect::Sqlite, 7)
        );
        assert_ne!(
            schema_ddl(50, Dialect::Sqlite, 7),
            schema_ddl(50, Dialect::Sqlite, 8)
        );
    }
}
