//! The checks every request passes: the token (required on every API request when the server has one, which it
//! always has off loopback), and, for requests that change something, that a browser did not send them from another
//! site (`Sec-Fetch-Site`, else `Origin` against `Host`). Scripts and command-line clients send neither header and
//! pass; the web UI is same-origin and passes.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;
use crate::state::AppState;

/// The middleware.
pub async fn guard(State(state): State<Arc<AppState>>, req: Request, next: Next) -> Response {
    if req.uri().path().starts_with("/api/")
        && let Some(token) = &state.opts.token
        && !carries_token(&req, token)
    {
        return ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "this server needs its token",
            "send `Authorization: Bearer <token>` (the token `voxmill serve` printed), or add ?token=<token>",
        )
        .into_response();
    }
    let changes = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if changes && let Some(why) = cross_site(&req) {
        return ApiError::new(
            StatusCode::FORBIDDEN,
            "cross_site",
            format!("refused a request from another site ({why})"),
            "use the web UI served by this server, or a script (which sends no Origin)",
        )
        .into_response();
    }
    next.run(req).await
}

/// The token in `Authorization: Bearer`, or in the query (`?token=`, for `<audio src>` and downloads).
fn carries_token(req: &Request, token: &str) -> bool {
    let bearer = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    let query = req.uri().query().and_then(|q| q.split('&').find_map(|kv| kv.strip_prefix("token=")));
    [bearer, query].into_iter().flatten().any(|given| same(given.as_bytes(), token.as_bytes()))
}

/// Compares without stopping at the first difference.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Why a request looks cross-site, if it does.
fn cross_site(req: &Request) -> Option<String> {
    let headers = req.headers();
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        return (!matches!(site, "same-origin" | "none")).then(|| format!("Sec-Fetch-Site: {site}"));
    }
    let origin = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok())?;
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or("");
    let origin_host = origin.split_once("://").map(|(_, h)| h).unwrap_or(origin).trim_end_matches('/');
    (origin_host != host).then(|| format!("Origin {origin} is not {host}"))
}

/// A random token: 32 hex digits from the system's random source.
pub fn new_token() -> std::io::Result<String> {
    use std::io::Read;
    let mut bytes = [0u8; 16];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut bytes)?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;

    fn req(headers: &[(&str, &str)]) -> Request {
        let mut b = Request::builder().method("POST").uri("/api/v1/projects?token=abc");
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        b.body(Body::empty()).unwrap()
    }

    #[test]
    fn browsers_from_other_sites_are_told_apart_from_scripts() {
        assert!(cross_site(&req(&[])).is_none());
        assert!(cross_site(&req(&[("sec-fetch-site", "same-origin")])).is_none());
        assert!(cross_site(&req(&[("sec-fetch-site", "cross-site")])).is_some());
        assert!(cross_site(&req(&[("origin", "http://127.0.0.1:8750"), ("host", "127.0.0.1:8750")])).is_none());
        assert!(cross_site(&req(&[("origin", "https://evil.example"), ("host", "127.0.0.1:8750")])).is_some());
        assert!(cross_site(&req(&[("origin", "null"), ("host", "127.0.0.1:8750")])).is_some());
    }

    #[test]
    fn the_token_comes_in_a_header_or_the_query() {
        assert!(carries_token(&req(&[]), "abc"));
        assert!(!carries_token(&req(&[]), "abd"));
        assert!(carries_token(&req(&[("authorization", "Bearer xyz")]), "xyz"));
        assert_eq!(new_token().unwrap().len(), 32);
    }
}
