//! Recurring campaigns in the chat: `campaign stop`, the runs in `campaign report` and
//! `campaign info`, the form's `repeat` input. Every sentence from `locales/*/repeat.ftl`.

use chrono::{DateTime, NaiveDateTime, Utc};
use chrono_tz::Tz;

use super::caller::Caller;
use super::reply::{Answer, Outcome, Refusal, Reply};
use super::texts::bold as q;
use super::{Bot, BotError};
use crate::campaigns::{SeriesView, StopOutcome};
use crate::domain::Lang;
use crate::domain::repeat::Recurrence;
use crate::domain::text::escape_markdown;
use crate::store::campaigns::{self as store, Campaign};
use crate::t;

/// How many next runs `campaign info` shows.
const NEXT_RUNS: usize = 3;

fn local(at: DateTime<Utc>, tz: Tz) -> String {
    at.with_timezone(&tz)
        .format("%Y-%m-%d %H:%M %Z")
        .to_string()
}

fn local_naive(at: NaiveDateTime, tz: Tz) -> String {
    local(at.and_utc(), tz)
}

/// The rule as the reader says it: a word in their language, or the expression.
fn rule_text(lang: Lang, rule: &str) -> String {
    match rule.parse::<Recurrence>() {
        Ok(Recurrence::Cron(e)) => format!("`{e}`"),
        Ok(word) => t!(lang, "repeat-word", word = word.as_text()),
        Err(_) => escape_markdown(rule),
    }
}

impl Bot {
    /// `campaign info`'s lines for a repeating campaign: the rule, the runs so far, the next
    /// ones (or that it was stopped). Empty for a campaign that does not repeat.
    pub(super) async fn repeat_lines(&self, lang: Lang, c: &Campaign) -> Result<String, BotError> {
        let Some(view) = self.campaigns().series_of(c).await? else {
            return Ok(String::new());
        };
        let tz = c.time_zone.tz();
        let mut text = format!(
            "\n- {} {}",
            t!(lang, "repeat-label"),
            rule_text(lang, &view.series.rule)
        );
        let started = view
            .runs
            .iter()
            .filter(|(_, r)| r.status != crate::domain::campaign::CampaignStatus::Scheduled)
            .count();
        text.push_str(&format!(
            "\n- {}",
            t!(lang, "repeat-runs-so-far", count = started as i64)
        ));
        let next = match view.series.stopped_at {
            Some(at) => t!(lang, "repeat-stopped-on", at = local_naive(at, tz)),
            None => {
                let starts = view.next_starts(NEXT_RUNS);
                if starts.is_empty() {
                    t!(lang, "repeat-next-none")
                } else {
                    starts
                        .iter()
                        .map(|s| local(*s, tz))
                        .collect::<Vec<_>>()
                        .join(", ")
                }
            }
        };
        text.push_str(&format!("\n- {} {next}", t!(lang, "repeat-label-next")));
        Ok(text)
    }

    /// `campaign stop <name>` (`campagne arrêter`).
    pub(super) async fn campaign_stop(
        &self,
        caller: &Caller,
        name: &str,
        lang: Lang,
    ) -> Result<Reply, BotError> {
        let now = self.clock.now();
        let outcome = self
            .campaigns()
            .stop(&caller.tenant, name, &caller.actor, now)
            .await?;
        Ok(match outcome {
            StopOutcome::UnknownCampaign => Reply::refused(
                super::campaigns::no_such_campaign(lang, name),
                Refusal::UnknownCampaign,
            ),
            StopOutcome::NotRepeating(c) => Reply::refused(
                t!(lang, "repeat-stop-not-repeating", name = q(&c.name)),
                Refusal::NotRepeating,
            ),
            StopOutcome::NotStarted(c) => Reply::refused(
                t!(lang, "repeat-stop-not-started", name = q(&c.name)),
                Refusal::NotStarted,
            ),
            StopOutcome::Already { campaign: c, at } => Reply::refused(
                t!(
                    lang,
                    "repeat-stop-already",
                    name = q(&c.name),
                    at = local_naive(at, c.time_zone.tz())
                ),
                Refusal::AlreadyStopped,
            ),
            StopOutcome::Done {
                campaign: c,
                running,
                removed,
            } => {
                let mut text = t!(lang, "repeat-stop-done", name = q(&c.name));
                if let Some(run) = running {
                    text.push(' ');
                    text.push_str(&t!(lang, "repeat-stop-running", run = i64::from(run)));
                }
                if !removed.is_empty() {
                    let runs: Vec<String> = removed.iter().map(i32::to_string).collect();
                    text.push(' ');
                    text.push_str(&t!(
                        lang,
                        "repeat-stop-removed",
                        runs = runs.join(", "),
                        count = removed.len() as i64
                    ));
                }
                Reply {
                    answer: Answer::Text(text),
                    outcome: Outcome::Noted(format!("stopped campaign {}", c.name)),
                }
            }
        })
    }

