//! Shared by the integration tests: a simulator on its own runtime, and safe wrappers that
//! call the C ABI exactly as a foreign caller would (pointers, lengths, free functions).
#![allow(dead_code)]

use crmsync::ffi::Status;
use dataverse_sim::{SimConfig, Simulator};
use std::ffi::{CStr, c_char};
use std::ptr;

pub struct Sim {
    pub sim: Option<Simulator>,
    pub url: String,
    runtime: tokio::runtime::Runtime,
}

impl Sim {
    pub fn start(mailboxes: usize, queues: usize) -> Sim {
        Sim::start_with(|c| {
            c.mailboxes = mailboxes;
            c.queues = queues;
        })
    }

    pub fn start_with(configure: impl FnOnce(&mut SimConfig)) -> Sim {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        let mut config = SimConfig::default();
        configure(&mut config);
        let sim = runtime.block_on(Simulator::start(config)).expect("simulator starts");
        let url = sim.url();
        Sim { sim: Some(sim), url, runtime }
    }

    pub fn with_state<R>(&self, f: impl FnOnce(&Simulator) -> R) -> R {
        f(self.sim.as_ref().unwrap())
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        if let Some(sim) = self.sim.take() {
            self.runtime.block_on(sim.shutdown());
        }
    }
}

/// Takes ownership of a string returned by crmsync and frees it with the library's function.
pub fn take(s: *mut c_char) -> Option<String> {
    if s.is_null() {
        return None;
    }
    let text = unsafe { CStr::from_ptr(s) }.to_str().expect("crmsync returns UTF-8").to_owned();
    unsafe { crmsync::ffi::crmsync_string_free(s) };
    Some(text)
}

pub fn json(s: Option<String>) -> serde_json::Value {
    serde_json::from_str(&s.expect("a document was returned")).expect("valid JSON")
}

pub struct Client(pub *mut crmsync::ffi::CrmsyncClient);

impl Drop for Client {
    fn drop(&mut self) {
        unsafe { crmsync::ffi::crmsync_client_free(self.0) };
    }
}

pub fn token_config(url: &str, token: &str) -> String {
    serde_json::json!({"version": 1, "url": url, "credential": {"kind": "access_token", "access_token": token}, "max_retries": 2})
        .to_string()
}

pub fn secret_config(url: &str, secret: &str) -> String {
    serde_json::json!({"version": 1, "url": url, "max_retries": 2, "credential": {
        "kind": "client_secret", "tenant_id": dataverse_sim::fixtures::TENANT_ID, "client_id": dataverse_sim::fixtures::CLIENT_ID,
        "client_secret": secret, "authority_host": url}})
    .to_string()
}

pub fn new_client(config: &str) -> Result<Client, (Status, serde_json::Value)> {
    let mut client = ptr::null_mut();
    let mut error = ptr::null_mut();
    let status = unsafe { crmsync::ffi::crmsync_client_new(config.as_ptr(), config.len(), &mut client, &mut error) };
    if status == Status::Ok { Ok(Client(client)) } else { Err((status, json(take(error)))) }
}

/// Calls a `(client, query, len, result_out, error_out)` or `(client, result_out, error_out)` export.
pub fn outcome(status: Status, result: *mut c_char, error: *mut c_char) -> Result<serde_json::Value, (Status, serde_json::Value)> {
    let (result, error) = (take(result), take(error));
    if status == Status::Ok { Ok(json(result)) } else { Err((status, json(error))) }
}

pub fn who_am_i(client: &Client) -> Result<serde_json::Value, (Status, serde_json::Value)> {
    let (mut result, mut error) = (ptr::null_mut(), ptr::null_mut());
    let status = unsafe { crmsync::ffi::crmsync_who_am_i(client.0, &mut result, &mut error) };
    outcome(status, result, error)
}

pub fn profiles(client: &Client, query: &str) -> Result<serde_json::Value, (Status, serde_json::Value)> {
    let (mut result, mut error) = (ptr::null_mut(), ptr::null_mut());
    let status = unsafe { crmsync::ffi::crmsync_email_server_profiles_get(client.0, query.as_ptr(), query.len(), &mut result, &mut error) };
    outcome(status, result, error)
}

pub struct Op(pub *mut crmsync::ffi::CrmsyncOperation);

impl Drop for Op {
    fn drop(&mut self) {
        unsafe { crmsync::ffi::crmsync_op_free(self.0) };
    }
}

pub fn list_mailboxes(client: &Client, query: &str) -> Result<Op, (Status, serde_json::Value)> {
    let (mut op, mut error) = (ptr::null_mut(), ptr::null_mut());
    let status = unsafe { crmsync::ffi::crmsync_mailboxes_list_start(client.0, query.as_ptr(), query.len(), &mut op, &mut error) };
    if status == Status::Ok { Ok(Op(op)) } else { Err((status, json(take(error)))) }
}

pub enum Next {
    Event(serde_json::Value),
    TimedOut,
    End,
}

pub fn next_event(op: &Op, timeout_ms: u32) -> Next {
    let (mut event, mut error) = (ptr::null_mut(), ptr::null_mut());
    let status = unsafe { crmsync::ffi::crmsync_op_next_event(op.0, timeout_ms, &mut event, &mut error) };
    assert!(take(error).is_none());
    match status {
        Status::Ok => Next::Event(json(take(event))),
        Status::TimedOut => Next::TimedOut,
        Status::EndOfEvents => Next::End,
        other => panic!("unexpected status {other:?}"),
    }
}

