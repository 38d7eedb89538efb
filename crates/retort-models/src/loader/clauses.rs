//! Clauses the schema IR cannot carry, refused by name.
//!
//! sqlparser reads much more than retort's IR holds (partitioning,
//! inheritance, storage options, index `INCLUDE` columns, deferrable unique
//! keys …). A clause the loader does not turn into the IR would be dropped
//! without a word, and `autogen` would create something else than the
//! model says, so each one is an `unsupported-clause` diagnostic naming the
//! clause where it is written. What the IR does carry is checked where it
//! is read (loader.rs); whatever sqlparser adds to `CREATE TABLE` later is
//! caught by comparing the statement, without what is handled, to an empty
//! one.

use retort_schema::Dialect;
use sqlparser::ast::Spanned;
use sqlparser::ast::helpers::stmt_create_table::CreateTableBuilder;
use sqlparser::ast::{
    CheckConstraint, ColumnOption, ConstraintCharacteristics, ConstraintReferenceMatchKind,
    CreateIndex, CreateTable, CreateTableOptions, DeferrableInitial, ForeignKeyConstraint,
    GeneratedAs, IdentityPropertyKind, IndexColumn, IndexOption, IndexType, OrderBySort,
    PrimaryKeyConstraint, SqlOption, SqliteTableOption, TableConstraint, UniqueConstraint,
};
use sqlparser::keywords::Keyword;
use sqlparser::tokenizer::Token;
use sqlparser::tokenizer::{Location, Span};

use super::{Loader, Site};

const HELP: &str = "retort's schema model cannot carry it yet: remove it from the model, or \
                    create the object in a hand-written revision, leave it out of the models and \
                    list it in `[autogen] exclude_tables` / `exclude_objects`";

impl Loader {
    /// The first word `keyword` of the statement being read at or after
    /// `after`, else `fallback`: where a clause that has no span of its
    /// own is written.
    pub(super) fn keyword_site(&self, fallback: Site, keyword: Keyword, after: Location) -> Site {
        let after = (after.line, after.column);
        self.statement_keywords
            .iter()
            .find(|(k, at)| *k == keyword && (at.line, at.column) >= after)
            .map_or(fallback, |(_, at)| Site {
                file: fallback.file,
                span: Span::new(*at, *at),
            })
    }

    fn refuse(&mut self, site: Site, clause: &str, subject: &str) {
        self.report(
            site,
            "unsupported-clause",
            format!("{clause} is not supported yet ({subject})"),
            Some(HELP.to_string()),
        );
    }

