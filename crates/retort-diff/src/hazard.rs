//! Hazards: what can go wrong when an op runs.

use serde::{Deserialize, Serialize};

/// A hazard's stable code, as it appears in JSON and in `-- hazard:` lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HazardCode {
    /// The op deletes data: a dropped table or column, a narrowing type.
    DataLoss,
    /// The database rewrites the whole table (every SQLite rebuild).
    TableRewrite,
    /// The op holds a lock that blocks reads or writes for its duration.
    LongLock,
    /// The op fails if existing rows violate it (NOT NULL without default,
    /// a new unique or check constraint, a new foreign key).
    FailsOnExistingRows,
    /// The op's inverse cannot restore what it removed.
    Irreversible,
}

impl HazardCode {
    /// The snake-case code (`data_loss`).
    pub fn as_str(self) -> &'static str {
        match self {
            HazardCode::DataLoss => "data_loss",
            HazardCode::TableRewrite => "table_rewrite",
            HazardCode::LongLock => "long_lock",
            HazardCode::FailsOnExistingRows => "fails_on_existing_rows",
            HazardCode::Irreversible => "irreversible",
        }
    }
}

/// One hazard of one op: its code and a sentence naming the subject.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hazard {
    pub code: HazardCode,
    pub message: String,
}