pub fn op_result(op: &Op) -> Result<serde_json::Value, (Status, serde_json::Value)> {
    let (mut result, mut error) = (ptr::null_mut(), ptr::null_mut());
    let status = unsafe { crmsync::ffi::crmsync_op_result(op.0, &mut result, &mut error) };
    outcome(status, result, error)
}

/// Pulls every event, then the result; returns all items of `items` events.
pub fn drain_items(op: &Op) -> (Vec<serde_json::Value>, Result<serde_json::Value, (Status, serde_json::Value)>) {
    let mut items = Vec::new();
    loop {
        match next_event(op, 10_000) {
            Next::Event(e) if e["type"] == "items" => items.extend(e["items"].as_array().unwrap().iter().cloned()),
            Next::Event(_) => {}
            Next::TimedOut => panic!("no event within 10 s"),
            Next::End => return (items, op_result(op)),
        }
    }
}

pub fn defaults_get(client: &Client) -> Result<serde_json::Value, (Status, serde_json::Value)> {
    let (mut result, mut error) = (ptr::null_mut(), ptr::null_mut());
    let status = unsafe { crmsync::ffi::crmsync_mailbox_defaults_get(client.0, &mut result, &mut error) };
    outcome(status, result, error)
}

pub fn defaults_set(client: &Client, request: &str) -> Result<serde_json::Value, (Status, serde_json::Value)> {
    let (mut result, mut error) = (ptr::null_mut(), ptr::null_mut());
    let status = unsafe { crmsync::ffi::crmsync_mailbox_defaults_set(client.0, request.as_ptr(), request.len(), &mut result, &mut error) };
    outcome(status, result, error)
}

pub type StartFn = unsafe extern "C" fn(
    *const crmsync::ffi::CrmsyncClient,
    *const u8,
    usize,
    *mut *mut crmsync::ffi::CrmsyncOperation,
    *mut *mut c_char,
) -> Status;

/// The `item` events an event carries: the items of a bulk step's `items` batch, each with its
/// `type` and `step` back (as the step sent it), or the event itself if it is an `item`.
/// A listing's page (`items` with a `page`) carries mailboxes, not items: none.
pub fn items_of(event: serde_json::Value) -> Vec<serde_json::Value> {
    if event["type"] == "item" {
        return vec![event];
    }
    if event["type"] != "items" || event.get("page").is_some() {
        return Vec::new();
    }
    let step = event.get("step").cloned();
    let serde_json::Value::Array(items) = event["items"].clone() else { panic!("a batch without items: {event}") };
    items
        .into_iter()
        .map(|mut item| {
            item["type"] = "item".into();
            if let Some(step) = &step {
                item["step"] = step.clone();
            }
            item
        })
        .collect()
}

/// Starts an operation, pulls every event, and returns the `item` events (out of their
/// batches) and the result.
pub fn run_op(
    client: &Client,
    start: StartFn,
    request: &str,
) -> (Vec<serde_json::Value>, Result<serde_json::Value, (Status, serde_json::Value)>) {
    let (mut op, mut error) = (ptr::null_mut(), ptr::null_mut());
    let status = unsafe { start(client.0, request.as_ptr(), request.len(), &mut op, &mut error) };
    if status != Status::Ok {
        return (Vec::new(), Err((status, json(take(error)))));
    }
    let op = Op(op);
    let mut items = Vec::new();
    loop {
        match next_event(&op, 60_000) {
            Next::Event(e) => items.extend(items_of(e)),
            Next::TimedOut => panic!("no event within 60 s"),
            Next::End => return (items, op_result(&op)),
        }
    }
}

pub fn outcomes(items: &[serde_json::Value]) -> std::collections::BTreeMap<String, usize> {
    let mut counts = std::collections::BTreeMap::new();
    for item in items {
        *counts.entry(item["outcome"].as_str().unwrap().to_owned()).or_default() += 1;
    }
    counts
}

/// Runs `crmsync_client_authenticate_start` to the end; `on_event` sees every event as it
/// arrives (a device code test approves the code from there). Returns the events and the result.
pub fn authenticate(
    client: &Client,
    mut on_event: impl FnMut(&serde_json::Value),
) -> (Vec<serde_json::Value>, Result<serde_json::Value, (Status, serde_json::Value)>) {
    let request = r#"{"version":1}"#;
    let (mut op, mut error) = (ptr::null_mut(), ptr::null_mut());
    let status = unsafe { crmsync::ffi::crmsync_client_authenticate_start(client.0, request.as_ptr(), request.len(), &mut op, &mut error) };
    if status != Status::Ok {
        return (Vec::new(), Err((status, json(take(error)))));
    }
    let op = Op(op);
    let mut events = Vec::new();
    loop {
        match next_event(&op, 60_000) {
            Next::Event(e) => {
                on_event(&e);
                events.push(e);
            }
            Next::TimedOut => panic!("no event within 60 s"),
            Next::End => return (events, op_result(&op)),
        }
    }
}
