//! PVE's envelope on the wire: `{"data": ...}`, errors with PVE's message in the reason
//! phrase and the body (and per-parameter `errors` on a 400), PVE's headers; the cache of
//! serialized GET answers; and request parameters from the query and the body.

use axum::body::{Body, Bytes};
use axum::http::{header, HeaderMap, HeaderValue, Response, StatusCode, Uri};
use serde_json::{json, Map, Value};

use super::metrics::SeriesHandle;
use crate::api::{Answer, ApiError};
use crate::mock::store::{MockStore, Stamp};
use crate::mock::Caller;

/// A reason phrase hyper accepts: PVE's message on one line, visible ASCII and spaces.
pub fn reason(message: &str) -> String {
    let line = message.lines().next().unwrap_or("").trim();
    let clean: String = line
        .chars()
        .map(|c| {
            if c == '\t' || (' '..='~').contains(&c) {
                c
            } else {
                '?'
            }
        })
        .collect();
    if clean.is_empty() {
        "Error".into()
    } else {
        clean
    }
}

/// PVE's answer: `{"data": ...}` with PVE's headers; errors carry the message in the reason
/// phrase and in the body.
pub fn pve_response(result: Result<Value, ApiError>) -> Response<Body> {
    pve_answer(result.map(Answer::Value))
}

/// [`pve_response`] of an answer in its final form: serialized into the envelope as it is,
/// not copied into one first.
pub fn pve_answer(result: Result<Answer, ApiError>) -> Response<Body> {
    let (status, body, phrase) = match result {
        Ok(data) => return pve_ok_bytes(Bytes::from(data.to_envelope())),
        Err(e) => {
            let mut body = json!({"data": null, "message": format!("{}\n", e.message)});
            if let Some(errors) = &e.errors {
                body["errors"] = json!(errors);
            } else if e.status == 400 {
                // The server's OpenAPI document promises `errors` with every 400.
                body["errors"] = json!({});
            }
            (e.status, body, Some(reason(&e.message)))
        }
    };
    let mut resp = Response::new(Body::from(serde_json::to_vec(&body).unwrap_or_default()));
    *resp.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    if let Some(phrase) = phrase {
        if let Ok(p) = hyper::ext::ReasonPhrase::try_from(phrase.into_bytes()) {
            resp.extensions_mut().insert(p);
        }
    }
    pve_headers(resp.headers_mut());
    resp
}

/// PVE's response headers (`Expires` equals the date: nothing may be cached).
pub fn pve_headers(h: &mut HeaderMap) {
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json;charset=UTF-8"),
    );
    h.insert(
        header::SERVER,
        HeaderValue::from_static("pve-api-daemon/3.0"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("max-age=0"));
    h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    if let Some(v) = expires_now() {
        h.insert(header::EXPIRES, v);
    }
}

/// The current time as an HTTP date (what PVE sends as `Expires`), formatted once per
/// second per thread rather than per answer.
fn expires_now() -> Option<HeaderValue> {
    thread_local! {
        static LAST: std::cell::RefCell<Option<(u64, HeaderValue)>> =
            const { std::cell::RefCell::new(None) };
    }
    let now = std::time::SystemTime::now();
    let second = now
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    LAST.with(|last| {
        let mut last = last.borrow_mut();
        if let Some((_, v)) = last.as_ref().filter(|(s, _)| *s == second) {
            return Some(v.clone());
        }
        let v = HeaderValue::from_str(&httpdate::fmt_http_date(now)).ok()?;
        *last = Some((second, v.clone()));
        Some(v)
    })
}

/// A 200 answer from an already serialized `{"data": ...}` body.
pub fn pve_ok_bytes(body: Bytes) -> Response<Body> {
    let mut resp = Response::new(Body::from(body));
    pve_headers(resp.headers_mut());
    resp
}

