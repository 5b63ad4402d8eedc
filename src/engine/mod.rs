//! Bulk writes across many rows: `$batch` grouping with an adaptive size (small first, as
//! Microsoft advises), bounded concurrency from `x-ms-dop-hint`, per-item outcomes, retries
//! of the items that failed transiently, progress events, and prompt cancellation.
//!
//! Every write given to the engine is an idempotent PATCH (absolute values, `If-Match: *`):
//! repeating one whose answer was lost is harmless, which is what makes requeueing safe.

use crate::client::Client;
use crate::documents::{self, Event, ProgressEvent};
use crate::error::{Error, ErrorKind, Result};
use crate::operation::EventSink;
use crate::webapi::WebApi;
use crate::webapi::batch::{self, BatchAnswer};
use serde_json::Value;
use std::collections::VecDeque;
use std::sync::Arc;
use tokio::task::JoinSet;

/// One row's write, keyed by the row the caller reports on.
#[derive(Debug, Clone)]
pub struct Item {
    pub key: String,
    pub operation: batch::BatchOperation,
}

#[derive(Debug, Clone)]
pub struct Tuning {
    pub initial_batch: usize,
    pub max_batch: usize,
    pub max_concurrency: usize,
    /// Attempts per item for transient failures (429/5xx inside a batch, or a lost batch).
    pub max_attempts: u32,
}

impl Default for Tuning {
    fn default() -> Self {
        Tuning { initial_batch: 10, max_batch: batch::MAX_OPERATIONS, max_concurrency: 8, max_attempts: 6 }
    }
}

/// Per-item outcome, in the order items finish.
pub type Outcome = (String, Result<()>);

/// A sent batch: the connection it went through, its items (with attempts so far) and the
/// service's answers.
type Sent = (Arc<WebApi>, Vec<(Item, u32)>, Result<Vec<BatchAnswer>>);

/// Runs all items; `describe` turns each outcome into the event the caller wants streamed
/// (or `None` when the caller reports later, e.g. after reading the rows back).
/// Returns every outcome. Fails as a whole only when continuing is pointless (authentication
/// lost, cancelled); everything else is an item failure.
pub async fn run(
    client: &Arc<Client>,
    items: Vec<Item>,
    tuning: &Tuning,
    sink: &EventSink,
    describe: impl Fn(&str, &Result<()>) -> Option<Value>,
) -> Result<Vec<Outcome>> {
    let total = items.len();
    let mut queue: VecDeque<(Item, u32)> = items.into_iter().map(|i| (i, 0)).collect();
    let mut batch_size = tuning.initial_batch.clamp(1, batch::MAX_OPERATIONS);
    // Each connection has its own limits (and pacer): concurrency adds up across them.
    let per_connection = client.api.dop_hint().unwrap_or(4).clamp(1, tuning.max_concurrency.max(1));
    let writers = client.writers();
    let concurrency = per_connection * writers.len();
    let mut next_writer = 0usize;
    let mut in_flight: JoinSet<Sent> = JoinSet::new();
    let mut outcomes = Vec::with_capacity(total);

    while !queue.is_empty() || !in_flight.is_empty() {
        while in_flight.len() < concurrency && !queue.is_empty() {
            let chunk: Vec<(Item, u32)> = queue.drain(..batch_size.min(queue.len())).collect();
            let api = writers[next_writer % writers.len()].clone();
            next_writer += 1;
            in_flight.spawn(async move {
                let operations: Vec<batch::BatchOperation> = chunk.iter().map(|(i, _)| i.operation.clone()).collect();
                let answers = api.batch(&operations).await;
                (api, chunk, answers)
            });
        }
        let joined = tokio::select! {
            _ = sink.cancelled() => return Err(Error::cancelled()),
            joined = in_flight.join_next() => joined,
        };
        let Some(joined) = joined else { break };
        let (api, chunk, answers) = joined.map_err(|e| Error::internal(format!("a batch task failed: {e}")))?;
        let mut throttled = false;
        match answers {
            Ok(answers) => {
                for ((item, attempts), answer) in chunk.into_iter().zip(answers) {
                    match answer.error {
                        None => outcomes.push(finish(sink, &describe, item.key, Ok(())).await?),
                        Some(_) if is_transient(answer.status) && attempts + 1 < tuning.max_attempts => {
                            throttled |= answer.status == 429;
                            if let Some(wait) = answer.retry_after {
                                api.note_throttled(wait);
                            }
                            queue.push_back((item, attempts + 1));
                        }
                        Some(error) => outcomes.push(finish(sink, &describe, item.key, Err(error)).await?),
                    }
                }
            }
            Err(error) if matches!(error.kind, ErrorKind::Authentication | ErrorKind::Cancelled) => return Err(error),
            Err(error) => {
                let retry =
                    matches!(error.kind, ErrorKind::Throttled | ErrorKind::Transport) || error.http_status.is_some_and(|s| s >= 500);
                throttled |= error.kind == ErrorKind::Throttled;
                for (item, attempts) in chunk {
                    if retry && attempts + 1 < tuning.max_attempts {
                        queue.push_back((item, attempts + 1));
                    } else {
                        outcomes.push(finish(sink, &describe, item.key, Err(error.clone())).await?);
                    }
                }
            }
        }
        batch_size =
            if throttled { (batch_size / 2).max(1) } else { (batch_size * 2).min(tuning.max_batch.clamp(1, batch::MAX_OPERATIONS)) };
        let done = outcomes.len();
        let progress = ProgressEvent { done, total: Some(total), message: format!("{done} of {total} written") };
        sink.send(documents::to_value(Event::<Value>::Progress(progress))).await?;
    }
    Ok(outcomes)
}

fn is_transient(status: u16) -> bool {
    matches!(status, 429 | 502 | 503 | 504)
}

async fn finish(
    sink: &EventSink,
    describe: &impl Fn(&str, &Result<()>) -> Option<Value>,
    key: String,
    result: Result<()>,
) -> Result<Outcome> {
    if let Some(event) = describe(&key, &result) {
        sink.send(event).await?;
    }
    Ok((key, result))
}
