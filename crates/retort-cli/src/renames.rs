//! Confirming renames: `--rename` flags, `[autogen.renames]`, model hints
//! (`-- retort:renamed_from OLD`) and, on a terminal, a question per
//! candidate. The differ only proposes; a rename op needs one of these.
//!
//! Config entries and model hints stay in the project after the rename has
//! run. A hint whose new name the database already has (and whose old name
//! it lacks) is spent and ignored; a hint naming an object the database has
//! under neither name is an error with its file:line. A config entry
//! applies only while it fits (the old name in the database, the new one in
//! the models and not yet in the database); otherwise it is history and
//! ignored.

use anyhow::{Result, anyhow, bail};
use retort_diff::{Rename, RenameCandidate};
use retort_models::RenameHint;
use retort_schema::Schema;
use std::collections::BTreeMap;
use std::io::{BufRead, IsTerminal, Write};

/// Parses `users.name=full_name` (a column; `users.name=users.full_name`
/// too) or `old_table=new_table` (a table).
pub fn parse_rename(text: &str) -> Result<Rename, String> {
    let (old, new) = text
        .split_once('=')
        .ok_or_else(|| format!("`{text}`: expected TABLE.OLD=NEW or OLD_TABLE=NEW_TABLE"))?;
    let (old, new) = (old.trim(), new.trim());
    if old.is_empty() || new.is_empty() {
        return Err(format!(
            "`{text}`: both names are needed, as in users.name=full_name"
        ));
    }
    match old.split_once('.') {
        Some((table, from)) => {
            let to = new
                .strip_prefix(&format!("{table}."))
                .unwrap_or(new)
                .to_string();
            if table.is_empty() || from.is_empty() || to.contains('.') {
                return Err(format!(
                    "`{text}`: a column rename is TABLE.OLD=NEW, as in users.name=full_name"
                ));
            }
            Ok(Rename::Column {
                table: table.to_string(),
                from: from.to_string(),
                to,
            })
        }
        None if new.contains('.') => Err(format!(
            "`{text}`: a table rename is OLD=NEW; a column rename is TABLE.OLD=NEW"
        )),
        None => Ok(Rename::Table {
            from: old.to_string(),
            to: new.to_string(),
        }),
    }
}

/// `[autogen.renames]` entries (`"users.name" = "full_name"`), sorted.
pub fn config_renames(name: &str, entries: &BTreeMap<String, String>) -> Result<Vec<Rename>> {
    entries
        .iter()
        .map(|(old, new)| {
            parse_rename(&format!("{old}={new}"))
                .map_err(|e| anyhow!("{name}: [autogen.renames] {e}"))
        })
        .collect()
}

/// Whether `rename` already ran: the database has the new name and not the
/// old one.
fn spent(rename: &Rename, live: &Schema) -> bool {
    match rename {
        Rename::Table { from, to } => live.table(to).is_some() && live.table(from).is_none(),
        Rename::Column { table, from, to } => live
            .table(table)
            .is_some_and(|t| t.column(to).is_some() && t.column(from).is_none()),
    }
}

/// Whether `rename` applies to this database and these models: the old
/// name in the database and gone from the models, the new one in the
/// models and free in the database.
fn fits(rename: &Rename, live: &Schema, models: &Schema) -> bool {
    match rename {
        Rename::Table { from, to } => {
            live.table(from).is_some()
                && live.table(to).is_none()
                && models.table(to).is_some()
                && models.table(from).is_none()
        }
        Rename::Column { table, from, to } => {
            live.table(table)
                .is_some_and(|t| t.column(from).is_some() && t.column(to).is_none())
                && models
                    .table(table)
                    .is_some_and(|t| t.column(to).is_some() && t.column(from).is_none())
        }
    }
}

