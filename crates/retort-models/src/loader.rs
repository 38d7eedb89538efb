//! Reading statements into tables, and the checks that need all of them.
//!
//! Each file is tokenized whole (so every position is relative to the file,
//! not to the statement), split into statements at top-level semicolons and
//! parsed statement by statement: a parse error costs one statement, and the
//! rest of the file is still read and checked.
//!
//! MySQL: every key, however declared (`UNIQUE`, `UNIQUE KEY`, a column's
//! `UNIQUE`, `KEY`, `CREATE UNIQUE INDEX`), is first read as an [`Index`],
//! and unnamed keys get MySQL's own names (first column, `_2`, `_3` …; see
//! `unique_keys_are_indexes`), because MySQL's catalog knows only indexes.
//! Then `canonical_mysql_table`, which the introspector applies to the
//! catalog too, turns every plain unique index into a named
//! [`UniqueConstraint`]: one canonical form for what MySQL cannot tell apart.
//! `ON UPDATE CURRENT_TIMESTAMP` is accepted and ignored (the IR has no
//! field for it); `ENGINE=InnoDB` (the default), `CHARSET` and `COLLATE`
//! table options are ignored, `COMMENT='…'` is the table comment. Every
//! other clause the IR cannot carry is refused by name (see `clauses`).

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use miette::NamedSource;
use retort_schema::{
    CheckConstraint, Column, ColumnType, Deferral, Dialect, EnumType, ForeignKey, ForeignKeyAction,
    Index, IndexPart, IndexTarget, NameKind, PrimaryKey, Schema, Table, UniqueConstraint,
    push_exact,
};
use sqlparser::ast::{
    ArrayElemTypeDef, ColumnOption, CommentDef, CommentObject, ConstraintCharacteristics,
    CreateIndex, CreateTable, CreateTableOptions, DataType, DeferrableInitial, EnumMember, Expr,
    ForeignKeyConstraint, FunctionArguments, GeneratedAs, Ident, IndexColumn, NullsDistinctOption,
    ObjectName, OrderByExpr, OrderByOptions, OrderBySort, ReferentialAction, Spanned, SqlOption,
    Statement, TableConstraint, UserDefinedTypeRepresentation,
};
use sqlparser::keywords::Keyword;
use sqlparser::parser::{Parser, ParserError};
use sqlparser::tokenizer::{Location, Span, Token, TokenWithSpan, Tokenizer, Whitespace};

mod clauses;

use crate::canonical::{
    canonical_expr, canonical_mysql_table, column_type_and_serial, default_from_expr,
    generated_values_imply_not_null, name_parts, sql_dialect, strip_nested, typed_default,
};
use crate::depth::{MAX_EXPRESSION_WEIGHT, NESTING_WEIGHT, PARSER_RECURSION_LIMIT, too_deep};
use crate::error::{Diagnostic, Diagnostics, ModelError, Snippet};
use crate::refusals::{is_known_type, mysql_needs_key_prefix, sqlite_default_problem};

/// What SQLite takes as a default, for an `invalid-default` diagnostic.
const SQLITE_DEFAULT_HELP: &str = "SQLite takes a literal, a signed number, CURRENT_TIMESTAMP, \
     CURRENT_DATE, CURRENT_TIME, or a constant expression in parentheses such as \
     (datetime('now'))";

/// A position in one of the loaded files.
#[derive(Debug, Clone, Copy)]
struct Site {
    file: usize,
    span: Span,
}

struct SourceFile {
    path: String,
    source: Arc<NamedSource<String>>,
    /// Byte offset of the start of each line.
    line_starts: Vec<usize>,
}

impl SourceFile {
    fn new(path: String, text: String) -> Self {
        let mut line_starts: Vec<usize> = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        line_starts.shrink_to_fit();
        SourceFile {
            source: Arc::new(NamedSource::new(&path, text)),
            path,
            line_starts,
        }
    }

    /// Byte offset of a 1-based line and character column.
    fn offset(&self, location: Location) -> usize {
        let text = self.source.inner();
        let line = (location.line.max(1) - 1) as usize;
        let Some(&start) = self.line_starts.get(line) else {
            return text.len();
        };
        let chars = (location.column.max(1) - 1) as usize;
        text[start..]
            .char_indices()
            .nth(chars)
            .map_or(text.len(), |(i, _)| start + i)
    }
}

struct TableDraft {
    table: Table,
    site: Site,
    foreign_keys: Vec<ForeignKeyDraft>,
    /// Where each of `table.columns` is named, in the same order.
    column_sites: Vec<Site>,
    /// Where the primary key is declared.
    primary_key_site: Option<Site>,
}

struct ForeignKeyDraft {
    key: ForeignKey,
    /// Where the referred table is named.
    table_site: Site,
    /// Where each referred column is named.
    column_sites: Vec<Site>,
}

struct IndexDraft {
    table: String,
    table_site: Site,
    name_site: Site,
    index: Index,
    column_sites: Vec<(String, Site)>,
}

struct CommentDraft {
    table: String,
    column: Option<String>,
    text: Option<String>,
    site: Site,
}

/// Collects statements from any number of files into one schema.
pub(crate) struct Loader {
    dialect: Dialect,
    files: Vec<SourceFile>,
    tables: Vec<TableDraft>,
    /// Where each (schema, name) is in `tables`: a lookup per statement
    /// and per reference, instead of a scan (quadratic at 5,000 tables).
    /// Names are keyed by their identity ([`Loader::key`]), so that
    /// `REFERENCES Users` finds `users` where the dialect says they are one.
    table_ids: BTreeMap<(Option<String>, String), usize>,
    /// The first table of each name (its identity), whatever its schema
    /// (indexes and comments name their table without one).
    tables_by_name: BTreeMap<String, usize>,
    /// Indexes waiting for `finish`: those whose table was not declared
    /// (yet) by the file that declares them.
    indexes: Vec<IndexDraft>,
    /// The first declaration of each index name (with its table's name
    /// where the dialect scopes index names to a table), by identity.
    index_names: BTreeMap<(Option<String>, String), Site>,
    /// The first table of the file being read. An index on a table from
    /// here on is attached at once, since undoing the file (a tokenizer
    /// error) drops those tables whole; holding every index as a draft
    /// until the end cost ~5 MB at 10,000 indexes.
    file_first_table: usize,
    enums: Vec<(EnumType, Site)>,
    comments: Vec<CommentDraft>,
    diagnostics: Vec<Diagnostic>,
    /// Names a `CREATE INDEX` without a name from its table and columns
    /// (a naming convention); without it such an index is an error.
    unnamed_index_name: Option<UnnamedIndexName>,
    /// `-- retort:renamed_from` comments, in reading order.
    rename_hints: Vec<RenameHint>,
    /// The keywords of the statement being read and where each is, to
    /// point at a clause that has no position of its own.
    statement_keywords: Vec<(Keyword, Location)>,
}

/// A `-- retort:renamed_from OLD` comment in a model file: on a table's
/// `CREATE TABLE` line (the line naming the table) it says the table was
/// called `OLD`; on a column's line, that the column was. sqlparser drops
/// comments, so the hint is found in the source text by the line of the
/// table or column name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenameHint {
    /// The model file, as given.
    pub path: String,
    /// 1-based line of the comment.
    pub line: usize,
    /// The table's name in the models.
    pub table: String,
    /// The column's name in the models, for a column hint.
    pub column: Option<String>,
    /// The old name the hint gives.
    pub from: String,
}

/// The marker of a rename hint.
pub(crate) const RENAMED_FROM: &str = "-- retort:renamed_from";

/// Names an unnamed `CREATE INDEX` from its table and columns; see
/// [`crate::load_files_with`].
pub type UnnamedIndexName = Box<dyn Fn(&str, &[String]) -> String>;

impl Loader {
    pub(crate) fn new(dialect: Dialect) -> Self {
        Loader {
            dialect,
            files: Vec::new(),
            tables: Vec::new(),
            table_ids: BTreeMap::new(),
            tables_by_name: BTreeMap::new(),
            indexes: Vec::new(),
            index_names: BTreeMap::new(),
            file_first_table: 0,
            enums: Vec::new(),
            comments: Vec::new(),
            diagnostics: Vec::new(),
            unnamed_index_name: None,
            rename_hints: Vec::new(),
            statement_keywords: Vec::new(),
        }
    }

