//! Prometheus metrics, served at `GET /metrics`.
//!
//! The queue gauges come from the database; they are refreshed at most every
//! [`QUEUE_REFRESH`], whatever the scrape rate, so scrapes cannot load the database.

use std::future::Future;
use std::time::Duration;

use tokio::time::Instant;

use prometheus::{
    Encoder, Histogram, HistogramOpts, IntCounter, IntCounterVec, IntGauge, Opts, Registry,
    TextEncoder,
};

pub struct Metrics {
    registry: Registry,
    /// Deliveries by outcome: delivered, retry, failed, released, absent, expired.
    pub deliveries: IntCounterVec,
    /// The four children of `deliveries`, looked up once.
    pub delivered: IntCounter,
    pub retried: IntCounter,
    pub failed: IntCounter,
    pub released: IntCounter,
    pub absent: IntCounter,
    pub expired: IntCounter,
    /// Sends retried after a throttled or transient failure.
    pub retries: IntCounter,
    /// 429 answers from the connector.
    pub throttled: IntCounter,
    /// Connector call latency, seconds.
    pub connector_seconds: Histogram,
    /// Deliveries due and not leased, at the last scrape.
    pub queue_due: IntGauge,
    /// Deliveries leased (in flight or about to be), at the last scrape.
    pub queue_leased: IntGauge,
    /// Tenants whose dispatch this instance owns.
    pub owned_tenants: IntGauge,
    /// Tenants this instance took over from an instance that stopped renewing its claim.
    pub tenant_takeovers: IntCounter,
    /// Database reads of the queue gauges (at most one per `QUEUE_REFRESH`).
    pub queue_reads: IntCounter,
    /// When the queue gauges were last read; held while one scrape reads them, so scrapes
    /// arriving together read the database once.
    queue_read_at: tokio::sync::Mutex<Option<Instant>>,
}

/// Least time between two database reads of the queue gauges.
pub const QUEUE_REFRESH: Duration = Duration::from_secs(5);

impl Metrics {
    pub fn new() -> Metrics {
        let registry =
            Registry::new_custom(Some("herald".into()), None).unwrap_or_else(|_| Registry::new());
        let deliveries = IntCounterVec::new(
            Opts::new("deliveries_total", "Delivery attempts by outcome"),
            &["outcome"],
        )
        .expect("static metric definition");
        let retries = IntCounter::new("delivery_retries_total", "Sends scheduled for a retry")
            .expect("static metric definition");
        let throttled = IntCounter::new(
            "connector_throttled_total",
            "429 answers from the connector",
        )
        .expect("static metric definition");
        let connector_seconds = Histogram::with_opts(
            HistogramOpts::new("connector_request_seconds", "Connector call latency").buckets(
                vec![
                    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
                ],
            ),
        )
        .expect("static metric definition");
        let queue_due = IntGauge::new("queue_due", "Deliveries due and not leased")
            .expect("static metric definition");
        let queue_leased = IntGauge::new("queue_leased", "Deliveries currently leased")
            .expect("static metric definition");
        let owned_tenants = IntGauge::new(
            "dispatch_owned_tenants",
            "Tenants whose dispatch this instance owns",
        )
        .expect("static metric definition");
        let tenant_takeovers = IntCounter::new(
            "dispatch_takeovers_total",
            "Tenants taken over from an instance that stopped renewing its claim",
        )
        .expect("static metric definition");
        let queue_reads = IntCounter::new(
            "queue_gauge_reads_total",
            "Database reads of the queue gauges (at most one every 5 s)",
        )
        .expect("static metric definition");
        for c in [
            Box::new(deliveries.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(retries.clone()),
            Box::new(throttled.clone()),
            Box::new(connector_seconds.clone()),
            Box::new(queue_due.clone()),
            Box::new(queue_leased.clone()),
            Box::new(owned_tenants.clone()),
            Box::new(tenant_takeovers.clone()),
            Box::new(queue_reads.clone()),
        ] {
            // Names are distinct constants: registration cannot collide.
            registry.register(c).expect("distinct metric names");
        }
        let outcome = |name: &str| deliveries.with_label_values(&[name]);
        Metrics {
            registry,
            delivered: outcome("delivered"),
            retried: outcome("retry"),
            failed: outcome("failed"),
            released: outcome("released"),
            absent: outcome("absent"),
            expired: outcome("expired"),
            deliveries,
            retries,
            throttled,
            connector_seconds,
            queue_due,
            queue_leased,
            owned_tenants,
            tenant_takeovers,
            queue_reads,
            queue_read_at: tokio::sync::Mutex::new(None),
        }
    }

    /// Sets the queue gauges from `read` (due, leased) unless they were read less than
    /// [`QUEUE_REFRESH`] ago. A failed read keeps the last values and waits its turn too: a
    /// database in trouble is not asked again at every scrape.
    pub async fn refresh_queue<F, Fut, E>(&self, read: F)
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<(i64, i64), E>>,
        E: std::fmt::Display,
    {
        let mut last = self.queue_read_at.lock().await;
        if last.is_some_and(|at| at.elapsed() < QUEUE_REFRESH) {
            return;
        }
        self.queue_reads.inc();
        match read().await {
            Ok((due, leased)) => {
                self.queue_due.set(due);
                self.queue_leased.set(leased);
            }
            Err(e) => tracing::warn!(error = %e, "queue depth unavailable for metrics"),
        }
        *last = Some(Instant::now());
    }

    /// The text exposition format.
    pub fn render(&self) -> String {
        let mut out = Vec::new();
        // Encoding into a Vec cannot fail for well-formed metrics.
        let _ = TextEncoder::new().encode(&self.registry.gather(), &mut out);
        String::from_utf8(out).unwrap_or_default()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_every_family() {
        let m = Metrics::new();
        m.deliveries.with_label_values(&["delivered"]).inc();
        m.connector_seconds.observe(0.01);
        let text = m.render();
        for name in [
            "herald_deliveries_total{outcome=\"delivered\"} 1",
            "herald_delivery_retries_total",
            "herald_connector_throttled_total",
            "herald_connector_request_seconds_bucket",
            "herald_queue_due",
            "herald_queue_leased",
            "herald_queue_gauge_reads_total",
        ] {
            assert!(text.contains(name), "{name} missing:\n{text}");
        }
    }

    #[tokio::test]
    async fn the_queue_is_read_once_per_refresh_whatever_the_scrapes() {
        let m = Metrics::new();
        for _ in 0..3 {
            m.refresh_queue(|| async { Ok::<_, String>((4, 2)) }).await;
        }
        assert_eq!(m.queue_reads.get(), 1);
        assert_eq!((m.queue_due.get(), m.queue_leased.get()), (4, 2));
        // A failed read keeps the values and is not retried at once either.
        let m = Metrics::new();
        m.refresh_queue(|| async { Err::<(i64, i64), _>("down") })
            .await;
        m.refresh_queue(|| async { Ok::<_, String>((1, 1)) }).await;
        assert_eq!(m.queue_reads.get(), 1);
        assert_eq!(m.queue_due.get(), 0);
    }
}