/// Serialized GET answers by caller and request URI, each valid while nothing it read
/// changed (a write to one guest leaves answers about other collections cached; see
/// [`crate::mock::store::Stamp`]).
#[derive(Default)]
pub struct AnswerCache {
    entries:
        parking_lot::Mutex<std::collections::HashMap<String, Kept, foldhash::fast::RandomState>>,
}

/// An answer kept: what it was made from, its body, its metrics series.
type Kept = (Stamp, Bytes, SeriesHandle);

const ANSWER_CACHE_LIMIT: usize = 1024;

impl AnswerCache {
    /// Calls `f` with the key of `caller`'s GET of `path_and_query`, written into a buffer
    /// of the thread's (a lookup allocates nothing).
    pub fn with_key<R>(caller: &Caller, path_and_query: &str, f: impl FnOnce(&str) -> R) -> R {
        thread_local! {
            static KEY: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) };
        }
        KEY.with(|key| {
            // Not borrowed across `f` (which could, in principle, make a key itself).
            let mut buf = std::mem::take(&mut *key.borrow_mut());
            buf.clear();
            caller.push_authid(&mut buf);
            buf.push(' ');
            buf.push_str(path_and_query);
            let out = f(&buf);
            *key.borrow_mut() = buf;
            out
        })
    }

    /// The answer cached for `key` and its metrics series, if it is still what `store`
    /// would answer.
    pub fn get(&self, key: &str, store: &MockStore) -> Option<(Bytes, SeriesHandle)> {
        let mut entries = self.entries.lock();
        let (stamp, body, series) = entries.get_mut(key)?;
        if store.still_valid(stamp) {
            return Some((body.clone(), series.clone()));
        }
        entries.remove(key);
        None
    }

    /// Keeps an answer stamped with what it was made from.
    pub fn put(
        &self,
        key: String,
        stamp: Stamp,
        body: Bytes,
        series: SeriesHandle,
        store: &MockStore,
    ) {
        let mut entries = self.entries.lock();
        if entries.len() >= ANSWER_CACHE_LIMIT {
            entries.retain(|_, (s, _, _)| store.still_valid(s));
            if entries.len() >= ANSWER_CACHE_LIMIT {
                entries.clear();
            }
        }
        entries.insert(key, (stamp, body, series));
    }
}

/// Query string and body (form-encoded or JSON) as one parameter map; repeated keys
/// become lists.
pub fn request_params(
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Map<String, Value>, ApiError> {
    let mut out = Map::new();
    let mut add = |k: String, v: Value| match out.get_mut(&k) {
        Some(Value::Array(items)) => items.push(v),
        Some(existing) => {
            let first = existing.take();
            *existing = Value::Array(vec![first, v]);
        }
        None => {
            out.insert(k, v);
        }
    };
    if let Some(q) = uri.query() {
        for (k, v) in form_urlencoded::parse(q.as_bytes()) {
            add(k.into_owned(), Value::String(v.into_owned()));
        }
    }
    if !body.is_empty() {
        let ctype = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if ctype.starts_with("application/json") {
            match serde_json::from_slice::<Value>(body) {
                Ok(Value::Object(map)) => {
                    for (k, v) in map {
                        // The same bound as the SDK's parameters (crate::limits::MAX_DEPTH).
                        if let Err(e) = crate::limits::check_depth(&format!("parameter '{k}'"), &v)
                        {
                            let mut err = ApiError::new(400, "Parameter verification failed.");
                            err.errors = Some([(k, e)].into_iter().collect());
                            return Err(err);
                        }
                        add(k, v);
                    }
                }
                Ok(Value::Null) => {}
                Ok(_) => return Err(ApiError::new(400, "invalid JSON body: expected an object")),
                Err(e) => return Err(ApiError::new(400, format!("invalid JSON body: {e}"))),
            }
        } else {
            for (k, v) in form_urlencoded::parse(body) {
                add(k.into_owned(), Value::String(v.into_owned()));
            }
        }
    }
    Ok(out)
}
