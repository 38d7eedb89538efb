//! The loader's error type and its diagnostics.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan, NamedSource, SourceCode};

/// What can go wrong reading model files.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ModelError {
    /// A model file or directory could not be read.
    #[error("cannot read model file {}; check that it exists and is readable", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The models were read but have problems; every problem found is listed.
    #[error("{0}")]
    Invalid(Diagnostics),
}

impl ModelError {
    /// The diagnostics, when the models are invalid.
    pub fn diagnostics(&self) -> Option<&Diagnostics> {
        match self {
            ModelError::Invalid(diagnostics) => Some(diagnostics),
            ModelError::Io { .. } => None,
        }
    }

    /// The error rendered for a terminal, without colours: each diagnostic
    /// with a source excerpt and a caret under the problem (miette's
    /// graphical report). IO errors render as their message.
    pub fn render_fancy(&self) -> String {
        match self {
            ModelError::Invalid(diagnostics) => diagnostics.render_fancy(),
            ModelError::Io { .. } => format!("error: {self}\n"),
        }
    }
}

/// Every problem found in a set of model files, in file then position order.
#[derive(Debug, Clone, Default)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    /// The diagnostics, in order.
    pub fn iter(&self) -> impl Iterator<Item = &Diagnostic> {
        self.0.iter()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// See [`ModelError::render_fancy`].
    pub fn render_fancy(&self) -> String {
        let handler = GraphicalReportHandler::new_themed(GraphicalTheme::unicode_nocolor())
            .with_width(100)
            .with_links(false)
            .with_context_lines(1);
        let mut out = String::new();
        for diagnostic in &self.0 {
            // Writing into a String cannot fail; a failed render would only
            // lose the excerpt, so fall back to the one-line form.
            if handler.render_report(&mut out, &Fancy(diagnostic)).is_err() {
                out.push_str(&diagnostic.to_string());
                out.push('\n');
            }
        }
        out
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, diagnostic) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{diagnostic}")?;
        }
        Ok(())
    }
}

/// One problem in a model file.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Diagnostic {
    /// A stable kebab-case code: `parse-error`, `duplicate-table`,
    /// `duplicate-column`, `duplicate-index`, `duplicate-primary-key`,
    /// `unknown-column`, `unknown-table`, `unsupported-statement`,
    /// `unsupported-clause`, `missing-primary-key`, `foreign-key-mismatch`,
    /// `unnamed-index`, `expression-too-deep`, `unknown-type`, `invalid-default`,
    /// `unsupported-key`.
    pub code: &'static str,
    /// The file, as given (or the `origin` of [`crate::load_str`]).
    pub path: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
    pub message: String,
    pub help: Option<String>,
    /// The file text and the byte range the problem covers, for excerpts.
    pub(crate) snippet: Option<Snippet>,
}

#[derive(Debug, Clone)]
pub(crate) struct Snippet {
    pub(crate) source: Arc<NamedSource<String>>,
    pub(crate) offset: usize,
    pub(crate) len: usize,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: error[{}]: {}",
            self.path, self.line, self.column, self.code, self.message
        )?;
        if let Some(help) = &self.help {
            write!(f, "\n  help: {help}")?;
        }
        Ok(())
    }
}

/// A [`Diagnostic`] as miette sees it: the headline is the message alone,
/// since miette prints the code, location and help itself.
struct Fancy<'a>(&'a Diagnostic);

impl fmt::Debug for Fancy<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.0, f)
    }
}

impl fmt::Display for Fancy<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.message)
    }
}

impl std::error::Error for Fancy<'_> {}

impl miette::Diagnostic for Fancy<'_> {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(self.0.code))
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.0
            .help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        self.0
            .snippet
            .as_ref()
            .map(|s| &*s.source as &dyn SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let snippet = self.0.snippet.as_ref()?;
        Some(Box::new(std::iter::once(LabeledSpan::new(
            None,
            snippet.offset,
            snippet.len,
        ))))
    }
}
