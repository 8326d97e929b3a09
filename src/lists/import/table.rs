//! A file's bytes as rows of cells: an Excel workbook's first sheet (`.xlsx`, also `.xls`,
//! `.xlsb`, `.ods`, through `calamine`), or delimited text (CSV with `,` or `;`, or tabs) read
//! by `csv`. The format is told by the bytes, never by the file's name: a zip or an OLE
//! compound file is a workbook; text is UTF-8 (a BOM is dropped), UTF-16 with its BOM, or
//! Windows-1252 (what Excel writes as "CSV" on a French or English Windows); anything else,
//! an image renamed `.csv` say, is not a table.

use std::io::Cursor;

use calamine::Reader;

/// Why the bytes are not a table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TableError {
    /// Neither a workbook nor text.
    NotATable,
    /// A workbook that cannot be read (damaged, protected, or expanding past the limit).
    BadWorkbook,
}

const ZIP: &[u8] = b"PK\x03\x04";
const OLE: &[u8] = b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1";

/// The rows of `bytes`; a workbook may expand to at most `max_expanded` bytes.
pub fn rows(bytes: &[u8], max_expanded: u64) -> Result<Vec<Vec<String>>, TableError> {
    if bytes.starts_with(ZIP) {
        if expanded_size(bytes).is_none_or(|n| n > max_expanded) {
            return Err(TableError::BadWorkbook);
        }
        return workbook(bytes);
    }
    if bytes.starts_with(OLE) {
        // An old `.xls` workbook: refused with the advice to save it as .xlsx or CSV.
        return Err(TableError::BadWorkbook);
    }
    delimited(&text(bytes).ok_or(TableError::NotATable)?)
}

/// What the zip's entries say they expand to (a zip bomb is refused before it is opened).
fn expanded_size(bytes: &[u8]) -> Option<u64> {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).ok()?;
    let mut total: u64 = 0;
    for i in 0..archive.len() {
        total = total.checked_add(archive.by_index_raw(i).ok()?.size())?;
    }
    Some(total)
}

/// Columns read from a workbook: an address column is among the first ones; cells further
/// right are ignored (a crafted sheet may name column XFD).
const MAX_COLUMNS: usize = 64;
/// Rows read from a workbook: more than a company's staff; a cell further down is refused
/// (a crafted sheet may name row 1,048,576 to make a reader allocate every cell above it).
const MAX_ROWS: usize = 200_000;

/// The first sheet's cells of an `.xlsx` workbook, as they are displayed (numbers as numbers,
/// empty cells empty), read cell by cell so that only cells present take memory. Other
/// workbook formats (`.xls`, `.xlsb`, `.ods`) are refused: their readers build the whole grid.
fn workbook(bytes: &[u8]) -> Result<Vec<Vec<String>>, TableError> {
    if !bytes.starts_with(ZIP) {
        return Err(TableError::BadWorkbook);
    }
    let mut book: calamine::Xlsx<_> =
        calamine::Xlsx::new(Cursor::new(bytes)).map_err(|_| TableError::BadWorkbook)?;
    let Some(first) = book.sheet_names().into_iter().next() else {
        return Ok(Vec::new());
    };
    let mut cells = book
        .worksheet_cells_reader(&first)
        .map_err(|_| TableError::BadWorkbook)?;
    let mut rows: Vec<Vec<String>> = Vec::new();
    let mut origin: Option<(usize, usize)> = None;
    while let Some(cell) = cells.next_cell().map_err(|_| TableError::BadWorkbook)? {
        let (row, column) = cell.get_position();
        let (row, column) = (row as usize, column as usize);
        // Positions are absolute; the table starts at the first cell's row and column 0.
        let (top, _) = *origin.get_or_insert((row, column));
        if column >= MAX_COLUMNS || row < top {
            continue;
        }
        let at = row - top;
        if at >= MAX_ROWS {
            return Err(TableError::BadWorkbook);
        }
        let text = calamine::Data::from(cell.get_value().clone()).to_string();
        if rows.len() <= at {
            rows.resize_with(at + 1, Vec::new);
        }
        let line = &mut rows[at];
        if line.len() <= column {
            line.resize(column + 1, String::new());
        }
        line[column] = text;
    }
    Ok(rows)
}

