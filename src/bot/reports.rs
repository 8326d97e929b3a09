//! Report cards: `campaign report <name>` and `broadcast info <n>` as Adaptive Cards with the
//! counts, progress, clicks, the chart of deliveries and clicks over time, the report page and a
//! CSV download (signed, expiring links under `/reports/`, when `server.public_url` is set).

use serde_json::{Value, json};

use super::caller::Caller;
use super::reply::{Outcome, Refusal, Reply};
use super::{Bot, BotError};
use crate::domain::Lang;
use crate::domain::text::escape_markdown;
use crate::domain::tracking::{ReportFile, ReportGrant, ReportKind};
use crate::reports::progress_bar;
use crate::store::reports::{self as store_reports, Engagement};
use crate::t;

/// A report card: title, progress, facts, then free lines; chart and CSV when available.
pub(super) struct ReportCard {
    pub title: String,
    pub progress: Option<(i64, i64)>,
    pub facts: Vec<(String, String)>,
    pub lines: Vec<String>,
    pub grant: Option<(ReportKind, String, String)>,
}

impl Bot {
    /// The card for `report`, with chart and CSV links signed now.
    pub(super) fn report_card(&self, lang: Lang, report: ReportCard) -> Value {
        let mut body = vec![json!({
            "type": "TextBlock", "text": report.title, "weight": "Bolder", "size": "Medium", "wrap": true,
        })];
        if let Some((done, total)) = report.progress {
            body.push(json!({
                "type": "TextBlock",
                "text": t!(
                    lang,
                    "report-progress",
                    bar = progress_bar(done, total),
                    done = done.to_string(),
                    total = total.to_string(),
                ),
                "fontType": "Monospace",
                "wrap": true,
            }));
        }
        if !report.facts.is_empty() {
            let facts: Vec<Value> = report
                .facts
                .iter()
                .map(|(t, v)| json!({"title": t, "value": v}))
                .collect();
            body.push(json!({"type": "FactSet", "facts": facts}));
        }
        for line in &report.lines {
            body.push(json!({"type": "TextBlock", "text": line, "wrap": true}));
        }
        let mut actions = Vec::new();
        let now = self.clock.now();
        let tracker = self.tracker.as_deref().filter(|t| t.enabled());
        match (tracker, &report.grant) {
            (Some(t), Some((kind, id, file_stem))) => {
                let grant = |file| ReportGrant {
                    kind: *kind,
                    id: id.clone(),
                    file,
                };
                if let Some(chart) = t.report_url(&grant(ReportFile::Chart), "chart.png", now) {
                    body.push(json!({
                        "type": "Image",
                        "url": chart,
                        "altText": t!(lang, "report-chart-alt"),
                        "size": "Stretch",
                    }));
                }
                if let Some(csv) = t.report_url(
                    &grant(ReportFile::Csv),
                    &format!("{file_stem}-recipients.csv"),
                    now,
                ) {
                    actions.push(json!({
                        "type": "Action.OpenUrl",
                        "title": t!(lang, "report-download-csv"),
                        "url": csv,
                    }));
                }
                // The page after the CSV: readers of the card take its first link for the CSV.
                if let Some(page) = t.report_url(
                    &grant(ReportFile::Page(lang)),
                    &format!("{file_stem}.html"),
                    now,
                ) {
                    actions.push(json!({
                        "type": "Action.OpenUrl",
                        "title": t!(lang, "report-open-page"),
                        "url": page,
                    }));
                }
            }
            _ => body.push(json!({
                "type": "TextBlock",
                "text": t!(lang, "report-tracking-off"),
                "isSubtle": true,
                "wrap": true,
            })),
        }
        crate::domain::cards::adaptive_card("1.5", body, actions)
    }

    pub(super) async fn engagement(&self, messages: Vec<String>) -> Result<Engagement, BotError> {
        Ok(self
            .db
            .run(move |conn| store_reports::engagement(conn, &messages))
            .await?)
    }

