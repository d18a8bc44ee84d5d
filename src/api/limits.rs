//! Rate limits per client address: the public deadline calculator (no token, so the one endpoint
//! anyone can call in a loop) and failed authentications (so tokens cannot be guessed at speed).
//! Counting is governor's (GCRA); a client over its failed-authentication limit is refused before
//! its token is even looked at, until the limit allows it again.

use std::collections::HashMap;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use actix_web::HttpRequest;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::config::LimitSettings;
use crate::error::AppError;

pub struct Limits {
    calculator: DefaultKeyedRateLimiter<IpAddr>,
    failed_auth: DefaultKeyedRateLimiter<IpAddr>,
    /// Addresses over the failed-authentication limit, and until when.
    blocked: Mutex<HashMap<IpAddr, Instant>>,
    trust_proxy_headers: bool,
}

fn per_minute(n: u32) -> Quota {
    let n = NonZeroU32::new(n.max(1)).expect("at least one");
    Quota::per_minute(n)
}

impl Limits {
    pub fn new(settings: &LimitSettings) -> Limits {
        Limits {
            calculator: RateLimiter::keyed(per_minute(settings.calculator_per_minute)),
            failed_auth: RateLimiter::keyed(per_minute(settings.failed_auth_per_minute)),
            blocked: Mutex::new(HashMap::new()),
            trust_proxy_headers: settings.trust_proxy_headers,
        }
    }

    /// The client's address: the peer, or (behind a trusted proxy) the address it forwarded.
    pub fn client(&self, req: &HttpRequest) -> Option<IpAddr> {
        if self.trust_proxy_headers {
            if let Some(ip) = req.connection_info().realip_remote_addr().and_then(|a| a.parse::<IpAddr>().ok()) {
                return Some(ip);
            }
        }
        req.peer_addr().map(|a| a.ip())
    }

    /// One call of the public calculator.
    pub fn calculator(&self, client: Option<IpAddr>) -> Result<(), AppError> {
        let Some(ip) = client else { return Ok(()) };
        self.calculator.check_key(&ip).map_err(|not_until| AppError::TooManyRequests {
            detail: "too many deadline calculations from this address; wait a moment".into(),
            retry_after_seconds: not_until.wait_time_from(DefaultClock::default().now()).as_secs() + 1,
        })
    }

    /// Before a token is checked: refused while the address is over its failed-authentication limit.
    pub fn before_authentication(&self, client: Option<IpAddr>) -> Result<(), AppError> {
        let Some(ip) = client else { return Ok(()) };
        let mut blocked = self.blocked.lock().unwrap_or_else(|e| e.into_inner());
        match blocked.get(&ip) {
            Some(until) if *until > Instant::now() => Err(too_many_failures(*until)),
            Some(_) => {
                blocked.remove(&ip);
                Ok(())
            }
            None => Ok(()),
        }
    }

    /// After a token was refused: counts the failure; over the limit, the address waits.
    pub fn failed_authentication(&self, client: Option<IpAddr>) {
        let Some(ip) = client else { return };
        if let Err(not_until) = self.failed_auth.check_key(&ip) {
            let wait = not_until.wait_time_from(DefaultClock::default().now()).max(Duration::from_secs(1));
            let mut blocked = self.blocked.lock().unwrap_or_else(|e| e.into_inner());
            blocked.insert(ip, Instant::now() + wait);
            tracing::warn!(client = %ip, "failed authentications over the limit; refusing this address for a while");
        }
        // Keep the maps small: forget idle addresses now and then.
        if self.failed_auth.len() > 10_000 {
            self.failed_auth.retain_recent();
        }
        if self.calculator.len() > 10_000 {
            self.calculator.retain_recent();
        }
    }
}

fn too_many_failures(until: Instant) -> AppError {
    AppError::TooManyRequests {
        detail: "too many failed authentications from this address; wait before trying again".into(),
        retry_after_seconds: until.saturating_duration_since(Instant::now()).as_secs() + 1,
    }
}
