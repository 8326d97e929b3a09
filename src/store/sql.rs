//! SQL functions herald's queries call that diesel does not name. Both backends have them;
//! on SQLite `lower` is replaced on each connection by Rust's own lowercasing (SQLite's built-in
//! one only knows ASCII, so a search for "élodie" would miss "Élodie").

use diesel::backend::Backend;
use diesel::define_sql_function;
use diesel::expression::{AppearsOnTable, Expression, SelectableExpression, ValidGrouping};
use diesel::query_builder::{AstPass, QueryFragment};
use diesel::result::QueryResult;
use diesel::serialize::ToSql;
use diesel::sql_types::{Nullable, Text};

define_sql_function! {
    /// The text in lowercase (Unicode on both backends).
    fn lower(x: Nullable<Text>) -> Nullable<Text>;
}

define_sql_function! {
    /// The first of the two that is not null.
    fn coalesce(x: Nullable<Text>, y: Nullable<Text>) -> Nullable<Text>;
}

/// Makes `lower` on this SQLite connection Rust's Unicode lowercasing.
pub(super) fn register_sqlite(
    conn: &mut diesel::sqlite::SqliteConnection,
) -> Result<(), diesel::result::Error> {
    lower_utils::register_impl(conn, |x: Option<String>| x.map(|s| s.to_lowercase()))
}

/// A `LIKE` pattern, bound as a parameter of a statement that is never kept prepared.
/// PostgreSQL plans a prepared statement for its parameters five times, then may settle on one
/// plan for any parameter; a pattern's selectivity (a person's name, or the company's domain
/// that every address holds) is what decides the plan, so each search is planned for its own.
#[derive(Debug, Clone, diesel::query_builder::QueryId)]
pub struct Pattern(String);

impl Expression for Pattern {
    type SqlType = Nullable<Text>;
}

impl<DB> QueryFragment<DB> for Pattern
where
    DB: Backend,
    String: ToSql<Nullable<Text>, DB>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        out.unsafe_to_cache_prepared();
        out.push_bind_param::<Nullable<Text>, String>(&self.0)
    }
}

impl<QS> AppearsOnTable<QS> for Pattern {}

impl<QS> SelectableExpression<QS> for Pattern {}

impl ValidGrouping<()> for Pattern {
    type IsAggregate = diesel::expression::is_aggregate::Never;
}

/// The status `pending` written into the statement rather than bound: the indexes of pending
/// deliveries hold only those rows (`WHERE status = 'pending'`), and a planner may use such an
/// index only when the query's own condition says so. With a bound `'pending'`, PostgreSQL's
/// plan for that value beats any plan it could keep for every value, so it plans the statement
/// afresh at each execution (ordinary chat's first messages ran at two thirds of their rate),
/// and SQLite plans it again for each value bound. Every filter on pending deliveries uses this;
/// the statement stays prepared (the text never changes).
#[derive(Debug, Clone, Copy, diesel::query_builder::QueryId)]
pub struct PendingStatus;

impl Expression for PendingStatus {
    type SqlType = Text;
}

impl<DB: Backend> QueryFragment<DB> for PendingStatus {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        let name = crate::domain::delivery::DeliveryStatus::Pending.as_str();
        debug_assert!(name.chars().all(|c| c.is_ascii_lowercase()));
        out.push_sql("'");
        out.push_sql(name);
        out.push_sql("'");
        Ok(())
    }
}

impl<QS> AppearsOnTable<QS> for PendingStatus {}

impl<QS> SelectableExpression<QS> for PendingStatus {}

impl ValidGrouping<()> for PendingStatus {
    type IsAggregate = diesel::expression::is_aggregate::Never;
}

/// `text` as a `LIKE … ESCAPE '\'` pattern matching it anywhere.
pub fn contains(text: &str) -> Pattern {
    Pattern(contains_pattern(text))
}

/// `text` as a `LIKE … ESCAPE '\'` pattern matching it anywhere.
fn contains_pattern(text: &str) -> String {
    let mut p = String::with_capacity(text.len() + 2);
    p.push('%');
    for ch in text.chars() {
        if matches!(ch, '\\' | '%' | '_') {
            p.push('\\');
        }
        p.push(ch);
    }
    p.push('%');
    p
}

#[cfg(test)]
mod tests {
    #[test]
    fn like_wildcards_in_a_search_are_plain_characters() {
        assert_eq!(super::contains_pattern("a_b%c\\"), "%a\\_b\\%c\\\\%");
        assert_eq!(super::contains_pattern("zoé"), "%zoé%");
    }
}
