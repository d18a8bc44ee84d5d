//! Integration tests: the real service on port 0, spoken to over HTTP. Every test that touches the
//! database runs on SQLite and, when FOI_TEST_POSTGRES_URL is set, on PostgreSQL.

mod helpers;

mod amendments;
mod audit;
mod authz;
mod cli;
mod clock;
mod console;
mod deadlines;
mod errors;
mod feeds;
mod fidelity;
mod import;
mod intake;
mod interfaces;
mod letters;
mod operations;
mod papers;
mod reads;
mod reminders;
mod reports;
mod search;
mod sessions;
mod smtp;
mod users;
mod workflow;
