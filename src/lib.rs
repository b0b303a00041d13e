//! dirgate: one directory core, one store, two protocol faces (LDAP, SCIM).
//!
//! - `core`: the account model and every rule; the only way to the store.
//! - `store`: the narrow storage interface and its SQLite backend.
//! - `ldap`, `http`: the faces, translating wire requests into core calls;
//!   `scim` and `web` (the self-service pages) are served by `http`.
//! - `notify`: delivers the outbox (email codes and links, SMS codes).
//! - `import`, `export`: LDIF and JSON in and out.
//! - `cli`, `daemon`, `config`, `tls`: the program around them.
//! - `metrics`: the Prometheus metrics served at `/metrics`.
//! - `load`: the benchmark data set and load tool (`dirgate-load`).
//! - `fuzzing`: what the fuzz targets in `fuzz/` run, shared with the
//!   corpus test.

pub mod cli;
pub mod config;
pub mod core;
pub mod daemon;
pub mod export;
#[doc(hidden)]
pub mod fuzzing;
pub mod http;
pub mod import;
pub mod ldap;
pub mod load;
pub mod metrics;
pub mod model;
pub mod notify;
pub mod scim;
pub mod store;
pub mod tls;
pub mod web;