    /// `campaign report <name>`: the card, or why there is none.
    pub(super) async fn campaign_report(
        &self,
        caller: &Caller,
        name: &str,
        lang: Lang,
    ) -> Result<Reply, BotError> {
        // A repeating campaign: its latest run, with a line per earlier run.
        if let Some(reply) = self.series_report(caller, name, None, lang).await? {
            return Ok(reply);
        }
        let Some(report) = crate::reports::campaign_report(&self.db, &caller.tenant, name).await?
        else {
            return Ok(Reply::refused(
                super::campaigns::no_such_campaign(lang, name),
                Refusal::UnknownCampaign,
            ));
        };
        self.campaign_card(lang, report, Vec::new()).await
    }

    /// The report card of one campaign (or run), `first_lines` above its reactions.
    pub(super) async fn campaign_card(
        &self,
        lang: Lang,
        report: crate::reports::CampaignReport,
        first_lines: Vec<String>,
    ) -> Result<Reply, BotError> {
        let progress = report.progress();
        let crate::reports::CampaignReport {
            campaign: c,
            counts: n,
            clicks,
            reads,
        } = report;
        let tz = crate::campaigns::zone(&c);
        let failed = if n.failed.is_empty() {
            "0".to_string()
        } else {
            n.failed
                .iter()
                .map(|(r, k)| format!("{k} {r}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let waiting = match n.next_attempt {
            Some(t) => t!(
                lang,
                "report-waiting-next-attempt",
                waiting = n.waiting_for_presence.to_string(),
                at = t
                    .and_utc()
                    .with_timezone(&tz)
                    .format("%Y-%m-%d %H:%M %Z")
                    .to_string(),
            ),
            None => n.waiting_for_presence.to_string(),
        };
        // Not installed, with Graph's reasons when herald's install was refused.
        let not_installed = if n.not_installed_reasons.is_empty() {
            n.not_installed.to_string()
        } else {
            format!(
                "{} ({})",
                n.not_installed,
                reasons_text(lang, &n.not_installed_reasons)
            )
        };
        // Catalogue ids (`texts` tests check that each exists) and values.
        let resent = t!(
            lang,
            "report-resent-value",
            resent = n.resent,
            delivered = n.resent_delivered,
        );
        let labels: [(&str, String); 12] = [
            ("report-targeted", n.targeted.to_string()),
            ("report-not-installed", not_installed),
            ("report-planned", n.planned.to_string()),
            ("report-delivered", n.delivered.to_string()),
            ("report-waiting", waiting),
            ("report-expired", n.expired.to_string()),
            ("report-failed", failed),
            ("report-clicked", clicks.people.to_string()),
            ("report-clicks", clicks.clicks.to_string()),
            ("report-read", reads.to_string()),
            ("report-repairs", n.repairs.to_string()),
            ("report-resent", resent),
        ];
        let mut facts: Vec<(String, String)> = labels
            .into_iter()
            .map(|(id, v)| (crate::texts::lookup(lang, id, &[]), v))
            .collect();
        facts.extend(super::localtime::report_fact(lang, &c));
        if c.herald_installed > 0 {
            facts.insert(
                2,
                (
                    t!(lang, "report-installed-by-herald"),
                    c.herald_installed.to_string(),
                ),
            );
        }
        let title = t!(
            lang,
            "report-title",
            name = escape_markdown(&c.name),
            status = c.status.as_str(),
        );
        let card = self.report_card(
            lang,
            ReportCard {
                title,
                progress,
                facts,
                lines: [first_lines, self.reaction_lines(&c.id, lang).await?].concat(),
                grant: Some((ReportKind::Campaign, c.id.clone(), file_stem(&c.name))),
            },
        );
        Ok(Reply::card(card, Outcome::Done))
    }
}

/// Reasons with their counts: `2 app blocked by policy, 1 user not found`.
pub(super) fn reasons_text(lang: Lang, reasons: &[(String, i64)]) -> String {
    reasons
        .iter()
        .map(|(r, n)| {
            format!(
                "{n} {}",
                escape_markdown(&crate::texts::install_reason(lang, r))
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// A file name from a campaign or broadcast name: letters, digits and dashes.
pub(super) fn file_stem(name: &str) -> String {
    let stem: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    let stem = stem.trim_matches('-').to_string();
    if stem.is_empty() {
        "report".into()
    } else {
        stem
    }
}
