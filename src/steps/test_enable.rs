//! Test & Enable mailboxes (dataverse-reference §6.2): schedule the platform's asynchronous
//! test by setting `testemailconfigurationscheduled`, verify it was scheduled by reading the
//! mailboxes back, and optionally wait for the results and the alerts raised since.

use super::alerts::{self, odata_time};
use super::mailboxes::IDS_BY_SELECTION;
use super::report;
use crate::client::Client;
use crate::documents::{
    AlertQuery, Counts, Event, FieldChange, ItemEvent, ItemOutcome, MailboxSelection, ProgressEvent, StepResult, TestEnableRequest,
    TestStatuses,
};
use crate::engine::{self, Item};
use crate::error::{Error, ErrorKind, Result};
use crate::journal::{self, Journal};
use crate::model::alert::Alert;
use crate::model::mailbox::{Mailbox, RESULT_COLUMNS};
use crate::operation::EventSink;
use crate::webapi::batch::BatchOperation;
use crate::webapi::odata::{IDS_PER_FILTER, string_literal};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::json;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Tolerated difference between our clock and the service's when matching completion times
/// and alerts to this run.
const CLOCK_SKEW: chrono::TimeDelta = chrono::TimeDelta::seconds(60);
/// Tolerated difference between the clocks of the service's own servers (the one that dates
/// its answers and the ones that record a test's completion and its alerts), once the
/// service's clock is known from its answers.
const CLOCKS_APART: chrono::TimeDelta = chrono::TimeDelta::seconds(5);
const ALERTS_BY_ID: usize = 200;
/// The order of a poll's read of results: the tests finished last first.
const LATEST_FIRST: &str = "testmailboxaccesscompletedon desc";
/// The step's name in results and the change journal.
pub const STEP: &str = "TestAndEnable";
/// What the change journal says about a Test & Enable.
const TEST_NOT_UNDOABLE: &str = "a Test & Enable cannot be undone: the test runs on the service, and its statuses, alerts and the Exchange side's choice of this environment stay";

pub async fn run(client: Arc<Client>, mut request: TestEnableRequest, sink: EventSink) -> Result<StepResult> {
    request.selection.active_only = true;
    let mailboxes = request.selection.collect(&client).await?;
    let journal = if request.what_if { None } else { super::journaling::open(&client, request.journal_path.as_deref()).await? };
    run_for(&client, mailboxes, &request, journal.as_ref(), &sink).await
}

/// [`run`] on mailboxes already read from `request.selection` (read again to verify and wait).
/// Each scheduling write is appended to `journal` as its answer arrives.
pub async fn run_for(
    client: &Arc<Client>,
    mailboxes: Vec<Mailbox>,
    request: &TestEnableRequest,
    journal: Option<&Journal>,
    sink: &EventSink,
) -> Result<StepResult> {
    if request.what_if {
        let mut counts = Counts::default();
        for mailbox in &mailboxes {
            counts.add(ItemOutcome::Planned);
            let change =
                [FieldChange { field: "TestEmailConfigurationScheduled".into(), from: json!(mailbox.test_scheduled), to: json!(true) }];
            sink.send(report::item(mailbox, ItemOutcome::Planned, &change, None)).await?;
        }
        return Ok(StepResult::new(STEP, true, counts));
    }
    let scheduled = schedule(client, mailboxes, request, journal, sink).await?;
    finish(client, scheduled, request, sink).await
}

/// Tests scheduled and verified, not yet waited for: the whole procedure schedules a chunk
/// of mailboxes at a time (as soon as that chunk is configured) and hands each set to one
/// wait ([`finish_as_scheduled`]) that polls for all of them.
#[derive(Debug)]
pub struct Scheduled {
    /// Mailboxes whose test is scheduled (or already finished since `started`), with when
    /// their scheduling was verified (or written, for those still `unverified`).
    waiting: Vec<(String, Instant)>,
    /// Written but not read back yet: the first poll of the wait verifies them, so a run
    /// that waits spends no separate read on it.
    unverified: HashSet<String>,
    started: DateTime<Utc>,
    counts: Counts,
    /// The names of the first and last mailbox, when the set is a run of the selection in its
    /// name order (a chunk of the procedure): a poll reads its results in that range only.
    names: Option<(String, String)>,
}

impl Scheduled {
    /// The set is the mailboxes from the first to the last of `names` of the selection, in
    /// its name order (`None`: it is not known to be).
    pub fn with_names(self, names: Option<(String, String)>) -> Scheduled {
        Scheduled { names, ..self }
    }
}

/// What a poll knows of one set of tests: when it began to be written, and its names.
struct Set {
    started: DateTime<Utc>,
    names: Option<(String, String)>,
}

/// Sets whose ranges narrow a poll's read, at most: each is an `or` of the filter.
const NAMED_SETS: usize = 8;

/// The condition that keeps the rows of `sets` (each named), `None` if one is not named.
fn within_names<'s>(sets: impl Iterator<Item = &'s Set>) -> Option<String> {
    let mut ranges = Vec::new();
    for set in sets {
        let (first, last) = set.names.as_ref()?;
        let range = format!("(name ge {} and name le {})", string_literal(first), string_literal(last));
        if !ranges.contains(&range) {
            ranges.push(range);
        }
    }
    (!ranges.is_empty() && ranges.len() <= NAMED_SETS).then(|| ranges.join(" or "))
}

