//! Closed-loop HTTP load: a number of workers, each sending its next request as soon as the last
//! one is answered, for a set time; every answer's latency is kept.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::stats::{Latency, Samples};

/// What one load step measured.
#[derive(Debug, Clone, Serialize)]
pub struct Throughput {
    pub concurrency: usize,
    pub requests: usize,
    pub errors: usize,
    pub per_sec: f64,
    pub latency: Latency,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_error: Option<String>,
}

/// Runs `request(worker, n)` from `concurrency` workers for `duration` (after a short warm-up
/// that opens the connections and is not counted).
pub async fn closed_loop<F, Fut>(concurrency: usize, duration: Duration, request: F) -> Throughput
where
    F: Fn(usize, usize) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), String>> + Send,
{
    let request = Arc::new(request);
    let warm_up = (duration / 10).min(Duration::from_millis(500));
    let started = Instant::now();
    let measure_from = started + warm_up;
    let end = measure_from + duration;
    let mut workers = Vec::with_capacity(concurrency);
    for worker in 0..concurrency {
        let request = request.clone();
        workers.push(tokio::spawn(async move {
            let mut samples = Samples::default();
            let mut errors = 0;
            let mut first_error = None;
            let mut n = 0;
            loop {
                let sent = Instant::now();
                if sent >= end {
                    break;
                }
                let result = request(worker, n).await;
                n += 1;
                if sent < measure_from {
                    continue;
                }
                match result {
                    Ok(()) => samples.push(sent.elapsed()),
                    Err(e) => {
                        errors += 1;
                        first_error.get_or_insert(e);
                    }
                }
            }
            (samples, errors, first_error)
        }));
    }
    let mut samples = Samples::default();
    let mut errors = 0;
    let mut first_error = None;
    for worker in workers {
        let (s, e, f) = worker.await.expect("a load worker panicked");
        samples.extend(s);
        errors += e;
        if first_error.is_none() {
            first_error = f;
        }
    }
    // Requests sent before the end and answered after it count; so does the time they took.
    let elapsed = started.elapsed().saturating_sub(warm_up).max(duration);
    Throughput {
        concurrency,
        requests: samples.len(),
        errors,
        per_sec: samples.len() as f64 / elapsed.as_secs_f64(),
        latency: samples.summary(),
        first_error,
    }
}

/// Sends `request` `count` times one after the other (a reader's latency, not a load).
pub async fn sequential<F, Fut>(count: usize, request: F) -> Result<Latency, String>
where
    F: Fn(usize) -> Fut,
    Fut: Future<Output = Result<(), String>>,
{
    // The first answers warm the caches and the connection; they are not counted.
    for n in 0..count.min(5) {
        request(n).await?;
    }
    let mut samples = Samples::default();
    for n in 0..count {
        let sent = Instant::now();
        request(n).await?;
        samples.push(sent.elapsed());
    }
    Ok(samples.summary())
}
