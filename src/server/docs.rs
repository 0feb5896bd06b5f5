//! `/docs`: Swagger UI over the server's `/openapi.json`, from assets built into the
//! library (swagger-ui-dist; no CDN, works offline). The page is ours, so that `/docs`
//! and `/docs/` both load it; the assets are served under `/docs/assets/`.

use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;

/// Where the assets live.
const ASSETS: &str = "/docs/assets";

const PAGE: &str = concat!(
    "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\" />\n",
    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\" />\n",
    "<title>Proxmox VE API (proxmox-sdk)</title>\n",
    "<link rel=\"stylesheet\" href=\"/docs/assets/swagger-ui.css\" />\n</head>\n<body>\n",
    "<div id=\"swagger-ui\"></div>\n",
    "<script src=\"/docs/assets/swagger-ui-bundle.js\" crossorigin></script>\n",
    "<script>window.onload = () => { window.ui = SwaggerUIBundle({ url: '/openapi.json', ",
    "dom_id: '#swagger-ui', deepLinking: true }); };</script>\n</body>\n</html>\n"
);

async fn page() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], PAGE)
}

/// The `/docs` routes.
pub fn router() -> Router {
    let assets = swagger_ui_dist::generate_routes(swagger_ui_dist::ApiDefinition {
        uri_prefix: ASSETS,
        api_definition: swagger_ui_dist::OpenApiSource::Uri("/openapi.json"),
        title: Some("Proxmox VE API (proxmox-sdk)"),
    });
    Router::new()
        .route("/docs", get(page))
        .route("/docs/", get(page))
        .merge(assets)
}