/// Schedules the test of `mailboxes` and verifies it by reading them back; reports failures
/// (and, without `request.wait`, each scheduled mailbox) as it goes. With `request.wait` the
/// read-back is left to the first poll of [`finish`], which reads the same rows anyway.
/// Each scheduling write is appended to `journal` as its answer arrives.
pub async fn schedule(
    client: &Arc<Client>,
    mailboxes: Vec<Mailbox>,
    request: &TestEnableRequest,
    journal: Option<&Journal>,
    sink: &EventSink,
) -> Result<Scheduled> {
    let mut counts = Counts::default();
    let started = Utc::now();
    let mut body = json!({"testemailconfigurationscheduled": true, "postponetestemailconfigurationuntil": odata_time(started)});
    if request.sync_with_this_org_only {
        body["orgmarkedasprimaryforexchangesync"] = json!(true);
    }
    let body = Arc::new(body);
    let by_id: HashMap<String, Mailbox> = mailboxes.into_iter().map(|m| (m.mailbox_id.clone(), m)).collect();
    let items = by_id
        .keys()
        .map(|id| Item {
            key: id.clone(),
            operation: BatchOperation { method: "PATCH", path: format!("mailboxes({id})"), body: body.clone(), if_match: Some("*".into()) },
        })
        .collect();
    // Ahead of the writes queued by other chunks: the service's delay then overlaps them.
    let tuning = engine::Tuning { first: true, ..engine::Tuning::default() };
    let outcomes = engine::run(client, items, &tuning, sink, |key, result| {
        journal::record(
            journal,
            || {
                let written = super::journaling::mailbox_write(by_id.get(key)?, body.as_object()?, STEP);
                Some(written.irreversible(TEST_NOT_UNDOABLE))
            },
            result,
        );
        let error = result.as_ref().err()?;
        Some(report::item(by_id.get(key)?, ItemOutcome::Failed, &[], Some(error)))
    })
    .await?;
    // The rows are not needed while verifying and waiting (read again): free them now.
    drop(by_id);
    journal.map(Journal::check).transpose()?;
    let written: Vec<String> = outcomes.iter().filter(|(_, r)| r.is_ok()).map(|(k, _)| k.clone()).collect();
    counts.failed += outcomes.len() - written.len();

    if request.wait {
        let written_at = Instant::now();
        let unverified = written.iter().cloned().collect();
        return Ok(Scheduled {
            waiting: written.into_iter().map(|id| (id, written_at)).collect(),
            unverified,
            started,
            counts,
            names: None,
        });
    }
    // Verify: each mailbox must now be scheduled, or already tested since we started.
    let mut waiting = Vec::new();
    for mailbox in request.selection.read_back(client, &written).await? {
        if mailbox.test_scheduled || finished_since(&mailbox, started) {
            waiting.push((mailbox.mailbox_id.clone(), Instant::now()));
            if !request.wait {
                counts.add(ItemOutcome::Scheduled);
                sink.send(report::item(&mailbox, ItemOutcome::Scheduled, &[], None)).await?;
            }
        } else {
            counts.add(ItemOutcome::Failed);
            sink.send(report::item(&mailbox, ItemOutcome::Failed, &[], Some(&not_scheduled()))).await?;
        }
    }
    Ok(Scheduled { waiting, unverified: HashSet::new(), started, counts, names: None })
}

/// A scheduling write the service accepted that the mailbox does not show.
fn not_scheduled() -> Error {
    Error::new(ErrorKind::Service, "The service accepted the request but the mailbox does not show a scheduled test.")
        .with_remedy("Check that the mailbox is active and run Test & Enable again.")
        .with_hint("test_again")
}

/// Waits for the scheduled tests when the request asks to, and returns the step's summary.
pub async fn finish(client: &Client, scheduled: Scheduled, request: &TestEnableRequest, sink: &EventSink) -> Result<StepResult> {
    let (arrive, arrivals) = tokio::sync::mpsc::unbounded_channel();
    // Cannot fail: the receiver is held just below.
    let _ = arrive.send(scheduled);
    drop(arrive);
    finish_as_scheduled(client, arrivals, request, sink).await
}

/// [`finish`] for tests scheduled while it runs: each set arrives as it is scheduled (the
/// whole procedure sends one per chunk, while the later chunks are still being written) and
/// is polled for from then on, so the service's test delay is learned from the first chunk
/// and the last chunk's results are read about when they are due. Ends when every sender
/// is gone and every arrived test has a result (or the timeout passed since the last one
/// arrived).
pub async fn finish_as_scheduled(
    client: &Client,
    mut arrivals: tokio::sync::mpsc::UnboundedReceiver<Scheduled>,
    request: &TestEnableRequest,
    sink: &EventSink,
) -> Result<StepResult> {
    let mut counts = Counts::default();
    if request.wait {
        wait_for_results(client, arrivals, request, sink, &mut counts).await?;
    } else {
        while let Some(scheduled) = arrivals.recv().await {
            counts += scheduled.counts;
        }
    }
    Ok(StepResult::new(STEP, false, counts))
}

/// A result of this run that is a failure.
fn failed_since(mailbox: &Mailbox, started: DateTime<Utc>) -> bool {
    finished_since(mailbox, started) && outcome_of(mailbox) == ItemOutcome::Failed
}

/// What a finished test's row says: succeeded when the mailbox works.
fn outcome_of(mailbox: &Mailbox) -> ItemOutcome {
    if mailbox.mailbox_status == "Success" { ItemOutcome::Succeeded } else { ItemOutcome::Failed }
}

fn finished_since(mailbox: &Mailbox, started: DateTime<Utc>) -> bool {
    !mailbox.test_scheduled
        && mailbox.test_completed_on.as_deref().and_then(|t| alerts::parse_time(t).ok()).is_some_and(|done| done >= started - CLOCK_SKEW)
}

