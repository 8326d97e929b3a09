//! `list show <name> [page]`: a list's members, installed or not, in pages that each fit in
//! one chat message, with the counts for the whole list on every page.

use super::texts;
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

/// Page `page` (from 1) of the list `name`'s members.
pub fn members_page(name: &str, members: &[Member], page: usize, lang: Lang) -> String {
    let installed = members.iter().filter(|m| m.installed).count();
    let lines: Vec<String> = members
        .iter()
        .map(|m| texts::member_line(lang, &escape_markdown(&m.email), m.installed))
        .collect();
    let weights: Vec<usize> = lines.iter().map(|l| counted(l) + 2).collect();
    let pages = paginate(&weights, PER_PAGE, PAGE_BUDGET);
    let Some(range) = page.checked_sub(1).and_then(|i| pages.get(i)).cloned() else {
        return texts::no_such_page(lang, name, pages.len());
    };
    let mut text = texts::members_head(lang, name, installed, members.len());
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

#[cfg(test)]
mod tests {
    use super::*;

    fn members(n: usize) -> Vec<Member> {
        (0..n)
            .map(|i| Member {
                email: format!("person.{i:04}@contoso.com"),
                installed: !i.is_multiple_of(4),
            })
            .collect()
    }

    #[test]
    fn a_short_list_is_one_page_with_no_footer() {
        let text = members_page("team", &members(3), 1, Lang::En);
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
        let first = members_page("team", &all, 1, Lang::En);
        assert!(
            first.contains("Page 1 of 3") && first.contains("**list show team 2**"),
            "{first}"
        );
        let last = members_page("équipe", &all, 3, Lang::Fr);
        assert!(last.starts_with("**équipe**: 187/250 installés"), "{last}");
        assert!(last.contains("Page 3 sur 3"), "{last}");
        let beyond = members_page("team", &all, 4, Lang::En);
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
            })
            .collect();
        let mut seen = 0;
        for page in 1.. {
            let text = members_page("team", &all, page, Lang::En);
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
