//! `dataverse-sim`: run the simulator as a process. When listening it prints two lines to
//! stdout: `listening on http://127.0.0.1:<port>`, then one JSON ready document; then it
//! serves until killed (SIGINT/SIGTERM/kill). Diagnostics (and `--log-requests`) go to stderr.

use std::io::Write;
use std::net::SocketAddr;

use clap::{Parser, ValueEnum};
use dataverse_sim::health::{FailureKind, parse_mix};
use dataverse_sim::{FaultConfig, MailboxApprovalMode, SimConfig, Simulator, fixtures};

#[derive(Clone, Copy, Debug, ValueEnum)]
enum MailboxApproval {
    Rejected,
    Equivalent,
}

/// `--limits real|off|scale=F`.
#[derive(Clone, Copy, Debug, PartialEq)]
enum LimitsArg {
    Real,
    Off,
    Scale(f64),
}

fn parse_limits(s: &str) -> Result<LimitsArg, String> {
    match s.trim() {
        "real" => Ok(LimitsArg::Real),
        "off" => Ok(LimitsArg::Off),
        other => match other.strip_prefix("scale=").map(|f| f.trim().parse::<f64>()) {
            Some(Ok(f)) if f.is_finite() && f > 0.0 => Ok(LimitsArg::Scale(f)),
            Some(_) => Err(format!("'{other}': the scale must be a number greater than 0 (scale=0.01)")),
            None => Err(format!("'{other}': expected real, off or scale=F")),
        },
    }
}

/// `--health-mix kind=share,…` (a newtype: clap would read a `Vec` as repeated values).
#[derive(Clone, Debug, PartialEq)]
struct HealthMix(Vec<(FailureKind, f64)>);

fn parse_health_mix(s: &str) -> Result<HealthMix, String> {
    parse_mix(s).map(HealthMix)
}

/// Dataverse Web API simulator for crmsync tests.
#[derive(Parser, Debug)]
#[command(name = "dataverse-sim", version)]
struct Args {
    /// Address and port to listen on (port 0 = ephemeral).
    #[arg(long, value_name = "ADDR:PORT", default_value = "127.0.0.1:0", conflicts_with = "port")]
    listen: SocketAddr,
    /// Port on 127.0.0.1 (0 = ephemeral); same as --listen 127.0.0.1:PORT.
    #[arg(long)]
    port: Option<u16>,
    /// Seeded users with mailboxes (alias: --users).
    #[arg(long, visible_alias = "users", default_value_t = 25)]
    mailboxes: usize,
    /// JSON file with an array of further environments for the Global Discovery Service
    /// route (`Instances` rows: `UniqueName`, `FriendlyName`, `Url`, `ApiUrl`, …), listed after
    /// this simulator itself.
    #[arg(long, value_name = "FILE")]
    discovery_instances: Option<std::path::PathBuf>,
    /// Seeded queues with mailboxes.
    #[arg(long, default_value_t = 5)]
    queues: usize,
    /// Also seed already-working (every 12th) and inactive (every 20th) user mailboxes.
    #[arg(long)]
    mixed_states: bool,
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
    /// Interval of the synchronization cycle per mailbox, also the retry interval after a
    /// transient failure (0 = no cycle).
    #[arg(long, default_value_t = 300_000)]
    sync_interval_ms: u64,
    /// Consecutive transient failures after which a mailbox is disabled for processing.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..))]
    transient_attempts: u32,
    /// Seeded failures: kind=share[,kind=share…] (kinds: license, owner-mismatch,
    /// queue-team-without-role, access-mode, user-disabled, not-in-tenant, ews-disabled,
    /// unauthorized, timeout).
    #[arg(long, value_name = "SPEC", value_parser = parse_health_mix)]
    health_mix: Option<HealthMix>,
    /// Most mailboxes one worker pass synchronizes.
    #[arg(long, default_value_t = 500, value_parser = clap::value_parser!(u64).range(1..))]
    sync_slice: u64,
    /// Service-protection limits: real (the service's numbers), off, or scale=F (window and
    /// budgets times F; scale=0.01: 60 requests / 12,000 ms per 3 s).
    #[arg(long, value_name = "real|off|scale=F", value_parser = parse_limits, conflicts_with_all = ["no_limits", "limits_scale"])]
    limits: Option<LimitsArg>,
    /// Turn the service-protection limits (429) off (same as --limits off).
    #[arg(long)]
    no_limits: bool,
    /// Scale of the limits' window and budgets (same as --limits scale=F).
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
    /// Most operations in one $batch (the service allows 1000; some organizations are reported
    /// to refuse more than 250): a larger batch is refused whole with the service's 400.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..=1000))]
    max_batch_size: u64,
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
    /// Probability of an injected 429 (request-count limit's code and message) per Web API request.
    #[arg(long = "fault-429", default_value_t = 0.0)]
    fault_429: f64,
    /// Retry-After of an injected 429, in seconds.
    #[arg(long = "fault-429-retry-after", default_value_t = 1)]
    fault_429_retry_after: u64,
    /// Probability of an injected 500, 502 or 504 (chosen at random) per Web API request.
    #[arg(long = "fault-5xx", default_value_t = 0.0)]
    fault_5xx: f64,
    /// One line per request on stderr: method, path (no query string), status, caller, duration.
    #[arg(long)]
    log_requests: bool,
}