/// When to look for results next. The service's test delay is learned from the first tests
/// seen finished (an upper bound: the time from scheduling to the poll that saw them), and
/// then each poll goes when the earliest pending test should be done, at once when that time
/// is past and no poll has looked since. Until a first result the polls follow the time since
/// the earliest pending test was scheduled (an eighth of it, at least a quarter of a second),
/// so that the delay is learned to within about an eighth whatever it is. Never later than
/// the requested interval.
struct PollClock {
    longest: Duration,
    delay: Option<Duration>,
    last_poll: Option<Instant>,
    /// When the last poll's service read its pending ids (see [`PollClock::answered`]).
    seen: Option<Instant>,
}

impl PollClock {
    const FIRST: Duration = Duration::from_millis(250);
    const SHORTEST: Duration = Duration::from_millis(100);

    fn new(longest: Duration) -> PollClock {
        PollClock { longest: longest.max(Self::SHORTEST), delay: None, last_poll: None, seen: None }
    }

    fn polled(&mut self) {
        self.last_poll = Some(Instant::now());
    }

    /// The last poll's read of pending ids was answered `at`: the service read them about
    /// halfway between the request and its answer, and that is when the tests it did not
    /// return had been seen finished. Taking the time they were reported instead counted one
    /// and a half round trips more into the delay (and so into when every later test is
    /// looked for: a poll that late at 50 ms latency cost 0.05 of a 2,000-mailbox run).
    fn answered(&mut self, at: Instant) {
        self.seen = self.last_poll.map(|sent| sent + at.saturating_duration_since(sent) / 2);
    }

    /// Tests verified at `scheduled` were seen finished by the last poll.
    fn finished(&mut self, scheduled: Instant) {
        let seen = self.seen.unwrap_or_else(Instant::now).saturating_duration_since(scheduled);
        self.delay = Some(self.delay.map_or(seen, |d| d.min(seen)));
    }

    /// How far a poll looks past its time, and how long after a late test's due time it is
    /// looked for again: a tenth of the delay (no busy polling).
    fn step(delay: Duration) -> Duration {
        (delay / 10).max(Self::SHORTEST)
    }

    /// The sets with a test that became due by the learned delay (within a step) since the
    /// last poll; `None` before the delay is learned or when none did. A test looked for
    /// after its due time and still pending is late: the polls after that do not expect it.
    fn due_sets(&self, waiting: &HashMap<String, (Instant, usize)>) -> Option<std::collections::BTreeSet<usize>> {
        let delay = self.delay?;
        let reach = Instant::now() + Self::step(delay);
        let newly = |due: Instant| due <= reach && self.last_poll.is_none_or(|last| due > last);
        let due: std::collections::BTreeSet<usize> = waiting.values().filter(|(at, _)| newly(*at + delay)).map(|(_, set)| *set).collect();
        (!due.is_empty()).then_some(due)
    }

    /// How long to sleep before the next poll, given when the pending tests were scheduled.
    fn wait(&self, pending: impl Iterator<Item = Instant>) -> Duration {
        let now = Instant::now();
        let last = self.last_poll;
        let next = match self.delay {
            None => {
                let earliest = pending.min().unwrap_or(now);
                let gap = (now.saturating_duration_since(earliest) / 8).max(Self::FIRST);
                last.map_or(earliest + Self::FIRST, |l| l + gap)
            }
            Some(delay) => {
                // A test already looked for after its due time is late: looked for again a
                // tenth of the delay later (no busy polling).
                let step = Self::step(delay);
                pending
                    .map(|at| at + delay)
                    .map(|due| match last {
                        Some(l) if due <= l => l + step,
                        _ => due,
                    })
                    .min()
                    .unwrap_or(now + step)
            }
        };
        next.saturating_duration_since(now).min(self.longest)
    }
}

