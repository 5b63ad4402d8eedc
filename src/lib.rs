//! crmsync: connects Dynamics 365 (online) to Exchange Online with server-side
//! synchronization through the Dataverse Web API.
//!
//! Layers, data flowing one way: `ffi` (C ABI) → `steps` (one module per step of the
//! procedure) → `operation` (long work as pulled events) → `webapi` (HTTP, errors, retries,
//! paging) → `auth` (token sources). `model` holds the typed rows and option sets.

pub mod auth;
pub mod client;
pub mod config;
pub mod engine;
pub mod error;
pub mod ffi;
pub mod journal;
pub mod model;
pub mod operation;
pub mod runtime;
pub mod steps;
pub mod webapi;

pub use client::Client;
pub use error::{Error, ErrorKind, Result};
