//! Rate limits per client address: the public deadline calculator (no token, so the one endpoint
//! anyone can call in a loop) and failed authentications (so tokens cannot be guessed at speed);
//! and failed sign-ins, per login name and per address (so passwords cannot be guessed at speed).
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

/// Failures counted per key (GCRA); a key over its quota is refused until the quota allows it again.
struct Penalties<K: std::hash::Hash + Eq + Clone> {
    failures: DefaultKeyedRateLimiter<K>,
    blocked: Mutex<HashMap<K, Instant>>,
}

impl<K: std::hash::Hash + Eq + Clone> Penalties<K> {
    fn new(quota: Quota) -> Self {
        Penalties { failures: RateLimiter::keyed(quota), blocked: Mutex::new(HashMap::new()) }
    }

    /// Until when `key` is refused, if it is.
    fn blocked_until(&self, key: &K) -> Option<Instant> {
        let mut blocked = self.blocked.lock().unwrap_or_else(|e| e.into_inner());
        match blocked.get(key) {
            Some(until) if *until > Instant::now() => Some(*until),
            Some(_) => {
                blocked.remove(key);
                None
            }
            None => None,
        }
    }

    /// Counts a failure; true when it took `key` over its quota (it is refused from now on).
    fn fail(&self, key: &K) -> bool {
        let over = match self.failures.check_key(key) {
            Ok(()) => false,
            Err(not_until) => {
                let wait = not_until.wait_time_from(DefaultClock::default().now()).max(Duration::from_secs(1));
                let mut blocked = self.blocked.lock().unwrap_or_else(|e| e.into_inner());
                blocked.insert(key.clone(), Instant::now() + wait);
                true
            }
        };
        // Keep the maps small: forget idle keys now and then.
        if self.failures.len() > 10_000 {
            self.failures.retain_recent();
            let now = Instant::now();
            self.blocked.lock().unwrap_or_else(|e| e.into_inner()).retain(|_, until| *until > now);
        }
        over
    }
}

/// The limits of one service instance (each instance counts on its own).
pub struct Limits {
    calculator: DefaultKeyedRateLimiter<IpAddr>,
    failed_auth: Penalties<IpAddr>,
    failed_login_by_name: Penalties<String>,
    failed_login_by_address: Penalties<IpAddr>,
    failed_login_delay: Duration,
    trust_proxy_headers: bool,
}

fn per_minute(n: u32) -> Quota {
    let n = NonZeroU32::new(n.max(1)).expect("at least one");
    Quota::per_minute(n)
}

/// `n` failures in a quarter of an hour (replenished evenly); the `n`-th failure starts the wait, so
/// the next attempt is already refused.
fn per_quarter_hour(n: u32) -> Quota {
    let n = n.max(2);
    let burst = NonZeroU32::new(n - 1).expect("at least one");
    Quota::with_period(Duration::from_secs(15 * 60) / n).expect("a positive period").allow_burst(burst)
}

impl Limits {
    pub fn new(settings: &LimitSettings) -> Limits {
        Limits {
            calculator: RateLimiter::keyed(per_minute(settings.calculator_per_minute)),
            failed_auth: Penalties::new(per_minute(settings.failed_auth_per_minute)),
            failed_login_by_name: Penalties::new(per_quarter_hour(settings.failed_logins_per_user)),
            failed_login_by_address: Penalties::new(per_quarter_hour(settings.failed_logins_per_address)),
            failed_login_delay: Duration::from_millis(settings.failed_login_delay_ms),
            trust_proxy_headers: settings.trust_proxy_headers,
        }
    }

    /// Whether forwarded headers (address, scheme) are believed.
    pub fn trusts_proxy_headers(&self) -> bool {
        self.trust_proxy_headers
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
        })?;
        if self.calculator.len() > 10_000 {
            self.calculator.retain_recent();
        }
        Ok(())
    }

    /// Before a token is checked: refused while the address is over its failed-authentication limit.
    pub fn before_authentication(&self, client: Option<IpAddr>) -> Result<(), AppError> {
        let Some(ip) = client else { return Ok(()) };
        match self.failed_auth.blocked_until(&ip) {
            Some(until) => Err(too_many(until, "too many failed authentications from this address")),
            None => Ok(()),
        }
    }

    /// After a token was refused: counts the failure; over the limit, the address waits.
    pub fn failed_authentication(&self, client: Option<IpAddr>) {
        let Some(ip) = client else { return };
        if self.failed_auth.fail(&ip) {
            tracing::warn!(client = %ip, "failed authentications over the limit; refusing this address for a while");
        }
    }

    /// Before a password is checked: refused while the login name or the address is over its limit
    /// of failed sign-ins.
    pub fn before_login(&self, login: &str, client: Option<IpAddr>) -> Result<(), AppError> {
        if let Some(until) = self.failed_login_by_name.blocked_until(&login.to_owned()) {
            return Err(too_many(until, "too many failed sign-ins under this login name"));
        }
        if let Some(until) = client.and_then(|ip| self.failed_login_by_address.blocked_until(&ip)) {
            return Err(too_many(until, "too many failed sign-ins from this address"));
        }
        Ok(())
    }

    /// After a failed sign-in: counts it against the name and the address; which of them it took
    /// over the limit.
    pub fn failed_login(&self, login: &str, client: Option<IpAddr>) -> LoginLimited {
        LoginLimited {
            name: self.failed_login_by_name.fail(&login.to_owned()),
            address: client.is_some_and(|ip| self.failed_login_by_address.fail(&ip)),
        }
    }

    /// How long a failed sign-in waits before it is answered.
    pub fn failed_login_delay(&self) -> Duration {
        self.failed_login_delay
    }
}

/// Which limits a failed sign-in reached.
#[derive(Debug, Clone, Copy, Default)]
pub struct LoginLimited {
    pub name: bool,
    pub address: bool,
}

fn too_many(until: Instant, what: &str) -> AppError {
    AppError::TooManyRequests {
        detail: format!("{what}; wait before trying again"),
        retry_after_seconds: until.saturating_duration_since(Instant::now()).as_secs() + 1,
    }
}
