//! What herald says to everyone (welcome, help, refusals) and the shapes several answers share.
//! The sentences themselves are in the catalogue (`locales/`).

use crate::domain::Lang;
use crate::domain::commands::FieldError;
use crate::domain::problem::Problem;
use crate::domain::text::escape_markdown;
use crate::t;

/// `s` in bold, its Markdown escaped.
pub fn bold(s: &str) -> String {
    format!("**{}**", escape_markdown(s))
}

/// `head`, then one line per field that did not hold up.
pub fn field_errors(lang: Lang, head: &str, errors: &[FieldError]) -> String {
    let lines: Vec<String> = errors
        .iter()
        .map(|e| {
            let line = t!(
                lang,
                "field-error-line",
                field = e.field,
                problem = crate::texts::problem(lang, &e.problem),
                example = e.example,
            );
            format!("- {line}")
        })
        .collect();
    format!("{head}\n{}", lines.join("\n"))
}

/// Why a message is refused for its size: what it would weigh, Teams' limit, what to cut.
pub fn too_heavy(weight: usize, limit: usize) -> Problem {
    // Teams counts 2 bytes per character.
    let cut = (weight.saturating_sub(limit)).div_ceil(2);
    Problem::new("field-too-heavy")
        .with_number("weight", weight as i64)
        .with_number("kb", (limit / 1024) as i64)
        .with_number("limit", limit as i64)
        .with_number("cut", cut as i64)
}

/// Who a resend left out, and why, as a line of its own (nothing when nobody was).
pub fn left_out(lang: Lang, counts: &crate::store::deliveries::resend::ResendCounts) -> String {
    if counts.unreachable == 0 && counts.still_not_installed == 0 {
        return String::new();
    }
    let line = t!(
        lang,
        "resend-left-out",
        unreachable = counts.unreachable,
        missing = counts.still_not_installed,
    );
    format!("\n{line}")
}

/// The first line of `list show`: the list and how many of its members installed herald.
pub fn members_head(lang: Lang, name: &str, installed: usize, total: usize) -> String {
    t!(
        lang,
        "list-members-head",
        name = bold(name),
        installed = installed,
        total = total
    )
}

/// One member of a list (`email` already escaped), installed or not.
pub fn member_line(lang: Lang, email: &str, installed: bool) -> String {
    let installed = if installed { "yes" } else { "no" };
    t!(
        lang,
        "list-member-line",
        email = email,
        installed = installed
    )
}

/// Where a page of `list show` stands, and how to see the next one.
pub fn page_footer(lang: Lang, name: &str, page: usize, pages: usize) -> String {
    let last = if page < pages { "no" } else { "yes" };
    t!(
        lang,
        "list-page-footer",
        last = last,
        page = page,
        pages = pages,
        name = escape_markdown(name),
        next = page + 1
    )
}

/// A page of `list show` past the last one.
pub fn no_such_page(lang: Lang, name: &str, pages: usize) -> String {
    t!(
        lang,
        "list-no-such-page",
        bold = bold(name),
        name = escape_markdown(name),
        pages = pages
    )
}

pub fn welcome(lang: Lang, first_name: Option<&str>) -> String {
    match first_name.map(str::trim).filter(|n| !n.is_empty()) {
        Some(name) => t!(lang, "welcome-named", name = name),
        None => t!(lang, "welcome"),
    }
}

/// What everyone may do. An admin's plain text is read as a command, so their help does not
/// promise that writing here answers a broadcast.
pub fn help(lang: Lang, admin: bool) -> String {
    if admin {
        format!(
            "{}\n\n{}\n\n{}\n\n{}\n\n{}",
            t!(lang, "help-for-admins"),
            t!(lang, "admin-help"),
            t!(lang, "admin-help-import"),
            t!(lang, "admin-help-localtime"),
            t!(lang, "admin-help-repeat")
        )
    } else {
        t!(lang, "help")
    }
}

pub fn hint(lang: Lang) -> String {
    t!(lang, "hint")
}

/// The one answer on a channel herald does not serve (Web Chat, Direct Line, …).
pub fn channel_not_served(lang: Lang) -> String {
    t!(lang, "channel-not-served")
}

pub fn refusal(lang: Lang) -> String {
    t!(lang, "refusal")
}

/// The warning that a presence policy will not be applied (Graph is off), saying how everyone
/// is treated instead; nothing when it will be.
pub fn presence_warning(
    lang: Lang,
    unheeded: Option<crate::campaigns::PresenceUnheeded>,
) -> String {
    let warning = match unheeded {
        None => return String::new(),
        Some(crate::campaigns::PresenceUnheeded::SentAnyway) => {
            t!(lang, "campaign-presence-unheeded-send")
        }
        Some(crate::campaigns::PresenceUnheeded::TreatedAsAbsent) => {
            t!(lang, "campaign-presence-unheeded-wait")
        }
    };
    format!("\n\n{warning}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multi_line_messages_keep_their_paragraphs() {
        let help = help(Lang::En, false);
        assert!(
            help.starts_with(
                "**herald** delivers your company's campaigns and broadcasts right in Teams.\n\n\
                 - **help**: this message\n\nMessages your administrators send you"
            ),
            "{help:?}"
        );
        let admin = help_text_lines(Lang::Fr);
        assert!(
            admin.contains(&"- **listes** : vos listes de diffusion"),
            "{admin:?}"
        );
    }

    fn help_text_lines(lang: Lang) -> Vec<&'static str> {
        let text: &'static str = Box::leak(help(lang, true).into_boxed_str());
        text.lines().collect()
    }

    #[test]
    fn help_promises_a_plain_reply_only_to_whoever_gets_one() {
        for lang in [Lang::En, Lang::Fr] {
            let user = help(lang, false);
            let admin = help(lang, true);
            assert!(user.contains("just write here") || user.contains("écrivez simplement ici"));
            assert!(!admin.contains("just write here") && !admin.contains("écrivez simplement"));
            assert!(admin.contains("broadcast delete") || admin.contains("diffusion supprimer"));
        }
    }

    #[test]
    fn list_pages_name_the_next_page_in_each_language() {
        assert_eq!(
            page_footer(Lang::En, "sales_team", 1, 3),
            "Page 1 of 3. Next page: type **list show sales\\_team 2**."
        );
        assert_eq!(
            page_footer(Lang::Fr, "x", 3, 3),
            "Page 3 sur 3, la dernière."
        );
        assert_eq!(
            member_line(Lang::Fr, "a@b.c", false),
            "- a@b.c (non installé)"
        );
    }
}
