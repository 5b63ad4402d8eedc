//! The whole procedure in one idempotent run: readiness, the Exchange Online profile as the
//! active default, the organization's defaults, every selected mailbox's settings, approval,
//! then Test & Enable of the mailboxes that are not already working. Each step skips what is
//! already right; with `what_if` nothing is written and every step reports its plan.

use super::readiness;
use super::{approval, mailbox_settings, org_defaults, test_enable};
use crate::client::Client;
use crate::documents::{
    self, Check, CheckStatus, Counts, DefaultsRequest, Event, MailboxSelection, SettingsRequest, SetupRequest, SetupResult, StepResult,
    TestEnableRequest,
};
use crate::error::{Error, Result};
use crate::journal::Journal;
use crate::model::mailbox::Mailbox;
use crate::model::profile::EXCHANGE_ONLINE_NAME;
use crate::operation::EventSink;
use std::sync::Arc;

const SSS: &str = "ServerSideSync";

pub async fn run(client: Arc<Client>, request: SetupRequest, sink: EventSink) -> Result<SetupResult> {
    let mut steps = Vec::new();
    // Joined first, before any request, so that every member of the run is known at once; held
    // to the end (the group's turn to work is this member's).
    let mut member = match &request.ownership {
        Some(spec) => Some(super::exchange::Member::join(spec).await?),
        None => None,
    };
    // What every step reads (the identity, the organization row, the profiles, the
    // privileges) and the selection's mailboxes, all at once: one read of each for the whole
    // procedure. (When a readiness check then blocks, the mailboxes were read for nothing;
    // nothing was written.) One read of the selection serves every step; the state before
    // any change also decides which mailboxes need Test & Enable afterwards.
    let selection = MailboxSelection { active_only: true, ..request.selection.clone() };
    let ((context, checks), mut before) = tokio::try_join!(readiness::prerequisites(&client), selection.collect(&client))?;
    // Shared by the chunks, which run as tasks of their own; opened before any write.
    let journal =
        if request.what_if { None } else { super::journaling::open_for(&context.identity, request.journal_path.as_deref())?.map(Arc::new) };
    for c in &checks {
        send_check(&sink, c).await?;
    }
    let blocking: Vec<&Check> = checks.iter().filter(|c| c.status == CheckStatus::Fail && c.check == "ExchangeOnlineProfile").collect();
    if let Some(block) = blocking.first() {
        // This check fails without a hint (its remedy is outside the product).
        return Err(
            Error::invalid(format!("Readiness check failed: {}", block.message)).with_remedy(block.remedy.clone().unwrap_or_default())
        );
    }
    let profile_name = request.server_profile.clone().unwrap_or_else(|| EXCHANGE_ONLINE_NAME.to_string());
    let profile = context.profile(&profile_name)?;
    if let Some(member) = member.as_mut() {
        before = super::ownership::leave_out_owned_elsewhere(member, &client, &selection, before, &sink).await?;
    }
    let total = before.len();
    send_check(&sink, &readiness::summarize(&before)).await?;
    // The pages the selection was read from are gone; the rows are what is left.
    crate::runtime::release_freed_memory();

    let defaults = DefaultsRequest {
        version: 1,
        server_profile: Some(profile.profile_id.clone()),
        incoming_email: Some(SSS.into()),
        outgoing_email: Some(SSS.into()),
        appointments_contacts_tasks: Some(SSS.into()),
        process_email_using: Some(SSS.into()),
        what_if: request.what_if,
        journal_path: None,
    };
    let plan = org_defaults::plan_from(&defaults, context.defaults.clone(), Some(profile.clone()))?;
    let outcome = org_defaults::apply(&client, plan, journal.as_deref()).await?;
    steps.push(org_defaults::report_step(outcome, request.what_if, &sink).await?);

    let settings = SettingsRequest {
        version: 1,
        server_profile: Some(profile.profile_id.clone()),
        incoming_email: Some(SSS.into()),
        outgoing_email: Some(SSS.into()),
        appointments_contacts_tasks: Some(SSS.into()),
        sync_with_this_org_only: request.sync_with_this_org_only.then_some(true),
        ..Default::default()
    };
    let target = Arc::new(mailbox_settings::target(&settings, None, Some(&profile))?);
    let test = Arc::new(TestEnableRequest {
        version: 1,
        selection: MailboxSelection {
            mailbox_ids: Some(before.iter().filter(|m| !is_working(m, &profile.profile_id)).map(|m| m.mailbox_id.clone()).collect()),
            active_only: true,
            ..MailboxSelection::default()
        },
        sync_with_this_org_only: request.sync_with_this_org_only,
        wait: request.wait,
        timeout_secs: request.timeout_secs,
        poll_interval_ms: request.poll_interval_ms,
        what_if: request.what_if,
        journal_path: None,
    });
    let to_test = test.selection.mailbox_ids.as_ref().map_or(0, Vec::len);
    let already_working = total - to_test;

    // The mailboxes go through in chunks: a chunk's settings and approval are written (the two
    // are independent, so their writes share one stream under the caller's limits), approval
    // is verified, and the chunk's tests are scheduled at once, while the next chunks are
    // written. The tests then run on the service while the rest is still being configured,
    // instead of all waiting for the last write.
    let chunk = chunk_size(total);
    let at_once = Arc::new(tokio::sync::Semaphore::new(CHUNKS_AT_ONCE));
    // Each chunk hands its scheduled tests over at once: they are polled for from then on,
    // beside the later chunks' writes (see `test_enable::finish_as_scheduled`).
    let (arrive, arrivals) = tokio::sync::mpsc::unbounded_channel();
    let mut chunks = tokio::task::JoinSet::new();
    let mut rows = before.into_iter();
    for index in 0.. {
        let mine: Vec<Mailbox> = rows.by_ref().take(chunk).collect();
        if mine.is_empty() && index > 0 {
            break;
        }
        let work = Chunk {
            // Each chunk's reads (its approval read-back) go through the next identity of a pool.
            client: Arc::new(client.reading_through(index)),
            mailboxes: mine,
            target: target.clone(),
            selection: selection.clone(),
            test: test.clone(),
            profile_id: profile.profile_id.clone(),
            skip_approval: request.skip_approval,
            what_if: request.what_if,
            sink: sink.clone(),
            journal: journal.clone(),
            arrive: arrive.clone(),
        };
        let at_once = at_once.clone();
        // Turns are handed out first come first served (chunks start about in their order).
        chunks.spawn(async move { work.run(at_once).await.map(|done| (index, done)) });
    }
    drop(arrive);
    // Every row moved to its chunk: the selection's own buffer goes now, not after the tests.
    drop(rows);
    let test_sink = sink.for_step(test_enable::STEP);
    let configured = async {
        let mut done: Vec<(usize, ChunkDone)> = Vec::new();
        while let Some(joined) = chunks.join_next().await {
            done.push(joined.map_err(|e| Error::internal(format!("a setup task failed: {e}")))??);
        }
        Ok(done)
    };
    let tested = async {
        if request.what_if || to_test == 0 {
            return Ok(None);
        }
        test_enable::finish_as_scheduled(&client, arrivals, &test, &test_sink).await.map(Some)
    };
    let (mut done, tested) = tokio::try_join!(configured, tested)?;
    // The chunks' rows and batch bodies are gone.
    crate::runtime::release_freed_memory();
    done.sort_by_key(|(index, _)| *index);
    let (mut settings_summary, mut approval_summary) = (None, None);
    for (_, part) in done {
        add_counts(&mut settings_summary, part.settings);
        if let Some(approval) = part.approval {
            add_counts(&mut approval_summary, approval);
        }
    }
    steps.extend(settings_summary);
    steps.extend(approval_summary);
    let test_summary = match tested {
        Some(summary) => summary,
        None if to_test == 0 => StepResult::new(test_enable::STEP, request.what_if, Counts { unchanged: total, ..Counts::default() }),
        None => StepResult::new(test_enable::STEP, true, Counts { planned: to_test, ..Counts::default() }),
    };
    steps.push(test_summary);
    // The results' rows and alerts are gone: the caller (the module, building its report of a
    // row per mailbox) gets their memory back.
    crate::runtime::release_freed_memory();
    Ok(SetupResult { what_if: request.what_if, mailboxes: total, already_working, steps })
}

