//! `mailroom status`: fetches and prints a running agent's status document.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use mailroom_spec::ListenerRole;
use serde_json::Value;

/// Status listener of `examples/dev.json` and the spec's documented default.
const DEFAULT_STATUS: &str = "127.0.0.1:8787";
/// Largest status document read; a host with thousands of resources fits.
const MAX_RESPONSE: u64 = 16 * 1024 * 1024;

/// Errors asking the status endpoint.
#[derive(Debug, thiserror::Error)]
enum StatusError {
    #[error("invalid status URL {0:?}: expected http://HOST:PORT/status")]
    Url(String),
    #[error("cannot reach the status endpoint at {address}: {source}; is `mailroom run` active?")]
    Connect { address: String, source: std::io::Error },
    #[error("invalid answer from {address}: {reason}")]
    Response { address: String, reason: String },
}

pub fn show(spec: Option<&Path>, url: Option<&str>, json: bool) -> ExitCode {
    let address = match target(spec, url) {
        Ok(address) => address,
        Err(error) => {
            eprintln!("{error}");
            return ExitCode::FAILURE;
        }
    };
    let document = match fetch(&address) {
        Ok(document) => document,
        Err(error) => {
            eprintln!("{error}");
            return ExitCode::FAILURE;
        }
    };
    if json {
        println!("{document:#}");
    } else {
        print_table(&document);
    }
    if document["converged"] == Value::Bool(true) { ExitCode::SUCCESS } else { ExitCode::from(2) }
}

/// Returns `host:port` of the status endpoint.
fn target(spec: Option<&Path>, url: Option<&str>) -> Result<String, String> {
    if let Some(url) = url {
        let rest = url.strip_prefix("http://").ok_or_else(|| StatusError::Url(url.to_owned()).to_string())?;
        return Ok(rest.split('/').next().unwrap_or_default().to_owned());
    }
    let Some(path) = spec else {
        return Ok(DEFAULT_STATUS.to_owned());
    };
    let spec = mailroom_spec::load_file(path).map_err(|e| e.to_string())?;
    spec.listeners
        .iter()
        .find(|l| l.role == ListenerRole::Status)
        .map(|l| l.address.clone())
        .ok_or_else(|| format!("{}: no listener with role \"status\"; add one to use `mailroom status`", path.display()))
}

/// GETs `/status` over HTTP/1.0, which needs no client library for one
/// loopback request.
fn fetch(address: &str) -> Result<Value, StatusError> {
    let connect = |source| StatusError::Connect { address: address.to_owned(), source };
    let invalid = |reason: String| StatusError::Response { address: address.to_owned(), reason };

    let mut stream = TcpStream::connect(address).map_err(connect)?;
    stream.set_read_timeout(Some(Duration::from_secs(10))).map_err(connect)?;
    write!(stream, "GET /status HTTP/1.0\r\nHost: {address}\r\n\r\n").map_err(connect)?;
    let mut response = Vec::new();
    stream.take(MAX_RESPONSE).read_to_end(&mut response).map_err(connect)?;

    let text = String::from_utf8_lossy(&response);
    let (head, body) = text.split_once("\r\n\r\n").ok_or_else(|| invalid("no HTTP header end".to_owned()))?;
    if !head.starts_with("HTTP/1.1 200") && !head.starts_with("HTTP/1.0 200") {
        return Err(invalid(head.lines().next().unwrap_or_default().to_owned()));
    }
    serde_json::from_str(body).map_err(|e| invalid(e.to_string()))
}

fn print_table(document: &Value) {
    let revision = document.pointer("/revision/git_commit").and_then(Value::as_str)
        .or_else(|| document.pointer("/revision/content_hash").and_then(Value::as_str))
        .unwrap_or("none");
    println!("spec      {}", document["spec_path"].as_str().unwrap_or_default());
    println!("revision  {revision}");
    println!("converged {}", document["converged"]);
    println!();
    println!("{:<12} {:<32} {:<6} {:<20} MESSAGE", "KIND", "NAME", "READY", "REASON");
    for resource in document["resources"].as_array().into_iter().flatten() {
        println!(
            "{:<12} {:<32} {:<6} {:<20} {}",
            resource["kind"].as_str().unwrap_or_default(),
            resource["name"].as_str().unwrap_or_default(),
            resource["ready"].to_string(),
            resource["reason"].as_str().unwrap_or_default(),
            resource["message"].as_str().unwrap_or_default(),
        );
    }
}
