//! Long-running work as a pulled event stream (the deltachat-ffi model): the work runs on the
//! shared runtime and sends events into a bounded channel; the caller pulls them with a
//! timeout from any thread, may cancel, and finally reads the result. Nothing calls back
//! into the caller's threads.

use crate::documents::{Event, EventItem, Versioned};
use crate::error::{Error, Result};
use serde::Serialize;
use serde_json::Value;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc};
use tokio_util::sync::CancellationToken;

/// At most this many `item` events travel as one `items` event (see [`LongOperation::next_event`]).
/// Small enough that a batch's JSON (an item is 0.5 to 1 KB) stays under the 85,000 bytes from
/// which .NET puts a string on its large-object heap: the module reads thousands of batches, and
/// large-object garbage is only collected with the oldest generation, so it piles up.
pub const ITEM_BATCH: usize = 50;

/// Events wait until pulled in a room of this many places; a slow consumer slows the producer
/// instead of growing memory. An `item` takes one place and any other event (a listing's page
/// of up to 5,000 rows, a progress) a sixteenth of the room: at most 1,000 items (about 1 MB)
/// or 16 other events wait. Items are small and come in thousands, so a batch
/// can fill from what waits while the caller handles the previous one, and a step that
/// reports a whole $batch answer at once is not held back item by item.
const EVENT_ROOM: u32 = 1000;
const EVENT_WEIGHT: u32 = EVENT_ROOM / 16;

fn weight(event: &Event) -> u32 {
    if event.is_item() { 1 } else { EVENT_WEIGHT }
}

/// An event as the work sent it, with the step that sent it (the whole procedure runs several).
struct Sent {
    step: Option<&'static str>,
    event: Event,
}

/// An event and the places it takes in the room (given back when it is pulled).
type Waiting = (Sent, OwnedSemaphorePermit);

/// What the work uses to report progress and per-item results: typed events, serialized only
/// when the caller pulls them ([`Pulled`]).
#[derive(Clone)]
pub struct EventSink {
    sender: mpsc::UnboundedSender<Waiting>,
    room: Arc<Semaphore>,
    cancel: CancellationToken,
    /// Added as `"step"` to every event (the whole procedure runs several steps). The undo's
    /// items carry a `step` of their own (the step that wrote the line): its sink has none.
    step: Option<&'static str>,
}

impl EventSink {
    /// Sends one event, waiting while the room is full. Fails only when the operation has
    /// been cancelled, so work stops promptly.
    pub async fn send(&self, event: Event) -> Result<()> {
        let places = self.room.clone().acquire_many_owned(weight(&event));
        let permit = tokio::select! {
            _ = self.cancel.cancelled() => return Err(Error::cancelled()),
            permit = places => permit.map_err(|_| Error::cancelled())?,
        };
        self.sender.send((Sent { step: self.step, event }, permit)).map_err(|_| Error::cancelled())
    }

    /// The same sink, tagging events with `step`.
    pub fn for_step(&self, step: &'static str) -> EventSink {
        EventSink { step: Some(step), ..self.clone() }
    }

    pub fn is_cancelled(&self) -> bool {
        self.cancel.is_cancelled()
    }

    /// Completes when the operation is cancelled.
    pub async fn cancelled(&self) {
        self.cancel.cancelled().await
    }
}

/// What one pull gives: one event, or the `item` events of one step that were waiting, as one.
/// Serializes (once, for the caller) to the event document with its `version` and `step`.
#[derive(Debug)]
pub enum Pulled {
    Event {
        step: Option<&'static str>,
        event: Event,
    },
    /// `{"version":1,"type":"items","step":…,"items":[…]}`: each element an item without
    /// `version`, `type` and `step`.
    Items {
        step: Option<&'static str>,
        items: Vec<EventItem>,
    },
}

impl Pulled {
    /// The step that sent the event (or the items).
    pub fn step(&self) -> Option<&'static str> {
        match self {
            Pulled::Event { step, .. } | Pulled::Items { step, .. } => *step,
        }
    }
}

/// A document with the step that sent it.
#[derive(Serialize)]
struct Stepped<'a, T> {
    #[serde(flatten)]
    document: &'a T,
    #[serde(skip_serializing_if = "Option::is_none")]
    step: Option<&'static str>,
}

/// The `items` event of a batch.
#[derive(Serialize)]
#[serde(tag = "type", rename = "items")]
struct Batch<'a> {
    items: &'a [EventItem],
}

impl Serialize for Pulled {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        match self {
            Pulled::Event { step, event } => Versioned::new(Stepped { document: event, step: *step }).serialize(serializer),
            Pulled::Items { step, items } => Versioned::new(Stepped { document: &Batch { items }, step: *step }).serialize(serializer),
        }
    }
}

pub enum NextEvent {
    Event(Pulled),
    TimedOut,
    Finished,
}

pub struct LongOperation {
    events: Mutex<Events>,
    cancel: CancellationToken,
    outcome: Arc<Mutex<Option<Result<Value>>>>,
}

