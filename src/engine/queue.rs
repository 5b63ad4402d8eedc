//! One queue of writes per set of connections, shared by every run on them, and the task
//! that empties it into `$batch` requests.
//!
//! Why shared: the procedure runs several writes at once (two chunks' settings and approval,
//! a chunk's tests). Each with batches of its own ended on a part-filled batch, and at the
//! request budget's rate (57 requests a window at the benchmark's scale) those partial
//! batches were most of what made 10,200 mailboxes wait for a second window. From one
//! queue every batch but the very last is full, and the connections' concurrency is the
//! service's advice for the whole client rather than for each run.
//!
//! A run hands its items to [`submit`] and reads its answers from the channel it gets back;
//! the task starts with the first items on a set of connections and ends when nothing is
//! queued or in flight. A run that stops reading (cancelled, or failed) drops its receiver:
//! its queued items are left out of the next batches.

use super::{Item, Outcome, Tuning};
use crate::client::Client;
use crate::error::{Error, ErrorKind, Result};
use crate::webapi::WebApi;
use crate::webapi::batch::{self, BatchAnswer};
use crate::webapi::pacing::BatchAdvice;
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, LazyLock, Mutex};
use tokio::sync::{Notify, mpsc};
use tokio::task::JoinSet;

/// What a run hears back.
pub enum Answer {
    /// Some of its items' outcomes (those of one answered batch).
    Done(Vec<Outcome>),
    /// Continuing is pointless (authentication lost): the run ends with this error.
    Fatal(Error),
}

type Owner = Arc<mpsc::UnboundedSender<Answer>>;

/// An item waiting for a batch, with its attempts so far and the run it answers to.
struct Queued {
    item: Item,
    attempts: u32,
    owner: Owner,
    /// Goes ahead of the items queued before it (`Tuning::first`).
    first: bool,
}

/// The queue of one set of connections.
struct Shared {
    incoming: Mutex<VecDeque<Queued>>,
    /// Items arrived (the task takes them at its next turn).
    arrived: Notify,
}

/// The queues whose task is running, by their connections (the addresses of the client's
/// writers, in order: the clones of a client share a queue, a pool and one of its members
/// alone do not). An entry goes when its task ends, under this lock, so that items never
/// join a queue whose task has stopped.
static QUEUES: LazyLock<Mutex<HashMap<Vec<usize>, Arc<Shared>>>> = LazyLock::new(Default::default);

/// Queues `items` (ahead of those queued when `tuning.first`) on `client`'s connections,
/// starting their task if none is running; the answers come on the returned channel.
/// The task's tuning is that of the run that started it.
pub fn submit(client: &Arc<Client>, items: Vec<Item>, tuning: &Tuning) -> Answers {
    let (to, answers) = mpsc::unbounded_channel();
    let owner: Owner = Arc::new(to);
    let key: Vec<usize> = client.writers().iter().map(|w| Arc::as_ptr(w) as usize).collect();
    let mut queues = QUEUES.lock().unwrap_or_else(|e| e.into_inner());
    let shared = match queues.get(&key) {
        Some(shared) => shared.clone(),
        None => {
            let shared = Arc::new(Shared { incoming: Mutex::new(VecDeque::new()), arrived: Notify::new() });
            queues.insert(key.clone(), shared.clone());
            tokio::spawn(drive(client.clone(), shared.clone(), key, tuning.clone()));
            shared
        }
    };
    let queued = items.into_iter().map(|item| Queued { item, attempts: 0, owner: owner.clone(), first: tuning.first });
    shared.incoming.lock().unwrap_or_else(|e| e.into_inner()).extend(queued);
    drop(queues);
    shared.arrived.notify_one();
    Answers { answers, shared }
}

/// A run's answers. Dropped before they all came (the run cancelled), it wakes the task,
/// which then leaves the run's items out and drops its batches still out.
pub struct Answers {
    answers: mpsc::UnboundedReceiver<Answer>,
    shared: Arc<Shared>,
}

impl Answers {
    pub async fn recv(&mut self) -> Option<Answer> {
        self.answers.recv().await
    }
}

impl Drop for Answers {
    fn drop(&mut self) {
        self.answers.close();
        self.shared.arrived.notify_one();
    }
}

/// How much the operations in flight on a connection may grow per answered batch.
const GROWTH: usize = 16;

/// A batch out: the connection (by index) it went through, its items and its task, by the
/// task's id.
type Out = HashMap<tokio::task::Id, (usize, Vec<Queued>, tokio::task::AbortHandle)>;