/// Polls until every scheduled mailbox has a result or the timeout passes; reports each one
/// as it finishes, with the alerts raised since the test was scheduled. Each poll reads only
/// the mailboxes whose test is still pending; those that left that set are read once more,
/// for their results (with the alerts, at once). A mailbox not verified yet is verified by
/// the first poll that reads it: pending, or finished since the start, or else reported as
/// not scheduled. Sets of tests keep arriving while it polls, until every sender is gone.
async fn wait_for_results(
    client: &Client,
    mut arrivals: tokio::sync::mpsc::UnboundedReceiver<Scheduled>,
    request: &TestEnableRequest,
    sink: &EventSink,
    counts: &mut Counts,
) -> Result<()> {
    let timeout = Duration::from_secs(request.timeout_secs.unwrap_or(600));
    let mut deadline = Instant::now() + timeout;
    let mut clock = PollClock::new(Duration::from_millis(request.poll_interval_ms.unwrap_or(5000)));
    let mut total = 0;
    // Each mailbox waited for: when its scheduling was verified (or written), and when its set
    // began to be written (its test cannot have finished, nor raised an alert, before).
    let mut waiting: HashMap<String, (Instant, usize)> = HashMap::new();
    let mut sets: Vec<Set> = Vec::new();
    let mut unverified: HashSet<String> = HashSet::new();
    let mut started: Option<DateTime<Utc>> = None;
    let mut open = true;
    // pending_among gives the ids of each poll.
    let still_pending = request.selection.and_filter("testemailconfigurationscheduled eq true");
    let mut polls = 0usize;
    // When the last poll that read results instead of pending ids was sent.
    let mut results_since: Option<DateTime<Utc>> = None;
    loop {
        // Tests that arrive while nothing is left to wait for, or before the next poll is
        // due, join the wait; the timeout counts from the last arrival.
        let arrived = if waiting.is_empty() {
            // Nothing to poll for: the next set, or the end once every sender is gone.
            match arrivals.recv().await {
                Some(set) => Some(set),
                None => break,
            }
        } else if open {
            let wait = clock.wait(waiting.values().map(|(at, _)| *at));
            tokio::select! {
                set = arrivals.recv() => match set {
                    Some(set) => Some(set),
                    None => {
                        open = false;
                        continue;
                    }
                },
                _ = tokio::time::sleep(wait) => None,
            }
        } else {
            let wait = clock.wait(waiting.values().map(|(at, _)| *at));
            tokio::time::sleep(wait.min(deadline.saturating_duration_since(Instant::now()))).await;
            None
        };
        if let Some(set) = arrived {
            let Scheduled { waiting: more, unverified: also, started: since, counts: sofar, names } = set;
            total += more.len();
            let index = sets.len();
            sets.push(Set { started: since, names });
            waiting.extend(more.into_iter().map(|(id, at)| (id, (at, index))));
            unverified.extend(also);
            started = Some(started.map_or(since, |s| s.min(since)));
            *counts += sofar;
            deadline = Instant::now() + timeout;
            continue;
        }
        let started = started.unwrap_or_else(Utc::now);
        let ids: Vec<String> = waiting.keys().cloned().collect();
        // Each poll reads through the next identity of a pool (the first, for one connection).
        polls += 1;
        let reader = client.reading_through(polls);
        let client = &reader;
        let at_once = !open;
        // On the service's clock, with room for its servers' clocks; a minute either way
        // until its answers showed it.
        let on_service_clock =
            |since: DateTime<Utc>| client.api.service_clock().earliest_at(since).map_or(since - CLOCK_SKEW, |t| t - CLOCKS_APART);
        // The names of the sets waited for: the service already holds the tests of chunks
        // not handed over yet, and a read of every pending row would read those too (two
        // pages of ids where the waited ones fit in one).
        let of_waiting: std::collections::BTreeSet<usize> = waiting.values().map(|(_, set)| *set).collect();
        let waited_names = within_names(of_waiting.iter().map(|set| &sets[*set]));
        // More tests pending than a page of ids holds: the poll reads the results that came
        // since the last one instead (see `poll_by_results`).
        // (The poll at the deadline reads the pending ids: it reports the rest timed out.)
        if waiting.len() > PENDING_BY_RESULTS && (open || Instant::now() < deadline) {
            let earliest = waiting.values().map(|(_, set)| sets[*set].started).min().unwrap_or(started);
            let since = on_service_clock(results_since.map_or(earliest, |last: DateTime<Utc>| last.max(earliest)));
            // Tests due by the learned delay: their alerts (raised since the earliest set
            // waited for began) are read beside their results, not after them.
            let alerts_since = clock.due_sets(&waiting).map(|_| on_service_clock(earliest));
            let names = waited_names;
            let sent = Utc::now();
            clock.polled();
            let poll = Poll::new(started, sink, &mut *counts, &mut waiting, &mut unverified, &mut clock);
            let by_results = ByResults { since, names: names.as_deref(), sets: &sets, at_once, alerts_since };
            poll_by_results(client, &request.selection, poll, by_results, on_service_clock).await?;
            results_since = Some(sent);
            send_progress(sink, total - waiting.len(), total).await?;
            continue;
        }
        // A poll at the learned due time of many tests expects their results: it reads them
        // (and their alerts) beside the pending ids, one round trip between the tests' end and
        // their results instead of two. Those not finished yet cost a read that found none.
        let expected = clock.due_sets(&waiting).and_then(|due| {
            let names = within_names(due.iter().map(|set| &sets[*set]))?;
            let polled: Vec<String> = waiting.iter().filter(|(_, (_, set))| due.contains(set)).map(|(id, _)| id.clone()).collect();
            let since = on_service_clock(due.iter().map(|set| sets[*set].started).min()?);
            (polled.len() > IDS_BY_SELECTION).then_some((names, polled, since))
        });
        clock.polled();
        let (pending, early) = match &expected {
            Some((names, polled, since)) => {
                let wanted: HashSet<String> = polled.iter().map(|id| id.to_ascii_lowercase()).collect();
                let reading = {
                    let (client, polled, since) = (client.clone(), polled.clone(), *since);
                    tokio::spawn(async move { alerts_by_mailbox(&client, &polled, &wanted, since, at_once).await })
                };
                let finished = completed_since(&request.selection, *since, Some(names.as_str()));
                let page = results_page(polled.len());
                let mut rows = Vec::new();
                let (pending, _) = tokio::try_join!(
                    async { Ok((pending_among(client, &still_pending, &ids, waited_names.as_deref()).await?, Instant::now())) },
                    finished.for_each_page_selecting(client, page, RESULT_COLUMNS, LATEST_FIRST, Gather(&mut rows))
                )?;
                (pending, Some((rows, AbortOnDrop(reading))))
            }
            None => ((pending_among(client, &still_pending, &ids, waited_names.as_deref()).await?, Instant::now()), None),
        };
        let (pending, answered) = pending;
        clock.answered(answered);
        unverified.retain(|id| !pending.contains(id));
        let left: Vec<String> = ids.into_iter().filter(|id| !pending.contains(id)).collect();
        let since = left.iter().filter_map(|id| waiting.get(id)).map(|(_, set)| sets[*set].started).min().unwrap_or(started);
        // The sets that left holds (one, most polls), for the names of their mailboxes.
        let of_left: std::collections::BTreeSet<usize> = left.iter().filter_map(|id| waiting.get(id)).map(|(_, set)| *set).collect();
        let names = within_names(of_left.iter().map(|set| &sets[*set]));
        let since = on_service_clock(since);
        let mut poll = Poll::new(started, sink, &mut *counts, &mut waiting, &mut unverified, &mut clock);
        let wanted: HashSet<String> = left.iter().map(|id| id.to_ascii_lowercase()).collect();
        // The results read beside the pending ids first (only of those that left: a row that
        // shows an earlier completion while scheduled again is pending), then as below those
        // it did not have. A failure among them waits for that read: its alerts, which explain
        // it and give its remedy, were read beside it, and the service may have run that read
        // before the test ended (its alerts with it). Read after the pending ids, which no
        // longer held it, they are all there.
        let mut left = left;
        if let Some((mut rows, reading)) = early {
            rows.retain(|m| wanted.contains(&m.mailbox_id.to_ascii_lowercase()) && !failed_since(m, started));
            poll.reading_alerts = Some(reading);
            poll.take(rows).await?;
            left.retain(|id| !poll.read.contains(id.as_str()));
        }
        let wanted: HashSet<String> = left.iter().map(|id| id.to_ascii_lowercase()).collect();
        if left.len() > IDS_BY_SELECTION {
            // Thousands of results: their alerts beside the first page (every alert of a test
            // that left the pending set was raised before it left), then the selection page by
            // page, each page's results reported as it arrives (the rows are never all held at
            // once). Only the mailboxes finished since the earliest of these tests was
            // scheduled: a poll reads what finished since the last ones, not every result of
            // the run again.
            let reading = {
                let (client, left, wanted) = (client.clone(), left.clone(), wanted.clone());
                tokio::spawn(async move { alerts_by_mailbox(&client, &left, &wanted, since, at_once).await })
            };
            poll.reading_alerts = Some(AbortOnDrop(reading));
            // The latest results first, until every one wanted is read: those of this poll
            // finished last, so the rows of earlier polls (and of other runs) are mostly not read.
            // Results of one second share a timestamp (the service keeps seconds), so the
            // names of the chunks still waited for narrow it further.
            let finished = completed_since(&request.selection, since, names.as_deref());
            let page = results_page(left.len());
            finished
                .for_each_page_selecting(
                    client,
                    page,
                    RESULT_COLUMNS,
                    LATEST_FIRST,
                    Results { read_before: poll.read.len(), poll: &mut poll, wanted: &wanted },
                )
                .await?;
            // Those it did not return (not finished, or gone from the selection) are read as
            // before: by id, or in the whole selection (whose rows read above are skipped).
            let rest: Vec<String> = left.iter().filter(|id| !poll.read.contains(id.as_str())).cloned().collect();
            if rest.len() > IDS_BY_SELECTION {
                request
                    .selection
                    .with_ids(None)
                    .for_each_page(client, 5000, Results { read_before: poll.read.len(), poll: &mut poll, wanted: &wanted })
                    .await?;
            } else if !rest.is_empty() {
                poll.take(read_results(client, &request.selection, &rest, at_once).await?).await?;
            }
        } else if !left.is_empty() {
            // The alerts of every mailbox that left (a superset of those that finished) are
            // read beside their rows: one round trip for the results, not two. Once nothing
            // more is written (every set arrived), their queries go at once.
            let (rows, alerts) = tokio::try_join!(
                read_results(client, &request.selection, &left, at_once),
                alerts_by_mailbox(client, &left, &wanted, since, at_once)
            )?;
            poll.alerts = alerts;
            poll.take(rows).await?;
        }
        let unfinished = poll.finish(&left).await?;
        send_progress(sink, total - waiting.len(), total).await?;
        if waiting.is_empty() {
            continue;
        }
        if !open && Instant::now() >= deadline {
            // Pending (still scheduled) and unfinished (no result since the start) alike.
            let ids: Vec<String> = waiting.keys().cloned().collect();
            let mut rows = request.selection.read_back(client, &ids).await?;
            rows.extend(unfinished.into_iter().filter(|m| !ids.contains(&m.mailbox_id)));
            for mailbox in &rows {
                counts.add(ItemOutcome::TimedOut);
                let error =
                    Error::new(ErrorKind::Service, "The test had not finished when the timeout passed; it continues on the service.")
                        .with_remedy("Check the mailbox's statuses and alerts later, or run again with a longer timeout.")
                        .with_hint("check_later");
                sink.send(report::item(mailbox, ItemOutcome::TimedOut, &[], Some(&error))).await?;
            }
            break;
        }
    }
    Ok(())
}

