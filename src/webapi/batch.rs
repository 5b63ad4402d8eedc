//! `$batch` as Dataverse documents it (dataverse-reference §10.4): independent operations in
//! one `multipart/mixed` request, answered part by part in the same order. No change sets:
//! each mailbox's write must succeed or fail on its own.

use crate::error::{Error, ErrorKind, Result};
use serde_json::Value;
use std::sync::Arc;
use url::Url;

/// The service's limit on operations in one `$batch`.
pub const MAX_OPERATIONS: usize = 1000;

/// One write inside a batch. Paths are relative to the API base (`mailboxes(<id>)`).
#[derive(Debug, Clone)]
pub struct BatchOperation {
    pub method: &'static str,
    pub path: String,
    /// Shared: thousands of writes often carry the very same body.
    pub body: Arc<Value>,
    pub if_match: Option<String>,
}

/// One operation's answer.
#[derive(Debug, Clone)]
pub struct BatchAnswer {
    pub status: u16,
    pub retry_after: Option<std::time::Duration>,
    /// The OData error, when the status is not a success.
    pub error: Option<Error>,
}

/// Whether `error` is the service refusing a whole `$batch` for its number of operations
/// (400, "…too many parts. Only batch messages with a maximum number of '1000'…", or the
/// change-set variant "…too many operations. A maximum number of '1000' operations…"), and
/// the limit when the message names one. Matched on the words, not the code: the service
/// answers these from its OData layer without a Dataverse error code, and users report other
/// caps (250) whose exact text is not documented.
pub fn size_limit(error: &Error) -> Option<Option<usize>> {
    if error.http_status != Some(400) {
        return None;
    }
    let text = error.message.to_ascii_lowercase();
    let about_size = text.contains("too many") || text.contains("exceeds the limit") || text.contains("maximum number");
    let about_batch = text.contains("batch") || text.contains("change set") || text.contains("changeset");
    if !(about_size && about_batch) {
        return None;
    }
    // The first number in the message is the limit ('1000', 1,000 or 1000).
    let digits: String = text
        .split(|c: char| !(c.is_ascii_digit() || c == ','))
        .find(|w| w.chars().any(|c| c.is_ascii_digit()))
        .unwrap_or_default()
        .replace(',', "");
    Some(digits.parse().ok().filter(|n| *n > 0))
}

pub fn encode(base: &Url, boundary: &str, operations: &[BatchOperation]) -> String {
    let mut out = String::new();
    for op in operations {
        let url = base.join(&op.path).map(|u| u.to_string()).unwrap_or_else(|_| op.path.clone());
        out.push_str(&format!("--{boundary}\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\n"));
        out.push_str(&format!("{} {url} HTTP/1.1\r\nContent-Type: application/json; type=entry\r\n", op.method));
        if let Some(tag) = &op.if_match {
            out.push_str(&format!("If-Match: {tag}\r\n"));
        }
        out.push_str(&format!("\r\n{}\r\n", op.body));
    }
    out.push_str(&format!("--{boundary}--\r\n"));
    out
}

/// Splits a `multipart/mixed` response into answers, descending into change-set responses.
pub fn decode(content_type: &str, body: &str) -> Result<Vec<BatchAnswer>> {
    let boundary = boundary_of(content_type).ok_or_else(|| malformed("no boundary in the response content type"))?;
    let mut answers = Vec::new();
    for part in parts(body, &boundary) {
        let (headers, rest) = split_headers(part);
        if let Some(inner) = header(headers, "content-type").filter(|ct| ct.to_ascii_lowercase().starts_with("multipart/mixed")) {
            answers.extend(decode(inner, rest)?);
            continue;
        }
        answers.push(parse_http_response(rest)?);
    }
    Ok(answers)
}

fn parse_http_response(text: &str) -> Result<BatchAnswer> {
    let text = text.trim_start_matches(['\r', '\n']);
    let (head, body) = split_headers(text);
    let status_line = head.lines().next().ok_or_else(|| malformed("a part has no status line"))?;
    let status: u16 =
        status_line.split_whitespace().nth(1).and_then(|s| s.parse().ok()).ok_or_else(|| malformed("a part has no status code"))?;
    let mut headers = reqwest::header::HeaderMap::new();
    for line in head.lines().skip(1) {
        if let Some((name, value)) = line.split_once(':')
            && let (Ok(name), Ok(value)) = (reqwest::header::HeaderName::from_bytes(name.trim().as_bytes()), value.trim().parse())
        {
            headers.insert(name, value);
        }
    }
    let retry_after = super::retry::retry_after(&headers);
    let error = (status >= 400).then(|| {
        let status_code = reqwest::StatusCode::from_u16(status).unwrap_or(reqwest::StatusCode::BAD_REQUEST);
        super::service_error::from_response(status_code, &headers, body.trim().as_bytes())
    });
    Ok(BatchAnswer { status, retry_after, error })
}

