//! `list show <name> [page]`: a list's members, installed or not, in pages that each fit in
//! one chat message, with the counts for the whole list on every page, and its Entra ID groups
//! with their member and installed counts (resolved when shown) on the first.

use super::texts;
use crate::audience::groups::GroupCount;
use crate::domain::Lang;
use crate::domain::pages::paginate;
use crate::domain::size::counted;
use crate::domain::text::escape_markdown;
use crate::store::lists::Member;

/// Most members on one page.
pub const PER_PAGE: usize = 100;
/// Most bytes (as Teams counts them) of member lines on one page: well under Teams' message
/// limit (`domain::size::LIMIT`), whatever the length of the addresses.
pub const PAGE_BUDGET: usize = 12 * 1024;

/// Page `page` (from 1) of the list `name`'s members; the first also shows its `groups`.
pub fn members_page(
    name: &str,
    members: &[Member],
    groups: &[GroupCount],
    page: usize,
    lang: Lang,
) -> String {
    let installed = members.iter().filter(|m| m.installed).count();
    let lines: Vec<String> = members
        .iter()
        .map(|m| {
            let line = texts::member_line(lang, &escape_markdown(&m.email), m.installed);
            match &m.presence {
                Some(availability) => format!("{line} · {}", presence_mark(lang, availability)),
                None => line,
            }
        })
        .collect();
    let weights: Vec<usize> = lines.iter().map(|l| counted(l) + 2).collect();
    let pages = paginate(&weights, PER_PAGE, PAGE_BUDGET);
    let Some(range) = page.checked_sub(1).and_then(|i| pages.get(i)).cloned() else {
        return texts::no_such_page(lang, name, pages.len());
    };
    let mut text = texts::members_head(lang, name, installed, members.len());
    if page == 1 && !groups.is_empty() {
        text.push('\n');
        text.push_str(&crate::t!(lang, "list-groups-head"));
        for g in groups {
            text.push('\n');
            text.push_str(&group_line(lang, g));
        }
        text.push('\n');
    }
    for line in &lines[range] {
        text.push('\n');
        text.push_str(line);
    }
    if pages.len() > 1 {
        text.push_str("\n\n");
        text.push_str(&texts::page_footer(lang, name, page, pages.len()));
    }
    text
}

/// A last known presence as a mark and a word (`● available`).
pub(super) fn presence_mark(lang: Lang, availability: &str) -> String {
    crate::t!(lang, "presence-mark", availability = availability)
}

/// Why Graph did not answer for a group, as a clause.
pub(super) fn why_text(lang: Lang, why: &crate::audience::groups::Why) -> String {
    crate::t!(lang, "group-why", why = why.kind(), detail = why.detail())
}

/// One group of a list with its counts, or why they are unknown.
fn group_line(lang: Lang, g: &GroupCount) -> String {
    let name = texts::bold(&g.group.name);
    let label = escape_markdown(&g.group.label());
    match &g.counted {
        Ok((members, installed)) => crate::t!(
            lang,
            "list-group-line",
            name = name,
            label = label,
            members = *members,
            installed = *installed
        ),
        Err(why) => crate::t!(
            lang,
            "list-group-failed",
            name = name,
            label = label,
            why = why_text(lang, why)
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audience::groups::Why;
    use crate::store::groups::ListGroup;

    fn group(counted: Result<(usize, usize), Why>) -> GroupCount {
        GroupCount {
            group: ListGroup {
                list_id: "l".into(),
                group_id: "0b1c2d3e-0000-4000-8000-00000000abcd".into(),
                name: "Sales_team".into(),
                mail: Some("sales@contoso.com".into()),
                added_at: chrono::NaiveDateTime::default(),
            },
            counted,
        }
    }

    #[test]
    fn groups_show_their_counts_on_the_first_page_only() {
        let groups = [group(Ok((1043, 1000))), group(Err(Why::Throttled))];
        let first = members_page("team", &members(250), &groups, 1, Lang::En);
        assert!(
            first.contains(
                "- **Sales\\_team** (group:sales@contoso.com): 1043 members, 1000 installed"
            ),
            "{first}"
        );
        assert!(
            first.contains("not resolved, Microsoft Graph is busy"),
            "{first}"
        );
        let fr = members_page("team", &members(3), &groups[..1], 1, Lang::Fr);
        assert!(fr.contains("1043 membres, 1000 installés"), "{fr}");
        let second = members_page("team", &members(250), &groups, 2, Lang::En);
        assert!(!second.contains("group:"), "{second}");
    }

    fn members(n: usize) -> Vec<Member> {
        (0..n)
            .map(|i| Member {
                email: format!("person.{i:04}@contoso.com"),
                installed: !i.is_multiple_of(4),
                presence: None,
            })
            .collect()
    }

    #[test]
    fn presence_marks_in_each_language() {
        let en = [
            "Available",
            "AvailableIdle",
            "Away",
            "BeRightBack",
            "Busy",
            "BusyIdle",
            "DoNotDisturb",
            "Offline",
            "PresenceUnknown",
        ]
        .map(|a| presence_mark(Lang::En, a));
        assert_eq!(
            en,
            [
                "● available",
                "● available, idle",
                "○ away",
                "○ be right back",
                "◐ busy",
                "◐ busy, idle",
                "⊘ do not disturb",
                "○ offline",
                "? unknown"
            ]
        );
        assert_eq!(presence_mark(Lang::Fr, "Busy"), "◐ occupé");
        let mut all = members(2);
        all[1].presence = Some("Available".into());
        let page = members_page("team", &all, &[], 1, Lang::Fr);
        assert!(
            page.contains("person.0001@contoso.com (installé) · ● disponible"),
            "{page}"
        );
        assert!(
            page.contains("person.0000@contoso.com (non installé)\n")
                || page.ends_with("person.0000@contoso.com (non installé)"),
            "{page}"
        );
    }

    #[test]
    fn a_short_list_is_one_page_with_no_footer() {
        let text = members_page("team", &members(3), &[], 1, Lang::En);
        assert!(text.starts_with("**team**: 2/3 installed"), "{text}");
        assert!(
            text.contains("person.0000@contoso.com (not installed)"),
            "{text}"
        );
        assert!(!text.contains("page"), "{text}");
    }

    #[test]
    fn a_long_list_pages_and_says_how_to_go_on() {
        let all = members(250);
        let first = members_page("team", &all, &[], 1, Lang::En);
        assert!(
            first.contains("Page 1 of 3") && first.contains("**list show team 2**"),
            "{first}"
        );
        let last = members_page("équipe", &all, &[], 3, Lang::Fr);
        assert!(last.starts_with("**équipe**: 187/250 installés"), "{last}");
        assert!(last.contains("Page 3 sur 3"), "{last}");
        let beyond = members_page("team", &all, &[], 4, Lang::En);
        assert!(
            beyond.contains("3 pages") && beyond.contains("**list show team 3**"),
            "{beyond}"
        );
    }

    #[test]
    fn long_addresses_make_shorter_pages_that_still_fit() {
        let all: Vec<Member> = (0..300)
            .map(|i| Member {
                email: format!("{}{i}@contoso.com", "a_very*long[name]".repeat(14)),
                installed: true,
                presence: None,
            })
            .collect();
        let mut seen = 0;
        for page in 1.. {
            let text = members_page("team", &all, &[], page, Lang::En);
            if !text.contains("@contoso.com") {
                break;
            }
            assert!(
                counted(&text) < PAGE_BUDGET + 1024,
                "page {page}: {}",
                counted(&text)
            );
            seen += text.matches("@contoso.com").count();
        }
        assert_eq!(seen, 300);
    }
}