/// Reports how many of the `total` tests have finished.
async fn send_progress(sink: &EventSink, finished: usize, total: usize) -> Result<()> {
    let message = format!("{finished} of {total} mailbox tests finished");
    sink.send(Event::Progress(ProgressEvent { done: finished, total: Some(total), message })).await
}

/// Tests waited for above which a poll reads the results finished since the last poll rather
/// than the ids still pending: the pending ids of 10,000 tests take two pages or more, and
/// until the first tests finish (the polls that learn the service's delay) every poll read
/// them all; the finished ones are a page, none at first, and are the results anyway.
const PENDING_BY_RESULTS: usize = 5000;

/// What [`poll_by_results`] reads: the results since `since`, within `names` (of `sets`).
struct ByResults<'a> {
    since: DateTime<Utc>,
    names: Option<&'a str>,
    sets: &'a [Set],
    at_once: bool,
    /// Results are expected (tests are due by the learned delay): every alert since then is
    /// read beside them.
    alerts_since: Option<DateTime<Utc>>,
}

/// A poll of many tests: the rows of `selection` finished since `since` (within `names`), the
/// results of those still waited for reported with their alerts. The alerts are read after
/// the results (a poll that finds none, as the first ones do, costs one request), or beside
/// them when results are expected (`alerts_since`): the chain of alert pages then no longer
/// follows the chain of result pages, at the end of a run above all. A row not returned is
/// taken as still pending; one never verified is verified by a later poll of pending ids
/// (once no more than [`PENDING_BY_RESULTS`] are waited for), which also finds those not
/// scheduled.
async fn poll_by_results(
    client: &Client,
    selection: &MailboxSelection,
    mut poll: Poll<'_>,
    read: ByResults<'_>,
    on_service_clock: impl Fn(DateTime<Utc>) -> DateTime<Utc>,
) -> Result<()> {
    let ByResults { since, names, sets, at_once, alerts_since } = read;
    let beside = alerts_since.map(|since| {
        let (client, query) = (client.clone(), AlertQuery { version: 1, since: Some(odata_time(since)), ..AlertQuery::default() });
        AbortOnDrop(tokio::spawn(async move { alerts::list(&client, &query).await }))
    });
    let mut rows = Vec::new();
    completed_since(selection, since, names).for_each_page_selecting(client, 5000, RESULT_COLUMNS, LATEST_FIRST, Gather(&mut rows)).await?;
    poll.clock.answered(Instant::now());
    let started = poll.started;
    rows.retain(|m| finished_since(m, started) && poll.waiting.contains_key(&m.mailbox_id));
    if rows.is_empty() {
        return Ok(());
    }
    let left: Vec<String> = rows.iter().map(|m| m.mailbox_id.clone()).collect();
    let wanted: HashSet<String> = left.iter().map(|id| id.to_ascii_lowercase()).collect();
    // Their alerts were raised after their sets began to be written (perhaps before `since`).
    let first = left.iter().filter_map(|id| poll.waiting.get(id)).map(|(_, set)| sets[*set].started).min().unwrap_or(started);
    poll.alerts = match beside {
        None => alerts_by_mailbox(client, &left, &wanted, on_service_clock(first), at_once).await?,
        Some(mut beside) => {
            let mut found = (&mut beside.0).await.map_err(|e| Error::internal(format!("a read of alerts failed: {e}")))??;
            // The service may have run that read before a test ended, its alerts with it: a
            // failure, which its alerts explain, has them read again now (every alert of a
            // test that is finished was raised before its row showed it).
            let failed: Vec<String> = rows.iter().filter(|m| failed_since(m, started)).map(|m| m.mailbox_id.clone()).collect();
            let failed_set: HashSet<String> = failed.iter().map(|id| id.to_ascii_lowercase()).collect();
            found.retain(|a| {
                a.regarding_id.as_deref().map(str::to_ascii_lowercase).is_some_and(|id| wanted.contains(&id) && !failed_set.contains(&id))
            });
            if !failed.is_empty() {
                let again = alerts_by_mailbox(client, &failed, &failed_set, on_service_clock(first), at_once).await?;
                found.extend(failed.iter().flat_map(|id| again.of(id).iter().cloned()));
            }
            alerts::ByRegarding::new(found)
        }
    };
    // Every row is finished and every id of `left` was read: nothing is left for
    // `Poll::finish` to report.
    poll.take(rows).await
}

