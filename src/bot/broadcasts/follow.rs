//! `broadcasts` and `broadcast info`: what was sent, to whom, and how far it got.

use chrono_tz::Tz;

use super::super::reply::{Outcome, Reply};
use super::super::{Bot, BotError};
use super::{Caller, UNREAD_SHOWN, emails_line, local_time, no_such_broadcast, q};
use crate::broadcasts::Info;
use crate::domain::Lang;
use crate::domain::text::escape_markdown;
use crate::store::broadcasts::Broadcast;
use crate::t;

impl Bot {
    pub(super) async fn list_broadcasts(
        &self,
        caller: &Caller,
        lang: Lang,
    ) -> Result<Reply, BotError> {
        let rows = self.broadcasts().list(&caller.tenant).await?;
        if rows.is_empty() {
            return Ok(Reply::done(t!(lang, "broadcast-none")));
        }
        let tz = self.zone(caller);
        let held: Vec<Broadcast> = rows.iter().map(|(bc, _)| bc.clone()).collect();
        let holds = self.broadcasts().holds_of(&held).await?;
        let lines: Vec<String> = rows
            .iter()
            .map(|(bc, c)| {
                if let Some(line) = self.held_line(bc, holds.get(&bc.id), tz, lang) {
                    return line;
                }
                let recalled = if bc.recalled() {
                    format!(" — {}", t!(lang, "broadcast-list-recalled"))
                } else {
                    String::new()
                };
                t!(
                    lang,
                    "broadcast-list-line",
                    number = bc.number,
                    subject = q(&bc.subject),
                    at = local_time(bc.created_at, tz),
                    audience = escape_markdown(&bc.audience),
                    targeted = c.targeted,
                    delivered = c.delivered,
                    read = c.read(),
                    recalled = recalled,
                )
            })
            .collect();
        Ok(Reply::done(lines.join("\n")))
    }

    /// `broadcast info <n>`: a report card.
    pub(in crate::bot) async fn broadcast_info(
        &self,
        caller: &Caller,
        id: &str,
        lang: Lang,
    ) -> Result<Reply, BotError> {
        let broadcasts = self.broadcasts();
        let Some(bc) = broadcasts.numbered(&caller.tenant, id).await? else {
            return Ok(no_such_broadcast(lang, id));
        };
        if let Some(held) = self.held_info(caller, &bc, lang).await? {
            return Ok(held);
        }
        let info = broadcasts.info(&bc, UNREAD_SHOWN).await?;
        let clicks = self.engagement(info.messages.clone()).await?;
        let tz = self.zone(caller);
        let c = &info.counts;
        let mut lines = vec![
            t!(
                lang,
                "broadcast-info-sent",
                at = local_time(bc.created_at, tz),
                sender = escape_markdown(&bc.sender_name),
                audience = escape_markdown(&bc.audience),
            ),
            t!(
                lang,
                "broadcast-info-counts",
                targeted = c.targeted,
                delivered = c.delivered,
                pending = c.pending,
                failed = c.failed,
                not_installed = c.not_installed,
            ),
            t!(
                lang,
                "broadcast-info-clicks",
                people = clicks.people,
                clicks = clicks.clicks,
            ),
            t!(
                lang,
                "broadcast-info-reads",
                read = c.read(),
                button = c.read_button,
                receipt = c.read_receipt,
                repliers = c.repliers,
            ),
        ];
        // Who was reached, reminded, acknowledged or answered goes with the details once
        // they are purged; the folded report keeps the counts above and the reactions.
        if !broadcasts.folded(&bc).await? {
            lines.extend(self.reminder_lines(&bc, lang, tz).await?);
            lines.extend(self.ack_lines(&bc, lang, tz).await?);
            lines.extend(self.poll_lines(&bc, lang, tz).await?);
        }
        lines.extend(self.reaction_lines(&bc.id, lang).await?);
        if c.repairs > 0 || c.resent > 0 {
            lines.push(t!(
                lang,
                "broadcast-info-resends",
                repairs = c.repairs,
                resent = c.resent,
                delivered = c.resent_delivered,
            ));
        }
        lines.extend(install_lines(
            lang,
            bc.herald_installed,
            &c.not_installed_reasons,
        ));
        lines.extend(info_tail(lang, &bc, &info, tz));
        let card = self.report_card(
            lang,
            super::super::reports::ReportCard {
                title: t!(
                    lang,
                    "broadcast-info-title",
                    number = bc.number,
                    subject = q(&bc.subject),
                ),
                progress: (!bc.recalled()).then_some((c.delivered, c.targeted)),
                facts: Vec::new(),
                lines,
                grant: Some((
                    crate::domain::tracking::ReportKind::Broadcast,
                    bc.id.clone(),
                    format!("broadcast-{}", bc.number),
                )),
            },
        );
        Ok(Reply::card(card, Outcome::Done))
    }
}

/// The last lines of `broadcast info`: how the recall went, or who has not read it yet; then
/// who could not be reached.
fn info_tail(lang: Lang, bc: &Broadcast, info: &Info, tz: Tz) -> Vec<String> {
    let mut lines = Vec::new();
    if let Some(at) = bc.recalled_at {
        let r = &info.counts.recall;
        lines.push(t!(
            lang,
            "broadcast-info-recalled",
            at = local_time(at, tz),
            removed = r.removed,
            failed = r.failed,
            pending = r.pending,
            not_sent = r.not_sent,
        ));
    } else if info.unread_total > 0 {
        let mut names: Vec<String> = info.unread.iter().map(|n| escape_markdown(n)).collect();
        if info.unread_total > info.unread.len() {
            names.push(format!("+{}", info.unread_total - info.unread.len()));
        }
        lines.push(t!(
            lang,
            "broadcast-info-unread",
            count = info.unread_total,
            names = names.join(", "),
        ));
    }
    if !info.not_installed.is_empty() {
        let emails = emails_line(&info.not_installed);
        lines.push(t!(lang, "broadcast-not-installed", emails = emails));
    }
    lines
}

/// How many herald installed itself for, and why Graph refused the others (count by reason).
pub(super) fn install_lines(lang: Lang, installed: i32, reasons: &[(String, i64)]) -> Vec<String> {
    let mut lines = Vec::new();
    if installed > 0 {
        lines.push(t!(lang, "installed-by-herald", count = installed));
    }
    if !reasons.is_empty() {
        lines.push(t!(
            lang,
            "installs-refused",
            reasons = super::super::reports::reasons_text(lang, reasons)
        ));
    }
    lines
}
