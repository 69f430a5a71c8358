//! The status endpoint: `GET /status`, `GET /healthz` and `GET /metrics`.

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Json, Response};
use axum::routing::get;
use tokio::net::TcpListener;

use crate::status::StatusBoard;

/// Serves the status endpoint on `listener` until the task is aborted.
pub async fn serve(listener: std::net::TcpListener, board: StatusBoard) -> std::io::Result<()> {
    listener.set_nonblocking(true)?;
    let listener = TcpListener::from_std(listener)?;
    let app = Router::new()
        .route("/status", get(status))
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .with_state(board);
    axum::serve(listener, app).await
}

async fn status(State(board): State<StatusBoard>) -> Response {
    Json(board.snapshot()).into_response()
}

/// 200 only when converged, so a load balancer or a test can wait on it.
async fn healthz(State(board): State<StatusBoard>) -> Response {
    let snapshot = board.snapshot();
    let code = if snapshot.converged { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    (code, format!("{}\n", snapshot.summary())).into_response()
}

async fn metrics(State(board): State<StatusBoard>) -> Response {
    let body = board.snapshot().metrics();
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], body).into_response()
}