    /// The identity of a `kind` name: two names with one key are one
    /// object (SQLite: `Users` is `users`). PostgreSQL's folding of
    /// unquoted names happens earlier, on the tokens ([`fold_unquoted`]).
    fn key<'a>(&self, kind: NameKind, name: &'a str) -> Cow<'a, str> {
        self.dialect.identifier_key(kind, name)
    }

    /// The key of a table in `table_ids`.
    fn table_id_key(&self, schema: Option<&str>, name: &str) -> (Option<String>, String) {
        (
            schema.map(str::to_string),
            self.key(NameKind::Table, name).into_owned(),
        )
    }

    /// The rename hints read so far.
    pub(crate) fn rename_hints(&self) -> &[RenameHint] {
        &self.rename_hints
    }

    /// The old name a `-- retort:renamed_from OLD` comment on 1-based line
    /// `line` of `file` gives (quotes and backticks around it removed).
    fn hint_on_line(&self, file: usize, line: u64) -> Option<String> {
        let source = self.files.get(file)?;
        let text = source.source.inner();
        let index = usize::try_from(line).ok()?.checked_sub(1)?;
        let start = *source.line_starts.get(index)?;
        let end = source
            .line_starts
            .get(index + 1)
            .map_or(text.len(), |next| next - 1);
        let line_text = &text[start..end];
        let after = &line_text[line_text.find(RENAMED_FROM)? + RENAMED_FROM.len()..];
        let word = after.split_whitespace().next()?.trim_end_matches(',');
        let quoted = word.starts_with(['"', '`', '\'']);
        let name = word.trim_matches(|c| c == '"' || c == '`' || c == '\'');
        if name.is_empty() {
            return None;
        }
        // The old name is read as the statement's names are.
        Some(if self.dialect.folds_unquoted_identifiers() && !quoted {
            name.to_ascii_lowercase()
        } else {
            name.to_string()
        })
    }

    fn note_hint(&mut self, file: usize, line: u64, table: &str, column: Option<&str>) {
        if let Some(from) = self.hint_on_line(file, line) {
            self.rename_hints.push(RenameHint {
                path: self.files[file].path.clone(),
                line: usize::try_from(line).unwrap_or(usize::MAX),
                table: table.to_string(),
                column: column.map(str::to_string),
                from,
            });
        }
    }

    pub(crate) fn name_unnamed_indexes(&mut self, name: UnnamedIndexName) {
        self.unnamed_index_name = Some(name);
    }

    /// Reads every statement of one file.
    ///
    /// The file is tokenized a chunk at a time, a chunk ending after a line
    /// that ends in `;`, and each statement is parsed as soon as its tokens
    /// are complete: only one chunk's tokens are alive at once, instead of
    /// the whole file's (about 90 bytes a token, whitespace included, which
    /// came to ~200 MB for a 2.5 MB file). A chunk is accepted only when
    /// its end is a statement boundary, so statements and token positions
    /// are the same as for the whole file tokenized in one go (see
    /// [`ChunkedTokens`]); a file that does not tokenize reports only its
    /// tokenizer error, as before.
    pub(crate) fn add_source(&mut self, path: &str, text: String) {
        let file = self.files.len();
        let source = SourceFile::new(path.to_string(), text);
        // The file's one copy is the diagnostics' source; read it from
        // there (a second copy was 2.5 MB at 5,000 tables).
        let shared = Arc::clone(&source.source);
        let text = shared.inner().as_str();
        self.files.push(source);
        let dialect = sql_dialect(self.dialect);
        let mark = self.mark();
        self.file_first_table = self.tables.len();
        let mut splitter = StatementSplitter::default();
        let mut chunks = ChunkedTokens::new(text);
        loop {
            match chunks.next_chunk(&*dialect) {
                Ok(Some(tokens)) => {
                    for token in tokens {
                        if let Some(statement) = splitter.push(token) {
                            self.parse_statement(file, statement);
                        }
                    }
                }
                Ok(None) => break,
                Err(err) => {
                    // As if the file had been tokenized whole: nothing of
                    // it is read, only the tokenizer error is reported.
                    self.rollback(mark, file);
                    let site = Site {
                        file,
                        span: Span::new(err.location, err.location),
                    };
                    self.report(
                        site,
                        "parse-error",
                        lowercase_first(&err.message),
                        Some(self.syntax_help()),
                    );
                    return;
                }
            }
        }
        if let Some(statement) = splitter.finish() {
            self.parse_statement(file, statement);
        }
    }

    /// How much has been read so far, to undo a file's statements.
    fn mark(&self) -> [usize; 5] {
        [
            self.tables.len(),
            self.indexes.len(),
            self.enums.len(),
            self.comments.len(),
            self.diagnostics.len(),
        ]
    }

    fn rollback(
        &mut self,
        [tables, indexes, enums, comments, diagnostics]: [usize; 5],
        file: usize,
    ) {
        self.tables.truncate(tables);
        self.table_ids.retain(|_, id| *id < tables);
        self.tables_by_name.retain(|_, id| *id < tables);
        self.index_names.retain(|_, site| site.file != file);
        self.indexes.truncate(indexes);
        self.enums.truncate(enums);
        self.comments.truncate(comments);
        self.diagnostics.truncate(diagnostics);
    }

    fn parse_statement(&mut self, file: usize, mut tokens: Vec<TokenWithSpan>) {
        let Some(first) = tokens
            .iter()
            .find(|t| !matches!(t.token, Token::Whitespace(_)))
        else {
            return;
        };
        let start = Site {
            file,
            span: first.span,
        };
        let words = leading_words(&tokens);
        if let Some(deep) = too_deep(&tokens) {
            let site = Site {
                file,
                span: Span::new(deep.at, deep.at),
            };
            self.report(
                site,
                "expression-too-deep",
                format!(
                    "this expression nests too deeply: retort reads expressions of up to \
                     {MAX_EXPRESSION_WEIGHT} operators, or {} nested parentheses and calls",
                    MAX_EXPRESSION_WEIGHT / NESTING_WEIGHT
                ),
                Some("simplify it, or compute the value in a function and call that".to_string()),
            );
            return;
        }
        self.statement_keywords.clear();
        self.statement_keywords
            .extend(tokens.iter().filter_map(|t| match &t.token {
                Token::Word(w) if w.quote_style.is_none() && w.keyword != Keyword::NoKeyword => {
                    Some((w.keyword, t.span.start))
                }
                _ => None,
            }));
        let end = tokens.last().map_or(first.span.end, |t| t.span.end);
        if self.dialect.folds_unquoted_identifiers() {
            fold_unquoted(&mut tokens);
        }
        tokens.push(TokenWithSpan::new(Token::EOF, Span::new(end, end)));
        let dialect = sql_dialect(self.dialect);
        let mut parser = Parser::new(&*dialect)
            .with_recursion_limit(PARSER_RECURSION_LIMIT)
            .with_tokens_with_locations(tokens);
        match parser.parse_statement() {
            Ok(statement) => {
                let next = parser.peek_token();
                if next.token != Token::EOF {
                    let site = Site {
                        file,
                        span: next.span,
                    };
                    let message = format!("expected end of statement, found `{}`", next.token);
                    self.report(site, "parse-error", message, Some(self.syntax_help()));
                    return;
                }
                self.statement(file, start, &words, statement);
            }
            Err(err) => {
                let (message, location) = split_parser_error(&err);
                let span = location.map_or(start.span, |l| Span::new(l, l));
                let help = self.syntax_help();
                self.report(Site { file, span }, "parse-error", message, Some(help));
            }
        }
    }

    fn syntax_help(&self) -> String {
        format!(
            "model files are read as {} DDL; check the statement's syntax",
            self.dialect
        )
    }

    fn statement(&mut self, file: usize, start: Site, words: &str, statement: Statement) {
        match statement {
            Statement::CreateTable(create) => self.create_table(file, start, &create),
            Statement::CreateIndex(create) => self.create_index(file, start, &create),
            Statement::CreateType {
                name,
                representation: Some(UserDefinedTypeRepresentation::Enum { labels }),
            } if self.dialect.named_enums() => {
                let (schema, name) = split_name(&name, self.dialect);
                let values = labels.into_iter().map(|l| l.value).collect();
                self.enums.push((
                    EnumType {
                        schema,
                        name,
                        values,
                    },
                    start,
                ));
            }
            Statement::Comment {
                object_type: object_type @ (CommentObject::Table | CommentObject::Column),
                object_name,
                comment,
                ..
            } if self.dialect.comments() => {
                let parts: Vec<String> = object_name
                    .0
                    .iter()
                    .filter_map(|p| p.as_ident())
                    .map(|i| i.value.clone())
                    .collect();
                let (table, column) = match (object_type, parts.as_slice()) {
                    (CommentObject::Column, [.., table, column]) => {
                        (table.clone(), Some(column.clone()))
                    }
                    (_, [.., table]) => (table.clone(), None),
                    _ => return,
                };
                self.comments.push(CommentDraft {
                    table,
                    column,
                    text: comment,
                    site: start,
                });
            }
            _ => {
                let mut what = String::from("model files declare tables and indexes");
                if self.dialect.named_enums() {
                    what.push_str(", enum types (CREATE TYPE … AS ENUM)");
                }
                if self.dialect.comments() && self.dialect.named_enums() {
                    what.push_str(" and comments (COMMENT ON)");
                }
                self.report(
                    start,
                    "unsupported-statement",
                    format!("unsupported statement `{words}` in a model file: {what}"),
                    Some(
                        "remove it from the models; data changes and other objects belong in a \
                         migration revision"
                            .to_string(),
                    ),
                );
            }
        }
    }

    fn create_table(&mut self, file: usize, start: Site, create: &CreateTable) {
        let site = |span: Span| Site { file, span };
        let name_site = site(create.name.span());
        let (schema, name) = split_name(&create.name, self.dialect);
        if create.query.is_some() || create.like.is_some() || create.clone.is_some() {
            self.report(
                start,
                "unsupported-statement",
                format!("table `{name}` is created from another table or a query"),
                Some("declare its columns explicitly".to_string()),
            );
            return;
        }
        self.refuse_table_clauses(start, create, &name);
        if let Some(first) = self
            .table_ids
            .get(&self.table_id_key(schema.as_deref(), &name))
            .map(|&id| &self.tables[id])
        {
            let help = format!(
                "it is first declared at {}; rename or remove one of them",
                self.location_text(first.site)
            );
            self.report(
                name_site,
                "duplicate-table",
                format!("table `{name}` is declared twice"),
                Some(help),
            );
            return;
        }
        // PostgreSQL allows a table of no columns; SQLite and MySQL do not.
        if create.columns.is_empty() && self.dialect != Dialect::Postgres {
            self.report(
                name_site,
                "empty-table",
                format!(
                    "table `{name}` has no columns, which {} refuses",
                    self.dialect
                ),
                Some("declare at least one column".to_string()),
            );
            return;
        }
        let table_line = create.name.span().start.line;
        self.note_hint(file, table_line, &name, None);
        let table_collation = table_charset_and_collation(create);
        let mut table = Table::new(name.clone());
        table.default_collation.clone_from(&table_collation.1);
        if table_collation.1.is_none() {
            table.default_charset.clone_from(&table_collation.0);
        }
        table.schema = schema;
        table.comment = table_comment(create);
        // Lists at their final size: the drafts of 5,000 tables are all
        // held until the end, and pushes would leave room to spare.
        table.columns.reserve_exact(create.columns.len());
        let mut foreign_keys = Vec::new();
        // Each column's declared name and site, by its identity.
        let mut column_sites: BTreeMap<String, (String, Site)> = BTreeMap::new();
        let mut primary_key_site: Option<Site> = None;
        // MySQL only: every key that becomes an index, in declaration order.
        let mut keys: Vec<KeyDraft> = Vec::new();
        let keys_are_indexes = unique_keys_are_indexes(self.dialect);
        let column_names: Vec<&str> = create
            .columns
            .iter()
            .map(|c| c.name.value.as_str())
            .collect();

        for def in &create.columns {
            let column_name = def.name.value.clone();
            let column_key = self.key(NameKind::Column, &column_name).into_owned();
            if let Some((_, first)) = column_sites.get(&column_key).cloned() {
                let help = format!("it is first declared at {}", self.location_text(first));
                self.report(
                    site(def.name.span),
                    "duplicate-column",
                    format!("column `{name}.{column_name}` is declared twice"),
                    Some(help),
                );
                continue;
            }
            column_sites.insert(column_key, (column_name.clone(), site(def.name.span)));
            // A hint on the table's line belongs to the table.
            if def.name.span.start.line != table_line {
                self.note_hint(file, def.name.span.start.line, &name, Some(&column_name));
            }
            let (ty, serial) =
                column_type_and_serial(&type_text(&def.data_type, self.dialect), self.dialect);
            let mut column = Column::new(column_name.clone(), ty);
            column.autoincrement = serial;
            for option in &def.options {
                self.refuse_column_option_clauses(
                    site(def.name.span),
                    &option.option,
                    &name,
                    &column_name,
                );
                match &option.option {
                    ColumnOption::CharacterSet(charset) if self.dialect == Dialect::Mysql => {
                        column.charset = Some(mysql_charset_name(&object_name_text(charset)));
                    }
                    ColumnOption::Collation(collation) if self.dialect == Dialect::Mysql => {
                        column.collation = Some(mysql_charset_name(&object_name_text(collation)));
                    }
                    ColumnOption::Collation(collation) if self.dialect == Dialect::Postgres => {
                        match postgres_collation_name(collation) {
                            Some(collation_name) => column.collation = collation_name,
                            None => self.report(
                                site(def.name.span),
                                "unsupported-clause",
                                format!(
                                    "column `{name}.{column_name}`: `{}` names a collation outside pg_catalog",
                                    option.option
                                ),
                                Some("name a collation PostgreSQL provides (`COLLATE \"C\"`, `COLLATE \"en-x-icu\"`), unqualified".to_string()),
                            ),
                        }
                    }
                    // PostgreSQL has no per-column character set: refused
                    // rather than lost.
                    ColumnOption::CharacterSet(_) if self.dialect == Dialect::Postgres => {
                        self.report(
                            site(def.name.span),
                            "unsupported-clause",
                            format!(
                                "column `{name}.{column_name}`: `{}` is not supported on PostgreSQL",
                                option.option
                            ),
                            Some("remove the clause from the model (PostgreSQL stores text in the database's encoding)".to_string()),
                        );
                    }
                    ColumnOption::Null => column.nullable = true,
                    ColumnOption::NotNull => column.nullable = false,
                    ColumnOption::Default(expr) => {
                        if self.dialect == Dialect::Sqlite
                            && let Some(problem) = sqlite_default_problem(expr, &column_names)
                        {
                            self.report(
                                site(expr.span()),
                                "invalid-default",
                                format!("column `{name}.{column_name}`: DEFAULT {expr}: {problem}"),
                                Some(SQLITE_DEFAULT_HELP.to_string()),
                            );
                        }
                        column.default = match default_from_expr(expr, self.dialect) {
                            retort_schema::DefaultValue::Null => None,
                            value => Some(value),
                        };
                    }
                    ColumnOption::PrimaryKey(pk) => {
                        let key = PrimaryKey {
                            name: ident_value(option.name.as_ref().or(pk.name.as_ref())),
                            columns: vec![column_name.clone()],
                        };
                        self.set_primary_key(&mut table, &mut primary_key_site, key, site(def.name.span));
                    }
                    ColumnOption::Unique(unique) if keys_are_indexes => keys.push(KeyDraft {
                        name: ident_value(unique.index_name.as_ref().or(unique.name.as_ref()).or(option.name.as_ref())),
                        name_site: site(def.name.span),
                        columns: vec![IndexColumn {
                            column: OrderByExpr {
                                expr: Expr::Identifier(def.name.clone()),
                                options: OrderByOptions::default(),
                                with_fill: None,
                            },
                            operator_class: None,
                        }],
                        unique: true,
                    }),
                    ColumnOption::Unique(unique) => {
                        table.unique_constraints.push(UniqueConstraint {
                            name: ident_value(option.name.as_ref().or(unique.name.as_ref())),
                            columns: vec![column_name.clone()],
                            nulls_not_distinct: nulls_not_distinct(self.dialect, unique.nulls_distinct),
                        })
                    }
                    ColumnOption::ForeignKey(fk) => {
                        let mut draft = self.foreign_key(file, fk, vec![column_name.clone()]);
                        if draft.key.name.is_none() {
                            draft.key.name = ident_value(option.name.as_ref());
                        }
                        foreign_keys.push(draft);
                    }
                    ColumnOption::Check(check) => table.checks.push(CheckConstraint {
                        name: ident_value(option.name.as_ref().or(check.name.as_ref())),
                        expression: canonical_expr(&check.expr, self.dialect),
                    }),
                    ColumnOption::DialectSpecific(tokens) => {
                        if tokens.iter().any(|t| {
                            matches!(t, Token::Word(w)
                                if matches!(w.keyword, Keyword::AUTOINCREMENT | Keyword::AUTO_INCREMENT))
                        }) {
                            column.autoincrement = true;
                        }
                    }
                    ColumnOption::Identity(_) => column.autoincrement = true,
                    ColumnOption::Generated {
                        generated_as: GeneratedAs::Always | GeneratedAs::ByDefault,
                        generation_expr: None,
                        ..
                    } => column.autoincrement = true,
                    ColumnOption::Comment(text) => column.comment = Some(text.clone()),
                    ColumnOption::Collation(collation) if self.dialect == Dialect::Sqlite => {
                        column.collation = sqlite_collation_name(&object_name_text(collation));
                    }
                    // SQLite has no character sets: refused rather than lost.
                    ColumnOption::CharacterSet(_) if self.dialect == Dialect::Sqlite => {
                        self.report(
                            site(def.name.span),
                            "unsupported-clause",
                            format!(
                                "column `{name}.{column_name}`: `{}` is not supported on SQLite",
                                option.option
                            ),
                            Some("remove the clause from the model (SQLite stores text in the database's encoding)".to_string()),
                        );
                    }
                    // MySQL's `ON UPDATE CURRENT_TIMESTAMP[(n)]`, the only
                    // value the server takes there.
                    ColumnOption::OnUpdate(expr) if self.dialect == Dialect::Mysql => {
                        match default_from_expr(expr, self.dialect) {
                            value @ retort_schema::DefaultValue::CurrentTimestamp => {
                                column.on_update = Some(value);
                            }
                            retort_schema::DefaultValue::Expression(text)
                                if is_current_timestamp_with_precision(&text) =>
                            {
                                column.on_update =
                                    Some(retort_schema::DefaultValue::Expression(text));
                            }
                            _ => self.report(
                                site(def.name.span),
                                "unsupported-clause",
                                format!("column `{name}.{column_name}`: `ON UPDATE {expr}` is not supported"),
                                Some("MySQL takes only ON UPDATE CURRENT_TIMESTAMP there".to_string()),
                            ),
                        }
                    }
                    other => self.report(
                        site(def.name.span),
                        "unsupported-clause",
                        format!("column `{name}.{column_name}`: `{other}` is not supported"),
                        Some("remove the clause from the model".to_string()),
                    ),
                }
            }
            if column.autoincrement && generated_values_imply_not_null(self.dialect) {
                column.nullable = false;
            }
            column.default = column
                .default
                .map(|d| typed_default(d, &column.ty, self.dialect));
            (column.charset, column.collation) = model_column_collation(
                column.charset.take(),
                column.collation.take(),
                &table_collation,
            );
            table.columns.push(column);
        }

        for constraint in &create.constraints {
            self.refuse_constraint_clauses(site(constraint.span()), constraint, &name);
            match constraint {
                TableConstraint::PrimaryKey(pk) => {
                    let columns = self.key_columns(file, &name, &pk.columns, &column_sites);
                    let key = PrimaryKey {
                        name: ident_value(pk.name.as_ref()),
                        columns,
                    };
                    self.set_primary_key(&mut table, &mut primary_key_site, key, site(pk.span()));
                }
                TableConstraint::Unique(unique) if keys_are_indexes => keys.push(KeyDraft {
                    name: ident_value(unique.index_name.as_ref().or(unique.name.as_ref())),
                    name_site: unique
                        .index_name
                        .as_ref()
                        .or(unique.name.as_ref())
                        .map_or(name_site, |n| site(n.span)),
                    columns: unique.columns.clone(),
                    unique: true,
                }),
                TableConstraint::Unique(unique) => {
                    let columns = self.key_columns(file, &name, &unique.columns, &column_sites);
                    table.unique_constraints.push(UniqueConstraint {
                        name: ident_value(unique.name.as_ref()),
                        columns,
                        nulls_not_distinct: nulls_not_distinct(self.dialect, unique.nulls_distinct),
                    });
                }
                TableConstraint::ForeignKey(fk) => {
                    let columns = self.check_columns(file, &name, &fk.columns, &column_sites);
                    foreign_keys.push(self.foreign_key(file, fk, columns));
                }
                TableConstraint::Check(check) => table.checks.push(CheckConstraint {
                    name: ident_value(check.name.as_ref()),
                    expression: canonical_expr(&check.expr, self.dialect),
                }),
                // MySQL's inline `KEY ix (col)` is an ordinary index.
                TableConstraint::Index(index) => keys.push(KeyDraft {
                    name: ident_value(index.name.as_ref()),
                    name_site: index.name.as_ref().map_or(name_site, |n| site(n.span)),
                    columns: index.columns.clone(),
                    unique: false,
                }),
                other => self.report(
                    site(other.span()),
                    "unsupported-clause",
                    format!("table `{name}`: constraint `{other}` is not supported"),
                    Some("remove it from the model".to_string()),
                ),
            }
        }

        for (key, index_name) in keys.iter().zip(mysql_key_names(&keys)) {
            self.index_draft(
                file,
                &name,
                name_site,
                key.name_site,
                index_name,
                &key.columns,
                key.unique,
                None,
                None,
                false,
            );
        }

        table.unique_constraints.shrink_to_fit();
        table.checks.shrink_to_fit();
        foreign_keys.shrink_to_fit();
        self.table_ids.insert(
            self.table_id_key(table.schema.as_deref(), &table.name),
            self.tables.len(),
        );
        self.tables_by_name
            .entry(self.key(NameKind::Table, &table.name).into_owned())
            .or_insert(self.tables.len());
        let mut column_sites: Vec<Site> = table
            .columns
            .iter()
            .filter_map(|c| {
                column_sites
                    .get(&*self.key(NameKind::Column, &c.name))
                    .map(|(_, site)| *site)
            })
            .collect();
        column_sites.shrink_to_fit();
        self.tables.push(TableDraft {
            table,
            site: name_site,
            foreign_keys,
            column_sites,
            primary_key_site,
        });
    }

    fn set_primary_key(
        &mut self,
        table: &mut Table,
        existing: &mut Option<Site>,
        key: PrimaryKey,
        site: Site,
    ) {
        if let Some(first) = *existing {
            let help = format!(
                "the first is at {}; use one composite PRIMARY KEY (a, b) instead",
                self.location_text(first)
            );
            self.report(
                site,
                "duplicate-primary-key",
                format!("table `{}` declares more than one primary key", table.name),
                Some(help),
            );
            return;
        }
        *existing = Some(site);
        table.primary_key = Some(key);
    }

    fn foreign_key(
        &mut self,
        file: usize,
        fk: &ForeignKeyConstraint,
        columns: Vec<String>,
    ) -> ForeignKeyDraft {
        let (referred_schema, referred_table) = split_name(&fk.foreign_table, self.dialect);
        ForeignKeyDraft {
            key: ForeignKey {
                implicit_index: None,
                name: ident_value(fk.name.as_ref()),
                columns,
                referred_schema,
                referred_table,
                referred_columns: fk
                    .referred_columns
                    .iter()
                    .map(|c| c.value.clone())
                    .collect(),
                on_delete: fk.on_delete.map_or(ForeignKeyAction::NoAction, action),
                on_update: fk.on_update.map_or(ForeignKeyAction::NoAction, action),
                deferrable: match self.dialect {
                    Dialect::Postgres => deferral(fk.characteristics.as_ref()),
                    // SQLite's and MySQL's catalogs are read without it.
                    Dialect::Sqlite | Dialect::Mysql => Deferral::NotDeferrable,
                },
            },
            table_site: Site {
                file,
                span: fk.foreign_table.span(),
            },
            column_sites: fk
                .referred_columns
                .iter()
                .map(|c| Site { file, span: c.span })
                .collect(),
        }
    }

    /// The column names of a key's parts, reporting expressions and columns
    /// the table does not have.
    fn key_columns(
        &mut self,
        file: usize,
        table: &str,
        parts: &[IndexColumn],
        columns: &BTreeMap<String, (String, Site)>,
    ) -> Vec<String> {
        let mut idents = Vec::new();
        for part in parts {
            match strip_nested(&part.column.expr) {
                Expr::Identifier(ident) => idents.push(ident.clone()),
                other => self.report(
                    Site {
                        file,
                        span: other.span(),
                    },
                    "unsupported-clause",
                    format!("table `{table}`: a key on the expression `{other}` is not supported"),
                    Some("key plain columns, or use a unique index on the expression".to_string()),
                ),
            }
        }
        self.check_columns(file, table, &idents, columns)
    }

    /// The names of `idents` as their columns are declared (`(Name)` is
    /// `name` where the dialect says so), reporting unknown ones.
    fn check_columns(
        &mut self,
        file: usize,
        table: &str,
        idents: &[Ident],
        columns: &BTreeMap<String, (String, Site)>,
    ) -> Vec<String> {
        let mut names = Vec::with_capacity(idents.len());
        for ident in idents {
            match columns.get(self.key(NameKind::Column, &ident.value).as_ref()) {
                Some((declared, _)) => names.push(declared.clone()),
                None => {
                    self.report_unknown_column(
                        Site {
                            file,
                            span: ident.span,
                        },
                        table,
                        &ident.value,
                    );
                    names.push(ident.value.clone());
                }
            }
        }
        names
    }

    fn report_unknown_column(&mut self, site: Site, table: &str, column: &str) {
        self.report(
            site,
            "unknown-column",
            format!("table `{table}` has no column `{column}`"),
            Some(format!(
                "declare `{column}` in table `{table}`, or fix the name"
            )),
        );
    }

    fn create_index(&mut self, file: usize, start: Site, create: &CreateIndex) {
        let (_, table) = split_name(&create.table_name, self.dialect);
        let table_site = Site {
            file,
            span: create.table_name.span(),
        };
        if create.name.is_none()
            && let Some(name_of) = &self.unnamed_index_name
        {
            let columns: Vec<String> = create
                .columns
                .iter()
                .map(|c| match strip_nested(&c.column.expr) {
                    Expr::Identifier(ident) => ident.value.clone(),
                    _ => "expr".to_string(),
                })
                .collect();
            let mut named = create.clone();
            let generated = Ident::with_span(create.table_name.span(), name_of(&table, &columns));
            named.name = Some(ObjectName::from(vec![generated]));
            return self.create_index(file, start, &named);
        }
        let Some(name) = &create.name else {
            self.report(
                start,
                "unnamed-index",
                format!("an index on `{table}` has no name"),
                Some(
                    "name it: CREATE INDEX ix_name ON …; retort tells indexes apart by name".into(),
                ),
            );
            return;
        };
        let name_site = Site {
            file,
            span: name.span(),
        };
        let (_, index_name) = split_name(name, self.dialect);
        self.refuse_index_clauses(start, create, &index_name);
        let method = create
            .using
            .as_ref()
            .map(|m| m.to_string().to_lowercase())
            .filter(|m| m != "btree");
        let predicate = create
            .predicate
            .as_ref()
            .map(|p| canonical_expr(p, self.dialect));
        self.index_draft(
            file,
            &table,
            table_site,
            name_site,
            index_name,
            &create.columns,
            create.unique,
            predicate,
            method,
            // `NULLS NOT DISTINCT`: PostgreSQL 15's, which no other
            // dialect has.
            self.dialect == Dialect::Postgres && create.nulls_distinct == Some(false),
        );
    }

    #[allow(clippy::too_many_arguments)]
    fn index_draft(
        &mut self,
        file: usize,
        table: &str,
        table_site: Site,
        name_site: Site,
        name: String,
        columns: &[IndexColumn],
        unique: bool,
        predicate: Option<String>,
        method: Option<String>,
        nulls_not_distinct: bool,
    ) {
        let mut parts = Vec::with_capacity(columns.len());
        let mut column_sites = Vec::with_capacity(columns.len());
        let subject = format!("index `{name}`");
        for column in columns {
            self.refuse_index_part_clauses(file, column, &subject);
            // MySQL: `name(255)` without parentheses of its own is a prefix
            // key part; an expression part is written `((…))`.
            let prefix = match (self.dialect, &column.column.expr) {
                (Dialect::Mysql, expr) => prefix_part(expr),
                _ => None,
            };
            if let Some((ident, length)) = prefix {
                column_sites.push((
                    ident.value.clone(),
                    Site {
                        file,
                        span: ident.span,
                    },
                ));
                parts.push(IndexPart {
                    target: IndexTarget::Column(ident.value.clone()),
                    descending: matches!(column.column.options.sort, Some(OrderBySort::Desc)),
                    opclass: None,
                    prefix: Some(length),
                });
                continue;
            }
            let target = match strip_nested(&column.column.expr) {
                Expr::Identifier(ident) => {
                    column_sites.push((
                        ident.value.clone(),
                        Site {
                            file,
                            span: ident.span,
                        },
                    ));
                    IndexTarget::Column(ident.value.clone())
                }
                expr => IndexTarget::Expression(canonical_expr(expr, self.dialect)),
            };
            parts.push(IndexPart {
                prefix: None,
                target,
                descending: matches!(column.column.options.sort, Some(OrderBySort::Desc)),
                opclass: match self.dialect {
                    Dialect::Postgres => column.operator_class.as_ref().and_then(operator_class),
                    // Only PostgreSQL has operator classes.
                    Dialect::Sqlite | Dialect::Mysql => None,
                },
            });
        }
        self.add_index(IndexDraft {
            table: table.to_string(),
            table_site,
            name_site,
            index: Index {
                name,
                parts,
                unique,
                predicate,
                method,
                nulls_not_distinct,
            },
            column_sites,
        });
    }

    /// Registers an index: a second declaration of a name is reported
    /// here; an index on a table this file has declared is attached at
    /// once (the usual order), any other waits for `finish`.
    fn add_index(&mut self, draft: IndexDraft) {
        let scope = self
            .dialect
            .table_scoped_index_names()
            .then(|| self.key(NameKind::Table, &draft.table).into_owned());
        let key = (
            scope,
            self.key(NameKind::Index, &draft.index.name).into_owned(),
        );
        if let Some(first) = self.index_names.get(&key).copied() {
            let help = format!(
                "it is first declared at {}; rename one of them",
                self.location_text(first)
            );
            self.report(
                draft.name_site,
                "duplicate-index",
                format!("index `{}` is declared twice", draft.index.name),
                Some(help),
            );
            return;
        }
        self.index_names.insert(key, draft.name_site);
        let table = self.key(NameKind::Table, &draft.table);
        match self.tables_by_name.get(table.as_ref()).copied() {
            Some(position) if position >= self.file_first_table => {
                self.attach_index(position, draft);
            }
            _ => self.indexes.push(draft),
        }
    }

    /// Adds `draft`'s index to the table at `position`, its columns checked
    /// and spelled as they are declared.
    fn attach_index(&mut self, position: usize, mut draft: IndexDraft) {
        for (column, site) in &draft.column_sites {
            let Some(declared) = self.declared_column(position, column) else {
                self.report_unknown_column(*site, &draft.table, column);
                continue;
            };
            let prefixed = draft.index.parts.iter().any(|part| {
                part.prefix.is_some()
                    && matches!(&part.target, IndexTarget::Column(name) if name == column)
            });
            if self.dialect == Dialect::Mysql && !prefixed {
                let ty = self.tables[position]
                    .table
                    .column(&declared)
                    .map(|c| c.ty.clone());
                if let Some(ty) = ty.filter(mysql_needs_key_prefix) {
                    let what = format!("index `{}`", draft.index.name);
                    let table = draft.table.clone();
                    self.report_unprefixed_key(*site, &what, &table, column, &ty);
                }
            }
            if declared != *column {
                for part in &mut draft.index.parts {
                    if let IndexTarget::Column(name) = &mut part.target
                        && name == column
                    {
                        name.clone_from(&declared);
                    }
                }
            }
        }
        push_exact(&mut self.tables[position].table.indexes, draft.index);
    }

    /// The declared name of the column `name` of the table at `position`,
    /// looked up by identity.
    fn declared_column(&self, position: usize, name: &str) -> Option<String> {
        let key = self.key(NameKind::Column, name);
        self.tables[position]
            .table
            .columns
            .iter()
            .find(|c| self.key(NameKind::Column, &c.name) == key)
            .map(|c| c.name.clone())
    }

    /// Cross-statement checks and resolution; the schema, or every problem.
    pub(crate) fn finish(mut self) -> Result<Schema, ModelError> {
        self.resolve_enums();
        self.check_column_types();
        self.check_mysql_primary_keys();
        self.apply_comments();
        self.resolve_foreign_keys();
        self.attach_indexes();
        let enums = std::mem::take(&mut self.enums);
        let tables = std::mem::take(&mut self.tables);
        let mut tables: Vec<Table> = tables.into_iter().map(|d| d.table).collect();
        if self.dialect == Dialect::Mysql {
            tables.iter_mut().for_each(canonical_mysql_table);
        }
        if self.dialect == Dialect::Postgres {
            tables
                .iter_mut()
                .for_each(drop_redundant_unique_constraints);
        }
        let schema = Schema {
            tables,
            enums: enums.into_iter().map(|(e, _)| e).collect(),
            ..Schema::default()
        };
        // A table or type whose statement did not parse is declared all
        // the same: "unknown table" or "unknown type" follow-ups would only
        // mislead.
        if self.diagnostics.iter().any(|d| d.code == "parse-error") {
            self.diagnostics
                .retain(|d| d.code != "unknown-table" && d.code != "unknown-type");
        }
        self.into_result(schema.normalized())
    }

    /// The one table of a single `CREATE TABLE` statement, checked only
    /// against itself: foreign keys are not resolved.
    pub(crate) fn finish_single_table(mut self) -> Result<Table, ModelError> {
        if self.diagnostics.is_empty() && (self.tables.len() != 1 || !self.indexes.is_empty()) {
            let site = Site {
                file: 0,
                span: Span::new(Location::new(1, 1), Location::new(1, 1)),
            };
            self.report(
                site,
                "unsupported-statement",
                "expected exactly one CREATE TABLE statement".to_string(),
                None,
            );
        }
        let Some(mut draft) = self.tables.pop() else {
            return Err(ModelError::Invalid(Diagnostics(self.diagnostics)));
        };
        draft
            .table
            .foreign_keys
            .extend(draft.foreign_keys.drain(..).map(|d| d.key));
        let mut table = draft.table;
        if self.dialect == Dialect::Mysql {
            canonical_mysql_table(&mut table);
        }
        table.normalize();
        self.into_result(table)
    }

    /// The one index of a single `CREATE INDEX` statement and its table.
    pub(crate) fn finish_single_index(mut self) -> Result<(String, Index), ModelError> {
        if self.diagnostics.is_empty() && (self.indexes.len() != 1 || !self.tables.is_empty()) {
            let site = Site {
                file: 0,
                span: Span::new(Location::new(1, 1), Location::new(1, 1)),
            };
            self.report(
                site,
                "unsupported-statement",
                "expected exactly one CREATE INDEX statement".to_string(),
                None,
            );
        }
        match self.indexes.pop() {
            Some(draft) if self.diagnostics.is_empty() => Ok((draft.table, draft.index)),
            _ => Err(ModelError::Invalid(Diagnostics(self.diagnostics))),
        }
    }

    fn into_result<T>(mut self, value: T) -> Result<T, ModelError> {
        if self.diagnostics.is_empty() {
            return Ok(value);
        }
        // Stable: problems at the same place keep the order they were found.
        self.diagnostics.sort_by_key(|d| {
            let file = self.files.iter().position(|f| f.path == d.path);
            (file, d.line, d.column)
        });
        Err(ModelError::Invalid(Diagnostics(self.diagnostics)))
    }

    /// Columns whose type names a declared enum type become enum columns.
    fn resolve_enums(&mut self) {
        if self.enums.is_empty() {
            return;
        }
        let names: BTreeMap<String, String> = self
            .enums
            .iter()
            .map(|(e, _)| (e.name.to_lowercase(), e.name.clone()))
            .collect();
        let exact: BTreeSet<String> = self.enums.iter().map(|(e, _)| e.name.clone()).collect();
        let dialect = self.dialect;
        let resolve_one = |custom: &str| -> Option<String> {
            // The last part of the (possibly schema-qualified) name, read
            // quote-aware: `"a.b"` is one name, `"a""b"` is `a"b`.
            let (bare, quoted) = name_parts(custom, dialect)?.pop()?;
            if exact.contains(&bare) {
                return Some(bare);
            }
            (!quoted).then(|| names.get(&bare.to_lowercase()).cloned())?
        };
        fn resolve(ty: &mut ColumnType, resolve_one: &dyn Fn(&str) -> Option<String>) {
            match ty {
                ColumnType::Custom(custom) => {
                    if let Some(name) = resolve_one(custom) {
                        *ty = ColumnType::Enum { name };
                    }
                }
                ColumnType::Array(inner) => resolve(inner, resolve_one),
                _ => {}
            }
        }
        for draft in &mut self.tables {
            for column in &mut draft.table.columns {
                resolve(&mut column.ty, &resolve_one);
            }
        }
    }

    /// Columns of a type the database does not know (neither built in nor
    /// declared with `CREATE TYPE`): `upgrade` would fail on them.
    fn check_column_types(&mut self) {
        let mut unknown = Vec::new();
        for draft in &self.tables {
            for (column, site) in draft.table.columns.iter().zip(&draft.column_sites) {
                if !is_known_type(&column.ty, self.dialect) {
                    unknown.push((*site, draft.table.name.clone(), column.clone()));
                }
            }
        }
        for (site, table, column) in unknown {
            let declare = if self.dialect.named_enums() {
                " or declare it first: CREATE TYPE … AS ENUM (…)"
            } else {
                ""
            };
            self.report(
                site,
                "unknown-type",
                format!(
                    "column `{table}.{}` has type `{}`, which is neither built into {} nor declared \
                     in the models",
                    column.name, column.ty, self.dialect
                ),
                Some(format!("use a built-in type{declare}")),
            );
        }
    }

    /// MySQL refuses a primary key on a whole TEXT or BLOB column.
    fn check_mysql_primary_keys(&mut self) {
        if self.dialect != Dialect::Mysql {
            return;
        }
        let mut problems = Vec::new();
        for draft in &self.tables {
            let Some(pk) = &draft.table.primary_key else {
                continue;
            };
            for name in &pk.columns {
                if let Some(column) = draft.table.column(name)
                    && mysql_needs_key_prefix(&column.ty)
                {
                    let site = draft.primary_key_site.unwrap_or(draft.site);
                    problems.push((site, draft.table.name.clone(), column.clone()));
                }
            }
        }
        for (site, table, column) in problems {
            self.report_unprefixed_key(site, "the primary key", &table, &column.name, &column.ty);
        }
    }

    fn report_unprefixed_key(
        &mut self,
        site: Site,
        what: &str,
        table: &str,
        column: &str,
        ty: &ColumnType,
    ) {
        self.report(
            site,
            "unsupported-key",
            format!(
                "{what} of table `{table}` covers `{column}`, a `{ty}` column, without a prefix \
                 length: MySQL refuses it (error 1170), MariaDB makes it a hash or a prefix key \
                 that reads back as another"
            ),
            Some(format!(
                "use a VARCHAR column; an index can take a prefix length instead \
                 (`INDEX ({column}(255))`), a primary key or unique constraint cannot in the models"
            )),
        );
    }

    fn apply_comments(&mut self) {
        if self.comments.is_empty() {
            return;
        }
        for comment in std::mem::take(&mut self.comments) {
            let table = self.key(NameKind::Table, &comment.table);
            let Some(position) = self.tables_by_name.get(table.as_ref()).copied() else {
                self.report_unknown_table(comment.site, &comment.table, "a comment");
                continue;
            };
            let declared = comment
                .column
                .as_deref()
                .and_then(|c| self.declared_column(position, c));
            let draft = &mut self.tables[position];
            match &comment.column {
                None => draft.table.comment = comment.text,
                Some(column_name) => match declared.and_then(|c| draft.table.column_mut(&c)) {
                    Some(column) => column.comment = comment.text,
                    None => {
                        let table = comment.table.clone();
                        self.report_unknown_column(comment.site, &table, column_name);
                    }
                },
            }
        }
    }

    fn report_unknown_table(&mut self, site: Site, table: &str, what: &str) {
        self.report(
            site,
            "unknown-table",
            format!("{what} refers to table `{table}`, which no model declares"),
            Some(format!(
                "declare table `{table}` in the models, or remove the reference"
            )),
        );
    }

    /// Checks each foreign key against the table it references and fills in
    /// the referred columns of `REFERENCES t` (t's primary key).
    fn resolve_foreign_keys(&mut self) {
        let mut problems = Vec::new();
        // Moved out, not cloned: every key is resolved once.
        let drafts: Vec<Vec<ForeignKeyDraft>> = self
            .tables
            .iter_mut()
            .map(|draft| std::mem::take(&mut draft.foreign_keys))
            .collect();
        let mut resolved: Vec<Vec<ForeignKey>> = Vec::with_capacity(drafts.len());
        for (draft, fks) in self.tables.iter().zip(drafts) {
            let mut keys = Vec::with_capacity(fks.len());
            for fk in fks {
                let ForeignKeyDraft {
                    mut key,
                    table_site,
                    column_sites,
                } = fk;
                let source = |key: &ForeignKey| {
                    format!(
                        "foreign key {}({})",
                        draft.table.name,
                        key.columns.join(", ")
                    )
                };
                let Some(target) = self
                    .table_ids
                    .get(&self.table_id_key(key.referred_schema.as_deref(), &key.referred_table))
                    .map(|&id| &self.tables[id])
                else {
                    problems.push(Problem::UnknownTable(
                        table_site,
                        key.referred_table.clone(),
                        source(&key),
                    ));
                    continue;
                };
                if key.referred_columns.is_empty() {
                    match &target.table.primary_key {
                        Some(pk) => key.referred_columns = pk.columns.clone(),
                        None => {
                            problems.push(Problem::Other(
                                table_site,
                                "missing-primary-key",
                                format!(
                                    "{} references `{}` without naming columns, and `{}` has no primary key",
                                    source(&key), key.referred_table, key.referred_table
                                ),
                                format!("name the referenced columns: REFERENCES {}(…)", key.referred_table),
                            ));
                            continue;
                        }
                    }
                } else {
                    for (column, site) in key.referred_columns.iter_mut().zip(&column_sites) {
                        let wanted = self.key(NameKind::Column, column);
                        match target
                            .table
                            .columns
                            .iter()
                            .find(|c| self.key(NameKind::Column, &c.name) == wanted)
                        {
                            Some(declared) => column.clone_from(&declared.name),
                            None => problems.push(Problem::UnknownColumn(
                                *site,
                                key.referred_table.clone(),
                                column.clone(),
                            )),
                        }
                    }
                }
                // Spelled as the table is declared: `REFERENCES Users` to
                // SQLite's `users` is a key to `users`.
                key.referred_table.clone_from(&target.table.name);
                if key.referred_columns.len() != key.columns.len() {
                    problems.push(Problem::Other(
                        table_site,
                        "foreign-key-mismatch",
                        format!(
                            "{} has {} column(s) but references {} column(s) of `{}`",
                            source(&key),
                            key.columns.len(),
                            key.referred_columns.len(),
                            key.referred_table
                        ),
                        "reference as many columns as the key has".to_string(),
                    ));
                }
                keys.push(key);
            }
            resolved.push(keys);
        }
        for (draft, keys) in self.tables.iter_mut().zip(resolved) {
            draft.table.foreign_keys.reserve_exact(keys.len());
            draft.table.foreign_keys.extend(keys);
        }
        for problem in problems {
            self.report_problem(problem);
        }
    }

    /// Attaches the indexes that waited for every table to be declared.
    fn attach_indexes(&mut self) {
        for draft in std::mem::take(&mut self.indexes) {
            let table = self.key(NameKind::Table, &draft.table);
            let Some(position) = self.tables_by_name.get(table.as_ref()).copied() else {
                let what = format!("index `{}`", draft.index.name);
                self.report_unknown_table(draft.table_site, &draft.table, &what);
                continue;
            };
            self.attach_index(position, draft);
        }
    }

    fn report_problem(&mut self, problem: Problem) {
        match problem {
            Problem::UnknownTable(site, table, what) => {
                self.report_unknown_table(site, &table, &what)
            }
            Problem::UnknownColumn(site, table, column) => {
                self.report_unknown_column(site, &table, &column)
            }
            Problem::Other(site, code, message, help) => {
                self.report(site, code, message, Some(help))
            }
        }
    }

    fn location_text(&self, site: Site) -> String {
        let path = self.files.get(site.file).map_or("?", |f| f.path.as_str());
        format!("{path}:{}:{}", site.span.start.line, site.span.start.column)
    }

    fn report(&mut self, site: Site, code: &'static str, message: String, help: Option<String>) {
        let Some(file) = self.files.get(site.file) else {
            return;
        };
        let start = site.span.start;
        let (line, column) = if start.line == 0 {
            (1, 1)
        } else {
            (start.line as usize, start.column as usize)
        };
        let offset = file.offset(Location::new(line as u64, column as u64));
        let end = site.span.end;
        let len = if end.line == start.line && end.column > start.column {
            file.offset(end).saturating_sub(offset).max(1)
        } else {
            // A point, or a span over several lines: mark the first token.
            let rest = &file.source.inner()[offset..];
            rest.find(|c: char| c.is_whitespace() || c == ',' || c == '(' || c == ')' || c == ';')
                .unwrap_or(rest.len())
                .max(1)
        };
        self.diagnostics.push(Diagnostic {
            code,
            path: file.path.clone(),
            line,
            column,
            message,
            help,
            snippet: Some(Snippet {
                source: Arc::clone(&file.source),
                offset,
                len,
            }),
        });
    }
}

