//! What herald says about data kept safe: a list still in use, an action the audit log could
//! not record, and the audit log itself. The sentences are in the catalogue (`locales/`).

use crate::domain::Lang;
use crate::t;

use super::texts::bold;

/// `list delete` refused: scheduled or running campaigns send to the list.
pub fn list_in_use(lang: Lang, list: &str, campaigns: &[String]) -> String {
    let names: Vec<String> = campaigns.iter().map(|c| bold(c)).collect();
    t!(
        lang,
        "list-in-use",
        list = bold(list),
        campaigns = names.join(", ")
    )
}

/// Added to the answer of an action that was done but could not be written to the audit log.
pub fn not_audited(lang: Lang) -> String {
    t!(lang, "not-audited")
}

/// The head of an `audit` page.
pub fn audit_head(lang: Lang, page: u32, pages: u32) -> String {
    t!(lang, "audit-head", page = page, pages = pages)
}

/// Below an `audit` page that has a next one.
pub fn audit_more(lang: Lang, next: u32) -> String {
    t!(lang, "audit-more", next = next)
}

/// An `audit` page with nothing on it.
pub fn audit_empty(lang: Lang, page: u32, pages: u32) -> String {
    t!(lang, "audit-empty", page = page, pages = pages)
}
