//! Bulk writes across many rows: `$batch` grouping with a size learned from the service's
//! cost per operation (small first, as Microsoft advises, then straight to what the budgets
//! allow), bounded concurrency from `x-ms-dop-hint`, per-item outcomes, retries of the items
//! that failed transiently, splitting of batches refused for their size, progress events,
//! and prompt cancellation; the runs on one client share one queue of writes (`queue`).
//!
//! Every write given to the engine is an idempotent PATCH (absolute values, `If-Match: *`):
//! repeating one whose answer was lost is harmless, which is what makes requeueing safe.

mod queue;

use crate::client::Client;
use crate::documents::{Event, ProgressEvent};
use crate::error::{Error, Result};
use crate::operation::EventSink;
use crate::webapi::batch;
use std::sync::Arc;

/// One row's write, keyed by the row the caller reports on.
#[derive(Debug, Clone)]
pub struct Item {
    pub key: String,
    pub operation: batch::BatchOperation,
}

/// How a run's writes are sent. Runs on one client share a queue, and the queue keeps the
/// tuning of the run that started it; `first` is each run's own.
#[derive(Debug, Clone)]
pub struct Tuning {
    pub initial_batch: usize,
    pub max_batch: usize,
    pub max_concurrency: usize,
    /// Attempts per item for transient failures (429/5xx inside a batch, or a lost batch).
    pub max_attempts: u32,
    /// The items go ahead of the writes other runs have queued on the same connections: a
    /// test to schedule waits for the service's delay, which then overlaps those writes.
    pub first: bool,
}

impl Default for Tuning {
    fn default() -> Self {
        Tuning { initial_batch: 10, max_batch: batch::MAX_OPERATIONS, max_concurrency: 8, max_attempts: 6, first: false }
    }
}

/// Per-item outcome, in the order items finish.
pub type Outcome = (String, Result<()>);

/// Runs all items; `describe` turns each outcome into the event the caller wants streamed
/// (or `None` when the caller reports later, e.g. after reading the rows back).
/// Returns every outcome. Fails as a whole only when continuing is pointless (authentication
/// lost, cancelled); everything else is an item failure. A batch the service refuses for
/// its size is split and sent again (the connection remembers the size it accepts): no item
/// fails for that.
///
/// The items join the writes of every other run on the same connections (see [`queue`]):
/// the procedure's concurrent runs (three chunks' settings and approval, a chunk's tests) fill
/// batches together instead of each ending on a part-filled one.
pub async fn run(
    client: &Arc<Client>,
    items: Vec<Item>,
    tuning: &Tuning,
    sink: &EventSink,
    describe: impl Fn(&str, &Result<()>) -> Option<Event>,
) -> Result<Vec<Outcome>> {
    let total = items.len();
    let mut outcomes = Vec::with_capacity(total);
    if total == 0 {
        return Ok(outcomes);
    }
    let mut answers = queue::submit(client, items, tuning);
    while outcomes.len() < total {
        let answer = tokio::select! {
            _ = sink.cancelled() => return Err(Error::cancelled()),
            answer = answers.recv() => answer,
        };
        match answer {
            Some(queue::Answer::Done(answered)) => {
                for (key, result) in answered {
                    outcomes.push(finish(sink, &describe, key, result).await?);
                }
            }
            Some(queue::Answer::Fatal(error)) => return Err(error),
            None => return Err(Error::internal("the queue of writes stopped before every write was answered")),
        }
        let done = outcomes.len();
        let progress = ProgressEvent { done, total: Some(total), message: format!("{done} of {total} written") };
        sink.send(Event::Progress(progress)).await?;
    }
    Ok(outcomes)
}

async fn finish(
    sink: &EventSink,
    describe: &impl Fn(&str, &Result<()>) -> Option<Event>,
    key: String,
    result: Result<()>,
) -> Result<Outcome> {
    if let Some(event) = describe(&key, &result) {
        sink.send(event).await?;
    }
    Ok((key, result))
}