/// The mailboxes of `selection` whose test completed at `since` or later, within `names`
/// (the ranges of [`within_names`]) when given.
fn completed_since(selection: &MailboxSelection, since: DateTime<Utc>, names: Option<&str>) -> MailboxSelection {
    let finished = format!("testmailboxaccesscompletedon ge {}", odata_time(since));
    selection.and_filter(match names {
        Some(names) => format!("{finished} and ({names})"),
        None => finished,
    })
}

/// The page size of a read of `results` results: all of them and an eighth more (rows of
/// earlier polls among them) in one page, at least 1,000.
fn results_page(results: usize) -> u32 {
    u32::try_from(results + results / 8).unwrap_or(5000).max(1000)
}

/// Which of `ids` are still pending, reading their ids only (`$select=mailboxid`): a poll
/// that finds most tests pending reads no rows it does not need. One query's worth of ids is
/// asked by id; for more, the selection's pending mailboxes are read whatever their ids and
/// matched (within `names`, those of the sets waited for, when given): one request per 5,000
/// pending rows instead of one per 50 ids (a wait polls many times).
async fn pending_among(client: &Client, still_pending: &MailboxSelection, ids: &[String], names: Option<&str>) -> Result<HashSet<String>> {
    #[derive(Deserialize)]
    struct Pending {
        mailboxid: String,
    }
    let by_id = ids.len() <= IDS_PER_FILTER;
    let query = match names {
        Some(names) if !by_id => still_pending.and_filter(format!("({names})")),
        _ => still_pending.with_ids(by_id.then(|| ids.to_vec())),
    };
    let mut pending = HashSet::new();
    for q in query.queries_selecting(client, &["mailboxid"]).await? {
        let rows: Vec<Pending> = client.api.get_all(&q.to_path("mailboxes"), &["odata.maxpagesize=5000"]).await?;
        pending.extend(rows.into_iter().map(|row| row.mailboxid.to_ascii_lowercase()));
    }
    Ok(ids.iter().filter(|id| pending.contains(&id.to_ascii_lowercase())).cloned().collect())
}

/// The rows of up to [`IDS_BY_SELECTION`] `ids`, for their results: the queries of
/// [`IDS_PER_FILTER`] ids `at_once` or in turn (more are read page by page, see [`Results`]).
async fn read_results(client: &Client, selection: &MailboxSelection, ids: &[String], at_once: bool) -> Result<Vec<Mailbox>> {
    by_groups(client, ids, at_once, |client, group| {
        let selection = selection.clone();
        async move { selection.read_back_selecting(&client, &group, RESULT_COLUMNS, None).await }
    })
    .await
}