/// The renames a model hint confirms; an error for a hint whose old name
/// the database does not have (unless the rename is spent).
fn hint_renames(hints: &[RenameHint], live: &Schema) -> Result<Vec<Rename>> {
    let table_hints: BTreeMap<&str, &str> = hints
        .iter()
        .filter(|h| h.column.is_none())
        .map(|h| (h.table.as_str(), h.from.as_str()))
        .collect();
    let mut renames = Vec::new();
    for hint in hints {
        let rename = match &hint.column {
            None => Rename::Table {
                from: hint.from.clone(),
                to: hint.table.clone(),
            },
            Some(column) => Rename::Column {
                table: hint.table.clone(),
                from: hint.from.clone(),
                to: column.clone(),
            },
        };
        if spent(&rename, live) {
            continue;
        }
        let exists = match &rename {
            Rename::Table { from, .. } => live.table(from).is_some(),
            Rename::Column { table, from, .. } => {
                // The table may be renamed in the same plan.
                let db_table = table_hints.get(table.as_str()).copied().unwrap_or(table);
                live.table(db_table)
                    .or_else(|| live.table(table))
                    .is_some_and(|t| t.column(from).is_some())
            }
        };
        if !exists {
            let what = match &rename {
                Rename::Table { from, .. } => format!("table {from}"),
                Rename::Column { table, from, .. } => format!("column {table}.{from}"),
            };
            bail!(
                "{}:{}: `-- retort:renamed_from {}` names {what}, which does not exist in the database: fix the old name or remove the hint",
                hint.path,
                hint.line,
                hint.from
            );
        }
        renames.push(rename);
    }
    Ok(renames)
}

/// Every confirmed rename: flags (always applied, so a wrong one is an
/// error), then `[autogen.renames]` and model hints that are not spent.
pub fn confirmed(
    flags: &[Rename],
    config: &[Rename],
    hints: &[RenameHint],
    live: &Schema,
    models: &Schema,
) -> Result<Vec<Rename>> {
    let mut renames = flags.to_vec();
    renames.extend(config.iter().filter(|r| fits(r, live, models)).cloned());
    renames.extend(hint_renames(hints, live)?);
    renames.sort();
    renames.dedup();
    Ok(renames)
}

/// Whether retort may ask: stdin and stdout are both terminals.
pub fn interactive() -> bool {
    std::io::stdin().is_terminal() && std::io::stdout().is_terminal()
}

/// Asks `Did you rename users.name to users.full_name? [y/N]`; anything
/// but y/yes (or end of input) is no.
pub fn ask(
    candidate: &RenameCandidate,
    input: &mut dyn BufRead,
    out: &mut dyn Write,
) -> Result<bool> {
    let question = match &candidate.rename {
        Rename::Table { from, to } => format!("Did you rename table {from} to {to}? [y/N] "),
        Rename::Column { table, from, to } => {
            format!("Did you rename {table}.{from} to {table}.{to}? [y/N] ")
        }
    };
    write!(out, "{question}")?;
    out.flush()?;
    let mut answer = String::new();
    input.read_line(&mut answer)?;
    Ok(matches!(
        answer.trim().to_ascii_lowercase().as_str(),
        "y" | "yes"
    ))
}

/// The summary lines for unconfirmed candidates.
pub fn candidate_lines(candidates: &[RenameCandidate]) -> Vec<String> {
    candidates
        .iter()
        .map(|c| {
            format!(
                "note: {} looks like a rename; it is planned as drop + add (the data is lost) unless confirmed with {}",
                c.rename.describe(),
                c.flag
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_parse_columns_and_tables() {
        let column = Rename::Column {
            table: "users".into(),
            from: "name".into(),
            to: "full_name".into(),
        };
        assert_eq!(parse_rename("users.name=full_name"), Ok(column.clone()));
        assert_eq!(parse_rename("users.name=users.full_name"), Ok(column));
        assert_eq!(
            parse_rename("users=people"),
            Ok(Rename::Table {
                from: "users".into(),
                to: "people".into()
            })
        );
        assert!(parse_rename("users").is_err());
        assert!(parse_rename("users=people.x").is_err());
        assert!(parse_rename("users.name=").is_err());
    }

    #[test]
    fn the_prompt_takes_only_yes() {
        let candidate = RenameCandidate {
            rename: parse_rename("users.name=full_name").unwrap(),
            flag: "--rename users.name=full_name".into(),
        };
        for (answer, expect) in [("y\n", true), ("YES\n", true), ("\n", false), ("", false)] {
            let mut out = Vec::new();
            let yes = ask(&candidate, &mut answer.as_bytes(), &mut out).unwrap();
            assert_eq!(yes, expect, "{answer:?}");
            assert_eq!(
                String::from_utf8(out).unwrap(),
                "Did you rename users.name to users.full_name? [y/N] "
            );
        }
    }
}