/// The text of `bytes`, or `None` when they are not text.
fn text(bytes: &[u8]) -> Option<String> {
    if let Some(rest) = bytes.strip_prefix(b"\xEF\xBB\xBF") {
        return std::str::from_utf8(rest).ok().map(str::to_string);
    }
    for (bom, encoding) in [
        (&b"\xFF\xFE"[..], encoding_rs::UTF_16LE),
        (&b"\xFE\xFF"[..], encoding_rs::UTF_16BE),
    ] {
        if bytes.starts_with(bom) {
            let (text, _, bad) = encoding.decode(bytes);
            return (!bad).then(|| text.into_owned()).filter(|t| plain(t));
        }
    }
    let text = match std::str::from_utf8(bytes) {
        Ok(text) => text.to_string(),
        Err(_) => {
            // Legacy Windows text; a binary file shows itself by its control bytes.
            let (text, _, _) = encoding_rs::WINDOWS_1252.decode(bytes);
            text.into_owned()
        }
    };
    plain(&text).then_some(text)
}

/// No control characters but tabs and line breaks (binary files have NULs and the like).
fn plain(text: &str) -> bool {
    !text
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r' | '\u{feff}'))
}

/// The separator of delimited text: whichever of `;`, `,` and tab the first line holds most
/// of (outside quotes); a single column has none, and `,` does no harm then.
fn separator(text: &str) -> u8 {
    let mut counts = [(b';', 0usize), (b',', 0), (b'\t', 0)];
    let mut quoted = false;
    for c in text
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .bytes()
    {
        if c == b'"' {
            quoted = !quoted;
        } else if !quoted && let Some(slot) = counts.iter_mut().find(|(s, _)| *s == c) {
            slot.1 += 1;
        }
    }
    counts
        .iter()
        .filter(|(_, n)| *n > 0)
        .max_by_key(|(_, n)| *n)
        .map_or(b',', |(s, _)| *s)
}

fn delimited(text: &str) -> Result<Vec<Vec<String>>, TableError> {
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(separator(text))
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|_| TableError::NotATable)?;
        rows.push(record.iter().map(str::to_string).collect());
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn xlsx(cells: &[(u32, u16, &str)]) -> Vec<u8> {
        let mut book = rust_xlsxwriter::Workbook::new();
        let sheet = book.add_worksheet();
        for (row, column, text) in cells {
            sheet.write_string(*row, *column, *text).unwrap();
        }
        book.save_to_buffer().unwrap()
    }

    #[test]
    fn a_workbook_naming_far_cells_is_read_without_building_its_grid() {
        // Column XFD is ignored; the table starts at the first cell's row.
        let book = xlsx(&[
            (2, 0, "email"),
            (3, 0, "ada@contoso.com"),
            (3, 16_383, "far right"),
        ]);
        let rows = rows(&book, 1 << 26).unwrap();
        assert_eq!(
            rows,
            vec![
                vec!["email".to_string()],
                vec!["ada@contoso.com".to_string()]
            ]
        );
        // Row 1,048,576 would make a grid reader allocate every cell above it: refused.
        let book = xlsx(&[(0, 0, "email"), (1_048_575, 0, "x@contoso.com")]);
        assert!(matches!(rows_of(&book), Err(TableError::BadWorkbook)));
    }

    fn rows_of(book: &[u8]) -> Result<Vec<Vec<String>>, TableError> {
        rows(book, 1 << 26)
    }

    #[test]
    fn separators_quotes_and_a_bom_are_understood() {
        let rows = rows(
            "\u{feff}Nom;\"Adresse e-mail\"\n\"Dupont; Ada\";ada@contoso.com\n".as_bytes(),
            0,
        )
        .unwrap();
        assert_eq!(rows[0], ["Nom", "Adresse e-mail"]);
        assert_eq!(rows[1], ["Dupont; Ada", "ada@contoso.com"]);
        let rows = super::rows(b"name,email\n\"Ada, L\",ada@contoso.com\n", 0).unwrap();
        assert_eq!(rows[1], ["Ada, L", "ada@contoso.com"]);
        let rows = super::rows(b"name\temail\nAda\tada@contoso.com\n", 0).unwrap();
        assert_eq!(rows[1], ["Ada", "ada@contoso.com"]);
    }

    #[test]
    fn legacy_encodings_are_read() {
        // "Prénom;Courriel" in Windows-1252.
        let rows = rows(b"Pr\xe9nom;Courriel\nAda;ada@contoso.com\n", 0).unwrap();
        assert_eq!(rows[0], ["Prénom", "Courriel"]);
        let utf16: Vec<u8> = [0xFF, 0xFE]
            .into_iter()
            .chain("a\tb\n".encode_utf16().flat_map(u16::to_le_bytes))
            .collect();
        assert_eq!(super::rows(&utf16, 0).unwrap()[0], ["a", "b"]);
    }

    #[test]
    fn binary_files_are_not_tables() {
        let png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01";
        assert_eq!(rows(png, 0), Err(TableError::NotATable));
        assert_eq!(
            rows(b"PK\x03\x04garbage", 1 << 20),
            Err(TableError::BadWorkbook)
        );
    }
}
