//! The simulator over HTTPS: the same router behind a rustls server that offers HTTP/2 and
//! HTTP/1.1 by ALPN, as Dataverse does. The certificate (and the CA behind it) is the caller's:
//! tests make a throwaway CA with rcgen. Connection-reset fault injection is a plain-TCP
//! feature (`net`) and does not apply here; the other faults and limits work unchanged.

use std::sync::{Arc, Mutex};

use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio_rustls::TlsAcceptor;

use crate::app::Inner;
use crate::store::Store;
use crate::{SimConfig, SimState, Simulator, routes, seed, testenable};

/// The application protocols negotiated by each accepted TLS connection, in order
/// (`"h2"`, `"http/1.1"`, or `"none"` when the client offered no ALPN).
#[derive(Clone, Default)]
pub struct TlsLog(Arc<Mutex<Vec<String>>>);

impl TlsLog {
    pub fn protocols(&self) -> Vec<String> {
        self.0.lock().unwrap().clone()
    }
}

impl Simulator {
    /// Like [`Simulator::start`], over TLS with `server` (its certificate must name `host`, which
    /// becomes the URL's host: `https://<host>:<port>`). ALPN `h2` and `http/1.1` are offered
    /// unless `server` already sets its own list.
    pub async fn start_tls(config: SimConfig, mut server: rustls::ServerConfig, host: &str) -> std::io::Result<(Simulator, TlsLog)> {
        if server.alpn_protocols.is_empty() {
            server.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        }
        let listener = TcpListener::bind((config.listen_ip, config.port)).await?;
        let port = listener.local_addr()?.port();
        let mut store = Store::new();
        let ids = seed::seed(&mut store, &config);
        let app = Inner::new(config, format!("https://{host}:{port}"), store);
        let router = routes::router(app.clone());
        let acceptor = TlsAcceptor::from(Arc::new(server));
        let log = TlsLog::default();
        let (stop, mut stopped) = oneshot::channel::<()>();
        let worker = tokio::spawn(testenable::worker(app.clone()));
        let connections = log.clone();
        let task = tokio::spawn(async move {
            loop {
                let (tcp, _) = tokio::select! {
                    accepted = listener.accept() => match accepted { Ok(pair) => pair, Err(_) => continue },
                    _ = &mut stopped => break,
                };
                let (acceptor, router, connections) = (acceptor.clone(), router.clone(), connections.clone());
                tokio::spawn(async move {
                    // A client that refuses the certificate ends the handshake here: that is the point of the tests.
                    let Ok(tls) = acceptor.accept(tcp).await else { return };
                    let protocol = tls.get_ref().1.alpn_protocol().map(|p| String::from_utf8_lossy(p).into_owned());
                    connections.0.lock().unwrap().push(protocol.unwrap_or_else(|| "none".to_owned()));
                    let service = TowerToHyperService::new(router);
                    let _ = auto::Builder::new(TokioExecutor::new()).serve_connection(TokioIo::new(tls), service).await;
                });
            }
        });
        Ok((Simulator { state: SimState { app, ids }, stop: Some(stop), task, worker }, log))
    }
}