/// A task that stops when its handle is dropped: a poll that fails, or reads no results,
/// leaves no read of alerts running behind it.
struct AbortOnDrop<T>(tokio::task::JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// One poll's results: each row that left the pending set is reported as it is read
/// (finished since the start: its result with its alerts), or kept (not finished: reported
/// as not scheduled if it was never verified, or waited for again).
struct Poll<'a> {
    started: DateTime<Utc>,
    sink: &'a EventSink,
    counts: &'a mut Counts,
    waiting: &'a mut HashMap<String, (Instant, usize)>,
    unverified: &'a mut HashSet<String>,
    clock: &'a mut PollClock,
    alerts: alerts::ByRegarding,
    /// The alerts while they are read beside the first page of results: `alerts` once the
    /// first rows are reported.
    reading_alerts: Option<AbortOnDrop<Result<alerts::ByRegarding>>>,
    /// The ids read so far (those of `left` not read have gone from the selection).
    read: HashSet<String>,
    unfinished: Vec<Mailbox>,
}

impl<'a> Poll<'a> {
    /// A poll that has read nothing yet.
    fn new(
        started: DateTime<Utc>,
        sink: &'a EventSink,
        counts: &'a mut Counts,
        waiting: &'a mut HashMap<String, (Instant, usize)>,
        unverified: &'a mut HashSet<String>,
        clock: &'a mut PollClock,
    ) -> Poll<'a> {
        Poll {
            started,
            sink,
            counts,
            waiting,
            unverified,
            clock,
            alerts: alerts::ByRegarding::default(),
            reading_alerts: None,
            read: HashSet::new(),
            unfinished: Vec::new(),
        }
    }

    async fn take(&mut self, rows: Vec<Mailbox>) -> Result<()> {
        if let Some(mut reading) = self.reading_alerts.take() {
            self.alerts = (&mut reading.0).await.map_err(|e| Error::internal(format!("a read of alerts failed: {e}")))??;
        }
        for mailbox in rows {
            self.read.insert(mailbox.mailbox_id.clone());
            if !finished_since(&mailbox, self.started) {
                // Still scheduled: verified, whatever the read of pending ids missed (a read
                // within the names of the sets misses a mailbox renamed since).
                if mailbox.test_scheduled {
                    self.unverified.remove(&mailbox.mailbox_id);
                }
                self.unfinished.push(mailbox);
                continue;
            }
            self.unverified.remove(&mailbox.mailbox_id);
            if let Some((at, _)) = self.waiting.remove(&mailbox.mailbox_id) {
                self.clock.finished(at);
            }
            let mine = self.alerts.of(&mailbox.mailbox_id);
            let outcome = outcome_of(&mailbox);
            self.counts.add(outcome);
            self.sink.send(result_event(&mailbox, outcome, mine)).await?;
        }
        Ok(())
    }

    /// Reports what neither pending nor finished at its first read shows: the write did not
    /// schedule it (or it is no longer in the selection, inactive say). Returns the unfinished
    /// rows still waited for.
    async fn finish(self, left: &[String]) -> Result<Vec<Mailbox>> {
        let Poll { sink, counts, waiting, unverified, read, mut unfinished, .. } = self;
        let gone: Vec<&String> = left.iter().filter(|id| unverified.contains(*id) && !read.contains(id.as_str())).collect();
        for id in gone {
            unverified.remove(id);
            waiting.remove(id);
            counts.add(ItemOutcome::Failed);
            // Only its id is known now (the rows were dropped after the writes).
            let row: Mailbox = serde_json::from_value(json!({"mailboxid": id})).map_err(|e| Error::internal(e.to_string()))?;
            sink.send(report::item(&row, ItemOutcome::Failed, &[], Some(&not_scheduled()))).await?;
        }
        for mailbox in unfinished.iter().filter(|m| unverified.remove(&m.mailbox_id)) {
            waiting.remove(&mailbox.mailbox_id);
            counts.add(ItemOutcome::Failed);
            sink.send(report::item(mailbox, ItemOutcome::Failed, &[], Some(&not_scheduled()))).await?;
        }
        unfinished.retain(|m| waiting.contains_key(&m.mailbox_id));
        Ok(unfinished)
    }
}

/// The pages of a whole-selection read, each one's wanted rows (lowercase ids) that the poll
/// has not read yet handed to it.
struct Results<'p, 'a> {
    poll: &'p mut Poll<'a>,
    wanted: &'p HashSet<String>,
    /// Rows the poll had read before (beside its pending ids), none of them wanted here.
    read_before: usize,
}

impl super::mailboxes::AsyncPageFn for Results<'_, '_> {
    fn call(&mut self, mut page: Vec<Mailbox>) -> impl std::future::Future<Output = Result<()>> + Send {
        let read = &self.poll.read;
        page.retain(|m| self.wanted.contains(&m.mailbox_id.to_ascii_lowercase()) && !read.contains(&m.mailbox_id));
        self.poll.take(page)
    }

    fn done(&self) -> bool {
        self.poll.read.len() - self.read_before >= self.wanted.len()
    }
}

/// The pages of a read, gathered.
struct Gather<'a>(&'a mut Vec<Mailbox>);

impl super::mailboxes::AsyncPageFn for Gather<'_> {
    fn call(&mut self, page: Vec<Mailbox>) -> impl std::future::Future<Output = Result<()>> + Send {
        self.0.extend(page);
        std::future::ready(Ok(()))
    }
}