/// The batch slots of a queue's connections: all of them, one connection's, and those free.
#[derive(Debug, Clone, Copy)]
struct Slots {
    all: usize,
    own: usize,
    free: usize,
}

/// How many operations the next batch on `api` takes: `initial` until the service's cost per
/// operation has been measured (Microsoft's advice: start small), then at once the size the
/// learned budgets call for, never below what keeps the request budget from limiting the
/// rate, and otherwise no more than this batch's fair share of what is queued, so the last
/// batches of every slot finish together instead of one large batch making a tail.
///
/// What is left in the queue, when its fair share is below that least size and the window
/// holds a request for each of the connection's slots (`own` of the `slots`) beyond the half
/// kept for reads, goes all the same in equal shares over the slots free now (`free`): the
/// rate no longer matters there, the time to the last answer does. Only when that saves
/// more than a round trip of the service's time per batch, and never while requests are
/// what the budgets run out of first ([`BatchAdvice::split_saving`]): cheap operations would
/// only spend requests (at 0 ms a 2,040-mailbox pool sent 92 instead of 34). The last
/// chunk's tests (510 at 2,040 mailboxes) went in three batches of 170 at 2 ms an
/// operation, 340 ms each, while nine of a pool's twelve slots sat idle: the service's test
/// delay only starts when a batch's operation runs. (Shares of what is left after each
/// batch of a pass, rather than of the free slots, shrank batch after batch: 229, 201, 175…)
fn next_batch_size(api: &WebApi, tuning: &Tuning, queued: usize, slots: Slots) -> usize {
    let cap = api.batch_cap().min(tuning.max_batch).max(1);
    // The requests to spare are only asked for when they decide.
    batch_size(cap, tuning.initial_batch, api.batch_advice(), || api.spare_requests(), queued, slots)
}

/// [`next_batch_size`] of what the connection knows: its cap, the advice for its learned cost
/// (`None` before), and the requests its window has to spare.
fn batch_size(
    cap: usize,
    initial: usize,
    advice: Option<BatchAdvice>,
    spare_requests: impl FnOnce() -> usize,
    queued: usize,
    slots: Slots,
) -> usize {
    let initial = initial.clamp(1, cap);
    let Some(advice) = advice else { return initial };
    let fair = queued.div_ceil(slots.all.max(1));
    let share = queued.div_ceil(slots.free.max(1)).clamp(1, advice.least);
    let worth = advice.least - share >= advice.split_saving;
    let least = if fair < advice.least && worth && spare_requests() >= slots.own { share } else { advice.least };
    fair.clamp(least.min(cap), advice.best.clamp(1, cap)).max(initial.min(fair.max(1))).min(cap)
}

/// Takes what arrived into `queue` (the items of `Tuning::first` ahead of everything, in
/// their order) and leaves out the items of runs that stopped listening. Ends the task
/// (`false`) when `idle` (nothing in flight) and nothing is queued.
fn take_arrivals(shared: &Shared, key: &[usize], queue: &mut VecDeque<Queued>, idle: bool) -> bool {
    // The registry's lock first, as `submit` takes them: no item joins between the last
    // look and the entry's removal.
    let mut queues = QUEUES.lock().unwrap_or_else(|e| e.into_inner());
    let arrived: Vec<Queued> = shared.incoming.lock().unwrap_or_else(|e| e.into_inner()).drain(..).collect();
    let (first, rest): (Vec<Queued>, Vec<Queued>) = arrived.into_iter().partition(|q| q.first);
    for entry in first.into_iter().rev() {
        queue.push_front(entry);
    }
    queue.extend(rest);
    queue.retain(|q| !q.owner.is_closed());
    if idle && queue.is_empty() {
        queues.remove(key);
        return false;
    }
    true
}

