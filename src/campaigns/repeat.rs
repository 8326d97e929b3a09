//! Recurring campaigns (`repeat:`): the checks when one is saved, `campaign stop`, its runs
//! and the next ones. A run is a campaign row of its own (see `store::repeats`); the first
//! run is the campaign the admin named.

use chrono::{DateTime, NaiveDateTime, TimeDelta, Utc};
use chrono_tz::Tz;

use super::Campaigns;
use crate::domain::campaign::CampaignStatus;
use crate::domain::commands::FieldError;
use crate::domain::duration::WindowLength;
use crate::domain::problem::Problem;
use crate::domain::repeat::{Recurrence, Repeat};
use crate::store::StoreError;
use crate::store::campaigns::{Campaign, Settings};
use crate::store::repeats::{self, Series, Stopped};

const EXAMPLE: &str = "repeat: 0 9 * * MON";

/// Checks a recurrence against the settings and moves the start to its first run (a cron
/// expression's first occurrence at or after `start`); the problem otherwise.
pub fn settle(
    rule: &Recurrence,
    settings: &mut Settings,
    local_time: bool,
) -> Result<(), FieldError> {
    let error = |p: Problem| FieldError::new("repeat", p, EXAMPLE);
    if local_time {
        return Err(error(Problem::new("repeat-not-with-local-time")));
    }
    let tz: Tz = settings
        .time_zone
        .parse()
        .map_err(|_| error(Problem::new("repeat-never").with("value", rule.as_text())))?;
    let never = || error(Problem::new("repeat-never").with("value", rule.as_text()));
    let first = rule.first(tz, settings.start_at).ok_or_else(never)?;
    let step = rule.shortest_step(tz, first).ok_or_else(never)?;
    let window = TimeDelta::minutes(settings.duration_minutes);
    if step < window {
        let says = |d: TimeDelta| {
            WindowLength::from_minutes(d.num_minutes())
                .map(|w| w.to_string())
                .unwrap_or_else(|| format!("{}m", d.num_minutes()))
        };
        return Err(error(
            Problem::new("repeat-shorter-than-window")
                .with("value", rule.as_text())
                .with("step", says(step))
                .with("duration", says(window)),
        ));
    }
    settings.start_at = first;
    Ok(())
}

/// A repeating campaign: its rule and its runs, first first.
#[derive(Debug, Clone)]
pub struct SeriesView {
    pub series: Series,
    pub rule: Option<Recurrence>,
    pub runs: Vec<(i32, Campaign)>,
}

impl SeriesView {
    /// The run a report shows by default: the latest that has started, else the first.
    pub fn latest_started(&self) -> Option<&(i32, Campaign)> {
        self.runs
            .iter()
            .rev()
            .find(|(_, c)| c.status != CampaignStatus::Scheduled)
            .or(self.runs.first())
    }

    /// The next `count` run starts: those scheduled, then the rule's next occurrences (none
    /// once stopped).
    pub fn next_starts(&self, count: usize) -> Vec<DateTime<Utc>> {
        if self.series.stopped_at.is_some() {
            return Vec::new();
        }
        let mut out: Vec<DateTime<Utc>> = self
            .runs
            .iter()
            .filter(|(_, c)| c.status == CampaignStatus::Scheduled)
            .map(|(_, c)| c.start_at.and_utc())
            .take(count)
            .collect();
        let (Some(rule), Some((_, first)), Some((_, last))) =
            (&self.rule, self.runs.first(), self.runs.last())
        else {
            return out;
        };
        let tz = first.time_zone.tz();
        let after = out.last().copied().unwrap_or(last.start_at.and_utc());
        out.extend(rule.upcoming(
            tz,
            first.start_at.and_utc(),
            after,
            count.saturating_sub(out.len()),
        ));
        out
    }
}

/// What `campaign stop` came to.
#[derive(Debug)]
pub enum StopOutcome {
    UnknownCampaign,
    /// It does not repeat: a started campaign is never cancelled.
    NotRepeating(Box<Campaign>),
    /// Its first run has not started: edit or delete it instead.
    NotStarted(Box<Campaign>),
    /// Stopped now: the runs already started go on; `removed` runs were not to be.
    Done {
        campaign: Box<Campaign>,
        running: Option<i32>,
        removed: Vec<i32>,
    },
    Already {
        campaign: Box<Campaign>,
        at: NaiveDateTime,
    },
}

impl Campaigns<'_> {
    /// The series of the tenant's campaign `name`; `None` when there is no such campaign, or
    /// it does not repeat (the campaign then).
    pub async fn series_named(
        &self,
        tenant: &str,
        name: &str,
    ) -> Result<Option<(Campaign, Option<SeriesView>)>, StoreError> {
        let Some(c) = self.named(tenant, name).await? else {
            return Ok(None);
        };
        let view = self.series_of(&c).await?;
        Ok(Some((c, view)))
    }

    /// The series campaign `c` (the first run) heads, if it repeats.
    pub async fn series_of(&self, c: &Campaign) -> Result<Option<SeriesView>, StoreError> {
        let id = c.id.clone();
        self.db
            .run(move |conn| {
                let Some(series) = repeats::series(conn, &id)? else {
                    return Ok(None);
                };
                let runs = repeats::runs(conn, &id)?;
                let rule = series.rule.parse().ok();
                Ok(Some(SeriesView { series, rule, runs }))
            })
            .await
    }

    /// The stored rule of a campaign, as the field would give it (for an edit).
    pub async fn repeat_of(&self, c: &Campaign) -> Result<Option<Repeat>, StoreError> {
        let id = c.id.clone();
        let series = self.db.run(move |conn| repeats::series(conn, &id)).await?;
        Ok(series.and_then(|s| s.rule.parse().ok()).map(Repeat::Every))
    }

    /// `campaign stop <name>`: the series makes no further run.
    pub async fn stop(
        &self,
        tenant: &str,
        name: &str,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<StopOutcome, StoreError> {
        let Some((c, view)) = self.series_named(tenant, name).await? else {
            return Ok(StopOutcome::UnknownCampaign);
        };
        let Some(view) = view else {
            return Ok(StopOutcome::NotRepeating(Box::new(c)));
        };
        if !c.status.started() {
            // Scheduled, or awaiting (or refused) approval: edited or deleted instead.
            return Ok(StopOutcome::NotStarted(Box::new(c)));
        }
        let (id, by) = (c.id.clone(), actor.to_string());
        let stopped = self
            .db
            .run(move |conn| repeats::stop(conn, &id, &by, now))
            .await?;
        let running = view
            .runs
            .iter()
            .rev()
            .find(|(_, r)| r.status == CampaignStatus::Running)
            .map(|(n, _)| *n);
        Ok(match stopped {
            None => StopOutcome::UnknownCampaign,
            Some(Stopped::Done { removed }) => StopOutcome::Done {
                campaign: Box::new(c),
                running,
                removed,
            },
            Some(Stopped::Already { at }) => StopOutcome::Already {
                campaign: Box::new(c),
                at,
            },
        })
    }
}