/// Chunks written at the same time: three. Their writes share the engine's queue, so the
/// third keeps it full while the first is read back and its tests scheduled (which go ahead
/// of what is queued); with two the queue ran dry there, and with every chunk at once the
/// first tests could only go after every write.
const CHUNKS_AT_ONCE: usize = 3;

/// A quarter of the selection per chunk (so the first tests start early), at least 250
/// mailboxes (small chunks cost requests: each has its own batches and reads back its rows).
fn chunk_size(total: usize) -> usize {
    total.div_ceil(4).max(250)
}

/// One chunk of the procedure's mailboxes, configured and then scheduled for their test.
struct Chunk {
    client: Arc<Client>,
    mailboxes: Vec<Mailbox>,
    target: Arc<mailbox_settings::Desired>,
    selection: MailboxSelection,
    test: Arc<TestEnableRequest>,
    profile_id: String,
    skip_approval: bool,
    what_if: bool,
    sink: EventSink,
    journal: Option<Arc<Journal>>,
    /// Where the chunk's scheduled tests go, to be waited for.
    arrive: tokio::sync::mpsc::UnboundedSender<test_enable::Scheduled>,
}

struct ChunkDone {
    settings: StepResult,
    approval: Option<StepResult>,
}

impl Chunk {
    /// Configures the chunk while holding a turn of `writing` (handed out in order), then
    /// gives the turn to the next chunk and schedules this chunk's tests beside its writes.
    async fn run(self, writing: Arc<tokio::sync::Semaphore>) -> Result<ChunkDone> {
        let Chunk { client, mailboxes, target, selection, test, profile_id, skip_approval, what_if, sink, journal, arrive } = self;
        let journal = journal.as_deref();
        let turn = writing.acquire_owned().await.map_err(|_| Error::cancelled())?;
        let settings_sink = sink.for_step("MailboxSettings");
        let approval_sink = sink.for_step("ApproveEmail");
        let (settings, approval) =
            tokio::try_join!(mailbox_settings::apply(&client, &mailboxes, &target, what_if, journal, &settings_sink), async {
                if skip_approval {
                    return Ok(None);
                }
                approval::apply(&client, &mailboxes, &selection, documents::Decision::Approve, what_if, journal, &approval_sink)
                    .await
                    .map(Some)
            })?;
        drop(turn);
        let to_test: Vec<Mailbox> = mailboxes.into_iter().filter(|m| !is_working(m, &profile_id)).collect();
        if what_if {
            // The plan of each mailbox's test, reported now; the summary is counted at the end.
            test_enable::run_for(&client, to_test, &test, None, &sink.for_step(test_enable::STEP)).await?;
        } else if !to_test.is_empty() {
            // The chunk is a run of the selection in its name order: its polls read that range.
            let names = to_test.first().and_then(|m| m.name.clone()).zip(to_test.last().and_then(|m| m.name.clone()));
            let scheduled =
                test_enable::schedule(&client, to_test, &test, journal, &sink.for_step(test_enable::STEP)).await?.with_names(names);
            // Nobody waits any more only when the procedure is ending on an error.
            let _ = arrive.send(scheduled);
        }
        // This chunk's rows and batch bodies are gone before the next chunk starts writing.
        crate::runtime::release_freed_memory();
        Ok(ChunkDone { settings, approval })
    }
}

/// Adds the counts of one chunk's step result to the step's result so far.
fn add_counts(sum: &mut Option<StepResult>, part: StepResult) {
    match sum {
        Some(sum) => sum.counts += part.counts,
        None => *sum = Some(part),
    }
}

async fn send_check(sink: &EventSink, check: &Check) -> Result<()> {
    sink.for_step("Readiness").send(Event::Check(check.clone())).await
}

/// Configured for the target profile with server-side synchronization, approved, and
/// successfully tested: nothing to do for this mailbox.
fn is_working(m: &Mailbox, profile_id: &str) -> bool {
    m.server_profile_id.as_deref().is_some_and(|p| p.eq_ignore_ascii_case(profile_id))
        && m.incoming_email == SSS
        && m.outgoing_email == SSS
        && m.appointments_contacts_tasks == SSS
        && m.approval_status == "Approved"
        && m.mailbox_status == "Success"
}
