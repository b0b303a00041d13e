//! Prometheus metrics (`GET /metrics` on the HTTP listeners): one registry
//! and its handles, shared by the faces and the notifier. Labels only ever
//! carry names from fixed sets (operations, result codes, reasons), never a
//! user name, token or password.

use std::sync::Arc;
use std::time::Instant;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

use crate::store::{MessageState, Outbox};

/// The content type of what [`Metrics::render`] gives.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Which face served an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Face {
    Ldap,
    Scim,
    Web,
}

impl Face {
    fn as_str(self) -> &'static str {
        match self {
            Face::Ldap => "ldap",
            Face::Scim => "scim",
            Face::Web => "web",
        }
    }
}

/// Which listener a connection came through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Listener {
    Ldap,
    Http,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct OperationLabels {
    face: &'static str,
    operation: String,
    result: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct DurationLabels {
    face: &'static str,
    operation: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct ReasonLabels {
    reason: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct DeliveryLabels {
    channel: &'static str,
    reason: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct FaceLabels {
    face: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct StateLabels {
    state: &'static str,
}

fn duration_histogram() -> Histogram {
    // 0.5 ms to about 16 s.
    Histogram::new(exponential_buckets(0.0005, 2.0, 16))
}

struct Inner {
    registry: Registry,
    operations: Family<OperationLabels, Counter>,
    durations: Family<DurationLabels, Histogram, fn() -> Histogram>,
    bind_failures: Family<ReasonLabels, Counter>,
    open_connections: Family<FaceLabels, Gauge>,
    outbox_messages: Family<StateLabels, Gauge>,
    delivery_failures: Counter,
    delivery_failure_reasons: Family<DeliveryLabels, Counter>,
    outbox: Option<Arc<dyn Outbox>>,
}

/// The metrics of one daemon; cheap to clone.
#[derive(Clone)]
pub struct Metrics(Arc<Inner>);

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new(None)
    }
}

impl Metrics {
    /// `outbox` is counted at each scrape, when given.
    pub fn new(outbox: Option<Arc<dyn Outbox>>) -> Metrics {
        let mut registry = Registry::default();
        let operations = Family::<OperationLabels, Counter>::default();
        registry.register(
            "dirgate_operations",
            "Operations served, by face, operation and result",
            operations.clone(),
        );
        let durations =
            Family::<DurationLabels, Histogram, fn() -> Histogram>::new_with_constructor(
                duration_histogram,
            );
        registry.register(
            "dirgate_operation_duration_seconds",
            "Time to answer an operation, by face and operation",
            durations.clone(),
        );
        let bind_failures = Family::<ReasonLabels, Counter>::default();
        registry.register(
            "dirgate_bind_failures",
            "LDAP binds refused, by reason",
            bind_failures.clone(),
        );
        let open_connections = Family::<FaceLabels, Gauge>::default();
        registry.register(
            "dirgate_open_connections",
            "Connections open now, by listener",
            open_connections.clone(),
        );
        // Both listeners show from the start, at zero.
        open_connections
            .get_or_create(&FaceLabels { face: "ldap" })
            .set(0);
        open_connections
            .get_or_create(&FaceLabels { face: "http" })
            .set(0);
        let outbox_messages = Family::<StateLabels, Gauge>::default();
        if outbox.is_some() {
            registry.register(
                "dirgate_outbox_messages",
                "Messages in the outbox, by state",
                outbox_messages.clone(),
            );
        }
        let delivery_failures = Counter::default();
        registry.register(
            "dirgate_outbox_delivery_failures",
            "Failed attempts to deliver an outbox message",
            delivery_failures.clone(),
        );
        let delivery_failure_reasons = Family::<DeliveryLabels, Counter>::default();
        registry.register(
            "dirgate_outbox_delivery_failures_by_reason",
            "Failed attempts to deliver an outbox message, by channel (email, sms) and \
             reason (refused, unavailable, timeout, unreachable, configuration)",
            delivery_failure_reasons.clone(),
        );
        Metrics(Arc::new(Inner {
            registry,
            operations,
            durations,
            bind_failures,
            open_connections,
            outbox_messages,
            delivery_failures,
            delivery_failure_reasons,
            outbox,
        }))
    }

    /// Counts one operation and its time since `started`.
    pub fn operation(&self, face: Face, operation: &str, result: &str, started: Instant) {
        let face = face.as_str();
        self.0
            .operations
            .get_or_create(&OperationLabels {
                face,
                operation: operation.to_owned(),
                result: result.to_owned(),
            })
            .inc();
        self.0
            .durations
            .get_or_create(&DurationLabels {
                face,
                operation: operation.to_owned(),
            })
            .observe(started.elapsed().as_secs_f64());
    }

    /// Counts a refused bind; `reason` is one of a fixed set of words.
    pub fn bind_failure(&self, reason: &'static str) {
        self.0
            .bind_failures
            .get_or_create(&ReasonLabels { reason })
            .inc();
    }

    /// Counts a failed delivery attempt of an outbox message, in the total
    /// and by channel and reason (both from fixed sets of words).
    pub fn delivery_failure(&self, channel: &'static str, reason: &'static str) {
        self.0.delivery_failures.inc();
        self.0
            .delivery_failure_reasons
            .get_or_create(&DeliveryLabels { channel, reason })
            .inc();
    }

    /// Counts an open connection until the guard is dropped.
    pub fn connection(&self, listener: Listener) -> ConnectionGuard {
        let face = match listener {
            Listener::Ldap => "ldap",
            Listener::Http => "http",
        };
        let gauge = self
            .0
            .open_connections
            .get_or_create(&FaceLabels { face })
            .clone();
        gauge.inc();
        ConnectionGuard { gauge }
    }

    /// The metrics in the OpenMetrics text format (which Prometheus reads),
    /// with the outbox counted now. Blocks on the store: call it from a
    /// blocking thread.
    pub fn render(&self) -> Result<String, String> {
        if let Some(outbox) = &self.0.outbox {
            let counts = outbox
                .outbox_counts()
                .map_err(|e| format!("cannot count the outbox: {e}"))?;
            for state in [
                MessageState::Pending,
                MessageState::Delivered,
                MessageState::Failed,
            ] {
                let n = counts
                    .iter()
                    .find(|(s, _)| *s == state)
                    .map_or(0, |(_, n)| *n);
                self.0
                    .outbox_messages
                    .get_or_create(&StateLabels {
                        state: state.as_str(),
                    })
                    .set(i64::try_from(n).unwrap_or(i64::MAX));
            }
        }
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &self.0.registry)
            .map_err(|e| format!("cannot encode the metrics: {e}"))?;
        Ok(text)
    }
}

/// Keeps a connection counted in `dirgate_open_connections`.
pub struct ConnectionGuard {
    gauge: Gauge,
}

impl Drop for ConnectionGuard {
    fn drop(&mut self) {
        self.gauge.dec();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_histograms_and_gauges() {
        let m = Metrics::default();
        let started = Instant::now();
        m.operation(Face::Ldap, "bind", "success", started);
        m.operation(Face::Scim, "GET Users", "200", started);
        m.bind_failure("invalid_credentials");
        m.delivery_failure("sms", "refused");
        let guard = m.connection(Listener::Ldap);
        let text = m.render().expect("render");
        assert!(text.contains(
            "dirgate_operations_total{face=\"ldap\",operation=\"bind\",result=\"success\"} 1"
        ));
        assert!(text.contains(
            "dirgate_operations_total{face=\"scim\",operation=\"GET Users\",result=\"200\"} 1"
        ));
        assert!(text.contains("dirgate_bind_failures_total{reason=\"invalid_credentials\"} 1"));
        assert!(text.contains("dirgate_outbox_delivery_failures_total 1"));
        assert!(text.contains(
            "dirgate_outbox_delivery_failures_by_reason_total{channel=\"sms\",reason=\"refused\"} 1"
        ));
        assert!(text.contains("dirgate_open_connections{face=\"ldap\"} 1"));
        assert!(text.contains(
            "dirgate_operation_duration_seconds_count{face=\"ldap\",operation=\"bind\"} 1"
        ));
        drop(guard);
        assert!(m
            .render()
            .expect("render")
            .contains("dirgate_open_connections{face=\"ldap\"} 0"));
    }
}
