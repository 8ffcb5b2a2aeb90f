//! The device clock, passed in so that tests can move it (a week offline) without waiting. It
//! stamps the device's own changes and decides when the access token is close to expiring; legal
//! deadlines never run from it (the server attests the times that count).

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use fengqiao_schema::time::Instant;

pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> Instant;
}

/// The machine's clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Instant {
        let secs = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs();
        Instant::from_unix(i64::try_from(secs).unwrap_or(i64::MAX))
    }
}

/// The machine's clock moved by an offset the caller sets: a device whose clock runs ahead (a
/// week offline, in a test) or behind.
#[derive(Debug, Default)]
pub struct OffsetClock {
    offset_secs: AtomicI64,
}

impl OffsetClock {
    pub fn new() -> OffsetClock {
        OffsetClock::default()
    }

    pub fn advance(&self, by: Duration) {
        self.offset_secs.fetch_add(
            i64::try_from(by.as_secs()).unwrap_or(i64::MAX),
            Ordering::Relaxed,
        );
    }

    pub fn set_offset_secs(&self, secs: i64) {
        self.offset_secs.store(secs, Ordering::Relaxed);
    }
}

impl Clock for OffsetClock {
    fn now(&self) -> Instant {
        Instant::from_unix(
            SystemClock.now().unix_seconds() + self.offset_secs.load(Ordering::Relaxed),
        )
    }
}

impl<C: Clock> Clock for std::sync::Arc<C> {
    fn now(&self) -> Instant {
        (**self).now()
    }
}
