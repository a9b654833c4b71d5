//! Latency samples and the figures printed from them.

use std::time::Duration;

use serde::Serialize;

/// Latencies of one measured step, in microseconds.
#[derive(Debug, Default, Clone)]
pub struct Samples {
    micros: Vec<u64>,
}

impl Samples {
    pub fn push(&mut self, d: Duration) {
        self.micros.push(d.as_micros() as u64);
    }

    pub fn extend(&mut self, other: Samples) {
        self.micros.extend(other.micros);
    }

    pub fn len(&self) -> usize {
        self.micros.len()
    }

    /// p50, p99 and max in milliseconds (all 0 when there is no sample).
    pub fn summary(&self) -> Latency {
        let mut sorted = self.micros.clone();
        sorted.sort_unstable();
        let at = |q: f64| -> f64 {
            if sorted.is_empty() {
                return 0.0;
            }
            let i = ((sorted.len() as f64 * q).ceil() as usize).clamp(1, sorted.len()) - 1;
            sorted[i] as f64 / 1000.0
        };
        Latency {
            count: sorted.len(),
            p50_ms: at(0.50),
            p99_ms: at(0.99),
            max_ms: sorted.last().map_or(0.0, |m| *m as f64 / 1000.0),
        }
    }
}

#[derive(Debug, Clone, Copy, Serialize)]
pub struct Latency {
    pub count: usize,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_nearest_rank() {
        let mut s = Samples::default();
        for ms in 1..=100 {
            s.push(Duration::from_millis(ms));
        }
        let l = s.summary();
        assert_eq!(l.count, 100);
        assert_eq!(l.p50_ms, 50.0);
        assert_eq!(l.p99_ms, 99.0);
        assert_eq!(l.max_ms, 100.0);
    }

    #[test]
    fn no_sample_is_all_zero() {
        let l = Samples::default().summary();
        assert_eq!((l.count, l.p50_ms, l.max_ms), (0, 0.0, 0.0));
    }
}
