//! Prometheus metrics, served at `GET /metrics`.

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
}

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
        for c in [
            Box::new(deliveries.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(retries.clone()),
            Box::new(throttled.clone()),
            Box::new(connector_seconds.clone()),
            Box::new(queue_due.clone()),
            Box::new(queue_leased.clone()),
            Box::new(owned_tenants.clone()),
            Box::new(tenant_takeovers.clone()),
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
        }
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
        ] {
            assert!(text.contains(name), "{name} missing:\n{text}");
        }
    }
}
