//! Long-running work as a pulled event stream (the deltachat-ffi model): the work runs on the
//! shared runtime and sends events into a bounded channel; the caller pulls them with a
//! timeout from any thread, may cancel, and finally reads the result. Nothing calls back
//! into the caller's threads.

use crate::error::{Error, Result};
use serde_json::Value;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// Events wait here until pulled; a slow consumer slows the producer instead of growing memory.
const EVENT_BUFFER: usize = 16;

/// What the work uses to report progress and per-item results.
#[derive(Clone)]
pub struct EventSink {
    sender: mpsc::Sender<Value>,
    cancel: CancellationToken,
    /// Added as `"step"` to every object event (the whole procedure runs several steps).
    step: Option<&'static str>,
}

impl EventSink {
    /// Sends one event, waiting while the buffer is full. Fails only when the operation has
    /// been cancelled, so work stops promptly.
    pub async fn send(&self, mut event: Value) -> Result<()> {
        if let (Some(step), Some(map)) = (self.step, event.as_object_mut()) {
            map.entry("step").or_insert(step.into());
        }
        tokio::select! {
            _ = self.cancel.cancelled() => Err(Error::cancelled()),
            sent = self.sender.send(event) => sent.map_err(|_| Error::cancelled()),
        }
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

pub enum NextEvent {
    Event(Value),
    TimedOut,
    Finished,
}

pub struct LongOperation {
    events: Mutex<mpsc::Receiver<Value>>,
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
        let (sender, receiver) = mpsc::channel(EVENT_BUFFER);
        let cancel = CancellationToken::new();
        let outcome = Arc::new(Mutex::new(None));
        let sink = EventSink { sender: sender.clone(), cancel: cancel.clone(), step: None };
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
        LongOperation { events: Mutex::new(receiver), cancel, outcome }
    }

    /// Blocks the calling (foreign) thread for at most `timeout`.
    pub fn next_event(&self, timeout: Duration) -> NextEvent {
        let mut events = self.events.lock().unwrap_or_else(|p| p.into_inner());
        let received = crate::runtime::get().block_on(async { tokio::time::timeout(timeout, events.recv()).await });
        match received {
            Ok(Some(event)) => NextEvent::Event(event),
            Ok(None) => NextEvent::Finished,
            Err(_) => NextEvent::TimedOut,
        }
    }

    pub fn cancel(&self) {
        self.cancel.cancel();
    }

    /// `None` while the work is still running.
    pub fn result(&self) -> Option<Result<Value>> {
        self.outcome.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
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

    fn drain(op: &LongOperation) -> Vec<Value> {
        let mut seen = Vec::new();
        loop {
            match op.next_event(Duration::from_secs(5)) {
                NextEvent::Event(e) => seen.push(e),
                NextEvent::Finished => return seen,
                NextEvent::TimedOut => panic!("no event within 5 s"),
            }
        }
    }

    #[test]
    fn events_arrive_in_order_then_the_result() {
        let op = LongOperation::start(|sink| async move {
            for i in 0..40 {
                sink.send(serde_json::json!(i)).await?;
            }
            Ok(serde_json::json!({"count": 40}))
        });
        let events = drain(&op);
        assert_eq!(events, (0..40).map(|i| serde_json::json!(i)).collect::<Vec<_>>());
        assert_eq!(op.result().unwrap().unwrap()["count"], 40);
    }

    #[test]
    fn cancel_stops_blocked_work_and_reports_cancelled() {
        let op = LongOperation::start(|sink| async move {
            loop {
                sink.send(serde_json::json!("tick")).await?;
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