/// The task of one queue: batches out of it, over the client's connections, until nothing
/// is queued or in flight.
async fn drive(client: Arc<Client>, shared: Arc<Shared>, key: Vec<usize>, tuning: Tuning) {
    let mut queue: VecDeque<Queued> = VecDeque::new();
    // Each connection has its own limits (and pacer): concurrency adds up across them.
    let per_connection = client.api.dop_hint().unwrap_or(4).clamp(1, tuning.max_concurrency.max(1));
    let writers = client.writers().to_vec();
    let concurrency = per_connection * writers.len();
    let mut busy = vec![0usize; writers.len()];
    let mut ops_in_flight = vec![0usize; writers.len()];
    let mut in_flight: JoinSet<Result<Vec<BatchAnswer>>> = JoinSet::new();
    let mut out: Out = HashMap::new();
    loop {
        if !take_arrivals(&shared, &key, &mut queue, in_flight.is_empty()) {
            return;
        }
        // A batch whose runs all stopped listening (cancelled) is dropped, as a run's own
        // batches were when it returned: nobody would journal or report its answers.
        for (_, chunk, task) in out.values() {
            if chunk.iter().all(|q| q.owner.is_closed()) {
                task.abort();
            }
        }
        // What earlier runs on a connection had answered carries over (a later run starts
        // where the connection is, not small again), and the identities of a pool reach the
        // same organization: one that has not measured the service yet starts from what
        // another has learned (cost, round trip, accepted sizes) instead of probing again.
        if let Some(teacher) = writers.iter().find(|w| w.batch_advice().is_some()) {
            for writer in writers.iter().filter(|w| w.batch_advice().is_none()) {
                writer.learn_from(teacher);
            }
        }
        let largest_done: Vec<usize> = writers.iter().map(|w| w.largest_batch()).collect();
        // When every ready connection's pacer would hold the next batch: how long for the
        // soonest, to wait here rather than queue the batch behind one connection's budget.
        let mut hold = None;
        while in_flight.len() < concurrency && !queue.is_empty() {
            // The connection whose pacer sends the next batch soonest takes it (ties: the one
            // with the fewest operations handed to it, then the least busy): sent to the least
            // busy alone, batches queued behind one identity's spent budget while another
            // identity sat idle.
            // Until a connection's cost per operation is known, one small batch probes it.
            // The operations in flight grow with the largest batch answered on the connection
            // (sixteen times that), not all at once: a run cancelled early on a new connection
            // has little left in flight. For the connection, where requests are what runs out
            // first: eight batches of 160 after the probe spent eight requests of the 57 a
            // window holds (at this scale) on what two carry, and took 10,200 mailboxes at 0 ms
            // from 0.94-1.05 to 0.81-0.85. Per slot where the execution budget binds first
            // (the learned cost says so): batches of 160 at 2 ms run for 320 ms, at 10 ms for
            // 1.6 s, and the ramp waited for one with the other slots idle.
            // A batch goes whole or waits: filling what is left of the allowance with a few
            // operations would spend a request (of a budget that, scaled, holds 57 a window)
            // on almost nothing.
            let slots = Slots { all: concurrency, own: per_connection, free: concurrency - in_flight.len() };
            let ramp = |i: usize| if writers[i].batch_advice().is_some_and(|a| a.execution_binds()) { per_connection } else { 1 };
            let allowance = |i: usize| (largest_done[i].max(tuning.initial_batch) * GROWTH * ramp(i)).saturating_sub(ops_in_flight[i]);
            let wanted = |i: usize| next_batch_size(&writers[i], &tuning, queue.len(), slots).min(queue.len());
            // Until a connection's cost is known, one probe: other clients on it wait.
            let ready = |i: &usize| {
                let known = writers[*i].batch_advice().is_some();
                busy[*i] < per_connection
                    && ((busy[*i] == 0 && (known || writers[*i].may_probe())) || (known && allowance(*i) >= wanted(*i)))
            };
            // `send_wait` counts what has been handed to the connection and its pacer has not
            // admitted yet (this pass's batches among them): two batches do not pick the same
            // budget.
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
            let chunk: Vec<Queued> = queue.drain(..size).collect();
            busy[index] += 1;
            ops_in_flight[index] += chunk.len();
            let engaged = api.engage(chunk.len());
            let operations: Vec<batch::BatchOperation> = chunk.iter().map(|q| q.item.operation.clone()).collect();
            let task = in_flight.spawn(async move {
                let answers = api.batch(&operations).await;
                drop((probe, engaged));
                answers
            });
            out.insert(task.id(), (index, chunk, task));
        }
        if in_flight.is_empty() {
            // Nothing out, something queued: another client on these connections is probing
            // their cost. Looked at again shortly, or when more arrives.
            tokio::select! {
                _ = shared.arrived.notified() => {}
                _ = tokio::time::sleep(std::time::Duration::from_millis(5)) => {}
            }
            continue;
        }
        let joined = tokio::select! {
            _ = shared.arrived.notified() => continue,
            _ = tokio::time::sleep(hold.unwrap_or_default()), if hold.is_some() => continue,
            joined = in_flight.join_next_with_id() => joined,
        };
        let Some(joined) = joined else { continue };
        let (id, answers) = match joined {
            Ok((id, answers)) => (id, answers),
            // A batch task fails only by a panic (its items' runs hear it as their outcome
            // instead of waiting for ever) or when dropped above (nobody hears it).
            Err(e) => (e.id(), Err(Error::internal(format!("a batch task failed: {e}")))),
        };
        let Some((index, chunk, _)) = out.remove(&id) else { continue };
        busy[index] -= 1;
        ops_in_flight[index] -= chunk.len();
        let api = &writers[index];
        let mut answered = Answered::default();
        match answers {
            Ok(answers) => {
                for (queued, answer) in chunk.into_iter().zip(answers) {
                    match answer.error {
                        None => answered.add(queued, Ok(())),
                        Some(_) if is_transient(answer.status) && queued.attempts + 1 < tuning.max_attempts => {
                            if let Some(wait) = answer.retry_after {
                                api.note_throttled(wait);
                            }
                            queue.push_back(Queued { attempts: queued.attempts + 1, ..queued });
                        }
                        Some(error) => answered.add(queued, Err(error)),
                    }
                }
            }
            Err(error) if matches!(error.kind, ErrorKind::Authentication | ErrorKind::Cancelled) => {
                tell_all(&chunk, || Answer::Fatal(error.clone()));
            }
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
                for queued in chunk {
                    if retry && queued.attempts + 1 < tuning.max_attempts {
                        queue.push_back(Queued { attempts: queued.attempts + 1, ..queued });
                    } else {
                        answered.add(queued, Err(error.clone()));
                    }
                }
            }
        }
        answered.send();
    }
}