    /// Refuses the clauses of a `CREATE TABLE` outside its columns and
    /// constraints that the IR has no field for.
    pub(super) fn refuse_table_clauses(&mut self, start: Site, create: &CreateTable, name: &str) {
        let subject = format!("table `{name}`");
        let after = create.name.span().start;
        let at = |loader: &Loader, keyword| loader.keyword_site(start, keyword, after);
        let temporary_keyword = if self
            .statement_keywords
            .iter()
            .any(|(k, _)| *k == Keyword::TEMP)
        {
            Keyword::TEMP
        } else {
            Keyword::TEMPORARY
        };
        let flags = [
            (create.or_replace, "OR REPLACE", Keyword::REPLACE),
            (create.temporary, "TEMPORARY", temporary_keyword),
            (create.unlogged, "UNLOGGED", Keyword::UNLOGGED),
            (create.external, "EXTERNAL", Keyword::EXTERNAL),
            (create.global == Some(true), "GLOBAL", Keyword::GLOBAL),
            (create.global == Some(false), "LOCAL", Keyword::LOCAL),
        ];
        for (set, clause, keyword) in flags {
            if set {
                let site = self.keyword_site(start, keyword, start.span.start);
                self.refuse(site, clause, &subject);
            }
        }
        if let Some(partition) = &create.partition_by {
            let site = Site {
                file: start.file,
                span: partition.span(),
            };
            let site = self.keyword_site(site, Keyword::PARTITION, after);
            self.refuse(site, "PARTITION BY", &subject);
        }
        if let Some(parent) = &create.partition_of {
            let site = self.keyword_site(start, Keyword::PARTITION, after);
            self.refuse(site, &format!("PARTITION OF {parent}"), &subject);
        }
        if let Some(parents) = &create.inherits {
            let site = at(self, Keyword::INHERITS);
            let list: Vec<String> = parents.iter().map(ToString::to_string).collect();
            self.refuse(site, &format!("INHERITS ({})", list.join(", ")), &subject);
        }
        if create.on_commit.is_some() {
            let site = at(self, Keyword::COMMIT);
            self.refuse(site, "ON COMMIT", &subject);
        }
        for option in &create.sqlite_table_options.options {
            let (clause, keyword) = match option {
                SqliteTableOption::Strict => ("STRICT", Keyword::STRICT),
                SqliteTableOption::WithoutRowid => ("WITHOUT ROWID", Keyword::WITHOUT),
            };
            let site = at(self, keyword);
            self.refuse(site, clause, &subject);
        }
        let (options, with) = match &create.table_options {
            CreateTableOptions::With(options) => (options.as_slice(), true),
            CreateTableOptions::Plain(options)
            | CreateTableOptions::Options(options)
            | CreateTableOptions::TableProperties(options) => (options.as_slice(), false),
            CreateTableOptions::None => (&[][..], false),
        };
        for option in options {
            if with {
                let site = at(self, Keyword::WITH);
                self.refuse(site, &format!("WITH ({option})"), &subject);
            } else if !self.ignorable_table_option(option) {
                let keyword = match option {
                    SqlOption::TableSpace(_) => Keyword::TABLESPACE,
                    _ => Keyword::NoKeyword,
                };
                let site = match keyword {
                    Keyword::NoKeyword => self.option_site(start, option, after),
                    keyword => at(self, keyword),
                };
                self.refuse(site, &format!("table option `{option}`"), &subject);
            }
        }
        // Anything else sqlparser read: the statement without what is
        // handled above or in `create_table` must be an empty one.
        let mut rest = create.clone();
        rest.columns.clear();
        rest.constraints.clear();
        rest.if_not_exists = false;
        rest.comment = None;
        rest.table_options = CreateTableOptions::None;
        rest.or_replace = false;
        rest.temporary = false;
        rest.unlogged = false;
        rest.external = false;
        rest.global = None;
        rest.partition_by = None;
        rest.partition_of = None;
        rest.for_values = None;
        rest.inherits = None;
        rest.on_commit = None;
        rest.sqlite_table_options = Default::default();
        rest.query = None;
        rest.like = None;
        rest.clone = None;
        let empty = CreateTableBuilder::new(rest.name.clone()).build();
        if rest != empty {
            self.refuse(start, &format!("`{rest}`"), &subject);
        }
    }

    /// Where a table option is written: the first word of its text.
    fn option_site(&self, start: Site, option: &SqlOption, after: Location) -> Site {
        let text = option.to_string();
        let first = text.split([' ', '=', '(']).next().unwrap_or("");
        let keyword = self
            .statement_keyword_named(first)
            .unwrap_or(Keyword::NoKeyword);
        self.keyword_site(start, keyword, after)
    }

    fn statement_keyword_named(&self, word: &str) -> Option<Keyword> {
        let upper = word.to_ascii_uppercase();
        sqlparser::keywords::ALL_KEYWORDS
            .iter()
            .position(|k| *k == upper)
            .and_then(|i| sqlparser::keywords::ALL_KEYWORDS_INDEX.get(i).copied())
    }

    /// MySQL table options that change nothing the IR describes: the
    /// default engine and the table's default character set and collation
    /// (each column's own is what the catalog compares). `COMMENT` is the
    /// table comment.
    fn ignorable_table_option(&self, option: &SqlOption) -> bool {
        match option {
            SqlOption::Comment(_) => true,
            SqlOption::KeyValue { key, value } if self.dialect == Dialect::Mysql => {
                let key = key.to_string().to_ascii_uppercase();
                let value = value.to_string().trim_matches(['\'', '"', '`']).to_string();
                match key.as_str() {
                    "ENGINE" => value.eq_ignore_ascii_case("innodb"),
                    "CHARSET"
                    | "DEFAULT CHARSET"
                    | "CHARACTER SET"
                    | "DEFAULT CHARACTER SET"
                    | "COLLATE"
                    | "DEFAULT COLLATE" => true,
                    _ => false,
                }
            }
            // `ENGINE = InnoDB` (with no parenthesised list).
            SqlOption::NamedParenthesizedList(list) if self.dialect == Dialect::Mysql => {
                list.key.value.eq_ignore_ascii_case("engine")
                    && list.values.is_empty()
                    && list
                        .name
                        .as_ref()
                        .is_some_and(|n| n.value.eq_ignore_ascii_case("innodb"))
            }
            _ => false,
        }
    }

