//! A rendered revision section and its text.

use retort_diff::Hazard;

/// The SQL of a revision section: steps in order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Script {
    pub steps: Vec<Step>,
}

/// One op (or one merged SQLite rebuild) as SQL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// The hazards of the op(s), in order, without duplicates.
    pub hazards: Vec<Hazard>,
    /// Complete statements, without the trailing `;`.
    pub statements: Vec<String>,
    /// A note for the reader, e.g. why a table is rebuilt.
    pub comment: Option<String>,
    /// Whether the step runs inside the revision's transaction. `false`
    /// for statements a database refuses (or cannot use the result of)
    /// inside a transaction block, like PostgreSQL's
    /// `ALTER TYPE … ADD VALUE`; such statements are written to be
    /// idempotent (`IF NOT EXISTS`), since a later failure cannot roll
    /// them back.
    pub transaction: bool,
}

/// The directive lines of the revision-file format that open a segment run
/// outside any transaction (each statement in autocommit) and one run in a
/// transaction.
pub const TRANSACTION_OFF: &str = "-- retort:transaction off";
/// See [`TRANSACTION_OFF`].
pub const TRANSACTION_ON: &str = "-- retort:transaction on";

impl Script {
    /// The script as text: per step, `-- hazard: <code>: <message>` lines,
    /// an optional `-- <comment>` line, then each statement and `;`; steps
    /// separated by a blank line.
    ///
    /// Steps run in order; each run of steps outside the transaction is
    /// opened by a [`TRANSACTION_OFF`] line, and each run of transactional
    /// steps after one by a [`TRANSACTION_ON`] line. A script with no step
    /// outside the transaction has no directive (one transactional
    /// segment, the format's default).
    pub fn to_sql(&self) -> String {
        let mut runs: Vec<(bool, Vec<&Step>)> = Vec::new();
        for step in &self.steps {
            match runs.last_mut() {
                Some((transaction, steps)) if *transaction == step.transaction => steps.push(step),
                _ => runs.push((step.transaction, vec![step])),
            }
        }
        let mut parts = Vec::with_capacity(runs.len());
        for (at, (transaction, steps)) in runs.iter().enumerate() {
            let blocks = blocks_sql(steps);
            parts.push(match (at, transaction) {
                (0, true) => blocks,
                (_, true) => format!("{TRANSACTION_ON}\n{blocks}"),
                (_, false) => format!("{TRANSACTION_OFF}\n{blocks}"),
            });
        }
        parts.join("\n")
    }
}

/// `text` for a `--` comment line: a line break in it (a name may hold
/// one) would end the comment and make the rest of the name SQL, so breaks
/// are written `\n` / `\r`.
fn one_line(text: &str) -> String {
    text.replace('\r', "\\r").replace('\n', "\\n")
}

fn blocks_sql(steps: &[&Step]) -> String {
    let mut blocks = Vec::with_capacity(steps.len());
    for step in steps {
        let mut block = String::new();
        for hazard in &step.hazards {
            block.push_str(&format!(
                "-- hazard: {}: {}\n",
                hazard.code.as_str(),
                one_line(&hazard.message)
            ));
        }
        if let Some(comment) = &step.comment {
            block.push_str(&format!("-- {}\n", one_line(comment)));
        }
        for statement in &step.statements {
            block.push_str(statement);
            block.push_str(";\n");
        }
        blocks.push(block);
    }
    blocks.join("\n")
}

#[cfg(test)]
mod comment_line_tests {
    use super::*;
    use crate::spelling;
    use retort_diff::HazardCode;
    use retort_schema::Dialect;

    /// A name with a line break ends up in hazard and step comments; the
    /// break must not end the `--` comment and turn the rest into SQL.
    #[test]
    fn line_breaks_in_comments_stay_inside_the_comment() {
        let name = "t\nDROP TABLE users; --\r\nx";
        let script = Script {
            steps: vec![Step {
                hazards: vec![Hazard {
                    code: HazardCode::DataLoss,
                    message: format!("drops table {name} and all its rows"),
                    rows: None,
                    non_null: None,
                    estimated: false,
                }],
                statements: vec![format!(
                    "DROP TABLE {}",
                    spelling::quote(name, Dialect::Sqlite)
                )],
                comment: Some(format!("rebuild {name}")),
                transaction: true,
            }],
        };
        let sql = script.to_sql();
        let lines: Vec<&str> = sql.lines().collect();
        // Each comment is one whole line; the statement follows them (its
        // quoted name may span lines: that is inside the identifier).
        assert!(lines[0].starts_with("-- hazard: "), "{sql}");
        assert!(lines[0].ends_with("x and all its rows"), "{sql}");
        assert_eq!(
            lines[1], "-- rebuild t\\nDROP TABLE users; --\\r\\nx",
            "{sql}"
        );
        assert!(lines[2].starts_with("DROP TABLE \"t"), "{sql}");
    }
}