/// Sends `answer` once to each run with an item among `items`.
fn tell_all<'q>(items: impl IntoIterator<Item = &'q Queued>, answer: impl Fn() -> Answer) {
    let mut told: Vec<&Owner> = Vec::new();
    for queued in items {
        if !told.iter().any(|o| Arc::ptr_eq(o, &queued.owner)) {
            let _ = queued.owner.send(answer());
            told.push(&queued.owner);
        }
    }
}

/// One answered batch's outcomes, by run (a batch holds the items of a few runs at most).
#[derive(Default)]
struct Answered(Vec<(Owner, Vec<Outcome>)>);

impl Answered {
    fn add(&mut self, queued: Queued, result: Result<()>) {
        let Queued { item, owner, .. } = queued;
        match self.0.iter_mut().find(|(o, _)| Arc::ptr_eq(o, &owner)) {
            Some((_, outcomes)) => outcomes.push((item.key, result)),
            None => self.0.push((owner, vec![(item.key, result)])),
        }
    }

    /// Each run gets its outcomes (one that stopped listening, none).
    fn send(self) {
        for (owner, outcomes) in self.0 {
            let _ = owner.send(Answer::Done(outcomes));
        }
    }
}

fn is_transient(status: u16) -> bool {
    matches!(status, 429 | 502 | 503 | 504)
}

#[cfg(test)]
mod tests {
    use super::*;

    const POOL: Slots = Slots { all: 12, own: 4, free: 12 };

    #[test]
    fn the_rest_of_the_queue_goes_over_every_free_slot_when_requests_are_to_spare() {
        let base = BatchAdvice { least: 200, best: 400, split_saving: 25 };
        let advice = Some(base);
        // A chunk's last tests: 510 over twelve free slots, not three batches of 200.
        assert_eq!(batch_size(1000, 10, advice, || 10, 510, POOL), 43);
        // Each batch of a pass takes the same share of what is left over the slots still free.
        assert_eq!(batch_size(1000, 10, advice, || 10, 510 - 43, Slots { free: 11, ..POOL }), 43);
        // Without four requests to spare in the window, the least size keeps the rate.
        assert_eq!(batch_size(1000, 10, advice, || 3, 510, POOL), 200);
        // A long queue goes at the best size, whatever is to spare.
        assert_eq!(batch_size(1000, 10, advice, || 50, 9000, POOL), 400);
        // Operations that cost nothing measurable are not split to save their time (the
        // whole queue goes: the caller takes no more than is queued).
        let free = Some(BatchAdvice { least: 1000, best: 1000, split_saving: usize::MAX });
        assert_eq!(batch_size(1000, 10, free, || 50, 510, POOL), 1000);
        // Nor when the share saves less than a round trip of their time.
        let slow_network = Some(BatchAdvice { split_saving: 170, ..base });
        assert_eq!(batch_size(1000, 10, slow_network, || 10, 510, POOL), 200);
        // The service's cap and the start before the cost is known hold as before.
        assert_eq!(batch_size(150, 10, advice, || 50, 9000, POOL), 150);
        assert_eq!(batch_size(1000, 10, None, || 50, 510, POOL), 10);
    }
}
