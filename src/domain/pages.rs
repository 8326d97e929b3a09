//! Long answers in pages that each fit in one chat message: a page holds at most so many
//! lines and so many bytes (as Teams counts them), so a list of thousands is read page by page
//! instead of being one reply Teams refuses.

use std::ops::Range;

/// Cuts lines of the given weights into pages: consecutive, in order, each with at least one
/// line, at most `per_page` lines, and (unless a single line outweighs it) at most `budget`.
pub fn paginate(weights: &[usize], per_page: usize, budget: usize) -> Vec<Range<usize>> {
    let per_page = per_page.max(1);
    let mut pages = Vec::new();
    let (mut start, mut used) = (0, 0);
    for (i, w) in weights.iter().enumerate() {
        let full = i - start >= per_page || (i > start && used + w > budget);
        if full {
            pages.push(start..i);
            (start, used) = (i, 0);
        }
        used += w;
    }
    if start < weights.len() || pages.is_empty() {
        pages.push(start..weights.len());
    }
    pages
}

/// A page number as typed after a command (`2`, `#2`, `p2`, `page 2`): `None` when it is not
/// a number from 1 up.
pub fn page_number(text: &str) -> Option<usize> {
    let t = text.trim().to_lowercase();
    let t = t
        .trim_start_matches("page")
        .trim_start_matches(['#', 'p'])
        .trim();
    t.parse().ok().filter(|n| *n > 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::commands::Command;
    use proptest::prelude::*;

    #[test]
    fn list_show_takes_an_optional_page() {
        let page = |n| {
            Ok(Command::ListShow {
                name: "staff".into(),
                page: n,
            })
        };
        assert_eq!(Command::parse("list show staff"), page(1));
        assert_eq!(Command::parse("liste afficher staff 3"), page(3));
        let e = Command::parse("list show staff x").unwrap_err().to_string();
        assert!(
            e.contains("page number") && e.contains("list show all-staff 2"),
            "{e}"
        );
    }

    #[test]
    fn pages_close_on_count_or_weight() {
        assert_eq!(paginate(&[1; 5], 2, 100), [0..2, 2..4, 4..5]);
        assert_eq!(paginate(&[40, 40, 40], 10, 100), [0..2, 2..3]);
        // A line heavier than the budget still gets its page.
        assert_eq!(paginate(&[500, 1], 10, 100), [0..1, 1..2]);
        assert_eq!(paginate(&[], 10, 100), vec![Range { start: 0, end: 0 }]);
    }

    #[test]
    fn page_numbers_as_people_type_them() {
        for (text, n) in [
            ("2", Some(2)),
            ("#3", Some(3)),
            ("page 4", Some(4)),
            ("p5", Some(5)),
        ] {
            assert_eq!(page_number(text), n, "{text}");
        }
        for bad in ["0", "-1", "two", "", "1.5"] {
            assert_eq!(page_number(bad), None, "{bad}");
        }
    }

    proptest! {
        /// Every line on exactly one page, in order, each page within its limits.
        #[test]
        fn pages_cover_every_line_once(
            weights in proptest::collection::vec(1usize..300, 0..400),
            per_page in 1usize..50,
            budget in 100usize..2000,
        ) {
            let pages = paginate(&weights, per_page, budget);
            let mut next = 0;
            for p in &pages {
                prop_assert_eq!(p.start, next);
                next = p.end;
                prop_assert!(p.len() <= per_page);
                let w: usize = weights[p.clone()].iter().sum();
                prop_assert!(w <= budget || p.len() == 1);
            }
            prop_assert_eq!(next, weights.len());
        }
    }
}
