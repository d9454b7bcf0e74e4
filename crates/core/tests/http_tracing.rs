//! The `phone_verify.http` span's recorded fields. Its own test binary, so that no parallel
//! test shares `tracing`'s global callsite state.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use phone_verify_core::ProviderId;
use phone_verify_core::http::{HttpConfig, RetryPolicy};
use phone_verify_core::kit::{BaseUrl, HttpClient, HttpRequest, Operation};
use tracing::field::{Field, Visit};
use tracing::span::{Id, Record};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt as _};
use wiremock::matchers::path;
use wiremock::{Mock, MockServer, ResponseTemplate};

/// A layer that keeps every value recorded into a span after its creation, in order.
#[derive(Clone, Default)]
struct Recorded(Arc<Mutex<Vec<(&'static str, String)>>>);

impl Visit for Recorded {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0
            .lock()
            .unwrap()
            .push((field.name(), format!("{value:?}")));
    }
}

impl<S: tracing::Subscriber> Layer<S> for Recorded {
    fn on_record(&self, _span: &Id, values: &Record<'_>, _ctx: Context<'_, S>) {
        values.record(&mut self.clone());
    }
}

#[tokio::test]
async fn the_span_records_the_attempts_and_the_final_status() {
    let recorded = Recorded::default();
    let subscriber = tracing_subscriber::registry().with(recorded.clone());
    let _guard = tracing::subscriber::set_default(subscriber);

    let server = MockServer::start().await;
    Mock::given(path("/v1/check"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(path("/v1/check"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    let config = HttpConfig::default()
        .with_retry(RetryPolicy::default().with_backoff(Duration::ZERO, Duration::ZERO));
    let client = HttpClient::new(ProviderId::new_static("acme"), config).unwrap();
    let base = BaseUrl::parse(&format!("{}/v1", server.uri())).unwrap();
    let response = client
        .execute(HttpRequest::get(
            Operation::read("check"),
            base.join("check"),
        ))
        .await
        .unwrap();
    assert_eq!(response.status(), 200);

    let fields = recorded.0.lock().unwrap().clone();
    let fields: Vec<_> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert_eq!(
        fields,
        [("attempts", "1"), ("attempts", "2"), ("status", "200")]
    );
}
