//! `POST /api/data/v9.2/$batch` (reference §10.4, Microsoft "Execute batch operations using the
//! Web API"): multipart/mixed requests with optional change sets.
//!
//! Behaviour:
//! - The whole body is parsed and checked before anything runs; a malformed body, a `GET` in a
//!   change set, a change-set operation without `Content-ID`, a nested `$batch` or more than
//!   [`crate::SimConfig::batch_max_operations`] operations (top-level parts, operations in one
//!   change set, or operations in all) fail the whole request with 400 and run nothing.
//! - Operations run in order through [`crate::routes::execute`]: same caller, privileges,
//!   validation and side effects as single requests.
//! - A change set runs with the store gate held exclusively; if one of its operations fails,
//!   every change in the change set is rolled back and the change set's response is that one
//!   error response (an `application/http` part with the failing operation's `Content-ID`,
//!   not wrapped in a `changesetresponse`), as OData 4.0 §11.7.4 specifies.
//! - `$n` (the `OData-EntityId` of an earlier operation of the same change set) is replaced at
//!   the start of a URL and in `@odata.bind` / `@odata.id` values; an unknown `$n` is 400
//!   "Content-ID Reference: '$n' does not exist in the batch context."
//! - Without `Prefer: odata.continue-on-error` the first failing operation (or change set)
//!   ends processing and the outer status is 400; the multipart body holds the responses so
//!   far, the failure last. With it the outer status is 200, every part is reported, and
//!   `Preference-Applied: odata.continue-on-error` is returned.
//! - A `$batch` counts as one request for the service-protection request limit; the number of
//!   operations executed is returned to the limits middleware in [`BatchOps`].

use std::collections::HashMap;

use axum::body::{Bytes, to_bytes};
use axum::http::header::{HeaderName, HeaderValue};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use percent_encoding::percent_decode_str;
use serde_json::Value;
use uuid::Uuid;

use crate::app::App;
use crate::errors::{ApiError, ApiResult};
use crate::odata::prefer::Prefer;
use crate::routes::{API_PREFIX, execute, finish_headers};
use crate::store::RequestRecord;

/// Number of operations a `$batch` executed (response extension read by the limits layer).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchOps(pub usize);

#[derive(Debug)]
struct Op {
    method: Method,
    target: String,
    headers: HeaderMap,
    body: Bytes,
    content_id: Option<String>,
}

#[derive(Debug)]
enum Item {
    Op(Op),
    ChangeSet(Vec<Op>),
}

/// `multipart/mixed; boundary="x"` → `("multipart/mixed", Some("x"))`.
fn media_type(ct: &str) -> (String, Option<String>) {
    let mut parts = ct.split(';');
    let mime = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
    let boundary = parts
        .filter_map(|p| p.split_once('='))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case("boundary"))
        .map(|(_, v)| v.trim().trim_matches('"').to_string())
        .filter(|b| !b.is_empty());
    (mime, boundary)
}

fn strip_line_end(s: &str) -> &str {
    s.strip_suffix("\r\n").or_else(|| s.strip_suffix('\n')).unwrap_or(s)
}

/// The parts between `--boundary` lines (the line break before a delimiter belongs to it).
fn split_multipart(text: &str, boundary: &str) -> ApiResult<Vec<String>> {
    let delim = format!("--{boundary}");
    let close = format!("--{boundary}--");
    let mut parts = Vec::new();
    let mut cur: Option<String> = None;
    for line in text.split_inclusive('\n') {
        let t = line.trim_end();
        if t == close || t == delim {
            if let Some(c) = cur.take() {
                parts.push(strip_line_end(&c).to_string());
            }
            if t == close {
                return Ok(parts);
            }
            cur = Some(String::new());
        } else if let Some(c) = cur.as_mut() {
            c.push_str(line);
        }
    }
    Err(ApiError::odata(format!("The end boundary '--{boundary}--' of the multipart message was not found.")))
}

