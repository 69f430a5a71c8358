//! The HTTP-01 responder (RFC 8555 section 8.3): serves key authorizations
//! at `/.well-known/acme-challenge/<token>` on the `http` listeners, and
//! nothing else.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tokio::net::TcpListener;

/// Key authorizations by token, shared between the orders that add them and
/// the responder that serves them.
#[derive(Debug, Clone, Default)]
pub struct Tokens {
    inner: Arc<RwLock<HashMap<String, String>>>,
}

impl Tokens {
    pub fn insert(&self, token: &str, key_authorization: &str) {
        self.write().insert(token.to_owned(), key_authorization.to_owned());
    }

    pub fn remove(&self, token: &str) {
        self.write().remove(token);
    }

    pub fn get(&self, token: &str) -> Option<String> {
        self.inner.read().unwrap_or_else(|poisoned| poisoned.into_inner()).get(token).cloned()
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, HashMap<String, String>> {
        self.inner.write().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Serves challenge tokens on `listener` until the task is aborted.
pub async fn serve(listener: std::net::TcpListener, tokens: Tokens) -> std::io::Result<()> {
    listener.set_nonblocking(true)?;
    let listener = TcpListener::from_std(listener)?;
    let app = Router::new().route("/.well-known/acme-challenge/{token}", get(challenge)).with_state(tokens);
    axum::serve(listener, app).await
}

async fn challenge(State(tokens): State<Tokens>, Path(token): Path<String>) -> Response {
    match tokens.get(&token) {
        Some(key_authorization) => {
            tracing::debug!(%token, "served HTTP-01 challenge");
            ([(header::CONTENT_TYPE, "application/octet-stream")], key_authorization).into_response()
        }
        None => {
            tracing::debug!(%token, "request for unknown HTTP-01 token");
            StatusCode::NOT_FOUND.into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;

    async fn fetch(address: std::net::SocketAddr, path: &str) -> String {
        let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
        let request = format!("GET {path} HTTP/1.1\r\nHost: mail.example.test\r\nConnection: close\r\n\r\n");
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).await.unwrap();
        response
    }

    #[tokio::test]
    async fn serves_known_token_and_rejects_others() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap();
        let tokens = Tokens::default();
        tokens.insert("abc", "abc.thumbprint");
        let server = tokio::spawn(serve(listener, tokens.clone()));

        let known = fetch(address, "/.well-known/acme-challenge/abc").await;
        let unknown = fetch(address, "/.well-known/acme-challenge/xyz").await;
        let elsewhere = fetch(address, "/status").await;
        server.abort();

        assert!(known.starts_with("HTTP/1.1 200"), "{known}");
        assert!(known.ends_with("\r\n\r\nabc.thumbprint"), "{known}");
        assert!(unknown.starts_with("HTTP/1.1 404"), "{unknown}");
        assert!(elsewhere.starts_with("HTTP/1.1 404"), "{elsewhere}");
    }
}
