//! Rules of browser sign-in: what a login name and a password must be, and when a session ends.
//! Hashing and storage live in the service; these are the decisions, tested here.

use chrono::{Duration, NaiveDateTime};

string_enum! {
    /// What the security log records: every sign-in, failure and sign-out, and every change to
    /// how an account authenticates.
    SecurityEventKind {
        LoginSucceeded => "login_succeeded",
        LoginFailed => "login_failed",
        /// A login name or an address went over its failed sign-in limit.
        LoginLimited => "login_limited",
        Logout => "logout",
        PasswordSet => "password_set",
        TokenCreated => "token_created",
        TokenRevoked => "token_revoked",
        UserCreated => "user_created",
        UserDeactivated => "user_deactivated",
        UserReactivated => "user_reactivated",
        LoginChanged => "login_changed",
        /// A deadline feed's secret URL was made (or replaced) or removed.
        FeedRotated => "feed_rotated",
        FeedRemoved => "feed_removed",
    }
}

/// Why a password is refused, in words for the person choosing it.
pub fn password_problem(password: &str, login: Option<&str>) -> Option<String> {
    const MIN: usize = 10;
    const MAX: usize = 128;
    // Long passphrases need no character mix (NIST SP 800-63B); shorter ones need three of the four
    // classes the graded-protection baseline (GB/T 22239-2019 8.1.4.1) asks for.
    const PASSPHRASE: usize = 16;
    let chars = password.chars().count();
    if chars < MIN {
        return Some(format!("must be at least {MIN} characters long"));
    }
    if chars > MAX {
        return Some(format!("must be at most {MAX} characters long"));
    }
    if password.chars().any(char::is_control) {
        return Some("must not contain control characters".into());
    }
    if password.trim() != password {
        return Some("must not begin or end with a space".into());
    }
    let classes = [
        password.chars().any(|c| c.is_ascii_lowercase()),
        password.chars().any(|c| c.is_ascii_uppercase()),
        password.chars().any(|c| c.is_ascii_digit()),
        password.chars().any(|c| !c.is_ascii_alphanumeric()),
    ]
    .into_iter()
    .filter(|&present| present)
    .count();
    if chars < PASSPHRASE && classes < 3 {
        return Some(format!(
            "must mix three of: lower-case letters, capitals, digits, other characters (or be at least {PASSPHRASE} characters long)"
        ));
    }
    let distinct: std::collections::HashSet<char> = password.chars().collect();
    if distinct.len() < 4 {
        return Some("must not repeat a few characters over and over".into());
    }
    if let Some(login) = login.map(str::trim).filter(|l| l.chars().count() >= 3) {
        if password.to_lowercase().contains(&login.to_lowercase()) {
            return Some("must not contain the login name".into());
        }
    }
    None
}

/// Why a login name is refused: 1 to 64 characters, no spaces or control characters (people type
/// it; a namesake takes another login, e.g. `zhangwei2`).
pub fn login_problem(login: &str) -> Option<&'static str> {
    let chars = login.chars().count();
    if chars == 0 || chars > 64 {
        return Some("must be 1 to 64 characters");
    }
    if login.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Some("must not contain spaces or control characters");
    }
    None
}

/// How long a browser session lives: ended after `idle` without a request, and after `absolute`
/// whatever happens (OWASP session management: both, so a stolen cookie dies).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionPolicy {
    pub idle: Duration,
    pub absolute: Duration,
}

/// Where a session stands at a moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionStatus {
    Active,
    /// Logged out, or ended by a password change or deactivation.
    Ended,
    IdleTimedOut,
    Expired,
}

impl SessionPolicy {
    pub fn status(
        &self,
        created_at: NaiveDateTime,
        last_seen_at: NaiveDateTime,
        ended: bool,
        now: NaiveDateTime,
    ) -> SessionStatus {
        if ended {
            SessionStatus::Ended
        } else if now >= created_at + self.absolute {
            SessionStatus::Expired
        } else if now >= last_seen_at + self.idle {
            SessionStatus::IdleTimedOut
        } else {
            SessionStatus::Active
        }
    }

    /// When the session ends if nothing more happens: the earlier of the idle and absolute ends.
    pub fn ends_at(&self, created_at: NaiveDateTime, last_seen_at: NaiveDateTime) -> NaiveDateTime {
        (last_seen_at + self.idle).min(created_at + self.absolute)
    }