fn boundary_of(content_type: &str) -> Option<String> {
    content_type.split(';').map(str::trim).find_map(|p| p.strip_prefix("boundary=")).map(|b| b.trim_matches('"').to_string())
}

/// The parts between `--boundary` delimiters (preamble and epilogue dropped).
fn parts<'a>(body: &'a str, boundary: &str) -> Vec<&'a str> {
    let delimiter = format!("--{boundary}");
    body.split(delimiter.as_str()).skip(1).take_while(|p| !p.starts_with("--")).map(|p| p.trim_start_matches(['\r', '\n'])).collect()
}

/// Splits at the first blank line (CRLF or LF).
fn split_headers(text: &str) -> (&str, &str) {
    for separator in ["\r\n\r\n", "\n\n"] {
        if let Some(at) = text.find(separator) {
            return (&text[..at], &text[at + separator.len()..]);
        }
    }
    (text, "")
}

fn header<'a>(headers: &'a str, name: &str) -> Option<&'a str> {
    headers.lines().find_map(|line| line.split_once(':').filter(|(n, _)| n.trim().eq_ignore_ascii_case(name)).map(|(_, v)| v.trim()))
}

fn malformed(what: &str) -> Error {
    Error::new(ErrorKind::Service, format!("The $batch response could not be read: {what}."))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operations_are_encoded_as_the_documentation_shows() {
        let base = Url::parse("https://contoso.crm.dynamics.com/api/data/v9.2/").unwrap();
        let op = BatchOperation {
            method: "PATCH",
            path: "mailboxes(1)".into(),
            body: Arc::new(serde_json::json!({"a": 1})),
            if_match: Some("*".into()),
        };
        let text = encode(&base, "batch_x", &[op]);
        assert!(text.starts_with("--batch_x\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\nPATCH https://contoso.crm.dynamics.com/api/data/v9.2/mailboxes(1) HTTP/1.1\r\n"));
        assert!(text.contains("If-Match: *\r\n\r\n{\"a\":1}\r\n"));
        assert!(text.ends_with("--batch_x--\r\n"));
    }

    #[test]
    fn a_response_with_a_failure_and_a_change_set_is_decoded_in_order() {
        let body = "--batchresponse_1\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\nHTTP/1.1 204 No Content\r\nOData-Version: 4.0\r\n\r\n\r\n\
--batchresponse_1\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\nHTTP/1.1 403 Forbidden\r\nContent-Type: application/json\r\n\r\n{\"error\":{\"code\":\"0x80040220\",\"message\":\"missing prvWriteMailbox\"}}\r\n\
--batchresponse_1\r\nContent-Type: multipart/mixed; boundary=changesetresponse_2\r\n\r\n--changesetresponse_2\r\nContent-Type: application/http\r\nContent-ID: 1\r\n\r\nHTTP/1.1 429 Too Many Requests\r\nRetry-After: 3\r\n\r\n{\"error\":{\"code\":\"0x80072322\",\"message\":\"limit\"}}\r\n--changesetresponse_2--\r\n\
--batchresponse_1--\r\n";
        let answers = decode("multipart/mixed; boundary=batchresponse_1", body).unwrap();
        assert_eq!(answers.iter().map(|a| a.status).collect::<Vec<_>>(), [204, 403, 429]);
        assert!(answers[0].error.is_none());
        assert_eq!(answers[1].error.as_ref().unwrap().code.as_deref(), Some("0x80040220"));
        assert_eq!(answers[2].retry_after, Some(std::time::Duration::from_secs(3)));
        assert!(decode("multipart/mixed", body).is_err());
    }

    #[test]
    fn a_refusal_for_the_batch_size_is_recognized_with_its_limit() {
        let refusal = |message: &str| Error { http_status: Some(400), ..Error::new(ErrorKind::Service, message) };
        let odata = "The current batch message contains too many parts. Only batch messages with a maximum number of '250' query operations, including changeset operations, are allowed.";
        assert_eq!(size_limit(&refusal(odata)), Some(Some(250)));
        let change_set =
            "The current change set contains too many operations. A maximum number of '1000' operations are allowed in a change set.";
        assert_eq!(size_limit(&refusal(change_set)), Some(Some(1000)));
        assert_eq!(size_limit(&refusal("The number of requests in a batch exceeds the limit.")), Some(None));
        assert_eq!(size_limit(&refusal("Invalid property 'x' was found in entity 'mailbox'.")), None);
        let other_status = Error { http_status: Some(500), ..refusal(odata) };
        assert_eq!(size_limit(&other_status), None);
    }
}
