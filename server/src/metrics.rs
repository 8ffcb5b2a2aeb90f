//! Operational figures in the Prometheus text format (`GET /metrics`).
//!
//! Each `Services` has a recorder of its own rather than the process-wide one of the `metrics`
//! macros, so that several servers in one test process keep separate counts. The handles are
//! registered once here and cloned into whoever records.

use std::time::Duration;

use fengqiao_sync::protocol::RejectCode;
use metrics::{Counter, Gauge, Histogram, Key, Label, Metadata, Recorder};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle, PrometheusRecorder};

use crate::store::live::LiveDocuments;

const COMMIT_SECONDS: &str = "fengqiao_commit_seconds";
/// Commit latency buckets, in seconds: a group commit flushes in a few milliseconds on a disk that
/// honours fsync, and in tens under load.
const COMMIT_BUCKETS: &[f64] = &[0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0];
/// How often histogram samples are folded into buckets when nobody scrapes.
pub const UPKEEP_INTERVAL: Duration = Duration::from_secs(5);

/// The recorder and every figure the server records.
#[derive(Clone)]
pub struct Metrics {
    handle: PrometheusHandle,
    /// Open WebSocket connections.
    pub live_connections: Gauge,
    /// Sync sessions in progress, on either transport.
    pub active_sessions: Gauge,
    pub websocket_sessions: Counter,
    pub http_requests: Counter,
    /// Non-empty client batches answered.
    pub batches: Counter,
    /// Client changes applied to documents.
    pub changes_ingested: Counter,
    pub compensations: Counter,
    pub cases_registered: Counter,
    pub commit_seconds: Histogram,
    pub notifications: Counter,
    rejects: Vec<(RejectCode, Counter)>,
    cache_bytes: Gauge,
    cache_documents: Gauge,
    cache_budget_bytes: Gauge,
}

impl Metrics {
    pub fn new() -> Metrics {
        let recorder: PrometheusRecorder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Full(COMMIT_SECONDS.to_string()), COMMIT_BUCKETS)
            .expect("the commit buckets are not empty")
            .build_recorder();
        let metadata = Metadata::new(module_path!(), metrics::Level::INFO, Some(module_path!()));
        let describe = |name: &'static str, help: &'static str| (Key::from_static_name(name), help);
        let counter = |(key, help): (Key, &'static str)| {
            recorder.describe_counter(key.name().to_string().into(), None, help.into());
            recorder.register_counter(&key, &metadata)
        };
        let gauge = |(key, help): (Key, &'static str)| {
            recorder.describe_gauge(key.name().to_string().into(), None, help.into());
            recorder.register_gauge(&key, &metadata)
        };
        let rejects = RejectCode::KNOWN
            .iter()
            .map(|code| {
                let key =
                    Key::from_parts("fengqiao_sync_rejects_total", vec![Label::new("code", code.as_str().to_string())]);
                (code.clone(), recorder.register_counter(&key, &metadata))
            })
            .collect();
        recorder.describe_counter(
            "fengqiao_sync_rejects_total".into(),
            None,
            "Documents of client batches refused (nothing stored), by code.".into(),
        );
        recorder.describe_histogram(
            COMMIT_SECONDS.into(),
            Some(metrics::Unit::Seconds),
            "Time from submitting a document commit to its being durable.".into(),
        );
        let commit_seconds = recorder.register_histogram(&Key::from_static_name(COMMIT_SECONDS), &metadata);
        Metrics {
            live_connections: gauge(describe("fengqiao_sync_live_connections", "Open sync WebSocket connections.")),
            active_sessions: gauge(describe("fengqiao_sync_active_sessions", "Sync sessions being answered now.")),
            websocket_sessions: counter(describe(
                "fengqiao_sync_websocket_sessions_total",
                "Sync sessions started over WebSocket.",
            )),
            http_requests: counter(describe("fengqiao_sync_http_requests_total", "Sync messages received over HTTP.")),
            batches: counter(describe("fengqiao_sync_batches_total", "Non-empty client batches answered.")),
            changes_ingested: counter(describe(
                "fengqiao_sync_changes_ingested_total",
                "Client changes authorised and committed.",
            )),
            compensations: counter(describe(
                "fengqiao_sync_compensations_total",
                "Sections restored by the server after a write without the right.",
            )),
            cases_registered: counter(describe(
                "fengqiao_sync_cases_registered_total",
                "Cases opened on a device and registered by the server.",
            )),
            notifications: counter(describe(
                "fengqiao_sync_notifications_total",
                "notify messages sent to live connections.",
            )),
            cache_bytes: gauge(describe("fengqiao_cache_bytes", "Estimated memory of the cached documents.")),
            cache_documents: gauge(describe("fengqiao_cache_documents", "Documents in the cache.")),
            cache_budget_bytes: gauge(describe("fengqiao_cache_budget_bytes", "Memory the cache may use.")),
            commit_seconds,
            rejects,
            handle: recorder.handle(),
        }
    }

    /// Counts one refused document.
    pub fn rejected(&self, code: &RejectCode) {
        if let Some((_, counter)) = self.rejects.iter().find(|(c, _)| c == code) {
            counter.increment(1);
        }
    }

    /// The text exposition, with the cache figures read now.
    pub fn render(&self, documents: &LiveDocuments) -> String {
        let usage = documents.cache_usage();
        self.cache_bytes.set(usage.used_bytes as f64);
        self.cache_documents.set(usage.documents as f64);
        self.cache_budget_bytes.set(usage.budget_bytes as f64);
        self.handle.render()
    }

    /// Folds recorded histogram samples into their buckets (bounded memory between scrapes).
    pub fn upkeep(&self) {
        self.handle.run_upkeep();
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}