    /// `campaign report <name> <run>`: one run of a repeating campaign.
    pub(super) async fn campaign_run_report(
        &self,
        caller: &Caller,
        name: &str,
        run: &str,
        lang: Lang,
    ) -> Result<Reply, BotError> {
        match self.series_report(caller, name, Some(run), lang).await? {
            Some(reply) => Ok(reply),
            None => Ok(Reply::refused(
                super::campaigns::no_such_campaign(lang, name),
                Refusal::UnknownCampaign,
            )),
        }
    }

    /// The report of a repeating campaign: run `run`, or the latest started with a line per
    /// earlier run. `None` when `name` names no repeating campaign and no run was asked for.
    pub(super) async fn series_report(
        &self,
        caller: &Caller,
        name: &str,
        run: Option<&str>,
        lang: Lang,
    ) -> Result<Option<Reply>, BotError> {
        let found = self.campaigns().series_named(&caller.tenant, name).await?;
        let (c, view) = match (found, run) {
            (Some((c, Some(view))), _) => (c, view),
            (None, None) | (Some((_, None)), None) => return Ok(None),
            (None, Some(_)) => {
                return Ok(Some(Reply::refused(
                    super::campaigns::no_such_campaign(lang, name),
                    Refusal::UnknownCampaign,
                )));
            }
            (Some((c, None)), Some(_)) => {
                return Ok(Some(Reply::refused(
                    t!(lang, "repeat-report-not-repeating", name = q(&c.name)),
                    Refusal::NotRepeating,
                )));
            }
        };
        let chosen = match run {
            None => view.latest_started().cloned(),
            Some(asked) => {
                let Ok(n) = asked.trim().trim_start_matches('#').parse::<i32>() else {
                    return Ok(Some(Reply::refused(
                        t!(
                            lang,
                            "repeat-run-not-a-number",
                            run = escape_markdown(asked),
                            name = escape_markdown(&c.name)
                        ),
                        Refusal::UnknownRun,
                    )));
                };
                match view.runs.iter().find(|(k, _)| *k == n) {
                    Some(found) => Some(found.clone()),
                    None => {
                        return Ok(Some(Reply::refused(
                            t!(
                                lang,
                                "repeat-no-such-run",
                                name = q(&c.name),
                                run = i64::from(n),
                                runs = view.runs.len() as i64
                            ),
                            Refusal::UnknownRun,
                        )));
                    }
                }
            }
        };
        let Some((number, shown)) = chosen else {
            return Ok(None);
        };
        let lines = self
            .run_lines(lang, &view, number, &shown, run.is_none())
            .await?;
        let report = crate::reports::report_of(&self.db, shown).await?;
        Ok(Some(self.campaign_card(lang, report, lines).await?))
    }

    /// The lines above a run's report: which run, and (for the latest) one line per earlier
    /// run with its figures.
    async fn run_lines(
        &self,
        lang: Lang,
        view: &SeriesView,
        number: i32,
        shown: &Campaign,
        with_earlier: bool,
    ) -> Result<Vec<String>, BotError> {
        let tz = shown.time_zone.tz();
        let mut lines = vec![t!(
            lang,
            "repeat-report-run",
            run = i64::from(number),
            runs = view.runs.len() as i64,
            start = local_naive(shown.start_at, tz)
        )];
        let earlier: Vec<Campaign> = view
            .runs
            .iter()
            .filter(|(k, _)| *k < number)
            .map(|(_, c)| c.clone())
            .collect();
        if !with_earlier || earlier.is_empty() {
            return Ok(lines);
        }
        let counts = self
            .db
            .run(move |conn| {
                earlier
                    .into_iter()
                    .map(|c| Ok((store::counts(conn, &c)?, c)))
                    .collect::<Result<Vec<_>, crate::store::StoreError>>()
            })
            .await?;
        lines.push(t!(lang, "repeat-report-earlier"));
        let numbers = view.runs.iter().map(|(k, _)| *k).filter(|k| *k < number);
        for (k, (n, c)) in numbers.zip(counts) {
            lines.push(t!(
                lang,
                "repeat-report-line",
                run = i64::from(k),
                start = local_naive(c.start_at, tz),
                status = c.status.as_str(),
                delivered = n.delivered,
                installed = n.targeted - n.not_installed,
            ));
        }
        lines.push(t!(
            lang,
            "repeat-report-more",
            name = escape_markdown(&shown.name),
            run = i64::from(number.saturating_sub(1).max(1))
        ));
        Ok(lines)
    }
}
