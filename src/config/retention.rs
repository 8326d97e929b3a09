//! `[retention]`: how long herald keeps what grows with use. Before a finished campaign's or
//! broadcast's rows are purged, what its report shows is folded into one row, so old reports
//! keep their figures. An age of `0` (or empty) keeps those rows forever.

use std::time::Duration;

use serde::{Deserialize, Deserializer};

const DAY: u64 = 24 * 3600;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RetentionSettings {
    /// Deliveries of finished work (a completed campaign, a broadcast whose deliveries are all
    /// final, tests, notices, relays), counted from their last change. Their clicks go with them.
    #[serde(deserialize_with = "age")]
    pub deliveries: Option<Duration>,
    /// Link clicks of finished work, counted from the last click.
    #[serde(deserialize_with = "age")]
    pub clicks: Option<Duration>,
    /// Reads (button and read receipts) of finished campaigns and broadcasts.
    #[serde(deserialize_with = "age")]
    pub reads: Option<Duration>,
    /// Relayed replies and answers (their text) of finished broadcasts.
    #[serde(deserialize_with = "age")]
    pub relay_messages: Option<Duration>,
    /// Audit log entries.
    #[serde(deserialize_with = "age")]
    pub audit: Option<Duration>,
    /// How often the purge runs (one instance at a time, whichever comes first).
    #[serde(with = "humantime_serde")]
    pub every: Duration,
    /// Rows deleted per transaction: each is short, so sends never wait for a long one.
    pub batch: u32,
}

impl Default for RetentionSettings {
    fn default() -> Self {
        Self {
            deliveries: Some(Duration::from_secs(180 * DAY)),
            clicks: Some(Duration::from_secs(180 * DAY)),
            reads: Some(Duration::from_secs(180 * DAY)),
            relay_messages: Some(Duration::from_secs(180 * DAY)),
            audit: Some(Duration::from_secs(730 * DAY)),
            every: Duration::from_secs(DAY),
            batch: 1000,
        }
    }
}

impl RetentionSettings {
    /// The youngest age anything a report counts is purged at: finished work is folded then.
    pub fn fold_after(&self) -> Option<Duration> {
        self.policy().fold_after()
    }

    /// What the store purges by.
    pub fn policy(&self) -> crate::store::retention::Policy {
        crate::store::retention::Policy {
            deliveries: self.deliveries,
            clicks: self.clicks,
            reads: self.reads,
            relay_messages: self.relay_messages,
            audit: self.audit,
            every: self.every,
            batch: self.batch,
        }
    }

    pub(super) fn check(&self) -> Result<(), (&'static str, String)> {
        if self.batch == 0 || self.batch > 100_000 {
            return Err(("retention.batch", "must be between 1 and 100000".into()));
        }
        if self.every < Duration::from_secs(60) || self.every > Duration::from_secs(366 * DAY) {
            return Err(("retention.every", "must be between 1m and 366days".into()));
        }
        Ok(())
    }
}

/// An age: a duration such as `180days`; `0` or empty keeps forever (`None`).
fn age<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
    let text = String::deserialize(d)?;
    let text = text.trim();
    if text.is_empty() || text == "0" {
        return Ok(None);
    }
    let age = humantime_serde::re::humantime::parse_duration(text).map_err(|e| {
        serde::de::Error::custom(format!(
            "`{text}` is not an age ({e}); e.g. \"180days\", or \"0\" to keep forever"
        ))
    })?;
    Ok((!age.is_zero()).then_some(age))
}

#[cfg(test)]
mod tests {
    use crate::config::Settings;
    use std::time::Duration;

    #[test]
    fn ages_are_read_and_zero_keeps_forever() {
        let s = Settings::from_toml(
            "[retention]\ndeliveries = \"90days\"\nclicks = \"0\"\nreads = \"\"\naudit = \"2y\"\nbatch = 500\n\
             [tracking]\nlink_lifetime = \"90days\"\n",
        )
        .unwrap();
        let r = &s.retention;
        assert_eq!(r.deliveries, Some(Duration::from_secs(90 * 86400)));
        assert_eq!((r.clicks, r.reads), (None, None));
        assert_eq!(r.relay_messages, Some(Duration::from_secs(180 * 86400)));
        assert!(r.audit.unwrap() > Duration::from_secs(700 * 86400));
        assert_eq!(r.batch, 500);
        assert_eq!(r.fold_after(), Some(Duration::from_secs(90 * 86400)));
    }

    #[test]
    fn bad_retention_values_name_the_key() {
        for (toml, key) in [
            ("[retention]\ndeliveries = \"soon\"\n", "deliveries"),
            ("[retention]\nbatch = 0\n", "retention.batch"),
            ("[retention]\nevery = \"1s\"\n", "retention.every"),
            ("[retention]\nrows = \"1d\"\n", "rows"),
        ] {
            let err = Settings::from_toml(toml).unwrap_err().to_string();
            assert!(err.contains(key), "{toml}: {err}");
        }
    }
}