/// The `--discovery-instances` file: a JSON array of objects.
fn read_instances(path: &std::path::Path) -> std::io::Result<Vec<serde_json::Value>> {
    let bad =
        |why: String| std::io::Error::new(std::io::ErrorKind::InvalidData, format!("--discovery-instances {}: {why}", path.display()));
    let text = std::fs::read_to_string(path)?;
    let value: serde_json::Value = serde_json::from_str(&text).map_err(|e| bad(e.to_string()))?;
    match value {
        serde_json::Value::Array(rows) if rows.iter().all(serde_json::Value::is_object) => Ok(rows),
        _ => Err(bad("expected a JSON array of objects".to_string())),
    }
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let args = Args::parse();
    let listen = match args.port {
        Some(port) => SocketAddr::from(([127, 0, 0, 1], port)),
        None => args.listen,
    };
    let (limits_enabled, limits_scale) = match args.limits {
        Some(LimitsArg::Real) => (true, 1.0),
        Some(LimitsArg::Off) => (false, 1.0),
        Some(LimitsArg::Scale(f)) => (true, f),
        None => (!args.no_limits, args.limits_scale),
    };
    let discovery_instances = match &args.discovery_instances {
        Some(path) => read_instances(path)?,
        None => Vec::new(),
    };
    let config = SimConfig {
        discovery_instances,
        port: listen.port(),
        listen_ip: listen.ip(),
        log_requests: args.log_requests,
        mailboxes: args.mailboxes,
        queues: args.queues,
        mixed_states: args.mixed_states,
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
        sync_interval_ms: args.sync_interval_ms,
        transient_attempts: args.transient_attempts,
        health_mix: args.health_mix.map(|m| m.0).unwrap_or_default(),
        sync_slice: args.sync_slice as usize,
        limits_enabled,
        limits_scale,
        limit_concurrent: args.limit_concurrent,
        exec_cost_ms: args.exec_cost_ms,
        latency_ms: args.latency_ms,
        dop_hint: args.dop_hint,
        batch_max_operations: args.max_batch_size as usize,
        faults: FaultConfig {
            unavailable: args.fault_503,
            reset: args.fault_reset,
            reset_after_processing: !args.fault_reset_before_processing,
            slow: args.fault_slow,
            slow_ms: args.fault_slow_ms,
            token_expiry: args.fault_token_expiry,
            token_endpoint: args.fault_token_endpoint,
            throttle: args.fault_429,
            throttle_retry_after_secs: args.fault_429_retry_after,
            server_error: args.fault_5xx,
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
    writeln!(out, "listening on {}", sim.url())?;
    writeln!(out, "{ready}")?;
    out.flush()?;
    drop(out);
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

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn limits_values() {
        assert_eq!(parse_limits("real"), Ok(LimitsArg::Real));
        assert_eq!(parse_limits("off"), Ok(LimitsArg::Off));
        assert_eq!(parse_limits("scale=0.01"), Ok(LimitsArg::Scale(0.01)));
        assert!(parse_limits("scale=0").is_err());
        assert!(parse_limits("scale=x").is_err());
        assert!(parse_limits("fast").is_err());
    }

    #[test]
    fn cli_parses() {
        Args::command().debug_assert();
        let a = Args::try_parse_from(["dataverse-sim", "--users", "7", "--limits", "scale=0.5", "--port", "0"]).unwrap();
        assert_eq!((a.mailboxes, a.limits, a.port), (7, Some(LimitsArg::Scale(0.5)), Some(0)));
        assert!(Args::try_parse_from(["dataverse-sim", "--limits", "off", "--no-limits"]).is_err());
        assert_eq!(Args::try_parse_from(["dataverse-sim", "--max-batch-size", "250"]).unwrap().max_batch_size, 250);
        assert!(Args::try_parse_from(["dataverse-sim", "--max-batch-size", "0"]).is_err());
        assert!(Args::try_parse_from(["dataverse-sim", "--max-batch-size", "1001"]).is_err());
        assert!(Args::try_parse_from(["dataverse-sim", "--listen", "127.0.0.1:0", "--port", "1"]).is_err());
        let a = Args::try_parse_from(["dataverse-sim", "--health-mix", "license=0.1,timeout=0.2", "--sync-interval-ms", "50"]).unwrap();
        assert_eq!(a.health_mix, Some(HealthMix(vec![(FailureKind::License, 0.1), (FailureKind::Timeout, 0.2)])));
        assert_eq!((a.sync_interval_ms, a.transient_attempts), (50, 10));
        assert!(Args::try_parse_from(["dataverse-sim", "--health-mix", "license=2"]).is_err());
        assert!(Args::try_parse_from(["dataverse-sim", "--transient-attempts", "0"]).is_err());
        let a = Args::try_parse_from(["dataverse-sim", "--listen", "0.0.0.0:8080"]).unwrap();
        assert_eq!(a.listen, "0.0.0.0:8080".parse::<SocketAddr>().unwrap());
    }
}
