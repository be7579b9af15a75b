//! A fault-injecting HTTP layer under the SDK clients: a share of calls never reaches the
//! local AWS and is answered with a throttling error or a 5xx instead, as AWS does under
//! load. A run over it must converge to the same state as a run without it.
//!
//! Throttling answers are shaped for the request's protocol where the SDK reads the code
//! from the body (awsJson: `ThrottlingException`; EC2: `RequestLimitExceeded`; awsQuery:
//! `Throttling`); other protocols get `503 Service Unavailable` or `500`, which the SDK
//! retries by status. Faults are injected before the call is forwarded, so a faulted call
//! has no effect, as a throttled AWS call has none.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient,
    SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_runtime_api::http::StatusCode;
use aws_smithy_types::body::SdkBody;

/// What the layer injected.
#[derive(Debug, Default)]
pub struct FaultCounts {
    /// Calls seen.
    pub calls: AtomicUsize,
    /// Throttling answers given.
    pub throttled: AtomicUsize,
    /// 5xx answers given.
    pub server_errors: AtomicUsize,
}

impl FaultCounts {
    /// Faults injected so far.
    pub fn injected(&self) -> usize {
        self.throttled.load(Ordering::Relaxed) + self.server_errors.load(Ordering::Relaxed)
    }
}

/// An [`HttpClient`] that fails `percent` % of calls (pseudo-randomly, from `seed`) and
/// forwards the rest to `inner`.
#[derive(Debug, Clone)]
pub struct FaultyHttp {
    inner: SharedHttpClient,
    percent: u64,
    state: Arc<AtomicU64>,
    counts: Arc<FaultCounts>,
}

impl FaultyHttp {
    /// Wraps `inner`.
    pub fn new(inner: SharedHttpClient, percent: u64, seed: u64) -> Self {
        FaultyHttp {
            inner,
            percent: percent.min(100),
            state: Arc::new(AtomicU64::new(seed | 1)),
            counts: Arc::new(FaultCounts::default()),
        }
    }

    /// The counters, shared with every clone.
    pub fn counts(&self) -> Arc<FaultCounts> {
        self.counts.clone()
    }
}

impl HttpClient for FaultyHttp {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        SharedHttpConnector::new(FaultyConnector {
            inner: self.inner.http_connector(settings, components),
            layer: self.clone(),
        })
    }
}

#[derive(Debug)]
struct FaultyConnector {
    inner: SharedHttpConnector,
    layer: FaultyHttp,
}

impl FaultyHttp {
    /// xorshift64*: a roll in 0..100.
    fn roll(&self) -> u64 {
        let mut x = self.state.load(Ordering::Relaxed);
        loop {
            let mut n = x;
            n ^= n >> 12;
            n ^= n << 25;
            n ^= n >> 27;
            match self
                .state
                .compare_exchange_weak(x, n, Ordering::Relaxed, Ordering::Relaxed)
            {
                Ok(_) => return n.wrapping_mul(0x2545_F491_4F6C_DD1D) % 100,
                Err(cur) => x = cur,
            }
        }
    }
}

fn response(status: u16, body: String, error_type: Option<&str>) -> Option<HttpResponse> {
    let status = StatusCode::try_from(status).ok()?;
    let mut r = HttpResponse::new(status, SdkBody::from(body));
    if let Some(t) = error_type {
        r.headers_mut().insert("x-amzn-ErrorType", t.to_owned());
        r.headers_mut()
            .insert("content-type", "application/x-amz-json-1.1".to_owned());
    } else {
        r.headers_mut()
            .insert("content-type", "text/xml".to_owned());
    }
    Some(r)
}

/// The wire protocol of a request, as far as the shape of an error answer goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Protocol {
    /// awsJson (`x-amz-target`).
    Json,
    /// EC2's query dialect.
    Ec2,
    /// awsQuery.
    Query,
    /// restJson and restXml.
    Rest,
}

fn protocol(req: &HttpRequest) -> Protocol {
    if req.headers().get("x-amz-target").is_some() {
        return Protocol::Json;
    }
    let form = req
        .headers()
        .get("content-type")
        .is_some_and(|c| c.starts_with("application/x-www-form-urlencoded"));
    if !form {
        return Protocol::Rest;
    }
    let body = String::from_utf8_lossy(req.body().bytes().unwrap_or_default());
    if body.contains("Version=2016-11-15") {
        Protocol::Ec2
    } else {
        Protocol::Query
    }
}

/// An error answer with `code` and `status`, shaped for the request's protocol so that the
/// SDK reads the code; REST protocols get the code in `x-amzn-ErrorType` (restJson reads
/// it) and an XML body.
fn fault(protocol: Protocol, status: u16, code: &str) -> Option<HttpResponse> {
    let message = "strata fault injection";
    match protocol {
        Protocol::Json => response(
            status,
            format!(r#"{{"__type":"{code}","message":"{message}"}}"#),
            Some(code),
        ),
        Protocol::Ec2 => response(
            status,
            format!("<Response><Errors><Error><Code>{code}</Code><Message>{message}</Message></Error></Errors><RequestID>strata-fault</RequestID></Response>"),
            None,
        ),
        Protocol::Query => response(
            status,
            format!("<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error><RequestId>strata-fault</RequestId></ErrorResponse>"),
            None,
        ),
        Protocol::Rest => {
            let mut r = response(
                status,
                format!("<Error><Code>{code}</Code><Message>{message}</Message><RequestId>strata-fault</RequestId></Error>"),
                None,
            )?;
            r.headers_mut().insert("x-amzn-ErrorType", code.to_owned());
            Some(r)
        }
    }
}

/// A throttling answer, for the protocols whose throttling codes the SDK reads (REST
/// protocols get a 5xx instead).
fn throttling(protocol: Protocol) -> Option<HttpResponse> {
    match protocol {
        Protocol::Ec2 => fault(protocol, 503, "RequestLimitExceeded"),
        Protocol::Json => fault(protocol, 400, "ThrottlingException"),
        Protocol::Query => fault(protocol, 400, "Throttling"),
        Protocol::Rest => None,
    }
}

impl HttpConnector for FaultyConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let layer = &self.layer;
        layer.counts.calls.fetch_add(1, Ordering::Relaxed);
        if layer.roll() < layer.percent {
            let protocol = protocol(&request);
            let fault = match (layer.roll() % 2, throttling(protocol)) {
                (0, Some(t)) => {
                    layer.counts.throttled.fetch_add(1, Ordering::Relaxed);
                    Some(t)
                }
                (n, _) => {
                    layer.counts.server_errors.fetch_add(1, Ordering::Relaxed);
                    if n == 0 {
                        fault(protocol, 503, "ServiceUnavailable")
                    } else {
                        fault(protocol, 500, "InternalFailure")
                    }
                }
            };
            if let Some(fault) = fault {
                return HttpConnectorFuture::ready(Ok(fault));
            }
        }
        self.inner.call(request)
    }
}