/// `read` of each [`IDS_PER_FILTER`] of `ids`, all at once (each through the next identity
/// of a pool): the results of the last chunk are read at the end of the run, in one round
/// trip instead of one per 50 ids. Not `at_once`, one `read` of every id (which asks for
/// them in turn): while chunks are still being written, the requests budget is theirs.
async fn by_groups<T, Read, Reading>(client: &Client, ids: &[String], at_once: bool, read: Read) -> Result<Vec<T>>
where
    T: Send + 'static,
    Read: Fn(Client, Vec<String>) -> Reading,
    Reading: std::future::Future<Output = Result<Vec<T>>> + Send + 'static,
{
    if !at_once {
        return read(client.clone(), ids.to_vec()).await;
    }
    let mut reads = tokio::task::JoinSet::new();
    for (turn, group) in ids.chunks(IDS_PER_FILTER).enumerate() {
        reads.spawn(read(client.reading_through(turn), group.to_vec()));
    }
    let mut rows = Vec::new();
    while let Some(read) = reads.join_next().await {
        rows.extend(read.map_err(|e| Error::internal(format!("a read of test results failed: {e}")))??);
    }
    Ok(rows)
}

/// The alerts raised since `since` (the service's time) for each of `mailboxes` (ids), by
/// mailbox id.
async fn alerts_by_mailbox(
    client: &Client,
    mailboxes: &[String],
    wanted: &HashSet<String>,
    since: DateTime<Utc>,
    at_once: bool,
) -> Result<alerts::ByRegarding> {
    if mailboxes.is_empty() {
        return Ok(alerts::ByRegarding::default());
    }
    let since = Some(odata_time(since));
    // For many mailboxes, every alert since the start costs fewer requests than 50 ids a query.
    let found = if mailboxes.len() <= ALERTS_BY_ID {
        by_groups(client, mailboxes, at_once, |client, group| {
            let query = AlertQuery { version: 1, mailbox_ids: Some(group), since: since.clone(), ..AlertQuery::default() };
            async move { alerts::list(&client, &query).await }
        })
        .await?
    } else {
        // Only those regarding `wanted` (the lowercase ids) are kept: the rest were reported
        // by earlier polls, or are not this run's.
        let mut every = alerts::list(client, &AlertQuery { version: 1, since, ..AlertQuery::default() }).await?;
        every.retain(|a| a.regarding_id.as_deref().is_some_and(|id| wanted.contains(&id.to_ascii_lowercase())));
        every
    };
    Ok(alerts::ByRegarding::new(found))
}

fn result_event(mailbox: &Mailbox, outcome: ItemOutcome, alerts: &[Alert]) -> Event {
    let error = (outcome == ItemOutcome::Failed).then(|| failure_from_alerts(alerts));
    let test = TestStatuses {
        incoming_email_status: mailbox.incoming_email_status.clone(),
        outgoing_email_status: mailbox.outgoing_email_status.clone(),
        act_status: mailbox.act_status.clone(),
        mailbox_status: mailbox.mailbox_status.clone(),
        test_completed_on: mailbox.test_completed_on.clone(),
        alerts: alerts.to_vec(),
    };
    report::event(ItemEvent { test: Some(test), ..ItemEvent::new(mailbox, outcome, &[], error.as_ref()) })
}

/// The failure, explained by the most severe alert of the run.
fn failure_from_alerts(alerts: &[Alert]) -> Error {
    let worst = alerts.iter().find(|a| a.level == "Error").or_else(|| alerts.first());
    let text = worst.and_then(|a| a.text.clone()).unwrap_or_else(|| "no alert was raised".into());
    let approval = alerts.iter().any(|a| {
        a.error_type.as_deref().unwrap_or_default().contains("ApprovalNeeded") || a.text.as_deref().unwrap_or_default().contains("approved")
    });
    let (remedy, hint) = if approval {
        (
            "Approve the mailbox's email (as a Global or Exchange administrator or a Delegated Mailbox Approver), then run Test & Enable again.",
            "approve_mailbox",
        )
    } else {
        ("Read the mailbox's alerts, fix the cause (profile, delivery methods, licence), then run Test & Enable again.", "read_alerts")
    };
    Error::new(ErrorKind::Service, format!("Test & Enable failed: {text}")).with_remedy(remedy).with_hint(hint)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_delay_counts_to_the_middle_of_the_poll_that_saw_the_tests_finished() {
        let mut clock = PollClock::new(Duration::from_secs(5));
        let sent = Instant::now();
        let scheduled = sent - Duration::from_millis(800);
        clock.last_poll = Some(sent);
        clock.answered(sent + Duration::from_millis(200));
        // Reported well after the answer (the results read after it): still 800 + 100 ms.
        clock.finished(scheduled);
        assert_eq!(clock.delay, Some(Duration::from_millis(900)));
        // A later, longer sighting does not lengthen it.
        clock.last_poll = Some(sent + Duration::from_millis(300));
        clock.answered(sent + Duration::from_millis(400));
        clock.finished(scheduled);
        assert_eq!(clock.delay, Some(Duration::from_millis(900)));
    }

    #[test]
    fn only_the_sets_whose_tests_are_due_by_the_learned_delay_are_expected_to_have_results() {
        let mut clock = PollClock::new(Duration::from_secs(5));
        let now = Instant::now();
        let waiting: HashMap<String, (Instant, usize)> = [
            ("a".to_string(), (now - Duration::from_millis(1_000), 0)),
            ("b".to_string(), (now - Duration::from_millis(1_000), 0)),
            ("c".to_string(), (now - Duration::from_millis(500), 1)),
        ]
        .into();
        assert_eq!(clock.due_sets(&waiting), None, "nothing is expected before the delay is learned");
        clock.delay = Some(Duration::from_millis(950));
        assert_eq!(clock.due_sets(&waiting), Some([0].into()));
        clock.last_poll = Some(now - Duration::from_millis(10));
        assert_eq!(clock.due_sets(&waiting), None, "looked for since they were due: late, not expected");
        clock.last_poll = None;
        clock.delay = Some(Duration::from_secs(2));
        assert_eq!(clock.due_sets(&waiting), None, "none is due yet");
    }
}