impl LongOperation {
    /// Starts `work` on the shared runtime.
    pub fn start<F, Fut>(work: F) -> LongOperation
    where
        F: FnOnce(EventSink) -> Fut,
        Fut: Future<Output = Result<Value>> + Send + 'static,
    {
        let (sender, receiver) = mpsc::unbounded_channel();
        let cancel = CancellationToken::new();
        let outcome = Arc::new(Mutex::new(None));
        let room = Arc::new(Semaphore::new(EVENT_ROOM as usize));
        let sink = EventSink { sender: sender.clone(), room, cancel: cancel.clone(), step: None };
        let future = work(sink);
        let (task_cancel, task_outcome) = (cancel.clone(), outcome.clone());
        let runtime = crate::runtime::get();
        let worker = runtime.spawn(async move {
            tokio::select! {
                _ = task_cancel.cancelled() => Err(Error::cancelled()),
                result = future => result,
            }
        });
        runtime.spawn(async move {
            // A panic in the work ends as an error result, never as an operation that hangs.
            let result = worker.await.unwrap_or_else(|e| Err(Error::internal(format!("the operation failed unexpectedly: {e}"))));
            *task_outcome.lock().unwrap_or_else(|p| p.into_inner()) = Some(result);
            // The last sender goes only now, so "no more events" always means "result ready".
            drop(sender);
        });
        LongOperation { events: Mutex::new(Events { receiver, held: None }), cancel, outcome }
    }

    /// Blocks the calling (foreign) thread for at most `timeout`.
    ///
    /// The bulk steps send one `item` event per mailbox; the caller receives them together: an
    /// `item` and the `item` events of the same step already waiting behind it (at most
    /// [`ITEM_BATCH`]) arrive as one [`Pulled::Items`]. Nothing waits for a batch to
    /// fill: a batch holds what is there, so a caller that keeps up sees small ones. One pull per
    /// batch instead of per mailbox is what keeps a front end with a slower language (the
    /// PowerShell module) from becoming the bound of a 50,000-mailbox run.
    pub fn next_event(&self, timeout: Duration) -> NextEvent {
        let mut events = self.events.lock().unwrap_or_else(|p| p.into_inner());
        let first = match events.held.take() {
            Some(held) => held,
            None => {
                let received = crate::runtime::get().block_on(async { tokio::time::timeout(timeout, events.receiver.recv()).await });
                match received {
                    // The places are given back as the event leaves the room.
                    Ok(Some((sent, _places))) => sent,
                    Ok(None) => return NextEvent::Finished,
                    Err(_) => return NextEvent::TimedOut,
                }
            }
        };
        let (step, item) = match first {
            Sent { step, event: Event::Item(item) } => (step, item),
            Sent { step, event } => return NextEvent::Event(Pulled::Event { step, event }),
        };
        let mut items = vec![*item];
        while items.len() < ITEM_BATCH {
            let Ok((next, _places)) = events.receiver.try_recv() else { break };
            match next {
                Sent { step: next_step, event: Event::Item(item) } if next_step == step => items.push(*item),
                other => {
                    events.held = Some(other);
                    break;
                }
            }
        }
        NextEvent::Event(Pulled::Items { step, items })
    }

    pub fn cancel(&self) {
        self.cancel.cancel();
    }

