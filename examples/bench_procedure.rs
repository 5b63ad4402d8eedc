//! The whole procedure once through the Rust API, against a fresh simulator process started
//! exactly as `tools/bench-powershell.ps1` starts its own (the same binary and arguments: limits
//! off, the same mailboxes, queues and test delay) and with the same request as
//! `Invoke-CrmExchangeOnlineSetup -Wait -Timeout 1800`. `build.ps1 -Task Bench` runs both three
//! times in turn and prints the median PowerShell run's wall time against this one's median.
//!
//! `cargo run --release --example bench_procedure -- [--mailboxes 50000] [--test-delay-ms 1000]`
//!
//! Prints one line; its last fields are `rust_seconds=<s>` (read by build.ps1) and, where the
//! system reports it (Linux), `rust_peak_mb=<MB>`: the process's peak resident memory, which is
//! what the native library adds to the PowerShell process running the same procedure.

use crmsync::Client;
use crmsync::documents::SetupRequest;
use crmsync::operation::{LongOperation, NextEvent};
use crmsync::steps::setup::run as setup;
use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The simulator process; killed when dropped.
struct Sim {
    child: Child,
    url: String,
}

impl Sim {
    fn start(mailboxes: usize, test_delay_ms: u64) -> Sim {
        // target/<profile>/examples/bench_procedure -> target/<profile>/dataverse-sim
        let exe = std::env::current_exe().expect("the example's path");
        let dir = exe.parent().and_then(|p| p.parent()).expect("target/<profile>");
        let path = dir.join(format!("dataverse-sim{}", std::env::consts::EXE_SUFFIX));
        let mut child = Command::new(&path)
            .args(["--mailboxes", &mailboxes.to_string(), "--queues", &(mailboxes / 50).to_string()])
            .args(["--test-delay-ms", &test_delay_ms.to_string(), "--no-limits"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("{}: {e} (build it with cargo build --release --workspace)", path.display()));
        let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
        let mut url = None;
        let mut line = String::new();
        while url.is_none() {
            line.clear();
            if stdout.read_line(&mut line).expect("the simulator's output") == 0 {
                panic!("the simulator ended before its ready line");
            }
            if let Ok(ready) = serde_json::from_str::<Value>(line.trim()) {
                url = ready["url"].as_str().map(|u| u.trim_end_matches('/').to_string());
            }
        }
        // Keep draining stdout so the pipe never fills.
        std::thread::spawn(move || {
            let _ = std::io::copy(&mut stdout.take(u64::MAX), &mut std::io::sink());
        });
        Sim { child, url: url.expect("a url") }
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn main() {
    let (mut mailboxes, mut test_delay_ms) = (50_000usize, 1000u64);
    let mut args = std::env::args().skip(1);
    while let Some(name) = args.next() {
        let value = args.next().unwrap_or_default();
        match name.as_str() {
            "--mailboxes" => mailboxes = value.parse().expect("a number"),
            "--test-delay-ms" => test_delay_ms = value.parse().expect("a number"),
            other => panic!("unknown option {other}"),
        }
    }
    let sim = Sim::start(mailboxes, test_delay_ms);
    // What Connect-CrmOnline -Url -AccessToken configures: the URL and the token, nothing else.
    let config = json!({"version": 1, "url": sim.url, "credential": {"kind": "access_token", "access_token": "sim-token-admin"}});
    let client = Arc::new(Client::from_json(config.to_string().as_bytes()).expect("client"));
    // What Invoke-CrmExchangeOnlineSetup -Wait -Timeout 1800 -Confirm:$false sends.
    let request = SetupRequest {
        version: 1,
        server_profile: Some("Microsoft Exchange Online".into()),
        wait: true,
        timeout_secs: Some(1800),
        ..SetupRequest::default()
    };
    let started = Instant::now();
    let op = LongOperation::start(move |sink| async move { setup(client, request, sink).await.map(crmsync::documents::to_value) });
    let mut events = 0usize;
    loop {
        match op.next_event(Duration::from_millis(250)) {
            NextEvent::Finished => break,
            NextEvent::Event(_) => events += 1,
            NextEvent::TimedOut => {}
        }
    }
    let result = op.result().expect("finished").expect("the procedure succeeds");
    let seconds = started.elapsed().as_secs_f64();
    let peak = peak_resident_mb().map(|mb| format!(", peak resident memory {mb} MB, rust_peak_mb={mb}")).unwrap_or_default();
    println!(
        "{} mailboxes through the Rust API (steps::setup::run), limits off: {seconds:.1} s, {events} events, rust_seconds={seconds:.3}{peak}",
        result["mailboxes"].as_u64().unwrap_or_default()
    );
}

/// `VmHWM` of /proc/self/status (Linux): the most this process ever held resident.
fn peak_resident_mb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024)
}
