//! A real SMTP server for tests: speaks enough SMTP over TCP on loopback to receive what the service
//! sends, and keeps every message.

use std::sync::{Arc, Mutex};

use base64::Engine;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

#[derive(Debug, Clone)]
pub struct Mail {
    pub to: Vec<String>,
    /// The whole message as received (headers and encoded body).
    pub raw: String,
    /// False when the sink answered 451 after receiving it (the sender must retry).
    pub accepted: bool,
}

impl Mail {
    /// The value of a header (the first one of that name).
    pub fn header(&self, name: &str) -> Option<String> {
        let (headers, _) = self.raw.split_once("\n\n").unwrap_or((&self.raw, ""));
        headers.lines().find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.eq_ignore_ascii_case(name).then(|| value.trim().to_owned())
        })
    }

    /// The text body, decoded from base64 or quoted-printable when the message says so.
    pub fn body(&self) -> String {
        let (headers, body) = self.raw.split_once("\n\n").unwrap_or(("", &self.raw));
        let headers = headers.to_ascii_lowercase();
        if headers.contains("content-transfer-encoding: base64") {
            let joined: String = body.lines().map(str::trim).collect();
            let bytes = base64::engine::general_purpose::STANDARD.decode(joined).expect("base64 body");
            String::from_utf8(bytes).expect("utf-8 body")
        } else if headers.contains("content-transfer-encoding: quoted-printable") {
            let mut bytes = Vec::new();
            let soft = body.replace("=\n", "");
            let mut it = soft.bytes().peekable();
            while let Some(b) = it.next() {
                if b == b'=' {
                    let hex: Vec<u8> = it.by_ref().take(2).collect();
                    bytes.push(u8::from_str_radix(std::str::from_utf8(&hex).unwrap(), 16).unwrap());
                } else {
                    bytes.push(b);
                }
            }
            String::from_utf8(bytes).expect("utf-8 body")
        } else {
            body.to_owned()
        }
    }
}

pub struct SmtpSink {
    pub port: u16,
    pub mails: Arc<Mutex<Vec<Mail>>>,
    task: tokio::task::JoinHandle<()>,
}

impl SmtpSink {
    pub async fn start() -> SmtpSink {
        SmtpSink::start_on(0).await
    }

    /// On a given port (0: any free one).
    pub async fn start_on(port: u16) -> SmtpSink {
        SmtpSink::start_refusing(port, 0).await
    }

    /// Like `start_on`, but the first `refusals` messages are received in full and then answered
    /// `451` (as a server that fails after taking the data): the sender must try again.
    pub async fn start_refusing(port: u16, refusals: usize) -> SmtpSink {
        let refusals = Arc::new(std::sync::atomic::AtomicUsize::new(refusals));
        let listener = TcpListener::bind(("127.0.0.1", port)).await.expect("bind the SMTP sink");
        let port = listener.local_addr().unwrap().port();
        let mails = Arc::new(Mutex::new(Vec::new()));
        let store = mails.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else { return };
                let (store, refusals) = (store.clone(), refusals.clone());
                tokio::spawn(async move {
                    let (read, mut write) = stream.into_split();
                    let mut lines = BufReader::new(read).lines();
                    let _ = write.write_all(b"220 sink ESMTP\r\n").await;
                    let (mut to, mut data, mut in_data) = (Vec::new(), String::new(), false);
                    while let Ok(Some(line)) = lines.next_line().await {
                        if in_data {
                            if line == "." {
                                let refused = refusals
                                    .fetch_update(
                                        std::sync::atomic::Ordering::SeqCst,
                                        std::sync::atomic::Ordering::SeqCst,
                                        |n| n.checked_sub(1),
                                    )
                                    .is_ok();
                                store.lock().unwrap().push(Mail {
                                    to: std::mem::take(&mut to),
                                    raw: std::mem::take(&mut data),
                                    accepted: !refused,
                                });
                                in_data = false;
                                let reply: &[u8] =
                                    if refused { b"451 try again later\r\n" } else { b"250 OK queued\r\n" };
                                let _ = write.write_all(reply).await;
                            } else {
                                data.push_str(line.strip_prefix('.').unwrap_or(&line));
                                data.push('\n');
                            }
                            continue;
                        }
                        let upper = line.to_ascii_uppercase();
                        let reply: &[u8] = if upper.starts_with("EHLO") || upper.starts_with("HELO") {
                            b"250 sink\r\n"
                        } else if upper.starts_with("MAIL FROM")
                            || upper.starts_with("RSET")
                            || upper.starts_with("NOOP")
                        {
                            b"250 OK\r\n"
                        } else if upper.starts_with("RCPT TO") {
                            let address =
                                line[8..].trim().trim_start_matches(':').trim().trim_matches(|c| c == '<' || c == '>');
                            to.push(address.to_owned());
                            b"250 OK\r\n"
                        } else if upper.starts_with("DATA") {
                            in_data = true;
                            b"354 go ahead\r\n"
                        } else if upper.starts_with("QUIT") {
                            let _ = write.write_all(b"221 bye\r\n").await;
                            return;
                        } else {
                            b"502 not implemented\r\n"
                        };
                        let _ = write.write_all(reply).await;
                    }
                });
            }
        });
        SmtpSink { port, mails, task }
    }

    /// The messages the sink accepted.
    pub fn mails(&self) -> Vec<Mail> {
        self.mails.lock().unwrap().iter().filter(|m| m.accepted).cloned().collect()
    }

    /// Every message received, accepted or refused.
    pub fn received(&self) -> Vec<Mail> {
        self.mails.lock().unwrap().clone()
    }

    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A loopback port nothing listens on (for "the SMTP server is down").
pub use crate::helpers::free_port;
