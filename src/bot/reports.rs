//! Report cards: `campaign report <name>` and `broadcast info <n>` as Adaptive Cards with the
//! counts, progress, clicks, the chart of deliveries and clicks over time and a CSV download
//! (both signed, expiring links under `/reports/`, when `server.public_url` is set).

use chrono_tz::Tz;
use serde_json::{Value, json};

use super::admin::Caller;
use super::{Answer, Bot, BotError};
use crate::domain::Lang;
use crate::domain::text::escape_markdown;
use crate::domain::tracking::{ReportFile, ReportGrant, ReportKind};
use crate::reports::progress_bar;
use crate::store::campaigns;
use crate::store::reports::{self as store_reports, Engagement};

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
        let fr = lang == Lang::Fr;
        let mut body = vec![json!({
            "type": "TextBlock", "text": report.title, "weight": "Bolder", "size": "Medium", "wrap": true,
        })];
        if let Some((done, total)) = report.progress {
            body.push(json!({
                "type": "TextBlock",
                "text": format!(
                    "{} ({done}/{total} {})",
                    progress_bar(done, total),
                    if fr { "remis" } else { "delivered" }
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
                        "altText": if fr { "Remises et clics dans le temps" } else { "Deliveries and clicks over time" },
                        "size": "Stretch",
                    }));
                }
                if let Some(csv) =
                    t.report_url(&grant(ReportFile::Csv), &format!("{file_stem}-recipients.csv"), now)
                {
                    actions.push(json!({
                        "type": "Action.OpenUrl",
                        "title": if fr { "Télécharger le CSV" } else { "Download CSV" },
                        "url": csv,
                    }));
                }
            }
            _ => body.push(json!({
                "type": "TextBlock",
                "text": if fr {
                    "Suivi des liens désactivé (server.public_url n'est pas défini) : pas de graphique ni d'export."
                } else {
                    "Link tracking is off (server.public_url is not set): no chart or export."
                },
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
    ) -> Result<(Answer, String), BotError> {
        let fr = lang == Lang::Fr;
        let Some(c) = self.campaign_named(&caller.tenant, name).await? else {
            return Ok((
                Answer::Text(super::campaigns::no_such_campaign(name, fr)),
                "refused: unknown campaign".into(),
            ));
        };
        let c2 = c.clone();
        let n = self
            .db
            .run(move |conn| campaigns::counts(conn, &c2))
            .await?;
        let clicks = self.engagement(vec![c.id.clone()]).await?;
        let c3 = c.id.clone();
        let reads = self
            .db
            .run(move |conn| store_reports::campaign_reads(conn, &c3))
            .await?;
        let tz: Tz = c.time_zone.parse().unwrap_or(chrono_tz::UTC);
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
            Some(t) => format!(
                "{} ({} {})",
                n.waiting_for_presence,
                if fr { "prochain essai" } else { "next attempt" },
                t.and_utc().with_timezone(&tz).format("%Y-%m-%d %H:%M %Z")
            ),
            None => n.waiting_for_presence.to_string(),
        };
        let labels: [(&str, &str, String); 10] = [
            ("Targeted", "Ciblés", n.targeted.to_string()),
            (
                "Not installed",
                "Non installés",
                n.not_installed.to_string(),
            ),
            ("Planned", "Planifiés", n.planned.to_string()),
            ("Delivered", "Remis", n.delivered.to_string()),
            ("Waiting for presence", "En attente de présence", waiting),
            ("Expired", "Expirés", n.expired.to_string()),
            ("Failed", "Échecs", failed),
            (
                "Clicked (people)",
                "Ont cliqué (personnes)",
                clicks.people.to_string(),
            ),
            ("Clicks", "Clics", clicks.clicks.to_string()),
            (
                "Read (read receipts)",
                "Lus (accusés de lecture)",
                reads.to_string(),
            ),
        ];
        let facts = labels
            .into_iter()
            .map(|(en, f, v)| ((if fr { f } else { en }).to_string(), v))
            .collect();
        let installed = n.targeted - n.not_installed;
        let title = if fr {
            format!("Rapport de {} ({})", escape_markdown(&c.name), c.status)
        } else {
            format!("Report for {} ({})", escape_markdown(&c.name), c.status)
        };
        let card = self.report_card(
            lang,
            ReportCard {
                title,
                progress: (c.status != campaigns::status::SCHEDULED)
                    .then_some((n.delivered, installed)),
                facts,
                lines: Vec::new(),
                grant: Some((ReportKind::Campaign, c.id.clone(), file_stem(&c.name))),
            },
        );
        Ok((Answer::Card(card), "ok".into()))
    }
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