/// A key declared inside MySQL's `CREATE TABLE` (`KEY`, `INDEX`, `UNIQUE
/// KEY`, a column's `UNIQUE`), which becomes an [`Index`].
struct KeyDraft {
    name: Option<String>,
    name_site: Site,
    columns: Vec<IndexColumn>,
    unique: bool,
}

/// MySQL keeps no unique constraints apart from unique indexes: `UNIQUE
/// (c)`, `UNIQUE KEY uq (c)`, a column's `UNIQUE` and `CREATE UNIQUE INDEX
/// uq ON t (c)` all make the same catalog entry (an index with
/// `NON_UNIQUE = 0` in `information_schema.statistics`, no separate
/// constraint object). So on MySQL every unique key, however declared, is
/// read as [`Index`] `{ unique: true, name }` and no [`UniqueConstraint`] is
/// produced; the introspector reads the catalog the same way. A key
/// declared without a name gets the name MySQL gives it (see
/// [`mysql_key_names`]), so model and catalog agree.
fn unique_keys_are_indexes(dialect: Dialect) -> bool {
    matches!(dialect, Dialect::Mysql)
}

/// The index names of `keys` as MySQL assigns them: a named key keeps its
/// name; an unnamed one is called after its first column, with `_2`, `_3` …
/// appended while that name is taken (case-insensitively, like MySQL's
/// index names; `PRIMARY` is always taken), in declaration order
/// (`make_unique_key_name` in MySQL's `sql/sql_table.cc`). A first part
/// that is an expression gives `functional_index`, as in MySQL 8.
fn mysql_key_names(keys: &[KeyDraft]) -> Vec<String> {
    let mut taken: Vec<String> = std::iter::once("primary".to_string())
        .chain(
            keys.iter()
                .filter_map(|k| k.name.as_ref())
                .map(|n| n.to_lowercase()),
        )
        .collect();
    keys.iter()
        .map(|key| {
            if let Some(name) = &key.name {
                return name.clone();
            }
            let base = match key.columns.first().map(|c| strip_nested(&c.column.expr)) {
                Some(Expr::Identifier(ident)) => ident.value.clone(),
                _ => "functional_index".to_string(),
            };
            let mut candidate = base.clone();
            let mut n = 2;
            while taken.contains(&candidate.to_lowercase()) {
                candidate = format!("{base}_{n}");
                n += 1;
            }
            taken.push(candidate.to_lowercase());
            candidate
        })
        .collect()
}