    /// Whether a request at `now` should record itself as the session's last activity: at most once
    /// a minute (a write per request would serialize a busy console on one row), and always when
    /// the idle window is so short that a minute matters.
    pub fn should_touch(&self, last_seen_at: NaiveDateTime, now: NaiveDateTime) -> bool {
        let step = Duration::minutes(1).min(self.idle / 4);
        now - last_seen_at >= step
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_need_length_and_mix_or_a_passphrase() {
        assert!(password_problem("short1A!", None).unwrap().contains("at least 10"));
        assert!(password_problem("alllowercase", None).unwrap().contains("three of"));
        assert!(password_problem("lowercase123", None).unwrap().contains("three of"));
        assert_eq!(password_problem("Lowercase123", None), None);
        assert_eq!(password_problem("lower-case-123", None), None);
        assert_eq!(password_problem("政府信息公开Gk2026", None), None, "Chinese counts as other characters");
        assert!(password_problem("政府信息公开申请办理2026", None).is_some(), "two classes, 14 characters");
        assert_eq!(password_problem("correct horse battery", None), None, "a passphrase needs no mix");
        assert!(password_problem(&"Aa1!".repeat(33), None).unwrap().contains("at most 128"));
        assert!(password_problem("Aa1!Aa1!Aa1!", None).is_none());
        assert!(password_problem("aaaaaaaaaaaaaaaaaaaa", None).unwrap().contains("repeat"));
        assert!(password_problem(" Lowercase123", None).unwrap().contains("space"));
        assert!(password_problem("Lower\tcase123", None).unwrap().contains("control"));
    }

    #[test]
    fn a_password_may_not_contain_the_login() {
        assert!(password_problem("Zhangwei2026!", Some("zhangwei")).unwrap().contains("login"));
        assert_eq!(password_problem("Zhangwei2026!", Some("li")), None, "too short a login to matter");
        assert_eq!(password_problem("Zhangwei2026!", Some("lina")), None);
    }

    #[test]
    fn logins_are_short_words_without_spaces() {
        assert_eq!(login_problem("zhangwei2"), None);
        assert_eq!(login_problem("张伟"), None);
        assert!(login_problem("").is_some());
        assert!(login_problem("zhang wei").is_some());
        assert!(login_problem(&"x".repeat(65)).is_some());
        assert_eq!(login_problem(&"x".repeat(64)), None);
    }

    fn at(minutes: i64) -> NaiveDateTime {
        chrono::NaiveDate::from_ymd_opt(2026, 12, 1).unwrap().and_hms_opt(9, 0, 0).unwrap() + Duration::minutes(minutes)
    }

    #[test]
    fn sessions_end_when_idle_or_too_old_whichever_comes_first() {
        let policy = SessionPolicy { idle: Duration::minutes(30), absolute: Duration::hours(12) };
        assert_eq!(policy.status(at(0), at(0), false, at(29)), SessionStatus::Active);
        assert_eq!(policy.status(at(0), at(0), false, at(30)), SessionStatus::IdleTimedOut);
        assert_eq!(policy.status(at(0), at(700), false, at(719)), SessionStatus::Active);
        assert_eq!(policy.status(at(0), at(710), false, at(720)), SessionStatus::Expired, "absolute wins");
        assert_eq!(policy.status(at(0), at(0), true, at(1)), SessionStatus::Ended);
        assert_eq!(policy.ends_at(at(0), at(10)), at(40));
        assert_eq!(policy.ends_at(at(0), at(710)), at(720));
    }

    #[test]
    fn activity_is_recorded_at_most_once_a_minute_or_a_quarter_of_a_short_idle_window() {
        let policy = SessionPolicy { idle: Duration::minutes(30), absolute: Duration::hours(12) };
        assert!(!policy.should_touch(at(0), at(0) + Duration::seconds(59)));
        assert!(policy.should_touch(at(0), at(1)));
        let short = SessionPolicy { idle: Duration::seconds(8), absolute: Duration::hours(1) };
        assert!(short.should_touch(at(0), at(0) + Duration::seconds(2)));
        assert!(!short.should_touch(at(0), at(0) + Duration::seconds(1)));
    }
}
