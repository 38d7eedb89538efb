//! The renderer's error.

use retort_diff::ApplyError;
use retort_schema::{ColumnType, Dialect};

/// The error for ops that cannot be rendered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RenderError {
    /// The op does not fit the schema it is rendered against (it names a
    /// table that does not exist at that point, or creates one twice).
    #[error("op `{op}` does not fit the schema being migrated; regenerate the revision")]
    Apply {
        op: &'static str,
        #[source]
        source: ApplyError,
    },
    /// The dialect has no statement for what the op does.
    #[error("{dialect} cannot express {what} (op `{op}`)")]
    Unsupported {
        op: &'static str,
        dialect: Dialect,
        what: String,
    },
    /// A column's type does not exist in the dialect.
    #[error(
        "{dialect} has no type `{ty}` for column `{table}.{column}`; use a type {dialect} supports"
    )]
    UnsupportedType {
        table: String,
        column: String,
        ty: ColumnType,
        dialect: Dialect,
    },
    /// MySQL indexes a TEXT/BLOB column only with a prefix length, which
    /// the schema IR does not carry.
    #[error(
        "mysql cannot index the {ty} column `{table}.{column}` of {key} without a prefix length; make the column VARCHAR(n), or create the index by hand in the revision (`{column}(255)`)"
    )]
    IndexNeedsPrefix {
        table: String,
        column: String,
        ty: ColumnType,
        key: String,
    },
    /// A constraint without a name cannot be dropped by name.
    #[error(
        "cannot drop the unnamed {constraint} of `{table}` on {dialect}: name the constraint in the model (CONSTRAINT <name> …) and migrate that first"
    )]
    UnnamedConstraint {
        table: String,
        constraint: String,
        dialect: Dialect,
    },
}