/// `current_timestamp(n)`, canonical as the loader prints it.
fn is_current_timestamp_with_precision(text: &str) -> bool {
    text.strip_prefix("current_timestamp(")
        .and_then(|rest| rest.strip_suffix(')'))
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// MySQL's `[DEFAULT] CHARSET` / `CHARACTER SET` and `[DEFAULT] COLLATE`
/// table options, as (set, collation).
fn table_charset_and_collation(create: &CreateTable) -> (Option<String>, Option<String>) {
    let options = match &create.table_options {
        CreateTableOptions::Plain(options)
        | CreateTableOptions::With(options)
        | CreateTableOptions::Options(options)
        | CreateTableOptions::TableProperties(options) => options.as_slice(),
        CreateTableOptions::None => &[],
    };
    let mut charset = None;
    let mut collation = None;
    for option in options {
        let SqlOption::KeyValue { key, value } = option else {
            continue;
        };
        let value = match value {
            Expr::Identifier(ident) => ident.value.clone(),
            Expr::Value(v) => match &v.value {
                sqlparser::ast::Value::SingleQuotedString(text)
                | sqlparser::ast::Value::DoubleQuotedString(text) => text.clone(),
                other => other.to_string(),
            },
            other => other.to_string(),
        };
        match key.to_string().to_ascii_uppercase().as_str() {
            "DEFAULT CHARSET" | "CHARSET" | "DEFAULT CHARACTER SET" | "CHARACTER SET" => {
                charset = Some(mysql_charset_name(&value));
            }
            "DEFAULT COLLATE" | "COLLATE" => collation = Some(mysql_charset_name(&value)),
            _ => {}
        }
    }
    (charset, collation)
}

/// The text of a one-part name (`ascii_bin`, `` `ascii_bin` ``) unquoted;
/// several parts joined by dots.
fn object_name_text(name: &ObjectName) -> String {
    name.0
        .iter()
        .map(|part| match part.as_ident() {
            Some(ident) => ident.value.clone(),
            None => part.to_string(),
        })
        .collect::<Vec<_>>()
        .join(".")
}

/// A character set or collation name as MySQL's catalog reports it:
/// lowercase, and `utf8` (an alias) as `utf8mb3`.
fn mysql_charset_name(name: &str) -> String {
    let lower = name.to_ascii_lowercase();
    if lower == "utf8" {
        return "utf8mb3".to_string();
    }
    match lower.strip_prefix("utf8_") {
        Some(rest) => format!("utf8mb3_{rest}"),
        None => lower,
    }
}

/// A collation name as the IR holds it on PostgreSQL: the catalog's
/// `collname` (an unquoted name folded to lower case), `None` inside for
/// `default`, the collation of a column that names none. `None` for a name
/// qualified by a schema other than `pg_catalog`, which the IR cannot carry.
fn postgres_collation_name(name: &ObjectName) -> Option<Option<String>> {
    let parts: Vec<String> = name
        .0
        .iter()
        .map(|part| match part.as_ident() {
            Some(ident) if ident.quote_style.is_some() => ident.value.clone(),
            Some(ident) => ident.value.to_lowercase(),
            None => part.to_string(),
        })
        .collect();
    let name = match parts.as_slice() {
        [name] => name,
        [schema, name] if schema == "pg_catalog" => name,
        _ => return None,
    };
    Some((name != "default").then(|| name.clone()))
}

/// A collation name as the IR holds it on SQLite, where the names are
/// case-insensitive: upper case, and `None` for `BINARY`, the collation of
/// a column that names none.
fn sqlite_collation_name(name: &str) -> Option<String> {
    let upper = name.to_ascii_uppercase();
    (upper != "BINARY").then_some(upper)
}

/// A model column's set and collation as the IR holds them (see
/// `Column::collation`): none where they are the table's default, the
/// collation alone where one is given (it implies the set).
fn model_column_collation(
    charset: Option<String>,
    collation: Option<String>,
    table: &(Option<String>, Option<String>),
) -> (Option<String>, Option<String>) {
    let (table_charset, table_collation) = table;
    match (charset, collation) {
        (_, Some(collation)) if table_collation.as_ref() == Some(&collation) => (None, None),
        (_, Some(collation)) => (None, Some(collation)),
        // The set alone gives its default collation, which is the table's
        // where the table names the same set and no collation.
        (Some(charset), None)
            if table_collation.is_none() && table_charset.as_ref() == Some(&charset) =>
        {
            (None, None)
        }
        (charset, None) => (charset, None),
    }
}

/// The table comment: Hive's bare `COMMENT '…'` or MySQL's table option
/// `COMMENT [=] '…'`.
fn table_comment(create: &CreateTable) -> Option<String> {
    let text = |c: &CommentDef| match c {
        CommentDef::WithEq(text) | CommentDef::WithoutEq(text) => text.clone(),
    };
    if let Some(comment) = &create.comment {
        return Some(text(comment));
    }
    let options = match &create.table_options {
        CreateTableOptions::Plain(options)
        | CreateTableOptions::With(options)
        | CreateTableOptions::Options(options)
        | CreateTableOptions::TableProperties(options) => options.as_slice(),
        CreateTableOptions::None => &[],
    };
    options.iter().find_map(|option| match option {
        SqlOption::Comment(comment) => Some(text(comment)),
        _ => None,
    })
}

/// A problem found while the tables are borrowed, reported afterwards.
enum Problem {
    UnknownTable(Site, String, String),
    UnknownColumn(Site, String, String),
    Other(Site, &'static str, String, String),
}

/// Splits a file's tokens into statements at top-level semicolons. A
/// trigger body (`BEGIN … END`) and `CASE … END` contain semicolons or
/// `END`s of their own, so semicolons inside them do not split.
#[derive(Default)]
struct StatementSplitter {
    current: Vec<TokenWithSpan>,
    depth: i32,
    in_trigger: bool,
}

impl StatementSplitter {
    /// Takes the next token; returns a statement it completes (tokens up to,
    /// not including, its `;`), unless that is only whitespace.
    fn push(&mut self, token: TokenWithSpan) -> Option<Vec<TokenWithSpan>> {
        if self.ends_statement(&token.token) {
            let statement = std::mem::take(&mut self.current);
            return statement
                .iter()
                .any(|t| !matches!(t.token, Token::Whitespace(_)))
                .then_some(statement);
        }
        self.current.push(token);
        None
    }

    /// Updates the nesting for `token`; true for a top-level `;`, which
    /// resets it.
    fn ends_statement(&mut self, token: &Token) -> bool {
        match token {
            Token::SemiColon if self.depth <= 0 => {
                self.depth = 0;
                self.in_trigger = false;
                return true;
            }
            Token::Word(word) if word.quote_style.is_none() => match word.keyword {
                Keyword::TRIGGER => self.in_trigger = true,
                Keyword::BEGIN if self.in_trigger => self.depth += 1,
                Keyword::CASE => self.depth += 1,
                Keyword::END => self.depth -= 1,
                _ => {}
            },
            _ => {}
        }
        false
    }

    /// The last statement, which has no `;`, unless it is only whitespace.
    fn finish(self) -> Option<Vec<TokenWithSpan>> {
        self.current
            .iter()
            .any(|t| !matches!(t.token, Token::Whitespace(_)))
            .then_some(self.current)
    }

    /// Whether the tokens seen so far, followed by `tokens`, end at a
    /// statement boundary: a top-level `;` followed by nothing but spaces,
    /// tabs and line ends. A comment after it may be the start of a block
    /// comment that the chunk's end cut short (SQLite's tokenizer accepts
    /// an unterminated one), so it does not count. Does not change the
    /// splitter.
    fn ends_at_boundary(&self, tokens: &[TokenWithSpan]) -> bool {
        let mut probe = StatementSplitter {
            current: Vec::new(),
            depth: self.depth,
            in_trigger: self.in_trigger,
        };
        let mut pending = self
            .current
            .iter()
            .any(|t| !matches!(t.token, Token::Whitespace(_)));
        for token in tokens {
            if probe.ends_statement(&token.token) {
                pending = false;
            } else if !matches!(
                token.token,
                Token::Whitespace(Whitespace::Space | Whitespace::Tab | Whitespace::Newline)
            ) {
                pending = true;
            }
        }
        !pending
    }
}

/// A file's tokens, a chunk at a time, with file-relative positions.
///
/// A chunk ends after a line whose last visible character is `;`. That
/// `;` may sit in a string, a comment, a trigger body or a `COPY` payload,
/// so a chunk is accepted only if it tokenizes, has no `COPY` data and
/// ends at a top-level statement boundary ([`StatementSplitter`]);
/// otherwise it is retried at least twice as long (so a file never costs
/// more than a few whole tokenizations), up to the end of the file, where
/// a tokenizer error is the file's own. Each chunk starts at the start of a
/// line and is tokenized with the previous chunk's last token and last
/// non-whitespace token in front, the context the tokenizer looks at, so
/// its tokens are those the whole file would give; their lines are shifted
/// by the chunk's first line.
struct ChunkedTokens<'t> {
    text: &'t str,
    /// Byte offset of the next chunk, at the start of a line.
    start: usize,
    /// Lines before `start`.
    line_offset: u64,
    /// The tokens the tokenizer looks back at: the last non-whitespace
    /// token and the last token, in file order (one or none at the start).
    context: Vec<TokenWithSpan>,
    /// Mirrors the caller's splitter, to tell a boundary.
    splitter: StatementSplitter,
}

impl<'t> ChunkedTokens<'t> {
    fn new(text: &'t str) -> Self {
        ChunkedTokens {
            text,
            start: 0,
            line_offset: 0,
            context: Vec::new(),
            splitter: StatementSplitter::default(),
        }
    }

    /// The next chunk's tokens, `None` at the end of the file, or the
    /// file's tokenizer error (with its file-relative location).
    fn next_chunk(
        &mut self,
        dialect: &dyn sqlparser::dialect::Dialect,
    ) -> Result<Option<Vec<TokenWithSpan>>, sqlparser::tokenizer::TokenizerError> {
        if self.start >= self.text.len() {
            return Ok(None);
        }
        let mut end = next_boundary(self.text, self.start);
        loop {
            let at_eof = end >= self.text.len();
            let chunk = &self.text[self.start..end];
            let line_offset = self.line_offset;
            let shift = |location: Location| Location {
                line: location.line + line_offset,
                column: location.column,
            };
            let mut buf = self.context.clone();
            let seeded = buf.len();
            let result = Tokenizer::new(dialect, chunk)
                .tokenize_with_location_into_buf_with_mapper(&mut buf, |mut token| {
                    token.span = Span::new(shift(token.span.start), shift(token.span.end));
                    token
                });
            let accepted = match &result {
                Ok(()) => {
                    let tokens = &buf[seeded..];
                    at_eof
                        || (!tokens
                            .iter()
                            .any(|t| matches!(t.token, Token::CopyData { .. }))
                            && self.splitter.ends_at_boundary(tokens))
                }
                Err(_) => false,
            };
            if accepted {
                let tokens: Vec<TokenWithSpan> = buf.drain(seeded..).collect();
                self.advance(end, &tokens);
                return Ok(Some(tokens));
            }
            if at_eof {
                return match result {
                    Err(mut err) => {
                        err.location = shift(err.location);
                        Err(err)
                    }
                    // Unreachable: a chunk reaching the end is accepted.
                    Ok(()) => Ok(None),
                };
            }
            let longer = self.start + 2 * (end - self.start);
            end = next_boundary(self.text, longer.min(self.text.len()));
        }
    }

    /// Moves past an accepted chunk.
    fn advance(&mut self, end: usize, tokens: &[TokenWithSpan]) {
        self.line_offset += self.text[self.start..end].matches('\n').count() as u64;
        self.start = end;
        for token in tokens {
            self.splitter.ends_statement(&token.token);
        }
        let last = tokens.last().or(self.context.last()).cloned();
        let last_visible = tokens
            .iter()
            .rev()
            .chain(self.context.iter().rev())
            .find(|t| !matches!(t.token, Token::Whitespace(_)))
            .cloned();
        self.context.clear();
        match (last_visible, last) {
            (Some(visible), Some(last)) if matches!(last.token, Token::Whitespace(_)) => {
                self.context.push(visible);
                self.context.push(last);
            }
            (_, Some(last)) => self.context.push(last),
            _ => {}
        }
    }
}

/// The end of the first line at or after `from` whose last character other
/// than spaces, tabs and `\r` is `;` (just past its `\n`), or the end of
/// the text.
fn next_boundary(text: &str, from: usize) -> usize {
    let bytes = text.as_bytes();
    let mut line_start = from;
    while let Some(newline) = memchr_newline(&bytes[line_start..]) {
        let line_end = line_start + newline;
        let visible = bytes[line_start..line_end]
            .iter()
            .rev()
            .find(|b| !matches!(b, b' ' | b'\t' | b'\r'));
        if visible == Some(&b';') {
            return line_end + 1;
        }
        line_start = line_end + 1;
    }
    text.len()
}

fn memchr_newline(bytes: &[u8]) -> Option<usize> {
    bytes.iter().position(|&b| b == b'\n')
}

/// The first two words of a statement (`CREATE VIEW`, `INSERT INTO`), to
/// name it in a diagnostic.
fn leading_words(tokens: &[TokenWithSpan]) -> String {
    tokens
        .iter()
        .filter(|t| !matches!(t.token, Token::Whitespace(_)))
        .take(2)
        .map(|t| match &t.token {
            Token::Word(w) if w.quote_style.is_none() => w.value.to_uppercase(),
            other => other.to_string(),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// sqlparser's message without its prefix and location suffix, and the
/// location ("… at Line: 3, Column: 14").
/// Lower-cases every unquoted word, as PostgreSQL's lexer does before
/// anything else reads the statement: `CREATE TABLE Users (Id int)` creates
/// `users (id)`, `REFERENCES Users` refers to it, and `"Users"` is another
/// table
/// (<https://www.postgresql.org/docs/current/sql-syntax-lexical.html#SQL-SYNTAX-IDENTIFIERS>).
/// ASCII letters only, as the server does in a multibyte encoding such as
/// UTF8. Keywords are matched by their `keyword` field, so folding them
/// changes nothing else.
fn fold_unquoted(tokens: &mut [TokenWithSpan]) {
    for token in tokens {
        if let Token::Word(word) = &mut token.token
            && word.quote_style.is_none()
            && word.value.bytes().any(|b| b.is_ascii_uppercase())
        {
            word.value.make_ascii_lowercase();
        }
    }
}

fn split_parser_error(err: &ParserError) -> (String, Option<Location>) {
    let text = match err {
        ParserError::TokenizerError(s) | ParserError::ParserError(s) => s.clone(),
        ParserError::RecursionLimitExceeded => "statement nests too deeply".to_string(),
    };
    let Some(at) = text.rfind(" at Line: ") else {
        return (lowercase_first(&text), None);
    };
    let location = text[at + " at Line: ".len()..]
        .split_once(", Column: ")
        .and_then(|(line, column)| {
            Some(Location::new(
                line.trim().parse().ok()?,
                column.trim().parse().ok()?,
            ))
        });
    // The statement is parsed on its own, so its end reads as EOF.
    let message = text[..at].replace("found: EOF", "found: end of statement");
    (lowercase_first(&message), location)
}

fn lowercase_first(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// `(schema, name)` of a possibly qualified name. The default schema
/// (SQLite `main`, PostgreSQL `public`) is left out, because catalogs of
/// the default schema report no schema either.
fn split_name(name: &ObjectName, dialect: Dialect) -> (Option<String>, String) {
    let parts: Vec<&Ident> = name.0.iter().filter_map(|p| p.as_ident()).collect();
    match parts.as_slice() {
        [.., schema, table] => {
            let default_schema = match dialect {
                Dialect::Sqlite => "main",
                Dialect::Postgres => "public",
                Dialect::Mysql => "",
            };
            let schema = (schema.value != default_schema).then(|| schema.value.clone());
            (schema, table.value.clone())
        }
        [table] => (None, table.value.clone()),
        [] => (None, name.to_string()),
    }
}

/// A column's type as text for [`column_type_and_serial`]. A user type's
/// name is spelled by the dialect's quoting rather than sqlparser's printer,
/// which leaves a doubled quote in a name as it is (`"ty"""""`, the type
/// `ty""`, would print as `"ty"""`, the type `ty"`).
fn type_text(data_type: &DataType, dialect: Dialect) -> String {
    match data_type {
        DataType::Custom(name, modifiers) if modifiers.is_empty() => name
            .0
            .iter()
            .map(|part| match part.as_ident() {
                Some(ident) if ident.quote_style.is_some() => {
                    dialect.quote_identifier(&ident.value)
                }
                Some(ident) => ident.value.clone(),
                None => part.to_string(),
            })
            .collect::<Vec<_>>()
            .join("."),
        // The values by the dialect's literal quoting, which the catalog's
        // spelling of the type (MySQL's `COLUMN_TYPE`) also uses.
        DataType::Enum(members, None) => {
            let values: Option<Vec<String>> = members
                .iter()
                .map(|m| match m {
                    EnumMember::Name(value) => Some(dialect.quote_string(value)),
                    EnumMember::NamedValue(..) => None,
                })
                .collect();
            match values {
                Some(values) => format!("ENUM({})", values.join(", ")),
                None => data_type.to_string(),
            }
        }
        DataType::Array(ArrayElemTypeDef::SquareBracket(inner, None)) => {
            format!("{}[]", type_text(inner, dialect))
        }
        other => other.to_string(),
    }
}

fn ident_value(ident: Option<&Ident>) -> Option<String> {
    ident.map(|i| i.value.clone())
}

/// A unique constraint's `NULLS NOT DISTINCT`, on PostgreSQL (the one
/// dialect that has it).
fn nulls_not_distinct(dialect: Dialect, option: NullsDistinctOption) -> bool {
    dialect == Dialect::Postgres && option == NullsDistinctOption::NotDistinct
}

/// An index part's operator class as PostgreSQL names it (unquoted names
/// fold to lower case; the schema is dropped, as the catalog read does),
/// or `None` for one that is the default of its type for every index
/// method that has it: the catalog reports a default as no class at all.
fn operator_class(name: &ObjectName) -> Option<String> {
    let ident = name.0.last().and_then(|part| part.as_ident())?;
    let class = match ident.quote_style {
        Some(_) => ident.value.clone(),
        None => ident.value.to_lowercase(),
    };
    (!DEFAULT_OPERATOR_CLASSES.contains(&class.as_str())).then_some(class)
}

/// PostgreSQL operator classes that are the default for their type under
/// every index method that has a class of that name (`inet_ops` is not
/// here: GiST's is not its default). Written out in a model, they mean the
/// same as none.
const DEFAULT_OPERATOR_CLASSES: &[&str] = &[
    "array_ops",
    "bit_ops",
    "bool_ops",
    "bpchar_ops",
    "bytea_ops",
    "char_ops",
    "date_ops",
    "enum_ops",
    "float4_ops",
    "float8_ops",
    "int2_ops",
    "int4_ops",
    "int8_ops",
    "interval_ops",
    "jsonb_ops",
    "money_ops",
    "multirange_ops",
    "name_ops",
    "numeric_ops",
    "oid_ops",
    "range_ops",
    "text_ops",
    "time_ops",
    "timestamp_ops",
    "timestamptz_ops",
    "timetz_ops",
    "tsvector_ops",
    "uuid_ops",
    "varbit_ops",
];

/// `[NOT] DEFERRABLE [INITIALLY DEFERRED | IMMEDIATE]`, as PostgreSQL reads
/// it: `INITIALLY DEFERRED` alone implies `DEFERRABLE`.
fn deferral(characteristics: Option<&ConstraintCharacteristics>) -> Deferral {
    let Some(c) = characteristics else {
        return Deferral::NotDeferrable;
    };
    match (c.deferrable, c.initially) {
        (_, Some(DeferrableInitial::Deferred)) => Deferral::InitiallyDeferred,
        (Some(true), _) => Deferral::InitiallyImmediate,
        _ => Deferral::NotDeferrable,
    }
}

fn action(action: ReferentialAction) -> ForeignKeyAction {
    match action {
        ReferentialAction::Restrict => ForeignKeyAction::Restrict,
        ReferentialAction::Cascade => ForeignKeyAction::Cascade,
        ReferentialAction::SetNull => ForeignKeyAction::SetNull,
        ReferentialAction::NoAction => ForeignKeyAction::NoAction,
        ReferentialAction::SetDefault => ForeignKeyAction::SetDefault,
    }
}

/// PostgreSQL's `CREATE TABLE` creates no unnamed UNIQUE constraint whose
/// columns the primary key or an earlier unique constraint already cover
/// (it would be a duplicate index), so the model must not declare one
/// either: it would show as a difference forever.
fn drop_redundant_unique_constraints(table: &mut Table) {
    let mut seen: Vec<Vec<String>> = table
        .primary_key
        .iter()
        .map(|pk| pk.columns.clone())
        .collect();
    table.unique_constraints.retain(|unique| {
        if unique.name.is_none() && seen.contains(&unique.columns) {
            return false;
        }
        seen.push(unique.columns.clone());
        true
    });
}

/// A MySQL prefix key part, `name(255)`: a call of a bare name with one
/// integer argument and nothing else, as the column and its length.
fn prefix_part(expr: &Expr) -> Option<(&Ident, u32)> {
    use sqlparser::ast::{FunctionArg, FunctionArgExpr, ObjectNamePart, Value};
    let Expr::Function(function) = expr else {
        return None;
    };
    let [ObjectNamePart::Identifier(column)] = function.name.0.as_slice() else {
        return None;
    };
    let FunctionArguments::List(list) = &function.args else {
        return None;
    };
    let plain = list.duplicate_treatment.is_none()
        && list.clauses.is_empty()
        && function.filter.is_none()
        && function.over.is_none()
        && function.within_group.is_empty();
    let [FunctionArg::Unnamed(FunctionArgExpr::Expr(Expr::Value(value)))] = list.args.as_slice()
    else {
        return None;
    };
    let Value::Number(length, _) = &value.value else {
        return None;
    };
    plain.then_some(())?;
    length.parse().ok().map(|length| (column, length))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The file's tokens, a chunk at a time, concatenated.
    fn chunked(text: &str, dialect: Dialect) -> Vec<TokenWithSpan> {
        let dialect = sql_dialect(dialect);
        let mut chunks = ChunkedTokens::new(text);
        let mut all = Vec::new();
        let mut count = 0;
        while let Some(tokens) = chunks.next_chunk(&*dialect).unwrap() {
            all.extend(tokens);
            count += 1;
        }
        assert!(count >= 1);
        all
    }

    fn whole(text: &str, dialect: Dialect) -> Vec<TokenWithSpan> {
        let dialect = sql_dialect(dialect);
        Tokenizer::new(&*dialect, text)
            .tokenize_with_location()
            .unwrap()
    }

    /// Files whose `;` at a line end is not always a boundary: a string,
    /// a block comment, a line comment, a trigger body, a dollar quote,
    /// CRLF line ends, trailing text without `;`.
    const TRICKY: &[&str] = &[
        "CREATE TABLE a (x int);\nCREATE TABLE b (y text DEFAULT 'one;\ntwo;\n');\nCREATE INDEX i ON a (x);\n",
        "/* a;\nb;\n*/ CREATE TABLE a (x int);\n-- c;\nCREATE TABLE b (y int);   \n",
        "CREATE TABLE a (x int);\nCREATE TRIGGER t AFTER INSERT ON a BEGIN\n  UPDATE a SET x = 1;\n  UPDATE a SET x = CASE WHEN x > 0 THEN 1 ELSE 2 END;\nEND;\nCREATE TABLE b (y int);\n",
        "CREATE TABLE a (x int);\r\nCREATE TABLE b (y int);\r\n\r\nCREATE TABLE c (z int)",
        "CREATE FUNCTION f() RETURNS int AS $$\nSELECT 1;\nSELECT 2;\n$$ LANGUAGE sql;\nCREATE TABLE a (x int);\n",
        "CREATE TABLE é (x int);\nCREATE TABLE ü (y int);\n",
    ];

    #[test]
    fn chunked_tokens_are_the_whole_files_tokens() {
        for dialect in [Dialect::Sqlite, Dialect::Postgres, Dialect::Mysql] {
            for text in TRICKY {
                assert_eq!(
                    chunked(text, dialect),
                    whole(text, dialect),
                    "{dialect}: {text}"
                );
            }
        }
    }

    #[test]
    fn a_chunk_ends_only_after_a_line_ending_in_a_semicolon() {
        let text = "a;\nb\n c ; \r\nd";
        assert_eq!(next_boundary(text, 0), 3);
        assert_eq!(next_boundary(text, 3), 12);
        assert_eq!(next_boundary(text, 12), text.len());
    }

    #[test]
    fn a_tokenizer_error_reports_only_itself_at_its_file_position() {
        // The first statements parse (one with an unknown column) before
        // the unterminated string: as with the file tokenized whole, only
        // the tokenizer error is reported, on line 3.
        let text = "CREATE TABLE a (x int);\nCREATE INDEX i ON a (nope);\nCREATE TABLE b (y text DEFAULT 'open);\n";
        let mut loader = Loader::new(Dialect::Sqlite);
        loader.add_source("m.sql", text.to_string());
        assert!(loader.tables.is_empty());
        assert!(loader.indexes.is_empty());
        assert_eq!(loader.diagnostics.len(), 1, "{:?}", loader.diagnostics);
        assert_eq!(loader.diagnostics[0].code, "parse-error");
        assert_eq!(loader.diagnostics[0].line, 3);
    }

    #[test]
    fn indexes_attach_whatever_the_order_of_files_and_statements() {
        let mut loader = Loader::new(Dialect::Postgres);
        let first = "CREATE INDEX ix_early ON t (x);\nCREATE TABLE t (x int, y int);\n\
                     CREATE INDEX ix_same_file ON t (y);\n";
        loader.add_source("a.sql", first.to_string());
        // The index after its table is attached at once; the one before waits.
        assert_eq!(loader.tables[0].table.indexes.len(), 1);
        assert_eq!(loader.indexes.len(), 1);
        loader.add_source(
            "b.sql",
            "CREATE INDEX ix_other_file ON t (x, y);\n".to_string(),
        );
        assert_eq!(loader.indexes.len(), 2);
        let schema = loader.finish().unwrap();
        let names: Vec<&str> = schema.tables[0]
            .indexes
            .iter()
            .map(|i| i.name.as_str())
            .collect();
        assert_eq!(names, ["ix_early", "ix_other_file", "ix_same_file"]);
    }

    #[test]
    fn a_file_undone_by_a_tokenizer_error_takes_its_indexes_and_their_names() {
        let mut loader = Loader::new(Dialect::Postgres);
        loader.add_source(
            "a.sql",
            "CREATE TABLE t (x int);\nCREATE INDEX ix_t ON t (x);\nSELECT 'open;\n".to_string(),
        );
        assert!(loader.tables.is_empty());
        loader.add_source(
            "b.sql",
            "CREATE TABLE t (x int);\nCREATE INDEX ix_t ON t (x);\n".to_string(),
        );
        // Only the tokenizer error: ix_t in b.sql is not a second declaration.
        assert_eq!(loader.diagnostics.len(), 1, "{:?}", loader.diagnostics);
        assert_eq!(loader.diagnostics[0].code, "parse-error");
        assert_eq!(loader.tables[0].table.indexes.len(), 1);
    }

    #[test]
    fn statements_of_a_large_file_load_with_their_lines() {
        let mut text = String::new();
        for i in 0..200 {
            text.push_str(&format!("CREATE TABLE t{i} (\n  id int PRIMARY KEY\n);\n"));
        }
        text.push_str("CREATE TABLE t0 (id int);\n");
        let mut loader = Loader::new(Dialect::Sqlite);
        loader.add_source("m.sql", text);
        assert_eq!(loader.tables.len(), 200);
        assert_eq!(loader.tables[199].site.span.start.line, 199 * 3 + 1);
        assert_eq!(loader.diagnostics.len(), 1);
        assert_eq!(loader.diagnostics[0].code, "duplicate-table");
        assert_eq!(loader.diagnostics[0].line, 601);
    }
}