    /// `None` while the work is still running.
    pub fn result(&self) -> Option<Result<Value>> {
        self.outcome.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

/// The channel, and the event that ended the last batch (returned by the next pull).
struct Events {
    receiver: mpsc::UnboundedReceiver<Waiting>,
    held: Option<Sent>,
}

impl Drop for LongOperation {
    /// Freeing an operation that is still running stops it rather than leaving it orphaned.
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::documents::{ItemEvent, ItemOutcome, ProgressEvent, UndoItem, UndoOutcome};

    /// Every pull, as the JSON the caller reads.
    fn drain(op: &LongOperation) -> Vec<Value> {
        let mut seen = Vec::new();
        loop {
            match op.next_event(Duration::from_secs(5)) {
                NextEvent::Event(e) => seen.push(serde_json::to_value(&e).unwrap()),
                NextEvent::Finished => return seen,
                NextEvent::TimedOut => panic!("no event within 5 s"),
            }
        }
    }

    fn progress(done: usize) -> Event {
        Event::Progress(ProgressEvent { done, total: None, message: format!("{done} done") })
    }

    #[test]
    fn events_arrive_in_order_then_the_result() {
        let op = LongOperation::start(|sink| async move {
            for i in 0..40 {
                sink.send(progress(i)).await?;
            }
            Ok(serde_json::json!({"count": 40}))
        });
        let events = drain(&op);
        assert_eq!(events.iter().map(|e| e["done"].as_u64().unwrap()).collect::<Vec<_>>(), (0..40).collect::<Vec<_>>());
        assert_eq!(events[0], serde_json::json!({"version": 1, "type": "progress", "done": 0, "message": "0 done"}));
        assert_eq!(op.result().unwrap().unwrap()["count"], 40);
    }

    fn item(key: usize) -> ItemEvent {
        ItemEvent {
            key: key.to_string(),
            name: None,
            email_address: None,
            owner_type: None,
            outcome: ItemOutcome::Changed,
            changes: vec![],
            error: None,
            approved_by_o365_admin: None,
            test: None,
        }
    }

    #[test]
    fn waiting_items_of_one_step_arrive_as_one_items_event_in_order() {
        let (sent, all_sent) = std::sync::mpsc::channel();
        let op = LongOperation::start(|sink| async move {
            let (settings, approval) = (sink.for_step("MailboxSettings"), sink.for_step("ApproveEmail"));
            // These fit the room: all are waiting before the first pull.
            for key in 0..10 {
                settings.send(item(key).into()).await?;
            }
            sink.send(Event::Progress(ProgressEvent { done: 10, total: None, message: "10 written".into() })).await?;
            for key in 10..13 {
                settings.send(item(key).into()).await?;
            }
            approval.send(item(13).into()).await?;
            sink.send(UndoItem { line: 1, outcome: UndoOutcome::Restored, reason: None, written: None }.into()).await?;
            let _ = sent.send(());
            Ok(Value::Null)
        });
        all_sent.recv_timeout(Duration::from_secs(5)).expect("the work sent its events");
        let events = drain(&op);
        let shape: Vec<(String, Option<String>, Vec<String>)> = events
            .iter()
            .map(|e| {
                let keys = e["items"].as_array().map_or(vec![], |items| {
                    items.iter().map(|i| i["key"].as_str().map_or(i["line"].to_string(), str::to_string)).collect()
                });
                (e["type"].as_str().unwrap().to_string(), e["step"].as_str().map(str::to_string), keys)
            })
            .collect();
        let keys = |r: std::ops::Range<usize>| r.map(|k| k.to_string()).collect::<Vec<_>>();
        assert_eq!(
            shape,
            vec![
                ("items".into(), Some("MailboxSettings".into()), keys(0..10)),
                ("progress".into(), None, vec![]),
                ("items".into(), Some("MailboxSettings".into()), keys(10..13)),
                ("items".into(), Some("ApproveEmail".into()), keys(13..14)),
                ("items".into(), None, vec!["1".to_string()]),
            ]
        );
        let first = &events[0];
        assert_eq!(first["version"], 1);
        let element = &first["items"][0];
        assert_eq!(element, &serde_json::to_value(item(0)).unwrap(), "an element is the item without version, type and step");
        assert!(["version", "type", "step"].iter().all(|f| element.get(f).is_none()), "{element}");
        assert_eq!(
            events[4]["items"][0],
            serde_json::json!({"line": 1, "outcome": "Restored", "reason": null}),
            "an undo's item is batched as it is"
        );
    }

    #[test]
    fn a_single_event_carries_its_version_type_and_step() {
        let op = LongOperation::start(|sink| async move {
            sink.for_step("Readiness").send(progress(1)).await?;
            Ok(Value::Null)
        });
        assert_eq!(
            drain(&op),
            vec![serde_json::json!({"version": 1, "type": "progress", "done": 1, "message": "1 done", "step": "Readiness"})]
        );
    }

    #[test]
    fn a_batch_holds_at_most_item_batch_items() {
        let op = LongOperation::start(|sink| async move {
            let sink = sink.for_step("TestAndEnable");
            for key in 0..(ITEM_BATCH * 2 + 5) {
                sink.send(item(key).into()).await?;
            }
            Ok(Value::Null)
        });
        let events = drain(&op);
        let sizes: Vec<usize> = events.iter().map(|e| e["items"].as_array().unwrap().len()).collect();
        assert!(sizes.iter().all(|&n| (1..=ITEM_BATCH).contains(&n)), "{sizes:?}");
        assert_eq!(sizes.iter().sum::<usize>(), ITEM_BATCH * 2 + 5);
        let keys: Vec<String> =
            events.iter().flat_map(|e| e["items"].as_array().unwrap().iter().map(|i| i["key"].as_str().unwrap().to_string())).collect();
        assert_eq!(keys, (0..(ITEM_BATCH * 2 + 5)).map(|k| k.to_string()).collect::<Vec<_>>(), "in order, none lost");
    }

    #[test]
    fn cancel_stops_blocked_work_and_reports_cancelled() {
        let op = LongOperation::start(|sink| async move {
            loop {
                sink.send(progress(0)).await?;
            }
        });
        assert!(matches!(op.next_event(Duration::from_secs(5)), NextEvent::Event(_)));
        let started = std::time::Instant::now();
        op.cancel();
        drain(&op);
        assert!(started.elapsed() < Duration::from_secs(2));
        assert_eq!(op.result().unwrap().unwrap_err().kind, crate::error::ErrorKind::Cancelled);
    }

    #[test]
    fn a_quiet_operation_times_out_without_finishing() {
        let op = LongOperation::start(|_sink| async move {
            tokio::time::sleep(Duration::from_secs(30)).await;
            Ok(Value::Null)
        });
        assert!(matches!(op.next_event(Duration::from_millis(50)), NextEvent::TimedOut));
        assert!(op.result().is_none());
    }
}
