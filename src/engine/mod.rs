//! Bulk writes across many rows: `$batch` grouping with a size learned from the service's
//! cost per operation (small first, as Microsoft advises, then straight to what the budgets
//! allow), bounded concurrency from `x-ms-dop-hint`, per-item outcomes, retries of the items
//! that failed transiently, splitting of batches refused for their size, progress events,
//! and prompt cancellation.
//!
//! Every write given to the engine is an idempotent PATCH (absolute values, `If-Match: *`):
//! repeating one whose answer was lost is harmless, which is what makes requeueing safe.

use crate::client::Client;
use crate::documents::{Event, ProgressEvent};
use crate::error::{Error, ErrorKind, Result};
use crate::operation::EventSink;
use crate::webapi::WebApi;
use crate::webapi::batch::{self, BatchAnswer};
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

/// How much a run's operations in flight may grow per answered batch.
const GROWTH: usize = 16;

/// A sent batch: the connection (by index) it went through, its items (with attempts so
/// far) and the service's answers.
type Sent = (usize, Vec<(Item, u32)>, Result<Vec<BatchAnswer>>);

/// How many operations the next batch on `api` takes: `initial` until the service's cost per
/// operation has been measured (Microsoft's advice: start small), then at once the size the
/// learned budgets call for, never below what keeps the request budget from limiting the
/// rate, and otherwise no more than this batch's fair share of what is left, so the last
/// batches of every slot finish together instead of one large batch making a tail.
fn next_batch_size(api: &WebApi, tuning: &Tuning, queued: usize, slots: usize) -> usize {
    let cap = api.batch_cap().min(tuning.max_batch).max(1);
    let initial = tuning.initial_batch.clamp(1, cap);
    let Some(advice) = api.batch_advice() else { return initial };
    let fair = queued.div_ceil(slots.max(1));
    fair.clamp(advice.least.min(cap), advice.best.clamp(1, cap)).max(initial.min(fair.max(1))).min(cap)
}

