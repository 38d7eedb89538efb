//! The markdown table the bench prints, one per backend.

use std::fmt;
use std::time::Duration;

/// The figures for one schema size. `None` prints as `n/a`, with the
/// reason in `notes`.
#[derive(Debug, Default)]
pub struct Row {
    pub tables: usize,
    /// The bulk catalog queries through the database's shell.
    pub floor: Option<Duration>,
    /// `retort check`, end to end, as a child process.
    pub check: Option<Duration>,
    /// In-process: reading the live catalog into the IR.
    pub introspect: Option<Duration>,
    /// In-process: loading the model DDL into the IR.
    pub load_models: Option<Duration>,
    /// In-process: `diff(live, models)`.
    pub diff: Option<Duration>,
    /// Statements the introspector sent.
    pub queries: Option<usize>,
    /// `retort check`'s peak resident set size.
    pub peak_rss_kib: Option<u64>,
    pub notes: Vec<String>,
}

pub struct Table {
    backend: &'static str,
    shell: &'static str,
    rows: Vec<Row>,
}

impl Table {
    pub fn new(backend: &'static str, shell: &'static str) -> Self {
        Table {
            backend,
            shell,
            rows: Vec::new(),
        }
    }

    pub fn push(&mut self, row: Row) {
        self.rows.push(row);
    }
}

fn seconds(value: Option<Duration>) -> String {
    match value {
        Some(d) if d < Duration::from_secs(1) => format!("{:.0} ms", d.as_secs_f64() * 1e3),
        Some(d) => format!("{:.2} s", d.as_secs_f64()),
        None => "n/a".into(),
    }
}

fn or_na<T: ToString>(value: Option<T>) -> String {
    value.map_or_else(|| "n/a".into(), |v| v.to_string())
}

impl fmt::Display for Table {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "### {}\n", self.backend)?;
        writeln!(
            f,
            "| tables | floor ({}) | retort check | ratio | introspect | load models | diff | queries | peak RSS |",
            self.shell
        )?;
        writeln!(f, "|---:|---:|---:|---:|---:|---:|---:|---:|---:|")?;
        for row in &self.rows {
            let ratio = match (row.check, row.floor) {
                (Some(check), Some(floor)) if !floor.is_zero() => {
                    format!("{:.2}×", check.as_secs_f64() / floor.as_secs_f64())
                }
                _ => "n/a".into(),
            };
            let rss = row
                .peak_rss_kib
                .map(|kib| format!("{:.1} MB", kib as f64 / 1024.0));
            writeln!(
                f,
                "| {} | {} | {} | {} | {} | {} | {} | {} | {} |",
                row.tables,
                seconds(row.floor),
                seconds(row.check),
                ratio,
                seconds(row.introspect),
                seconds(row.load_models),
                seconds(row.diff),
                or_na(row.queries),
                or_na(rss),
            )?;
        }
        let notes: Vec<(usize, &String)> = self
            .rows
            .iter()
            .flat_map(|row| row.notes.iter().map(move |note| (row.tables, note)))
            .collect();
        if !notes.is_empty() {
            writeln!(f)?;
            for (tables, note) in notes {
                writeln!(f, "- {tables} tables: {note}")?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_figures_print_as_na_with_their_reason() {
        let mut table = Table::new("PostgreSQL", "psql");
        table.push(Row {
            tables: 100,
            floor: Some(Duration::from_millis(80)),
            check: Some(Duration::from_millis(100)),
            notes: vec!["introspector not available".into()],
            ..Row::default()
        });
        let text = table.to_string();
        assert!(
            text.contains("| 100 | 80 ms | 100 ms | 1.25× | n/a | n/a | n/a | n/a | n/a |"),
            "{text}"
        );
        assert!(
            text.contains("- 100 tables: introspector not available"),
            "{text}"
        );
    }
}
