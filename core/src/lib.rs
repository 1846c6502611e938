//! Domain types of tchatche shared by the browser (WASM) and the server, and,
//! behind the `server` feature, the one `Store` and the one `Bus` that the
//! server, the app's server functions and the worker all use.
//!
//! # Layout
//! - [`ids`]: typed identifiers and the time helpers every layer shares.
//! - [`input`]: the vocabulary of input errors, translated by the app.
//! - [`event`]: what travels from the server to browsers over the socket.
//! - [`room`], [`user`], [`message`], [`reaction`]: validated inputs and shared views of each domain.
//! - [`direct`]: direct conversations: whom they are with, who may start one.
//! - [`search`]: what a message search asks for and what it finds.
//! - [`languages`]: the languages of messages, their detection (server), and
//!   how each person wants them translated.
//! - `config` (server): the typed configuration from the environment.
//! - `access` (server): who may read or post in a room, and changes of access.
//! - `sessions` (server): signed-in sessions and where they are kept.
//! - `redis` (server): the one way to connect to Redis.
//! - `store` (server): SQLite or PostgreSQL through sqlx.
//! - `bus` (server): room fan-out and the durable queue, in-process or Redis.
//! - `chat` (server): posting, editing, deleting, history and catch-up.
//! - `translation` (server): who wants which translation, and the jobs the
//!   worker's translator takes.
//! - `password` (server): argon2id hashing; `limits` (server): rate limits.
//! - `process` (server): logging and signal handling of every binary.

pub mod direct;
pub mod event;
pub mod ids;
pub mod input;
pub mod languages;
pub mod message;
pub mod reaction;
pub mod room;
pub mod search;
pub mod user;

#[cfg(feature = "server")]
pub mod access;
#[cfg(feature = "server")]
pub mod bus;
#[cfg(feature = "server")]
pub mod chat;
#[cfg(feature = "server")]
pub mod config;
#[cfg(feature = "server")]
pub mod error;
#[cfg(feature = "server")]
pub mod limits;
#[cfg(feature = "server")]
pub mod password;
#[cfg(feature = "server")]
pub mod process;
#[cfg(feature = "server")]
pub mod redis;
#[cfg(feature = "server")]
pub mod sessions;
#[cfg(feature = "server")]
pub mod store;
#[cfg(feature = "test-support")]
pub mod testing;

#[cfg(feature = "server")]
pub use {
    bus::Bus,
    error::{Error, Result},
    store::Store,
};
