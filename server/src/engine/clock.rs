//! The time of a change. Each step of one change gets a later millisecond than the one before,
//! so the snapshots clients receive are ordered by their time even within one millisecond.

/// Now, in unix milliseconds.
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

#[derive(Debug, Clone, Copy)]
pub struct Clock {
    last: i64,
}

impl Clock {
    pub fn start() -> Self {
        Clock { last: now_ms() - 1 }
    }

    /// Now, but after every time handed out before.
    pub fn tick(&mut self) -> i64 {
        self.last = now_ms().max(self.last + 1);
        self.last
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_of_one_change_strictly_increase() {
        let mut clock = Clock::start();
        let times: Vec<i64> = (0..100).map(|_| clock.tick()).collect();
        assert!(times.windows(2).all(|w| w[0] < w[1]), "{times:?}");
    }
}
