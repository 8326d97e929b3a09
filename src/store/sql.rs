//! SQL functions herald's queries call that diesel does not name. Both backends have them;
//! on SQLite `lower` is replaced on each connection by Rust's own lowercasing (SQLite's built-in
//! one only knows ASCII, so a search for "élodie" would miss "Élodie").

use diesel::define_sql_function;
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

/// `text` as a `LIKE … ESCAPE '\'` pattern matching it anywhere.
pub fn contains_pattern(text: &str) -> String {
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
