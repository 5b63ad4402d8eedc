//! How many requests each step of the procedure sends, for 1 and for 1,000 mailboxes (every
//! mailbox needing every step), counted by the simulator. `cargo run --release --example requests_per_step`

use crmsync::Client;
use crmsync::operation::{LongOperation, NextEvent};
use crmsync::steps;
use dataverse_sim::{SimConfig, Simulator, fixtures};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

fn drain(op: LongOperation) {
    while !matches!(op.next_event(Duration::from_secs(600)), NextEvent::Finished) {}
    op.result().expect("finished").expect("the step succeeds");
}

fn run<F, Fut, R>(client: &Arc<Client>, work: F)
where
    F: FnOnce(Arc<Client>, crmsync::operation::EventSink) -> Fut,
    Fut: Future<Output = crmsync::Result<R>> + Send + 'static,
    R: serde::Serialize,
{
    let client = client.clone();
    drain(LongOperation::start(move |sink| {
        let work = work(client, sink);
        async move { work.await.map(crmsync::documents::to_value) }
    }));
}

fn main() {
    println!("| step | requests for 1 mailbox | requests for 1,000 mailboxes |\n|---|---|---|");
    let mut rows: Vec<(String, Vec<usize>)> = Vec::new();
    for n in [1usize, 1000] {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let sim =
            runtime.block_on(Simulator::start(SimConfig { mailboxes: n, queues: 0, test_delay_ms: 200, ..SimConfig::default() })).unwrap();
        let state = sim.state();
        let config = serde_json::json!({"version": 1, "url": sim.url(), "credential": {"kind": "access_token", "access_token": fixtures::ADMIN_TOKEN}});
        let client = Arc::new(Client::from_json(config.to_string().as_bytes()).unwrap());
        let mut count = |name: &str, f: &mut dyn FnMut()| {
            let before = state.request_count();
            f();
            let sent = state.request_count() - before;
            match rows.iter_mut().find(|(r, _)| r == name) {
                Some((_, v)) => v.push(sent),
                None => rows.push((name.to_string(), vec![sent])),
            }
        };
        let rt = crmsync::runtime::get();
        count("Readiness (Test-CrmExchangeReadiness)", &mut || {
            rt.block_on(steps::readiness::run(&client)).unwrap();
        });
        count("Profile + organization defaults (Set-CrmMailboxDefaults)", &mut || {
            let request = crmsync::documents::DefaultsRequest {
                version: 1,
                server_profile: Some(fixtures::EXO_PROFILE_NAME.into()),
                incoming_email: Some("ServerSideSync".into()),
                outgoing_email: Some("ServerSideSync".into()),
                appointments_contacts_tasks: Some("ServerSideSync".into()),
                process_email_using: Some("ServerSideSync".into()),
                what_if: false,
                journal_path: None,
            };
            rt.block_on(steps::org_defaults::run(&client, &request)).unwrap();
        });
        count("Mailbox settings (Set-CrmMailbox -ApplyDefaults)", &mut || {
            run(&client, |c, sink| {
                steps::mailbox_settings::run(
                    c,
                    crmsync::documents::SettingsRequest { version: 1, apply_defaults: true, ..Default::default() },
                    sink,
                )
            })
        });
        count("Approve email (Approve-CrmMailbox), with read-back", &mut || {
            run(&client, |c, sink| steps::approval::run(c, crmsync::documents::ApprovalRequest { version: 1, ..Default::default() }, sink))
        });
        count("Test & Enable with -Wait (Enable-CrmMailbox), with alerts", &mut || {
            let request =
                crmsync::documents::TestEnableRequest { version: 1, wait: true, poll_interval_ms: Some(1000), ..Default::default() };
            run(&client, |c, sink| steps::test_enable::run(c, request, sink))
        });
        count("Whole procedure, second run (nothing to do)", &mut || {
            run(&client, |c, sink| {
                steps::setup::run(c, crmsync::documents::SetupRequest { version: 1, wait: true, ..Default::default() }, sink)
            })
        });
        runtime.block_on(sim.shutdown());
    }
    for (name, counts) in rows {
        println!("| {name} | {} | {} |", counts[0], counts[1]);
    }
}
