//! A roster: the addresses of a table (the rows of a CSV file or of a spreadsheet's sheet). The
//! address column is the one whose header names an email or a UPN (`email`, `E-mail`, `UPN`,
//! `userPrincipalName`, `Adresse e-mail`, `courriel`…, whatever the case and accents), else the
//! column where the most cells are addresses. Each address is kept once, in lower case; the
//! cells of that column that are not addresses are named. A Skype user written `skype:<id>` is
//! an address too (its id keeps its case).

use std::collections::HashSet;

use super::commands::Email;

/// What a table's address column holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Roster {
    /// Each address once, lower case, in the order of the file.
    pub addresses: Vec<String>,
    /// Cells repeating an address already seen.
    pub duplicates: usize,
    /// Non-empty cells that are not addresses, as written.
    pub invalid: Vec<String>,
}

/// Why a table gives no roster.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RosterError {
    /// No cell has anything in it.
    Empty,
    /// No column is named like an address column, and no cell holds an address; or the one
    /// named so holds none.
    NoAddressColumn,
}

/// Header names of an address column, compared without case, accents, spaces, `-`, `_` or `.`.
const HEADERS: &[&str] = &[
    "email",
    "emails",
    "mail",
    "emailaddress",
    "mailaddress",
    "workemail",
    "upn",
    "userprincipalname",
    "smtp",
    "primarysmtpaddress",
    "adresseemail",
    "adressemail",
    "adressemel",
    "adressedemessagerie",
    "adresseelectronique",
    "courriel",
    "adressecourriel",
    "adressedecourriel",
    "mel",
];

/// `Adresse e-mail` → `adresseemail`: lower case, common Latin accents dropped, separators gone.
fn header_key(text: &str) -> String {
    text.trim()
        .trim_start_matches('\u{feff}')
        .to_lowercase()
        .chars()
        .filter_map(|c| {
            let plain = match c {
                'à' | 'â' | 'ä' | 'á' => 'a',
                'é' | 'è' | 'ê' | 'ë' => 'e',
                'î' | 'ï' | 'í' => 'i',
                'ô' | 'ö' | 'ó' => 'o',
                'ù' | 'û' | 'ü' | 'ú' => 'u',
                'ç' => 'c',
                ' ' | '-' | '_' | '.' | '\u{a0}' | '\'' | '’' => return None,
                other => other,
            };
            Some(plain)
        })
        .collect()
}

fn is_address(cell: &str) -> bool {
    !cell.trim().is_empty() && address(cell).is_some()
}

/// A cell's address: an email in lower case, or a Skype user `skype:<id>` (id as written).
fn address(cell: &str) -> Option<String> {
    Email::parse(cell)
        .map(|e| e.as_str().to_string())
        .or_else(|| super::skype::member(cell))
}

/// The roster of `rows` (ragged rows welcome; cells as read, untrimmed).
pub fn read(rows: &[Vec<String>]) -> Result<Roster, RosterError> {
    let filled = |row: &Vec<String>| row.iter().any(|c| !c.trim().is_empty());
    let rows: Vec<&Vec<String>> = rows.iter().filter(|r| filled(r)).collect();
    let Some(first) = rows.first() else {
        return Err(RosterError::Empty);
    };
    let named = first
        .iter()
        .position(|c| HEADERS.contains(&header_key(c).as_str()));
    let (column, body) = match named {
        Some(column) => (column, &rows[1..]),
        None => {
            let width = rows.iter().map(|r| r.len()).max().unwrap_or(0);
            let count = |col: usize| {
                rows.iter()
                    .filter(|r| r.get(col).is_some_and(|c| is_address(c)))
                    .count()
            };
            let best = (0..width)
                .map(|col| (count(col), col))
                // The most addresses; on a tie, the leftmost column.
                .max_by_key(|&(n, col)| (n, std::cmp::Reverse(col)))
                .filter(|&(n, _)| n > 0)
                .ok_or(RosterError::NoAddressColumn)?
                .1;
            // A first row whose cell there is not an address is the header row.
            let header = !first.get(best).is_some_and(|c| is_address(c));
            (best, if header { &rows[1..] } else { &rows[..] })
        }
    };
    let mut roster = Roster {
        addresses: Vec::new(),
        duplicates: 0,
        invalid: Vec::new(),
    };
    let mut seen = HashSet::new();
    for row in body {
        let Some(cell) = row.get(column).map(|c| c.trim()) else {
            continue;
        };
        if cell.is_empty() {
            continue;
        }
        match address(cell) {
            Some(address) => {
                if seen.insert(address.clone()) {
                    roster.addresses.push(address);
                } else {
                    roster.duplicates += 1;
                }
            }
            None => roster.invalid.push(cell.to_string()),
        }
    }
    if roster.addresses.is_empty() {
        return Err(RosterError::NoAddressColumn);
    }
    Ok(roster)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(text: &str) -> Vec<Vec<String>> {
        text.lines()
            .map(|l| l.split('|').map(str::to_string).collect())
            .collect()
    }

    #[test]
    fn the_column_is_found_by_its_header_whatever_its_spelling() {
        for header in [
            "Email",
            "E-mail",
            "Adresse e-mail",
            "ADRESSE E-MAIL",
            "Adresse électronique",
            "Courriel",
            "userPrincipalName",
            "UPN",
            "\u{feff}mail",
        ] {
            let rows = table(&format!(
                "Name|{header}|Manager\nAda|ada@contoso.com|boss@contoso.com\nBob|not-an-email|boss@contoso.com"
            ));
            let roster = read(&rows).unwrap();
            assert_eq!(roster.addresses, ["ada@contoso.com"], "{header}");
            assert_eq!(roster.invalid, ["not-an-email"], "{header}");
        }
    }

    #[test]
    fn without_a_header_the_column_with_most_addresses_wins() {
        let rows = table(
            "Who|Contact|Boss\nAda|ada@contoso.com|x@contoso.com\nBob|BOB@contoso.com|x@contoso.com\nCy|nope|\nDi|ada@contoso.com|",
        );
        let roster = read(&rows).unwrap();
        assert_eq!(roster.addresses, ["ada@contoso.com", "bob@contoso.com"]);
        assert_eq!(roster.duplicates, 1);
        assert_eq!(roster.invalid, ["nope"]);
        // No header row at all: the first row counts.
        let roster = read(&table("ada@contoso.com\nbob@contoso.com")).unwrap();
        assert_eq!(roster.addresses.len(), 2);
        let roster = read(&table("Email\nSKYPE:live:Ada\nada@contoso.com")).unwrap();
        assert_eq!(roster.addresses, ["skype:live:Ada", "ada@contoso.com"]);
    }

    #[test]
    fn empty_tables_and_tables_without_addresses_are_refused() {
        assert_eq!(read(&[]), Err(RosterError::Empty));
        assert_eq!(read(&table("|\n | ")), Err(RosterError::Empty));
        assert_eq!(
            read(&table("Name|City\nAda|Paris")),
            Err(RosterError::NoAddressColumn)
        );
        assert_eq!(
            read(&table("Email\nnobody\nnothing")),
            Err(RosterError::NoAddressColumn)
        );
    }
}