/// Runs all items; `describe` turns each outcome into the event the caller wants streamed
/// (or `None` when the caller reports later, e.g. after reading the rows back).
/// Returns every outcome. Fails as a whole only when continuing is pointless (authentication
/// lost, cancelled); everything else is an item failure. A batch the service refuses for
/// its size is split and sent again (the connection remembers the size it accepts): no item
/// fails for that.
pub async fn run(
    client: &Arc<Client>,
    items: Vec<Item>,
    tuning: &Tuning,
    sink: &EventSink,
    describe: impl Fn(&str, &Result<()>) -> Option<Event>,
) -> Result<Vec<Outcome>> {
    let total = items.len();
    let mut queue: VecDeque<(Item, u32)> = items.into_iter().map(|i| (i, 0)).collect();
    // Each connection has its own limits (and pacer): concurrency adds up across them.
    let per_connection = client.api.dop_hint().unwrap_or(4).clamp(1, tuning.max_concurrency.max(1));
    let writers = client.writers();
    let concurrency = per_connection * writers.len();
    let mut busy = vec![0usize; writers.len()];
    let mut ops_in_flight = vec![0usize; writers.len()];
    // What earlier runs on a connection had answered carries over: a run after the first
    // (the procedure runs several per chunk) starts where the connection is, not small again.
    // The identities of a pool reach the same organization: one that has not measured the
    // service yet starts from what another has learned (cost, round trip, accepted sizes)
    // instead of probing again with a small batch.
    if let Some(teacher) = writers.iter().find(|w| w.batch_advice().is_some()) {
        for writer in writers.iter().filter(|w| w.batch_advice().is_none()) {
            writer.learn_from(teacher);
        }
    }
    let mut largest_done: Vec<usize> = writers.iter().map(|w| w.largest_batch()).collect();
    let mut in_flight: JoinSet<Sent> = JoinSet::new();
    let mut outcomes = Vec::with_capacity(total);

    while !queue.is_empty() || !in_flight.is_empty() {
        // When every ready connection's pacer would hold the next batch: how long for the
        // soonest, to wait here rather than queue the batch behind one connection's budget.
        let mut hold = None;
        while in_flight.len() < concurrency && !queue.is_empty() {
            // The connection whose pacer sends the next batch soonest takes it (ties: the one
            // with the fewest operations handed to it by every run, then this run's least
            // busy): sent to the least busy alone, batches queued behind one identity's spent
            // budget while another identity sat idle; and counted per run, the procedure's
            // concurrent runs (two chunks and a chunk's tests) each put their batches on the
            // first identity, leaving the third idle for a second.
            // Until a connection's cost per operation is known, one small batch probes it.
            // A run's operations in flight grow with the largest batch answered on the
            // connection (sixteen times that), not all at once: a run cancelled early on a new
            // connection has little left in flight.
            // A batch goes whole or waits: filling what is left of the allowance with a few
            // operations would spend a request (of a budget that, scaled, holds 57 a window)
            // on almost nothing.
            let allowance = |i: usize| (largest_done[i].max(tuning.initial_batch) * GROWTH).saturating_sub(ops_in_flight[i]);
            let wanted = |i: usize| next_batch_size(&writers[i], tuning, queue.len(), concurrency).min(queue.len());
            // Until a connection's cost is known, one probe: the other runs on it wait.
            let ready = |i: &usize| {
                let known = writers[*i].batch_advice().is_some();
                busy[*i] < per_connection
                    && ((busy[*i] == 0 && (known || writers[*i].may_probe())) || (known && allowance(*i) >= wanted(*i)))
            };
            // `send_wait` counts what every run has handed to the connection and its pacer has
            // not admitted yet (this pass's batches among them): two batches, of this run or
            // another, do not pick the same budget.
            let soonest =
                (0..writers.len()).filter(ready).map(|i| (writers[i].send_wait(wanted(i)), writers[i].engaged(), busy[i], i)).min();
            let Some((wait, _, _, index)) = soonest else { break };
            // Something is out (its answer may change the choice): keep the batch until a
            // connection can send it.
            if !wait.is_zero() && !in_flight.is_empty() {
                hold = Some(wait);
                break;
            }
            let api = writers[index].clone();
            let probe = match api.batch_advice() {
                Some(_) => None,
                None => match api.try_probe() {
                    Some(probe) => Some(probe),
                    None => break,
                },
            };
            let size = wanted(index).min(allowance(index).max(1));
            let chunk: Vec<(Item, u32)> = queue.drain(..size).collect();
            busy[index] += 1;
            ops_in_flight[index] += chunk.len();
            let engaged = api.engage(chunk.len());
            in_flight.spawn(async move {
                let operations: Vec<batch::BatchOperation> = chunk.iter().map(|(i, _)| i.operation.clone()).collect();
                let answers = api.batch(&operations).await;
                drop((probe, engaged));
                (index, chunk, answers)
            });
        }
        if in_flight.is_empty() {
            // Nothing of this run is out: another run on the connection is probing its cost.
            tokio::select! {
                _ = sink.cancelled() => return Err(Error::cancelled()),
                _ = tokio::time::sleep(std::time::Duration::from_millis(5)) => {}
            }
            continue;
        }
        let joined = tokio::select! {
            _ = sink.cancelled() => return Err(Error::cancelled()),
            _ = tokio::time::sleep(hold.unwrap_or_default()), if hold.is_some() => continue,
            joined = in_flight.join_next() => joined,
        };
        let Some(joined) = joined else { break };
        let (index, chunk, answers) = joined.map_err(|e| Error::internal(format!("a batch task failed: {e}")))?;
        busy[index] -= 1;
        ops_in_flight[index] -= chunk.len();
        let api = &writers[index];
        match answers {
            Ok(answers) => {
                largest_done[index] = largest_done[index].max(chunk.len());
                for ((item, attempts), answer) in chunk.into_iter().zip(answers) {
                    match answer.error {
                        None => outcomes.push(finish(sink, &describe, item.key, Ok(())).await?),
                        Some(_) if is_transient(answer.status) && attempts + 1 < tuning.max_attempts => {
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
            // Too many operations for this service: the same items again, in smaller batches
            // (the connection now caps its batches), first in line and without an attempt spent.
            Err(error) if chunk.len() > 1 && batch::size_limit(&error).is_some() => {
                for entry in chunk.into_iter().rev() {
                    queue.push_front(entry);
                }
            }
            Err(error) => {
                let retry =
                    matches!(error.kind, ErrorKind::Throttled | ErrorKind::Transport) || error.http_status.is_some_and(|s| s >= 500);
                for (item, attempts) in chunk {
                    if retry && attempts + 1 < tuning.max_attempts {
                        queue.push_back((item, attempts + 1));
                    } else {
                        outcomes.push(finish(sink, &describe, item.key, Err(error.clone())).await?);
                    }
                }
            }
        }
        let done = outcomes.len();
        let progress = ProgressEvent { done, total: Some(total), message: format!("{done} of {total} written") };
        sink.send(Event::Progress(progress)).await?;
    }
    Ok(outcomes)
}

fn is_transient(status: u16) -> bool {
    matches!(status, 429 | 502 | 503 | 504)
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
