//! GET of collections and single rows.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::auth::require;
use crate::errors::{ApiError, ApiResult};
use crate::odata::format::{Format, FormattedRows, context_fragment, etag, format_row};
use crate::odata::query::{QueryOptions, execute, next_link, parse_options};
use crate::routes::{Ctx, json_bytes_response, json_response};
use crate::schema::Table;
use crate::store::{Row, Store};

pub fn set_preference_applied(resp: &mut Response, applied: &[String]) {
    if !applied.is_empty()
        && let Ok(v) = HeaderValue::from_str(&applied.join(","))
    {
        resp.headers_mut().insert("Preference-Applied", v);
    }
}

fn annotations_applied(ctx: &Ctx<'_>) -> Vec<String> {
    ctx.prefer.annotations.iter().map(|a| format!("odata.include-annotations=\"{}\"", a.raw)).collect()
}

pub fn get_collection(ctx: &Ctx<'_>, table: &Table) -> ApiResult<Response> {
    let store = ctx.app.lock();
    require(&store, &ctx.user, &format!("prvRead{}", table.privilege_entity), table)?;
    let q = parse_options(table, &ctx.query, false)?;
    let max = ctx.app.config.max_page_size.max(1);
    let page_size = ctx.prefer.max_page_size.map(|n| n.clamp(1, max)).unwrap_or(max);
    let page = execute(table, candidates(&store, table, &q), &q, page_size)?;
    let api = ctx.app.api_base();
    let context = format!("{api}/$metadata#{}", context_fragment(table, q.select.as_deref(), false));
    let next_link = page.next_skiptoken.as_ref().map(|tok| next_link(&format!("{api}/{}", table.entity_set), &q, tok));
    let format = Format { table, select: q.select.as_deref(), annotations: ctx.prefer.annotations.as_ref(), resolver: &*store };
    let body = CollectionBody { context: &context, count: page.count, value: FormattedRows { format, rows: &page.rows }, next_link };
    // Every key is a string and every value JSON already: serializing it cannot fail.
    let mut resp = json_bytes_response(StatusCode::OK, serde_json::to_vec(&body).unwrap_or_default());
    let mut applied = annotations_applied(ctx);
    if ctx.prefer.max_page_size.is_some() && q.top.is_none() {
        applied.push(format!("odata.maxpagesize={page_size}"));
    }
    set_preference_applied(&mut resp, &applied);
    Ok(resp)
}

/// The rows a query's filter may match: those of the primary ids it requires (a query for 50
/// mailboxes by id reads 50 rows, not the table), else every row. The filter still decides.
fn candidates<'a>(store: &'a Store, table: &'a Table, q: &QueryOptions) -> Box<dyn Iterator<Item = &'a Row> + 'a> {
    match q.filter.as_ref().and_then(|f| f.required_guids(&table.primary_id)) {
        Some(ids) => Box::new(store.rows_with_ids(&table.logical_name, ids)),
        None => Box::new(store.rows(&table.logical_name)),
    }
}

/// `GET <set>/$count`: the number of matching rows as `text/plain`, capped at 5,000 like
/// `@odata.count` (Learn "Count rows"; that `/$count` has the same cap is an assumption).
pub fn count(ctx: &Ctx<'_>, table: &Table) -> ApiResult<Response> {
    let store = ctx.app.lock();
    require(&store, &ctx.user, &format!("prvRead{}", table.privilege_entity), table)?;
    let q = parse_options(table, &ctx.query, false)?;
    let n = candidates(&store, table, &q).filter(|r| q.filter.as_ref().is_none_or(|f| f.matches(table, r))).take(5000).count();
    let mut resp = (StatusCode::OK, n.to_string()).into_response();
    resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"));
    Ok(resp)
}

/// Format one row for a single-entity response (`GET` or `PATCH` with return=representation).
pub fn entity_body(ctx: &Ctx<'_>, store: &crate::store::Store, table: &Table, id: &Uuid, select: Option<&[String]>) -> ApiResult<Value> {
    let row = store.get(&table.logical_name, id).ok_or_else(|| ApiError::not_found(&table.logical_name, id))?;
    let mut out = format_row(table, row, select, ctx.prefer.annotations.as_ref(), store);
    out.insert("@odata.context".into(), json!(format!("{}/$metadata#{}", ctx.app.api_base(), context_fragment(table, select, true))));
    Ok(Value::Object(out))
}

pub fn get_entity(ctx: &Ctx<'_>, table: &Table, id: Uuid) -> ApiResult<Response> {
    let store = ctx.app.lock();
    require(&store, &ctx.user, &format!("prvRead{}", table.privilege_entity), table)?;
    let q = parse_options(table, &ctx.query, true)?;
    let row = store.get(&table.logical_name, &id).ok_or_else(|| ApiError::not_found(&table.logical_name, &id))?;
    let tag = etag(row);
    if let Some(inm) = ctx.headers.get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok())
        && inm.trim() == tag
    {
        return Ok(StatusCode::NOT_MODIFIED.into_response());
    }
    let body = entity_body(ctx, &store, table, &id, q.select.as_deref())?;
    let mut resp = json_response(StatusCode::OK, &body);
    if let Ok(v) = HeaderValue::from_str(&tag) {
        resp.headers_mut().insert(header::ETAG, v);
    }
    set_preference_applied(&mut resp, &annotations_applied(ctx));
    Ok(resp)
}

/// A page of a collection, in the order the service writes it.
#[derive(Serialize)]
struct CollectionBody<'a> {
    #[serde(rename = "@odata.context")]
    context: &'a str,
    #[serde(rename = "@odata.count", skip_serializing_if = "Option::is_none")]
    count: Option<usize>,
    value: FormattedRows<'a>,
    #[serde(rename = "@odata.nextLink", skip_serializing_if = "Option::is_none")]
    next_link: Option<String>,
}