    /// Refuses what a column option says beyond what the loader reads of
    /// it (see `create_table`).
    pub(super) fn refuse_column_option_clauses(
        &mut self,
        at: Site,
        option: &ColumnOption,
        table: &str,
        column: &str,
    ) {
        match option {
            ColumnOption::PrimaryKey(pk) => self.refuse_primary_key_clauses(at, pk, table),
            ColumnOption::Unique(unique) => self.refuse_unique_clauses(at, unique, table),
            ColumnOption::ForeignKey(fk) => {
                self.refuse_foreign_key_clauses(at, fk, &format!("{table}.{column}"))
            }
            ColumnOption::Check(check) => self.refuse_check_clauses(at, check, table),
            ColumnOption::DialectSpecific(tokens) => {
                let other: Vec<String> = tokens
                    .iter()
                    .filter(|t| {
                        !matches!(t, Token::Whitespace(_))
                            && !matches!(t, Token::Word(w)
                                if matches!(w.keyword, Keyword::AUTOINCREMENT | Keyword::AUTO_INCREMENT))
                            // SQLite's `PRIMARY KEY ASC`: the default order.
                            && !matches!(t, Token::Word(w) if w.keyword == Keyword::ASC)
                    })
                    .map(ToString::to_string)
                    .collect();
                if !other.is_empty() {
                    let subject = format!("column `{table}.{column}`");
                    self.refuse(at, &format!("`{}`", other.join(" ")), &subject);
                }
            }
            ColumnOption::Identity(
                IdentityPropertyKind::Identity(property)
                | IdentityPropertyKind::Autoincrement(property),
            ) if property.parameters.is_some() || property.order.is_some() => {
                let subject = format!("column `{table}.{column}`");
                self.refuse_identity(at, &GeneratedAs::ByDefault, true, &subject);
            }
            ColumnOption::Generated {
                generated_as: generated_as @ (GeneratedAs::Always | GeneratedAs::ByDefault),
                generation_expr: None,
                sequence_options,
                ..
            } => {
                let subject = format!("column `{table}.{column}`");
                let has_options = sequence_options.as_ref().is_some_and(|o| !o.is_empty());
                self.refuse_identity(at, generated_as, has_options, &subject);
            }
            _ => {}
        }
    }

    /// Refuses what a table constraint says beyond what the loader reads
    /// of it.
    pub(super) fn refuse_constraint_clauses(
        &mut self,
        at: Site,
        constraint: &TableConstraint,
        table: &str,
    ) {
        match constraint {
            TableConstraint::PrimaryKey(pk) => self.refuse_primary_key_clauses(at, pk, table),
            TableConstraint::Unique(unique) => self.refuse_unique_clauses(at, unique, table),
            TableConstraint::ForeignKey(fk) => self.refuse_foreign_key_clauses(at, fk, table),
            TableConstraint::Check(check) => self.refuse_check_clauses(at, check, table),
            TableConstraint::Index(index) => {
                let subject = format!("an index of `{table}`");
                self.refuse_key_options(
                    at,
                    index.index_type.as_ref(),
                    &index.index_options,
                    &[],
                    &subject,
                );
            }
            _ => {}
        }
    }

    fn refuse_primary_key_clauses(&mut self, at: Site, pk: &PrimaryKeyConstraint, table: &str) {
        let subject = format!("the primary key of `{table}`");
        self.refuse_key_part_order(&pk.columns, at.file, &subject);
        self.refuse_characteristics(at, pk.characteristics.as_ref(), false, &subject);
        self.refuse_key_options(
            at,
            pk.index_type.as_ref(),
            &pk.index_options,
            &pk.include,
            &subject,
        );
    }

    fn refuse_unique_clauses(&mut self, at: Site, unique: &UniqueConstraint, table: &str) {
        let subject = format!("a unique key of `{table}`");
        // MySQL's unique keys are read as indexes, which keep the order.
        if self.dialect != Dialect::Mysql {
            self.refuse_key_part_order(&unique.columns, at.file, &subject);
        }
        self.refuse_characteristics(at, unique.characteristics.as_ref(), false, &subject);
        self.refuse_key_options(
            at,
            unique.index_type.as_ref(),
            &unique.index_options,
            &unique.include,
            &subject,
        );
    }

