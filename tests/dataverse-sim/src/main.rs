//! `dataverse-sim`: run the simulator as a process. Prints one JSON line to stdout when
//! listening, then serves until killed (SIGINT/SIGTERM/kill). Diagnostics go to stderr.

use std::io::Write;

use clap::{Parser, ValueEnum};
use dataverse_sim::{MailboxApprovalMode, SimConfig, Simulator, fixtures};

#[derive(Clone, Copy, Debug, ValueEnum)]
enum MailboxApproval {
    Rejected,
    Equivalent,
}

/// Dataverse Web API simulator for crmsync tests.
#[derive(Parser, Debug)]
#[command(name = "dataverse-sim", version)]
struct Args {
    /// Port on 127.0.0.1 (0 = ephemeral).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Seeded users with mailboxes.
    #[arg(long, default_value_t = 25)]
    mailboxes: usize,
    /// Seeded queues with mailboxes.
    #[arg(long, default_value_t = 5)]
    queues: usize,
    /// Seed of generated ids and names.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Lifetime of tokens issued by the token endpoint.
    #[arg(long, default_value_t = 3600)]
    token_lifetime_secs: u64,
    /// Largest page size.
    #[arg(long, default_value_t = 5000)]
    max_page_size: usize,
    /// HTTP status for an approval by a caller without the M365 admin condition.
    #[arg(long, default_value_t = 403)]
    approval_denied_status: u16,
    /// What PATCH mailboxes(<id>) {"emailrouteraccessapproval":…} does.
    #[arg(long, value_enum, default_value = "rejected")]
    mailbox_approval: MailboxApproval,
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let args = Args::parse();
    let config = SimConfig {
        port: args.port,
        mailboxes: args.mailboxes,
        queues: args.queues,
        seed: args.seed,
        token_lifetime_secs: args.token_lifetime_secs,
        max_page_size: args.max_page_size,
        approval_denied_status: args.approval_denied_status,
        mailbox_approval: match args.mailbox_approval {
            MailboxApproval::Rejected => MailboxApprovalMode::Rejected,
            MailboxApproval::Equivalent => MailboxApprovalMode::Equivalent,
        },
        ..SimConfig::default()
    };
    let sim = Simulator::start(config).await?;
    // Keys in the documented order (serde_json maps would sort them).
    let ready = format!(
        "{{\"url\":{},\"tenant_id\":{},\"organization_id\":{},\"mailboxes\":{},\"queues\":{}}}",
        serde_json::Value::from(sim.url()),
        serde_json::Value::from(fixtures::TENANT_ID),
        serde_json::Value::from(fixtures::ORGANIZATION_ID),
        args.mailboxes,
        args.queues
    );
    let mut out = std::io::stdout().lock();
    writeln!(out, "{ready}")?;
    out.flush()?;
    drop(out);
    eprintln!("dataverse-sim: listening on {}", sim.url());
    shutdown_signal().await;
    sim.shutdown().await;
    Ok(())
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
