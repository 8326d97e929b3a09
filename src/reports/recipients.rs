//! The per-recipient CSV: each recipient's delivery facts, then what they did with the message
//! (reactions; for broadcasts also the first reminder, the acknowledgement and the poll
//! answer). Columns are only ever appended, so spreadsheets built on the file keep working.

use chrono::NaiveDateTime;

use crate::domain::tracking::ReportKind;
use crate::store::reports::RecipientRow;

/// The delivery columns, in their order.
const DELIVERY_COLUMNS: [&str; 20] = [
    "name",
    "email",
    "status",
    "attempts",
    "last_attempt",
    "next_attempt",
    "sent_at",
    "read_at",
    "first_click",
    "clicks",
    "error",
    "repairs",
    "resends",
    "presence_at_last_attempt",
    "activity_at_last_attempt",
    "presence_now",
    "activity_now",
    "presence_observed_at",
    // Each person's own time (`time: local`).
    "zone",
    "planned_local",
];

/// The engagement columns a report of `kind` appends after the delivery columns.
fn engagement_columns(kind: ReportKind) -> &'static [&'static str] {
    match kind {
        ReportKind::Campaign => &["reactions"],
        ReportKind::Broadcast => &["reactions", "reminded_at", "acknowledged_at", "answer"],
    }
}

/// A row's error: for a recipient herald could not install the app for, the stored reason
/// code said in words (the CSV, like its headers, is in English).
fn error_of(r: &RecipientRow) -> String {
    if r.status == "not installed" && !r.error.is_empty() {
        crate::texts::install_reason(crate::domain::Lang::En, &r.error)
    } else {
        r.error.clone()
    }
}

/// A cell a spreadsheet would take for a formula (`=`, `+`, `-`, `@`, tab, return first) is
/// made text with a leading `'`: names and errors come from outside.
fn cell(s: &str) -> String {
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_string()
    }
}

fn stamp(t: Option<NaiveDateTime>) -> String {
    t.map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_default()
}

/// The planned moment in the zone it was planned in, as `YYYY-MM-DD HH:MM`.
fn planned_local(r: &RecipientRow) -> String {
    match (
        r.planned_zone.as_deref().map(str::parse::<chrono_tz::Tz>),
        r.planned_at,
    ) {
        (Some(Ok(tz)), Some(at)) => at
            .and_utc()
            .with_timezone(&tz)
            .format("%Y-%m-%d %H:%M")
            .to_string(),
        _ => String::new(),
    }
}

fn delivery_cells(r: &RecipientRow) -> Vec<String> {
    let p = &r.presence;
    vec![
        cell(&r.name),
        cell(&r.email),
        cell(&r.status),
        r.attempts.to_string(),
        stamp(r.last_attempt),
        stamp(r.next_attempt),
        stamp(r.sent_at),
        stamp(r.read_at),
        stamp(r.first_click),
        r.clicks.to_string(),
        cell(&error_of(r)),
        r.repairs.to_string(),
        r.resends.to_string(),
        cell(p.at_attempt_availability.as_deref().unwrap_or_default()),
        cell(p.at_attempt_activity.as_deref().unwrap_or_default()),
        cell(p.now_availability.as_deref().unwrap_or_default()),
        cell(p.now_activity.as_deref().unwrap_or_default()),
        stamp(p.now_observed_at),
        r.planned_zone.clone().unwrap_or_default(),
        planned_local(r),
    ]
}

fn engagement_cells(kind: ReportKind, r: &RecipientRow) -> Vec<String> {
    let e = &r.engagement;
    // Reaction types and choices come from outside (a client, an admin's text).
    let reactions = cell(&e.reactions.join(" "));
    match kind {
        ReportKind::Campaign => vec![reactions],
        ReportKind::Broadcast => vec![
            reactions,
            stamp(e.reminded_at),
            stamp(e.acknowledged_at),
            cell(e.answer.as_deref().unwrap_or_default()),
        ],
    }
}

/// The header line of the CSV (with the engagement columns of `kind`, if any).
fn header(kind: Option<ReportKind>) -> Result<Vec<u8>, csv::Error> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let extra = kind.map(engagement_columns).unwrap_or_default();
    w.write_record(DELIVERY_COLUMNS.iter().chain(extra))?;
    w.into_inner().map_err(|e| csv::Error::from(e.into_error()))
}

/// The lines of `rows`, without the header.
fn lines(rows: &[RecipientRow], kind: Option<ReportKind>) -> Result<Vec<u8>, csv::Error> {
    let mut w = csv::Writer::from_writer(Vec::new());
    for r in rows {
        let mut cells = delivery_cells(r);
        if let Some(kind) = kind {
            cells.extend(engagement_cells(kind, r));
        }
        w.write_record(&cells)?;
    }
    w.into_inner().map_err(|e| csv::Error::from(e.into_error()))
}