    /// Refuses `DESC` and `NULLS …` on a key's columns: the IR keeps a key
    /// as plain columns (SQLite reads `PRIMARY KEY (a DESC)`, MySQL
    /// `UNIQUE (a DESC)`).
    fn refuse_key_part_order(&mut self, parts: &[IndexColumn], file: usize, subject: &str) {
        for part in parts {
            let options = &part.column.options;
            let site = Site {
                file,
                span: part.column.expr.span(),
            };
            if matches!(options.sort, Some(OrderBySort::Desc)) {
                let site = self.keyword_site(site, Keyword::DESC, site.span.start);
                self.refuse(site, "DESC on a key column", subject);
            }
            if options.nulls_first.is_some() {
                let site = self.keyword_site(site, Keyword::NULLS, site.span.start);
                self.refuse(site, "NULLS FIRST / LAST on a key column", subject);
            }
        }
    }

    /// `owner` is the table, or `table.column` for a column's `REFERENCES`.
    fn refuse_foreign_key_clauses(&mut self, at: Site, fk: &ForeignKeyConstraint, owner: &str) {
        let subject = format!("a foreign key of `{owner}`");
        self.refuse_match_kind(at, fk.match_kind, &subject);
        // PostgreSQL's catalog and the IR keep a foreign key's deferral;
        // SQLite's is read without it.
        let carried = self.dialect == Dialect::Postgres;
        self.refuse_characteristics(at, fk.characteristics.as_ref(), carried, &subject);
    }

    /// Refuses PostgreSQL's `NO INHERIT` and MySQL's `NOT ENFORCED` on a
    /// check.
    pub(super) fn refuse_check_clauses(&mut self, at: Site, check: &CheckConstraint, table: &str) {
        let subject = format!("a check of `{table}`");
        if check.no_inherit {
            let site = self.keyword_site(at, Keyword::INHERIT, at.span.start);
            self.refuse(site, "NO INHERIT", &subject);
        }
        if check.enforced == Some(false) {
            let site = self.keyword_site(at, Keyword::ENFORCED, at.span.start);
            self.refuse(site, "NOT ENFORCED", &subject);
        }
    }

    /// Refuses `[NOT] DEFERRABLE`, `INITIALLY …` and `[NOT] ENFORCED` on a
    /// key, unless `deferral_carried` (PostgreSQL foreign keys) or the
    /// clause says what the default is anyway.
    pub(super) fn refuse_characteristics(
        &mut self,
        fallback: Site,
        characteristics: Option<&ConstraintCharacteristics>,
        deferral_carried: bool,
        subject: &str,
    ) {
        let Some(c) = characteristics else {
            return;
        };
        let after = fallback.span.start;
        let default_deferral = c.deferrable != Some(true)
            && matches!(c.initially, None | Some(DeferrableInitial::Immediate));
        if !deferral_carried && !default_deferral {
            let keyword = if c.deferrable.is_some() {
                Keyword::DEFERRABLE
            } else {
                Keyword::INITIALLY
            };
            let site = self.keyword_site(fallback, keyword, after);
            self.refuse(site, "DEFERRABLE / INITIALLY DEFERRED", subject);
        }
        if c.enforced == Some(false) {
            let site = self.keyword_site(fallback, Keyword::ENFORCED, after);
            self.refuse(site, "NOT ENFORCED", subject);
        }
    }

    /// Refuses a key's index options (MySQL `COMMENT '…'`, a non-B-tree
    /// `USING`) and PostgreSQL `INCLUDE (…)` columns.
    pub(super) fn refuse_key_options(
        &mut self,
        fallback: Site,
        index_type: Option<&IndexType>,
        options: &[IndexOption],
        include: &[sqlparser::ast::Ident],
        subject: &str,
    ) {
        let after = fallback.span.start;
        if let Some(ty) = index_type.filter(|t| !matches!(t, IndexType::BTree)) {
            let site = self.keyword_site(fallback, Keyword::USING, after);
            self.refuse(site, &format!("USING {ty} on a key"), subject);
        }
        for option in options {
            match option {
                IndexOption::Using(IndexType::BTree) => {}
                IndexOption::Using(ty) => {
                    let site = self.keyword_site(fallback, Keyword::USING, after);
                    self.refuse(site, &format!("USING {ty} on a key"), subject);
                }
                IndexOption::Comment(_) => {
                    let site = self.keyword_site(fallback, Keyword::COMMENT, after);
                    self.refuse(site, &format!("index {option}"), subject);
                }
            }
        }
        if let Some(first) = include.first() {
            let site = self.keyword_site(
                Site {
                    file: fallback.file,
                    span: first.span,
                },
                Keyword::INCLUDE,
                after,
            );
            let columns: Vec<&str> = include.iter().map(|i| i.value.as_str()).collect();
            self.refuse(site, &format!("INCLUDE ({})", columns.join(", ")), subject);
        }
    }