/// Header lines up to the first empty line, and the rest.
fn split_head(part: &str) -> (Vec<(String, String)>, &str) {
    let mut headers = Vec::new();
    let mut offset = 0;
    for line in part.split_inclusive('\n') {
        offset += line.len();
        let t = line.trim_end_matches(['\r', '\n']);
        if t.is_empty() {
            return (headers, &part[offset..]);
        }
        if let Some((k, v)) = t.split_once(':') {
            headers.push((k.trim().to_string(), v.trim().to_string()));
        }
    }
    (headers, "")
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
}

fn parse_op(mime_headers: &[(String, String)], content: &str) -> ApiResult<Op> {
    let content = content.trim_start_matches(['\r', '\n']);
    let (first, rest) = match content.find('\n') {
        Some(i) => (&content[..i], &content[i + 1..]),
        None => (content, ""),
    };
    let words: Vec<&str> = first.split_whitespace().collect();
    let [method, target, version] = words[..] else {
        return Err(ApiError::odata(format!("The HTTP request line '{}' of a batch operation is not valid.", first.trim())));
    };
    if !version.starts_with("HTTP/") {
        return Err(ApiError::odata(format!("The HTTP version '{version}' used in a batch operation request is not supported.")));
    }
    let method = Method::from_bytes(method.as_bytes()).map_err(|_| ApiError::odata(format!("Invalid HTTP method '{method}'.")))?;
    let (head, body) = split_head(rest);
    let mut headers = HeaderMap::new();
    for (k, v) in &head {
        let name =
            HeaderName::from_bytes(k.as_bytes()).map_err(|_| ApiError::odata(format!("Invalid header '{k}' in a batch operation.")))?;
        let value =
            HeaderValue::from_str(v).map_err(|_| ApiError::odata(format!("Invalid value of header '{k}' in a batch operation.")))?;
        headers.append(name, value);
    }
    let content_id = header(mime_headers, "Content-ID").or_else(|| header(&head, "Content-ID")).map(str::to_string);
    let body = body.trim_end();
    Ok(Op { method, target: target.to_string(), headers, body: Bytes::from(body.to_string()), content_id })
}

fn is_nested_batch(target: &str) -> bool {
    target.split('?').next().unwrap_or_default().trim_end_matches('/').ends_with("$batch")
}

fn too_many_parts(max: usize) -> ApiError {
    ApiError::odata(format!(
        "The current batch message contains too many parts. Only batch messages with a maximum number of '{max}' query operations, including changeset operations, are allowed."
    ))
}

fn parse_batch(body: &[u8], boundary: &str, max: usize) -> ApiResult<Vec<Item>> {
    let text = std::str::from_utf8(body).map_err(|_| ApiError::odata("The batch request body is not valid UTF-8."))?;
    let parts = split_multipart(text, boundary)?;
    if parts.len() > max {
        return Err(too_many_parts(max));
    }
    let mut items = Vec::new();
    let mut total = 0usize;
    for part in &parts {
        let (mime_headers, content) = split_head(part);
        let (mime, inner_boundary) = media_type(header(&mime_headers, "Content-Type").unwrap_or_default());
        match mime.as_str() {
            "application/http" => {
                let op = parse_op(&mime_headers, content)?;
                if is_nested_batch(&op.target) {
                    return Err(ApiError::odata("A batch request cannot contain another batch request."));
                }
                total += 1;
                items.push(Item::Op(op));
            }
            "multipart/mixed" => {
                let Some(cs_boundary) = inner_boundary else {
                    return Err(ApiError::odata("The 'boundary' parameter is missing from the change set's Content-Type header."));
                };
                let mut ops = Vec::new();
                for cs_part in split_multipart(content, &cs_boundary)? {
                    let (h, c) = split_head(&cs_part);
                    let (m, _) = media_type(header(&h, "Content-Type").unwrap_or_default());
                    if m == "multipart/mixed" {
                        return Err(ApiError::odata("Change sets cannot be nested: a change set can only contain operations."));
                    }
                    if m != "application/http" {
                        return Err(ApiError::odata(format!(
                            "The content type '{m}' of a change set part is not supported; use 'application/http'."
                        )));
                    }
                    let op = parse_op(&h, c)?;
                    if op.method == Method::GET {
                        return Err(ApiError::odata(
                            "An invalid HTTP method 'GET' was detected for a request in a change set. Requests in change sets only support the HTTP methods 'POST', 'PUT', 'DELETE', and 'PATCH'.",
                        ));
                    }
                    if is_nested_batch(&op.target) {
                        return Err(ApiError::odata("A batch request cannot contain another batch request."));
                    }
                    let Some(cid) = &op.content_id else {
                        return Err(ApiError::odata(
                            "The header 'Content-ID' was not present in the header collection of a change set operation.",
                        ));
                    };
                    if ops.iter().any(|o: &Op| o.content_id.as_deref() == Some(cid.as_str())) {
                        return Err(ApiError::odata(format!("The Content-ID '{cid}' was found more than once in the same change set.")));
                    }
                    ops.push(op);
                }
                if ops.len() > max {
                    return Err(ApiError::odata(format!(
                        "The current change set contains too many operations. A maximum number of '{max}' operations are allowed in a change set."
                    )));
                }
                total += ops.len();
                items.push(Item::ChangeSet(ops));
            }
            other => {
                return Err(ApiError::odata(format!(
                    "The content type '{other}' of a batch part is not supported; use 'application/http' or 'multipart/mixed'."
                )));
            }
        }
        if total > max {
            return Err(too_many_parts(max));
        }
    }
    Ok(items)
}

