//! What herald says about data kept safe: a list still in use, an action the audit log could
//! not record, and the audit log itself. In English and French.

use crate::domain::Lang;
use crate::domain::commands::FieldError;
use crate::domain::problem::Problem;

use super::texts::bold;

/// `list delete` refused: scheduled or running campaigns send to the list.
pub fn list_in_use(lang: Lang, list: &str, campaigns: &[String]) -> String {
    let names: Vec<String> = campaigns.iter().map(|c| bold(c)).collect();
    let names = names.join(", ");
    match lang {
        Lang::Fr => format!(
            "La liste {} n'a pas été supprimée : des campagnes programmées ou en cours \
             l'utilisent ({names}). Modifiez ou supprimez ces campagnes, ou attendez leur fin.",
            bold(list)
        ),
        Lang::En => format!(
            "List {} was not deleted: scheduled or running campaigns use it ({names}). Edit or \
             delete those campaigns, or wait until they complete.",
            bold(list)
        ),
    }
}

/// The campaign's list was deleted between the check of its fields and the save.
pub fn list_gone() -> FieldError {
    FieldError {
        field: "list",
        problem: Problem::new("field-list-gone"),
        example: "list: all-staff",
    }
}

/// Added to the answer of an action that was done but could not be written to the audit log.
pub fn not_audited(lang: Lang) -> String {
    match lang {
        Lang::Fr => "Attention : l'action a été faite, mais elle n'a pas pu être inscrite au \
                     journal d'audit. Prévenez votre équipe informatique."
            .to_string(),
        Lang::En => "Note: this was done, but it could not be written to the audit log. Tell \
                     your IT team."
            .to_string(),
    }
}

/// The head of an `audit` page.
pub fn audit_head(lang: Lang, page: u32, pages: u32) -> String {
    match lang {
        Lang::Fr => {
            format!("**Journal d'audit** (page {page}/{pages}, les plus récentes d'abord) :")
        }
        Lang::En => format!("**Audit log** (page {page}/{pages}, latest first):"),
    }
}

/// Below an `audit` page that has a next one.
pub fn audit_more(lang: Lang, next: u32) -> String {
    match lang {
        Lang::Fr => format!("Tapez **audit {next}** pour la suite."),
        Lang::En => format!("Type **audit {next}** for more."),
    }
}

/// An `audit` page with nothing on it.
pub fn audit_empty(lang: Lang, page: u32, pages: u32) -> String {
    match (lang, pages) {
        (Lang::Fr, 0) => "Le journal d'audit est vide.".to_string(),
        (Lang::En, 0) => "The audit log is empty.".to_string(),
        (Lang::Fr, _) => format!("Il n'y a pas de page {page} : le journal en a {pages}."),
        (Lang::En, _) => format!("There is no page {page}: the audit log has {pages}."),
    }
}
