//! Link tracking and report downloads, wired: the signer (from `tracking.secret`, or the
//! secret kept in the database), the public address links point at, and how long they work.

use std::time::Duration;

use anyhow::Context;
use chrono::{DateTime, Utc};
use secrecy::ExposeSecret;
use url::Url;

use crate::config::Settings;
use crate::domain::tracking::{ReportGrant, Signer};
use crate::store::Db;

#[derive(Debug)]
pub struct Tracker {
    /// Where links and downloads point; `None`: tracking is off, links stay as written.
    pub public_url: Option<Url>,
    pub signer: Signer,
    pub link_lifetime: Duration,
    pub report_lifetime: Duration,
}

fn expiry(now: DateTime<Utc>, lifetime: Duration) -> i64 {
    now.timestamp()
        .saturating_add(i64::try_from(lifetime.as_secs()).unwrap_or(i64::MAX))
}

impl Tracker {
    /// From the settings; with no `tracking.secret`, the database's (made on first start).
    pub async fn load(settings: &Settings, db: &Db, now: DateTime<Utc>) -> anyhow::Result<Tracker> {
        let configured = settings.tracking.secret.expose_secret().trim().to_string();
        let secret = if configured.is_empty() {
            db.run(move |conn| crate::store::tracking::shared_secret(conn, now))
                .await
                .context("reading the tracking secret from the database")?
        } else {
            configured
        };
        Ok(Tracker {
            public_url: settings.server.public_url.clone(),
            signer: Signer::new(secret.as_bytes()),
            link_lifetime: settings.tracking.link_lifetime,
            report_lifetime: settings.tracking.report_lifetime,
        })
    }

    pub fn enabled(&self) -> bool {
        self.public_url.is_some()
    }

    fn join(&self, path: &str) -> Option<String> {
        let base = self.public_url.as_ref()?;
        Some(format!("{}/{path}", base.as_str().trim_end_matches('/')))
    }

    /// The tracked URL of link `idx` for one delivery, sent at `now`.
    pub fn link_url(&self, delivery_id: i64, idx: usize, now: DateTime<Utc>) -> Option<String> {
        let idx = u16::try_from(idx).ok()?;
        let token = self
            .signer
            .link_token(delivery_id, idx, expiry(now, self.link_lifetime));
        self.join(&format!("l/{token}"))
    }

    /// A download link for one report file; `name` is the file name the browser saves.
    pub fn report_url(
        &self,
        grant: &ReportGrant,
        name: &str,
        now: DateTime<Utc>,
    ) -> Option<String> {
        let token = self
            .signer
            .report_token(grant, expiry(now, self.report_lifetime));
        let name = percent_encoding::utf8_percent_encode(name, percent_encoding::NON_ALPHANUMERIC)
            .to_string();
        self.join(&format!("reports/{token}/{name}"))
    }
}
