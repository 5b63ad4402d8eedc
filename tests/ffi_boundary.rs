//! The C boundary refuses bad input with a status and an error document, and never crashes.

mod common;

use common::*;
use crmsync::ffi::{self, Status};
use std::ptr;

#[test]
fn the_abi_version_matches_the_header_constant() {
    assert_eq!(ffi::crmsync_abi_version(), ffi::CRMSYNC_ABI_VERSION);
    let header = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/include/crmsync.h")).unwrap();
    assert!(header.contains(&format!("#define CRMSYNC_ABI_VERSION {}", ffi::CRMSYNC_ABI_VERSION)));
}

#[test]
fn null_pointers_are_refused_with_an_error_document() {
    let mut client = ptr::null_mut();
    let mut error = ptr::null_mut();
    let status = unsafe { ffi::crmsync_client_new(ptr::null(), 0, &mut client, &mut error) };
    assert_eq!(status, Status::NullArgument);
    assert!(client.is_null());
    let doc = json(take(error));
    assert_eq!(doc["status"], "NullArgument");
    assert_eq!(doc["status_code"], 1);
    assert!(doc["message"].as_str().unwrap().contains("config"));

    let config = token_config("https://contoso.crm.dynamics.com", "t");
    let status = unsafe { ffi::crmsync_client_new(config.as_ptr(), config.len(), ptr::null_mut(), ptr::null_mut()) };
    assert_eq!(status, Status::NullArgument, "a NULL out-parameter is refused even without error_out");

    let (mut result, mut error) = (ptr::null_mut(), ptr::null_mut());
    assert_eq!(unsafe { ffi::crmsync_who_am_i(ptr::null(), &mut result, &mut error) }, Status::NullArgument);
    assert!(result.is_null());
    assert!(take(error).unwrap().contains("client is NULL"));
    assert_eq!(unsafe { ffi::crmsync_op_cancel(ptr::null_mut()) }, Status::NullArgument);
    unsafe {
        ffi::crmsync_client_free(ptr::null_mut());
        ffi::crmsync_op_free(ptr::null_mut());
        ffi::crmsync_string_free(ptr::null_mut());
    }
}

#[test]
fn invalid_utf8_invalid_json_and_wrong_shapes_have_distinct_statuses() {
    let bad_utf8 = [b'{', 0xff, 0xfe, b'}'];
    assert_eq!(new_client_bytes(&bad_utf8).0, Status::InvalidUtf8);
    assert_eq!(new_client_bytes(b"{not json").0, Status::InvalidJson);
    let (status, doc) = new_client_bytes(br#"{"version":1,"url":"https://a.crm.dynamics.com"}"#);
    assert_eq!(status, Status::InvalidArgument);
    assert!(doc["message"].as_str().unwrap().contains("credential"), "{doc}");
    let (status, doc) = new_client_bytes(token_config("http://contoso.crm.dynamics.com", "t").as_bytes());
    assert_eq!(status, Status::InvalidArgument);
    assert!(doc["message"].as_str().unwrap().contains("https"));
}

#[test]
fn a_query_without_version_or_with_unknown_fields_is_refused_before_any_request() {
    let client = new_client(&token_config("https://unreachable.invalid", "t")).unwrap();
    for query in [r#"{"name":"x"}"#, r#"{"version":1,"nmae":"x"}"#, r#"{"version":1,"page_size":"ten"}"#] {
        let Err((status, doc)) = list_mailboxes(&client, query) else { panic!("accepted {query}") };
        assert_eq!(status, Status::InvalidArgument, "{query}: {doc}");
    }
    let Err((status, _)) = profiles(&client, "[1,2") else { panic!() };
    assert_eq!(status, Status::InvalidJson);
}

#[test]
fn an_unreachable_host_is_a_transport_error_with_a_remedy() {
    // Port 9 on loopback: nothing listens, the connection is refused at once.
    let client = new_client(&token_config("http://127.0.0.1:9", "t")).unwrap();
    let Err((status, doc)) = who_am_i(&client) else { panic!() };
    assert_eq!(status, Status::Transport);
    assert!(doc["remedy"].as_str().unwrap().contains("network"), "{doc}");
}

fn new_client_bytes(bytes: &[u8]) -> (Status, serde_json::Value) {
    let mut client = ptr::null_mut();
    let mut error = ptr::null_mut();
    let status = unsafe { ffi::crmsync_client_new(bytes.as_ptr(), bytes.len(), &mut client, &mut error) };
    unsafe { ffi::crmsync_client_free(client) };
    (status, json(take(error)))
}