    /// Refuses `MATCH FULL` / `MATCH PARTIAL` (`MATCH SIMPLE` is the
    /// default).
    pub(super) fn refuse_match_kind(
        &mut self,
        fallback: Site,
        kind: Option<ConstraintReferenceMatchKind>,
        subject: &str,
    ) {
        if let Some(
            kind @ (ConstraintReferenceMatchKind::Full | ConstraintReferenceMatchKind::Partial),
        ) = kind
        {
            let site = self.keyword_site(fallback, Keyword::MATCH, fallback.span.start);
            self.refuse(site, &kind.to_string(), subject);
        }
    }

    /// Refuses a column's identity that the IR would turn into another:
    /// retort creates `GENERATED BY DEFAULT AS IDENTITY` with default
    /// sequence options.
    pub(super) fn refuse_identity(
        &mut self,
        column_site: Site,
        generated_as: &GeneratedAs,
        has_sequence_options: bool,
        subject: &str,
    ) {
        if matches!(generated_as, GeneratedAs::Always) {
            let site = self.keyword_site(column_site, Keyword::ALWAYS, column_site.span.start);
            self.refuse(site, "GENERATED ALWAYS AS IDENTITY", subject);
        }
        if has_sequence_options {
            let site = self.keyword_site(column_site, Keyword::IDENTITY, column_site.span.start);
            self.refuse(
                site,
                "identity options (START WITH, INCREMENT BY …)",
                subject,
            );
        }
    }

    /// Refuses the parts of a `CREATE INDEX` the IR has no field for.
    pub(super) fn refuse_index_clauses(&mut self, start: Site, create: &CreateIndex, name: &str) {
        let subject = format!("index `{name}`");
        let after = start.span.start;
        if create.concurrently {
            let site = self.keyword_site(start, Keyword::CONCURRENTLY, after);
            self.report(
                site,
                "unsupported-clause",
                format!("CONCURRENTLY is not supported in a model ({subject})"),
                Some(
                    "the models say what exists, not how it is built: remove CONCURRENTLY and \
                     use `retort autogen --online` (or `[autogen] online = true`) to build \
                     indexes concurrently"
                        .to_string(),
                ),
            );
        }
        if !create.with.is_empty() {
            let site = self.keyword_site(start, Keyword::WITH, after);
            let list: Vec<String> = create.with.iter().map(ToString::to_string).collect();
            self.refuse(site, &format!("WITH ({})", list.join(", ")), &subject);
        }
        self.refuse_key_options(
            start,
            None,
            &create.index_options,
            &create.include,
            &subject,
        );
        for option in &create.alter_options {
            self.refuse(start, &format!("`{option}`"), &subject);
        }
    }

    /// Refuses what an index part says beyond its column or expression,
    /// its direction and its operator class: `NULLS FIRST`/`LAST` other
    /// than the default for its direction, `USING <operator>`, `WITH FILL`.
    pub(super) fn refuse_index_part_clauses(
        &mut self,
        file: usize,
        part: &IndexColumn,
        subject: &str,
    ) {
        let site = Site {
            file,
            span: part.column.expr.span(),
        };
        let options = &part.column.options;
        let descending = matches!(options.sort, Some(OrderBySort::Desc));
        // PostgreSQL: NULLS LAST ascending, NULLS FIRST descending.
        let default_nulls =
            self.dialect == Dialect::Postgres && options.nulls_first == Some(descending);
        if options.nulls_first.is_some() && !default_nulls {
            let clause = if options.nulls_first == Some(true) {
                "NULLS FIRST"
            } else {
                "NULLS LAST"
            };
            let site = self.keyword_site(site, Keyword::NULLS, site.span.start);
            self.refuse(site, clause, subject);
        }
        if let Some(OrderBySort::Using(op)) = &options.sort {
            let site = self.keyword_site(site, Keyword::USING, site.span.start);
            self.refuse(site, &format!("USING {op}"), subject);
        }
        if part.column.with_fill.is_some() {
            self.refuse(site, "WITH FILL", subject);
        }
    }
}
