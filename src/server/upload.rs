//! PVE's storage upload over HTTP, the one multipart endpoint: the file part is streamed
//! (counted and hashed, never held in memory), then the mock runs the upload.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, Method, Response, Uri};
use serde_json::{Map, Value};

use super::app::App;
use super::envelope::pve_response;
use crate::api::ApiError;
use crate::mock::volumes::IncomingFile;

/// PVE's 400 for an upload without its file.
fn missing_filename() -> ApiError {
    ApiError::params([("filename", "property is missing and it is not optional")])
}

/// PVE's storage upload, the one multipart endpoint.
pub const UPLOAD_ROUTE: &str = "/api2/json/nodes/{node}/storage/{storage}/upload";

/// Whether `path` matches [`UPLOAD_ROUTE`] (a request that streams its body and has no
/// request timeout).
pub fn is_upload(path: &str) -> bool {
    let Some(rest) = path.strip_prefix("/api2/json/nodes/") else {
        return false;
    };
    let mut parts = rest.split('/');
    let mut next = || parts.next().unwrap_or_default();
    let (node, storage_word, storage, upload) = (next(), next(), next(), next());
    !node.is_empty()
        && storage_word == "storage"
        && !storage.is_empty()
        && upload == "upload"
        && parts.next().is_none()
}

/// `POST .../storage/{storage}/upload` (multipart): the file part is streamed (counted and
/// hashed, never held in memory), the other parts are parameters; then the mock runs the
/// upload as PVE does (an `imgcopy` task; a checksum that does not match fails it).
pub async fn upload(
    State(app): State<Arc<App>>,
    uri: Uri,
    headers: HeaderMap,
    method: Method,
    multipart: Result<axum::extract::Multipart, axum::extract::multipart::MultipartRejection>,
) -> Response<Body> {
    let path = uri.path().to_string();
    let caller = match super::api::authenticate(&app, &method, &path, &headers) {
        Ok(c) => c,
        Err(e) => return pve_response(Err(e)),
    };
    let Ok(mut multipart) = multipart else {
        // A form without a file: PVE answers as for any missing parameter.
        return pve_response(Err(missing_filename()));
    };
    let mut params = Map::new();
    let mut file: Option<(String, IncomingFile)> = None;
    loop {
        let mut field = match multipart.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => {
                return pve_response(Err(ApiError::new(
                    400,
                    format!("invalid multipart body: {e}"),
                )))
            }
        };
        let name = field.name().unwrap_or_default().to_string();
        if let Some(file_name) = field.file_name().map(str::to_string) {
            // The parameters before the file say which digest to compute while it streams.
            let mut incoming = IncomingFile::new(file_name, &params);
            let limit = app.config.limits.max_upload;
            let mut received: u64 = 0;
            loop {
                match field.chunk().await {
                    Ok(Some(chunk)) => {
                        received += chunk.len() as u64;
                        if received > limit {
                            return pve_response(Err(ApiError::new(
                                413,
                                format!("upload larger than the server's limit of {limit} bytes"),
                            )));
                        }
                        incoming.update(&chunk);
                    }
                    Ok(None) => break,
                    Err(e) => {
                        return pve_response(Err(ApiError::new(
                            400,
                            format!("upload interrupted: {e}"),
                        )))
                    }
                }
            }
            file = Some((name, incoming));
        } else {
            match field.text().await {
                Ok(t) => {
                    params.insert(name, Value::String(t));
                }
                Err(e) => {
                    return pve_response(Err(ApiError::new(
                        400,
                        format!("invalid multipart field: {e}"),
                    )))
                }
            }
        }
    }
    let Some((field, incoming)) = file else {
        return pve_response(Err(missing_filename()));
    };
    let result = app.mock.receive_upload(
        &caller,
        crate::api::Method::Post,
        &path,
        params,
        &field,
        incoming,
    );
    super::api::durable(&app, &method, pve_response(result)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_upload_route_is_recognised_exactly() {
        let filled = UPLOAD_ROUTE
            .replace("{node}", "pve1")
            .replace("{storage}", "local");
        assert!(is_upload(&filled));
        assert!(!is_upload(&format!("{filled}/x")));
        assert!(!is_upload(&format!("{filled}/")));
        assert!(!is_upload("/api2/json/nodes/pve1/storage//upload"));
        assert!(!is_upload("/api2/json/nodes//storage/local/upload"));
        assert!(!is_upload("/api2/json/nodes/pve1/storage/local/content"));
        assert!(!is_upload("/api2/json/nodes/pve1/qemu/100/upload"));
        assert!(!is_upload("/api2/json/nodes/pve1/storage/local"));
    }
}