fn missing_reference(r: &str) -> Response {
    ApiError::odata(format!("Content-ID Reference: '{r}' does not exist in the batch context.")).into_response()
}

/// Replace `$n` references in `@odata.bind` / `@odata.id` values.
fn substitute_body(body: &Bytes, ids: &HashMap<String, String>) -> Result<Bytes, String> {
    if !body.contains(&b'$') {
        return Ok(body.clone());
    }
    let Ok(Value::Object(mut map)) = serde_json::from_slice::<Value>(body) else {
        return Ok(body.clone());
    };
    for (k, v) in map.iter_mut() {
        if !(k.ends_with("@odata.bind") || k == "@odata.id") {
            continue;
        }
        if let Value::String(s) = v
            && let Some(id) = s.strip_prefix('$')
            && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            match ids.get(id) {
                Some(url) => *s = url.clone(),
                None => return Err(s.clone()),
            }
        }
    }
    Ok(Bytes::from(Value::Object(map).to_string()))
}

/// Run one operation; `ids` maps Content-IDs of earlier operations in the same change set to
/// their entity URLs.
fn run_op(app: &App, user: Uuid, op: &Op, ids: &HashMap<String, String>) -> Response {
    let mut target = op.target.clone();
    if let Some(r) = target.strip_prefix('$') {
        let end = r.find(['/', '?']).unwrap_or(r.len());
        let Some(url) = ids.get(&r[..end]) else {
            return missing_reference(&format!("${}", &r[..end]));
        };
        target = format!("{url}{}", &r[end..]);
    }
    let body = match substitute_body(&op.body, ids) {
        Ok(b) => b,
        Err(r) => return missing_reference(&r),
    };
    let (path, query) = match target.split_once('?') {
        Some((p, q)) => (p.to_string(), Some(q.to_string())),
        None => (target.clone(), None),
    };
    let path = if let Some(i) = path.find("://") {
        let after = &path[i + 3..];
        after.find('/').map(|j| after[j..].to_string()).unwrap_or_default()
    } else {
        path
    };
    let relative = if path.starts_with('/') {
        match path.strip_prefix(API_PREFIX) {
            Some(rest) => rest.trim_start_matches('/').to_string(),
            None => {
                return ApiError::new(
                    StatusCode::NOT_FOUND,
                    crate::errors::CODE_ODATA,
                    format!("No HTTP resource was found that matches the request URI '{path}'."),
                )
                .into_response();
            }
        }
    } else {
        path
    };
    let decoded = percent_decode_str(&relative).decode_utf8_lossy().into_owned();
    let mut resp = execute(app, user, &op.method, &decoded, query.as_deref(), &op.headers, &body);
    finish_headers(&mut resp);
    let uri = match &query {
        Some(q) => format!("{API_PREFIX}/{relative}?{q}"),
        None => format!("{API_PREFIX}/{relative}"),
    };
    app.lock().operations.push(RequestRecord { method: op.method.to_string(), uri, user: Some(user), status: resp.status().as_u16() });
    resp
}

