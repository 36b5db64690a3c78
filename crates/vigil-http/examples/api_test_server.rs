//! The real API router, served by [`vigil_http::serve_on`] on loopback over the test backend of
//! `tests/common` (an in-memory daemon with a real watchlist store in a temporary directory),
//! for `make schemathesis` (scripts/schemathesis.sh): property-based checks of the OpenAPI
//! document against the server without building the whole daemon.
//!
//! `api_test_server [ADDR]` (default `127.0.0.1:0`) prints `listening on http://ADDR` and the
//! bearer token to use, then serves until killed.

#[path = "../tests/common/mod.rs"]
mod common;

use std::io::Write;

fn main() {
    let bind = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:0".into());
    let addr: std::net::SocketAddr = match bind.parse() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("api_test_server: {bind:?} is not an address ({e}); write e.g. 127.0.0.1:8489");
            std::process::exit(2);
        }
    };
    if !addr.ip().is_loopback() {
        eprintln!("api_test_server: {addr} is not a loopback address; this server is for local tests only");
        std::process::exit(2);
    }
    let server = common::Server::start_on(addr, common::settings(), common::TestBackend::new());
    println!("listening on {}", server.base);
    println!("token {}", common::OPS_SECRET);
    let _ = std::io::stdout().flush();
    loop {
        std::thread::park();
    }
}
