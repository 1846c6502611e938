//! The one way tchatche connects to Redis. Every client (the bus' pool and
//! subscriber, a worker's consumer, the rate limiter, the session store) is
//! built here, so all of them reconnect the same way and no command waits
//! on an unresponsive Redis for longer than [`COMMAND_TIMEOUT`]: a request
//! then fails with a clear 503 instead of hanging.

use std::time::Duration;

use fred::prelude::*;

use crate::Result;

/// Longest a command may take, queueing while disconnected included. Above
/// the longest blocking read the worker makes (half a second).
pub const COMMAND_TIMEOUT: Duration = Duration::from_secs(3);
/// Longest a (re)connection attempt may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// A client builder for `url`: reconnects forever (backing off to 5 s
/// between attempts), with the command timeout above.
pub fn builder(url: &url::Url) -> Result<Builder> {
    let mut builder = Builder::from_config(Config::from_url(url.as_str())?);
    builder
        .with_connection_config(|connection| {
            connection.connection_timeout = CONNECT_TIMEOUT;
            connection.internal_command_timeout = CONNECT_TIMEOUT;
        })
        .with_performance_config(|performance| performance.default_command_timeout = COMMAND_TIMEOUT)
        .set_policy(ReconnectPolicy::new_exponential(0, 100, 5_000, 2));
    Ok(builder)
}

/// A connected pool of `size` connections.
pub async fn pool(url: &url::Url, size: usize) -> Result<Pool> {
    let pool = builder(url)?.build_pool(size)?;
    pool.init().await?;
    Ok(pool)
}
