//! The sandbox alone: keep-alive HTTP/1.1 connections on a bare hyper client, each sending
//! one request after another to a simple endpoint for a fixed time.

use std::future::poll_fn;
use std::net::SocketAddr;
use std::pin::Pin;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, ensure};
use hyper::body::Body as _;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

use crate::runner::CpuMark;
use crate::stats::{Batch, Summary};

/// The simple endpoint the sandbox's throughput target is judged on: the control API's clock.
/// Other endpoints are measured for information.
pub(crate) const SIMPLE_PATH: &str = "/_sandbox/clock";

/// An endpoint to hammer.
#[derive(Clone, Debug)]
pub(crate) struct Endpoint {
    /// A label for the table.
    pub(crate) label: &'static str,
    /// The request path.
    pub(crate) path: String,
    /// Extra headers.
    pub(crate) headers: Vec<(&'static str, String)>,
}

/// What one endpoint gave.
#[derive(Clone, Debug)]
pub(crate) struct Measured {
    /// Which API the endpoint belongs to, for the table.
    pub(crate) label: &'static str,
    /// The request path.
    pub(crate) path: String,
    /// Keep-alive connections.
    pub(crate) connections: usize,
    /// Requests per second, latencies and CPU.
    pub(crate) summary: Summary,
}

impl Measured {
    /// The endpoint as the tables name it: `` `GET /_sandbox/clock` (control API) ``.
    pub(crate) fn name(&self) -> String {
        format!("`GET {}` ({})", self.path, self.label)
    }
}

/// Sends requests to `endpoint` on `connections` keep-alive connections for `duration`.
pub(crate) async fn hammer(
    addr: SocketAddr,
    endpoint: &Endpoint,
    connections: usize,
    duration: Duration,
) -> Result<Batch> {
    let cpu = CpuMark::now();
    let started = Instant::now();
    let deadline = started + duration;
    let mut tasks = Vec::new();
    for _ in 0..connections {
        let endpoint = endpoint.clone();
        tasks.push(tokio::spawn(async move {
            connection(addr, &endpoint, deadline).await
        }));
    }
    let mut latencies = Vec::new();
    for task in tasks {
        latencies.extend(task.await.context("a client connection panicked")??);
    }
    let wall = started.elapsed();
    let (client_cpu, server_cpu) = cpu.elapsed();
    Ok(Batch {
        ops: latencies.len(),
        wall,
        latencies,
        client_cpu,
        server_cpu,
    })
}

/// One keep-alive connection sending requests until `deadline`.
async fn connection(
    addr: SocketAddr,
    endpoint: &Endpoint,
    deadline: Instant,
) -> Result<Vec<Duration>> {
    let stream = TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    let host = addr.to_string();
    // The connection is driven in this task, next to the requests, so a request and its
    // answer never hop between tasks or threads.
    let requests = async move {
        let mut latencies = Vec::with_capacity(16 * 1024);
        while Instant::now() < deadline {
            let t0 = Instant::now();
            sender.ready().await?;
            let mut request =
                hyper::Request::get(endpoint.path.as_str()).header("host", host.as_str());
            for (name, value) in &endpoint.headers {
                request = request.header(*name, value);
            }
            let response = sender.send_request(request.body(String::new())?).await?;
            ensure!(
                response.status().is_success(),
                "{} answered {}",
                endpoint.path,
                response.status()
            );
            let mut body = response.into_body();
            let mut len = 0;
            while let Some(frame) = poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await {
                if let Some(data) = frame?.data_ref() {
                    len += data.len();
                }
            }
            ensure!(len > 0, "{} answered an empty body", endpoint.path);
            latencies.push(t0.elapsed());
        }
        Ok::<_, anyhow::Error>(latencies)
    };
    let (latencies, _) = tokio::join!(requests, conn);
    latencies
}
