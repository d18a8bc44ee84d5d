//! Layered settings: `config/default.toml` (compiled in, so the binary runs anywhere) <
//! `$FOI_CONFIG_DIR/default.toml` < `$FOI_CONFIG_DIR/{FOI_ENV}.toml` < `FOI__SECTION__KEY` variables.

use serde::Deserialize;

const DEFAULTS: &str = include_str!("../config/default.toml");

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    pub server: ServerSettings,
    pub database: DatabaseSettings,
    pub log: LogSettings,
    pub fees: crate::domain::fees::CostRates,
    pub mail: MailSettings,
    pub reminders: ReminderSettings,
    pub limits: LimitSettings,
    pub sessions: SessionSettings,
    pub attachments: crate::service::papers::AttachmentSettings,
}

/// `[sessions]` settings: browser sign-in.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SessionSettings {
    /// A session ends after this many minutes without a request.
    pub idle_minutes: u32,
    /// A session ends this many hours after sign-in, whatever happens.
    pub absolute_hours: u32,
    /// "auto": the cookie is Secure when the request came over TLS (as the proxy reports it, with
    /// `limits.trust_proxy_headers`); "always"; "never" (plain-HTTP development only).
    pub secure_cookie: SecureCookie,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SecureCookie {
    Auto,
    Always,
    Never,
}

impl SessionSettings {
    pub fn policy(&self) -> crate::domain::account::SessionPolicy {
        crate::domain::account::SessionPolicy {
            idle: chrono::Duration::minutes(i64::from(self.idle_minutes.max(1))),
            absolute: chrono::Duration::hours(i64::from(self.absolute_hours.max(1))),
        }
    }
}

/// `[limits]` settings: rate limits per client address.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitSettings {
    /// Calls of the public deadline calculator per minute.
    pub calculator_per_minute: u32,
    /// Failed authentications per minute before the address is refused for a while.
    pub failed_auth_per_minute: u32,
    /// Failed sign-ins per login name in 15 minutes before that name is refused for a while.
    pub failed_logins_per_user: u32,
    /// Failed sign-ins per client address in 15 minutes before the address is refused for a while.
    pub failed_logins_per_address: u32,
    /// How long a failed sign-in waits before it is answered, in milliseconds.
    pub failed_login_delay_ms: u64,
    /// Take the client's address from Forwarded / X-Forwarded-For (only behind a proxy that sets it).
    pub trust_proxy_headers: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSettings {
    pub bind: String,
    pub workers: usize,
    pub max_body_bytes: usize,
    pub cors_origins: Vec<String>,
    /// When not empty, `/metrics` asks for `Authorization: Bearer <metrics_token>`.
    pub metrics_token: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseSettings {
    pub url: String,
    pub pool_size: u32,
    pub connect_timeout_seconds: u64,
    pub sqlite_busy_timeout_ms: u32,
    pub run_migrations: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogSettings {
    pub format: LogFormat,
    pub level: String,
}

impl Settings {
    /// The documented defaults alone (no files, no environment): a base for tests and tools.
    pub fn defaults() -> Settings {
        config::Config::builder()
            .add_source(config::File::from_str(DEFAULTS, config::FileFormat::Toml))
            .build()
            .and_then(|c| c.try_deserialize())
            .expect("config/default.toml is valid")
    }

    /// Loads settings for the environment named by `FOI_ENV` (default `development`). A misspelt
    /// setting (a file's key or a `FOI__…` variable) or an environment without its file is an error
    /// naming it, never silently ignored.
    pub fn load() -> Result<Settings, config::ConfigError> {
        let dir = std::env::var("FOI_CONFIG_DIR").unwrap_or_else(|_| "config".to_owned());
        let env = std::env::var("FOI_ENV").unwrap_or_else(|_| "development".to_owned());
        let env_file = std::path::Path::new(&dir).join(format!("{env}.toml"));
        if env != "development" && !env_file.is_file() {
            let known: Vec<String> = std::fs::read_dir(&dir)
                .into_iter()
                .flatten()
                .flatten()
                .filter_map(|e| e.file_name().to_str()?.strip_suffix(".toml").map(str::to_owned))
                .filter(|name| name != "default")
                .collect();
            return Err(config::ConfigError::Message(format!(
                "FOI_ENV={env}: there is no {} (environments in {dir}: development{})",
                env_file.display(),
                known.iter().map(|k| format!(", {k}")).collect::<String>()
            )));
        }
        config::Config::builder()
            .add_source(config::File::from_str(DEFAULTS, config::FileFormat::Toml))
            .add_source(config::File::with_name(&format!("{dir}/default")).required(false))
            .add_source(config::File::with_name(&format!("{dir}/{env}")).required(false))
            .add_source(
                config::Environment::with_prefix("FOI")
                    .prefix_separator("__")
                    .separator("__")
                    .list_separator(",")
                    .with_list_parse_key("server.cors_origins")
                    .with_list_parse_key("reminders.thresholds")
                    .with_list_parse_key("attachments.allowed_types")
                    .try_parsing(true),
            )
            .build()?
            .try_deserialize::<Settings>()
            .and_then(|s| {
                s.attachments.validate().map_err(|e| config::ConfigError::Message(e.to_string()))?;
                Ok(s)
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compiled_in_defaults_parse() {
        let s = Settings::defaults();
        assert_eq!(s.server.bind, "127.0.0.1:8080");
        assert!(s.database.url.starts_with("sqlite://"));
        assert_eq!(s.log.format, LogFormat::Text);
    }
}

/// `[mail]` settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MailSettings {
    /// Off: reminders are still recorded in the outbox, and wait there.
    pub enabled: bool,
    /// `smtp://host:port` (no TLS), `smtp://host:port?tls=required` (STARTTLS) or
    /// `smtps://user:password@host:465`.
    pub smtp_url: String,
    pub from: String,
    pub timeout_seconds: u64,
    /// `zh` (default) or `en`: the template in `config/templates/reminder.{language}.toml`.
    pub language: String,
}

/// `[reminders]` settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReminderSettings {
    /// Run the job inside `serve` at `at` on working days.
    pub scheduler: bool,
    /// Daily time, China time (Asia/Shanghai), `HH:MM`.
    pub at: String,
    /// Working days before a deadline at which the handler is reminded.
    pub thresholds: Vec<i64>,
}
