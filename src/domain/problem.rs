//! What went wrong, as data: the id of a sentence in the text catalogue and its named
//! arguments. The pure rules say *what* is wrong; the chat layer says it in the reader's
//! language (`crate::texts::problem`).

use std::fmt;

/// One argument of a problem's sentence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Text(String),
    Number(i64),
}

/// A sentence of the catalogue (`id`) with its arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub id: &'static str,
    pub args: Vec<(&'static str, Value)>,
}

impl Problem {
    pub fn new(id: &'static str) -> Problem {
        Problem {
            id,
            args: Vec::new(),
        }
    }

    /// Adds a text argument.
    pub fn with(mut self, name: &'static str, value: impl Into<String>) -> Problem {
        self.args.push((name, Value::Text(value.into())));
        self
    }

    /// Adds a number argument (which may choose a plural form).
    pub fn with_number(mut self, name: &'static str, value: i64) -> Problem {
        self.args.push((name, Value::Number(value)));
        self
    }
}

/// For logs and tests only: people read the catalogue's sentence.
impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id)?;
        for (name, value) in &self.args {
            match value {
                Value::Text(s) => write!(f, " {name}={s:?}")?,
                Value::Number(n) => write!(f, " {name}={n}")?,
            }
        }
        Ok(())
    }
}