/// Header names as the service writes them (`http` keeps them lowercase).
fn display_name(name: &str) -> String {
    match name {
        "odata-version" => "OData-Version".into(),
        "odata-entityid" => "OData-EntityId".into(),
        "etag" => "ETag".into(),
        "req_id" => "REQ_ID".into(),
        "www-authenticate" => "WWW-Authenticate".into(),
        other => other
            .split('-')
            .map(|w| {
                let mut c = w.chars();
                c.next().map(|f| f.to_ascii_uppercase().to_string() + c.as_str()).unwrap_or_default()
            })
            .collect::<Vec<_>>()
            .join("-"),
    }
}

async fn write_part(out: &mut String, boundary: &str, content_id: Option<&str>, resp: Response) {
    let (parts, body) = resp.into_parts();
    let body = to_bytes(body, usize::MAX).await.unwrap_or_default();
    out.push_str(&format!("--{boundary}\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n"));
    if let Some(cid) = content_id {
        out.push_str(&format!("Content-ID: {cid}\r\n"));
    }
    let reason = parts.status.canonical_reason().unwrap_or("");
    out.push_str(&format!("\r\nHTTP/1.1 {} {reason}\r\n", parts.status.as_u16()));
    for (name, value) in &parts.headers {
        if name == header::CONTENT_LENGTH {
            continue;
        }
        out.push_str(&format!("{}: {}\r\n", display_name(name.as_str()), value.to_str().unwrap_or_default()));
    }
    out.push_str("\r\n");
    out.push_str(&String::from_utf8_lossy(&body));
    out.push_str("\r\n");
}

