//! Use cases, between the shells (the HTTP handlers in `api/`, the command line in `main.rs`) and
//! storage (`db/`) with the rules (`domain/`). Each function takes a connection, the acting
//! principal and typed input; it checks what the domain decides, writes through storage (which
//! keeps each change in one transaction) and returns a typed result. Shells only translate requests
//! and arguments to these calls and their results back.
//!
//! Families so far: registration (`registration`), case reads (`cases`), workflow actions (`actions`), clock events and deadlines
//! (`clock`), calendar changes and the recomputation of open deadlines (`calendar`), the lapse job
//! (`lapses`), the reminder job (`reminders`), annual reports and their exports (`reports`), the
//! agencies a request names (`directory`).

pub mod actions;
pub mod calendar;
pub mod cases;
pub mod clock;
pub mod directory;
pub mod lapses;
pub mod registration;
pub mod reminders;
pub mod reports;