fn write(rows: &[RecipientRow], kind: Option<ReportKind>) -> Result<Vec<u8>, csv::Error> {
    let mut out = header(kind)?;
    out.extend(lines(rows, kind)?);
    Ok(out)
}

/// The recipients' delivery facts as CSV (UTF-8, a header line, times in UTC).
pub fn recipients_csv(rows: &[RecipientRow]) -> Result<Vec<u8>, csv::Error> {
    write(rows, None)
}

/// The report file of a campaign or broadcast: the delivery facts, then the engagement columns
/// of its kind (empty cells where a person did nothing).
pub fn report_csv(kind: ReportKind, rows: &[RecipientRow]) -> Result<Vec<u8>, csv::Error> {
    write(rows, Some(kind))
}

/// The report file's header line, for a file sent a slice at a time.
pub fn report_csv_header(kind: ReportKind) -> Result<Vec<u8>, csv::Error> {
    header(Some(kind))
}

/// One slice of the report file's lines, after [`report_csv_header`].
pub fn report_csv_lines(kind: ReportKind, rows: &[RecipientRow]) -> Result<Vec<u8>, csv::Error> {
    lines(rows, Some(kind))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::reports::RecipientEngagement;

    fn at(min: i64) -> NaiveDateTime {
        chrono::DateTime::from_timestamp(1_795_000_000 + min * 60, 0)
            .unwrap()
            .naive_utc()
    }

    fn row() -> RecipientRow {
        RecipientRow {
            name: "Dupont, \"Jo\"".into(),
            email: "jo@x.fr".into(),
            status: "delivered".into(),
            attempts: 1,
            last_attempt: Some(at(0)),
            next_attempt: None,
            sent_at: Some(at(0)),
            read_at: None,
            first_click: None,
            clicks: 0,
            error: String::new(),
            repairs: 1,
            resends: 0,
            presence: Default::default(),
            planned_zone: Some("Asia/Tokyo".into()),
            planned_at: Some(at(0)),
            engagement: RecipientEngagement::default(),
        }
    }

    #[test]
    fn csv_quotes_what_needs_it() {
        let formula = RecipientRow {
            name: "=HYPERLINK(\"http://evil\",\"x\")".into(),
            ..row()
        };
        let text = String::from_utf8(recipients_csv(&[row(), formula]).unwrap()).unwrap();
        let mut lines = text.lines();
        assert!(
            lines
                .next()
                .unwrap()
                .starts_with("name,email,status,attempts")
        );
        assert!(
            lines
                .next()
                .unwrap()
                .starts_with("\"Dupont, \"\"Jo\"\"\",jo@x.fr,delivered,1,")
        );
        assert!(lines.next().unwrap().starts_with("\"'=HYPERLINK("));
    }

    #[test]
    fn engagement_columns_come_after_the_delivery_columns_per_kind() {
        let engaged = RecipientRow {
            engagement: RecipientEngagement {
                reactions: vec!["heart".into(), "like".into()],
                reminded_at: Some(at(60)),
                acknowledged_at: Some(at(61)),
                answer: Some("=Maybe".into()),
            },
            ..row()
        };
        let parse = |bytes: Vec<u8>| -> Vec<Vec<String>> {
            csv::Reader::from_reader(bytes.as_slice())
                .records()
                .map(|r| r.unwrap().iter().map(str::to_string).collect())
                .collect()
        };
        let header = |bytes: &[u8]| -> Vec<String> {
            let mut reader = csv::Reader::from_reader(bytes);
            reader
                .headers()
                .unwrap()
                .iter()
                .map(str::to_string)
                .collect()
        };
        let rows = [engaged, row()];
        let broadcast = report_csv(ReportKind::Broadcast, &rows).unwrap();
        let h = header(&broadcast);
        assert_eq!(h[..20], DELIVERY_COLUMNS);
        assert_eq!(
            h[20..],
            ["reactions", "reminded_at", "acknowledged_at", "answer"]
        );
        let records = parse(broadcast);
        assert_eq!(
            records[0][20..],
            [
                "heart like",
                "2026-11-18T12:06:40Z",
                "2026-11-18T12:07:40Z",
                "'=Maybe"
            ]
        );
        assert_eq!(records[1][20..], ["", "", "", ""]);
        // The delivery cells are the same as without the engagement columns.
        let plain = parse(recipients_csv(&rows).unwrap());
        assert_eq!(records[0][..20], plain[0][..]);

        let campaign = report_csv(ReportKind::Campaign, &rows).unwrap();
        assert_eq!(header(&campaign)[20..], ["reactions"]);
        let records = parse(campaign);
        assert_eq!(
            (records[0].len(), records[0][20].as_str()),
            (21, "heart like")
        );
    }
}