/// Handle `$batch` for an authenticated caller.
pub async fn handle(app: &App, user: Uuid, method: &Method, headers: &HeaderMap, body: &Bytes) -> Response {
    if *method != Method::POST {
        return ApiError::method_not_allowed(format!("The HTTP method '{method}' is not allowed for $batch; use POST.")).into_response();
    }
    let ct = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
    let (mime, boundary) = media_type(ct);
    let boundary = match (mime.as_str(), boundary) {
        ("multipart/mixed", Some(b)) => b,
        _ => {
            return ApiError::odata(format!(
                "The content type '{ct}' is not valid for a batch request; use 'multipart/mixed' with a 'boundary' parameter."
            ))
            .into_response();
        }
    };
    let items = match parse_batch(body, &boundary, app.config.batch_max_operations) {
        Ok(items) => items,
        Err(e) => return e.into_response(),
    };
    let continue_on_error = Prefer::from_headers(headers).continue_on_error;
    let response_boundary = format!("batchresponse_{}", Uuid::new_v4());
    let mut out = String::new();
    let mut executed = 0usize;
    let mut failed = false;
    let none = HashMap::new();
    for item in items {
        match item {
            Item::Op(op) => {
                let resp = {
                    let _shared = app.shared();
                    run_op(app, user, &op, &none)
                };
                executed += 1;
                let bad = resp.status().is_client_error() || resp.status().is_server_error();
                write_part(&mut out, &response_boundary, None, resp).await;
                if bad {
                    failed = true;
                    if !continue_on_error {
                        break;
                    }
                }
            }
            Item::ChangeSet(ops) => {
                let (done, failure) = {
                    let _exclusive = app.exclusive();
                    let snapshot = app.lock().snapshot();
                    let mut ids = HashMap::new();
                    let mut done = Vec::new();
                    let mut failure = None;
                    for op in ops {
                        executed += 1;
                        let resp = run_op(app, user, &op, &ids);
                        let cid = op.content_id.clone().unwrap_or_default();
                        if resp.status().is_client_error() || resp.status().is_server_error() {
                            failure = Some((cid, resp));
                            break;
                        }
                        if let Some(url) = resp.headers().get("OData-EntityId").and_then(|v| v.to_str().ok()) {
                            ids.insert(cid.clone(), url.to_string());
                        }
                        done.push((cid, resp));
                    }
                    if failure.is_some() {
                        app.lock().restore(snapshot);
                    }
                    (done, failure)
                };
                if let Some((cid, resp)) = failure {
                    write_part(&mut out, &response_boundary, Some(&cid), resp).await;
                    failed = true;
                    if !continue_on_error {
                        break;
                    }
                } else {
                    let cs = format!("changesetresponse_{}", Uuid::new_v4());
                    out.push_str(&format!("--{response_boundary}\r\nContent-Type: multipart/mixed; boundary={cs}\r\n\r\n"));
                    for (cid, resp) in done {
                        write_part(&mut out, &cs, Some(&cid), resp).await;
                    }
                    out.push_str(&format!("--{cs}--\r\n"));
                }
            }
        }
    }
    out.push_str(&format!("--{response_boundary}--\r\n"));
    let status = if failed && !continue_on_error { StatusCode::BAD_REQUEST } else { StatusCode::OK };
    let mut resp = (status, out).into_response();
    let h = resp.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&format!("multipart/mixed; boundary={response_boundary}")) {
        h.insert(header::CONTENT_TYPE, v);
    }
    if continue_on_error {
        h.insert("Preference-Applied", HeaderValue::from_static("odata.continue-on-error"));
    }
    resp.extensions_mut().insert(BatchOps(executed.max(1)));
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_parts_and_change_sets() {
        let body = "--batch_1\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\nGET mailboxes?$top=1 HTTP/1.1\r\nAccept: application/json\r\n\r\n\r\n--batch_1\r\nContent-Type: multipart/mixed; boundary=\"changeset_2\"\r\n\r\n--changeset_2\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\nContent-ID: 1\r\n\r\nPATCH http://h/api/data/v9.2/queues(00000000-0000-0000-0000-000000000001) HTTP/1.1\r\nContent-Type: application/json\r\n\r\n{\"name\":\"x\"}\r\n--changeset_2--\r\n--batch_1--\r\n";
        let items = parse_batch(body.as_bytes(), "batch_1", 1000).unwrap();
        assert_eq!(items.len(), 2);
        let Item::Op(get) = &items[0] else { panic!() };
        assert_eq!((get.method.as_str(), get.target.as_str(), get.body.len()), ("GET", "mailboxes?$top=1", 0));
        let Item::ChangeSet(ops) = &items[1] else { panic!() };
        assert_eq!(ops[0].content_id.as_deref(), Some("1"));
        assert_eq!(&ops[0].body[..], b"{\"name\":\"x\"}");
        assert_eq!(media_type("multipart/mixed;boundary=batch_x"), ("multipart/mixed".into(), Some("batch_x".into())));
        // Unterminated, GET in a change set.
        assert!(parse_batch(b"--b\r\nContent-Type: application/http\r\n\r\nGET x HTTP/1.1\r\n", "b", 10).is_err());
        let get_in_cs = body.replace("PATCH http", "GET http");
        assert!(parse_batch(get_in_cs.as_bytes(), "batch_1", 1000).unwrap_err().message.contains("'GET'"));
    }

    #[test]
    fn substitutes_references() {
        let ids = HashMap::from([("1".to_string(), "http://h/api/data/v9.2/queues(1)".to_string())]);
        let b = substitute_body(&Bytes::from_static(b"{\"a@odata.bind\":\"$1\",\"n\":\"$2\"}"), &ids).unwrap();
        let v: Value = serde_json::from_slice(&b).unwrap();
        assert_eq!(v["a@odata.bind"], "http://h/api/data/v9.2/queues(1)");
        assert_eq!(v["n"], "$2");
        assert_eq!(substitute_body(&Bytes::from_static(b"{\"a@odata.bind\":\"$9\"}"), &ids).unwrap_err(), "$9");
    }
}
