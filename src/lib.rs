//! crmsync: connects Dynamics 365 (online) to Exchange Online with server-side
//! synchronization through the Dataverse Web API.
//!
//! # Layout
//!
//! The modules form layers; a module imports only from the layers below it (never from one
//! above), so each can be read and tested with only what is under it in mind.
//! `tests/layers.rs` reads every `crate::` path under `src/` and fails on an upward import.
//! From the top:
//!
//! - [`ffi`]: the C ABI and nothing else: handles, the boundary that catches panics and maps
//!   each error kind to a stable `crmsync_status`, JSON documents in and out.
//! - [`steps`]: one module per step of the Microsoft procedure (readiness, profiles, defaults,
//!   mailbox settings, approval, Test & Enable, alerts, the whole setup) and of day two
//!   (health, repair, disabling, undo): read the state, compute the change, write only what
//!   differs, read back what matters. Every step has one shape (`run`; `plan`, then `apply`,
//!   where it writes; see [`steps`]), takes its request as a [`documents`] type and returns one.
//! - [`engine`]: bulk writes across many mailboxes: `$batch` sizing, bounded concurrency over
//!   one or more connections, retries of throttled items, per-item results.
//! - `client`: a connection to one organization (its configuration and Web API client, and
//!   the further connections bulk writes may be spread over); it wires the layers below.
//! - `config`: the client configuration document, validated once.
//! - [`webapi`]: the Dataverse Web API client: headers, OData errors as typed errors, paging,
//!   `$batch` encoding, retries and pacing under the service-protection limits.
//! - [`auth`]: credentials (with loading a certificate) and the token sources behind one
//!   trait; national clouds and their authorities (`auth::cloud`).
//! - `transport`: building HTTP clients (rustls, proxies, timeouts), which URLs a bearer
//!   token may travel to, and describing a transport failure.
//! - `journal`: the change journal: one JSON line per write, appended and flushed as the run
//!   goes, and read back for undo.
//! - [`operation`]: long work as a pulled event stream with cancellation (no callbacks): the
//!   work sends typed [`documents::Event`]s, the pull batches a step's items and serializes once.
//! - [`runtime`]: the one tokio runtime of the process.
//! - [`documents`]: every JSON document that crosses the C ABI as a serde type: the requests
//!   and queries (`documents::requests`), the events, each step's result and the errors, with the
//!   version of events and results added in one place.
//! - `model`: typed rows (mailboxes, health facts and classes, the organization's defaults,
//!   profiles, alerts) and option sets.
//! - `error`: the one error type, its kinds and remedies.
//! - `allocator`: the library's memory allocator (on glibc, large blocks mapped on their own
//!   so that freed ones go back to the system).

mod allocator;
pub mod auth;
mod client;
pub(crate) mod config;
pub mod documents;
pub mod engine;
mod error;
pub mod ffi;
pub(crate) mod journal;
pub(crate) mod model;
pub mod operation;
pub mod runtime;
pub mod steps;
pub(crate) mod transport;
pub mod webapi;

#[global_allocator]
static ALLOCATOR: allocator::Allocator = allocator::Allocator;

pub use client::Client;
pub use error::{Error, ErrorKind, Result};
