//! `dataverse-sim`: run the simulator as a process. Prints one JSON line to stdout when
//! listening, then serves until killed (SIGINT/SIGTERM/kill). Diagnostics go to stderr.

use std::io::Write;

use clap::{Parser, ValueEnum};
use dataverse_sim::{FaultConfig, MailboxApprovalMode, SimConfig, Simulator, fixtures};

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
    /// Delay before a scheduled Test & Enable runs.
    #[arg(long, default_value_t = 2000)]
    test_delay_ms: u64,
    /// Share (0..1) of mailboxes whose Test & Enable fails for lack of an Exchange Online license.
    #[arg(long, default_value_t = 0.0)]
    unlicensed_share: f64,
    /// Turn the service-protection limits (429) off.
    #[arg(long)]
    no_limits: bool,
    /// Scale of the limits' window and budgets (0.01: 60 requests / 12,000 ms per 3 s).
    #[arg(long, default_value_t = 1.0)]
    limits_scale: f64,
    /// Concurrent requests per caller before 429.
    #[arg(long, default_value_t = 52)]
    limit_concurrent: usize,
    /// Simulated execution time per operation (counts toward the execution-time limit).
    #[arg(long, default_value_t = 0)]
    exec_cost_ms: u64,
    /// Latency slept by every Web API request.
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
    /// Value of the x-ms-dop-hint response header.
    #[arg(long, default_value_t = 8)]
    dop_hint: u32,
    /// Probability of an injected 503 per Web API request.
    #[arg(long, default_value_t = 0.0)]
    fault_503: f64,
    /// Probability of a connection reset (no response) per Web API request.
    #[arg(long, default_value_t = 0.0)]
    fault_reset: f64,
    /// Reset before processing the request (default: process it, then drop the response).
    #[arg(long)]
    fault_reset_before_processing: bool,
    /// Probability of a slow response per Web API request.
    #[arg(long, default_value_t = 0.0)]
    fault_slow: f64,
    /// Extra delay of a slow response.
    #[arg(long, default_value_t = 2000)]
    fault_slow_ms: u64,
    /// Probability that a token issued by the token endpoint is expired early (401).
    #[arg(long, default_value_t = 0.0)]
    fault_token_expiry: f64,
    /// Also inject 503/reset/slow on the token endpoints.
    #[arg(long)]
    fault_token_endpoint: bool,
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
        test_delay_ms: args.test_delay_ms,
        unlicensed_share: args.unlicensed_share,
        limits_enabled: !args.no_limits,
        limits_scale: args.limits_scale,
        limit_concurrent: args.limit_concurrent,
        exec_cost_ms: args.exec_cost_ms,
        latency_ms: args.latency_ms,
        dop_hint: args.dop_hint,
        faults: FaultConfig {
            unavailable: args.fault_503,
            reset: args.fault_reset,
            reset_after_processing: !args.fault_reset_before_processing,
            slow: args.fault_slow,
            slow_ms: args.fault_slow_ms,
            token_expiry: args.fault_token_expiry,
            token_endpoint: args.fault_token_endpoint,
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
