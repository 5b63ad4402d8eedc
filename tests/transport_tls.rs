//! HTTPS and proxies as runbooks meet them: the simulator over TLS with a CA made here (rcgen),
//! trusted by option (`transport.ca_file`) or the way the platform verifier trusts it on Linux
//! (`SSL_CERT_FILE`); HTTP/2 by ALPN; refused certificates (unknown issuer, wrong host) with the
//! host and the reason; `HTTPS_PROXY`/`NO_PROXY` and an explicit proxy through a CONNECT proxy run
//! here, one of which demands Basic authentication (407) until the credential is given.
//! Environment variables are process-wide, so every test holds `ENV` while it runs.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};

use base64::Engine as _;
use crmsync::steps::identity::who_am_i;
use dataverse_sim::{SimConfig, Simulator, TlsLog, fixtures};
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

static ENV: Mutex<()> = Mutex::new(());

/// Holds the environment lock and clears the proxy and CA variables, restoring nothing: no
/// test in this binary relies on them being set from outside.
fn environment() -> MutexGuard<'static, ()> {
    let guard = ENV.lock().unwrap_or_else(|e| e.into_inner());
    for name in
        ["HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy", "NO_PROXY", "no_proxy", "SSL_CERT_FILE"]
    {
        // SAFETY: every test of this binary holds ENV while it reads or writes the environment.
        unsafe { std::env::remove_var(name) };
    }
    guard
}

fn set_env(name: &str, value: &str) {
    // SAFETY: called only while ENV is held (see `environment`).
    unsafe { std::env::set_var(name, value) };
}

struct TestCa {
    issuer: CertifiedIssuer<'static, KeyPair>,
    pem_file: PathBuf,
    _dir: TempDir,
}

impl TestCa {
    fn new() -> TestCa {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, "crmsync test CA");
        let issuer = CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap();
        let dir = TempDir::new();
        let pem_file = dir.0.join("test-ca.pem");
        std::fs::write(&pem_file, issuer.pem()).unwrap();
        TestCa { issuer, pem_file, _dir: dir }
    }

    /// A server configuration whose certificate, signed by this CA, names `names`.
    fn server_config(&self, names: &[&str]) -> rustls::ServerConfig {
        let key = KeyPair::generate().unwrap();
        let params = CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>()).unwrap();
        let certificate = params.signed_by(&key, std::ops::Deref::deref(&self.issuer)).unwrap();
        let key_der = rustls::pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into());
        rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(vec![certificate.der().clone()], key_der)
            .unwrap()
    }
}

struct TempDir(PathBuf);

impl TempDir {
    fn new() -> TempDir {
        let dir = std::env::temp_dir().join(format!("crmsync-tls-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// One runtime for the simulator, the proxy and the client.
struct World {
    runtime: tokio::runtime::Runtime,
    sim: Option<Simulator>,
    url: String,
    tls: TlsLog,
}

impl World {
    fn start(server: rustls::ServerConfig) -> World {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        let config = SimConfig { mailboxes: 3, queues: 1, ..SimConfig::default() };
        let (sim, tls) = runtime.block_on(Simulator::start_tls(config, server, "127.0.0.1")).unwrap();
        let url = sim.url();
        World { runtime, sim: Some(sim), url, tls }
    }

    /// Connects with the admin token and `transport`, and asks WhoAmI.
    fn who_am_i(&self, transport: Value) -> crmsync::Result<String> {
        let config = json!({"version": 1, "url": self.url, "max_retries": 1,
            "credential": {"kind": "access_token", "access_token": fixtures::ADMIN_TOKEN}, "transport": transport});
        let client = crmsync::Client::from_json(config.to_string().as_bytes())?;
        self.runtime.block_on(async { who_am_i(&client).await.map(|identity| identity.organization_id) })
    }

    fn organization_id(&self) -> String {
        self.sim.as_ref().unwrap().state().organization_id().to_string()
    }

    fn proxy(&self, credential: Option<(&str, &str)>) -> ConnectProxy {
        self.runtime.block_on(ConnectProxy::start(credential))
    }
}

impl Drop for World {
    fn drop(&mut self) {
        if let Some(sim) = self.sim.take() {
            self.runtime.block_on(sim.shutdown());
        }
    }
}

/// Each CONNECT target with the Proxy-Authorization header it came with.
type ProxyLog = Arc<Mutex<Vec<(String, Option<String>)>>>;

/// A CONNECT proxy: it logs each CONNECT target and Proxy-Authorization header and, when it
/// has a credential, answers 407 to a CONNECT without the right Basic header.
struct ConnectProxy {
    addr: SocketAddr,
    log: ProxyLog,
}

impl ConnectProxy {
    async fn start(credential: Option<(&str, &str)>) -> ConnectProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let expected = credential.map(|(u, p)| format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{u}:{p}"))));
        let log = ProxyLog::default();
        let connections = log.clone();
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                tokio::spawn(tunnel(client, expected.clone(), connections.clone()));
            }
        });
        ConnectProxy { addr, log }
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn targets(&self) -> Vec<String> {
        self.log.lock().unwrap().iter().map(|(target, _)| target.clone()).collect()
    }

    fn authorizations(&self) -> Vec<Option<String>> {
        self.log.lock().unwrap().iter().map(|(_, auth)| auth.clone()).collect()
    }
}

async fn tunnel(mut client: TcpStream, expected: Option<String>, log: ProxyLog) {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if client.read(&mut byte).await.unwrap_or(0) == 0 {
            return;
        }
        head.push(byte[0]);
    }
    let text = String::from_utf8_lossy(&head).into_owned();
    let mut lines = text.split("\r\n");
    let request = lines.next().unwrap_or_default().to_owned();
    let authorization = lines
        .filter_map(|l| l.split_once(':'))
        .find(|(name, _)| name.trim().eq_ignore_ascii_case("proxy-authorization"))
        .map(|(_, value)| value.trim().to_owned());
    let mut parts = request.split(' ');
    let (method, target) = (parts.next().unwrap_or_default(), parts.next().unwrap_or_default().to_owned());
    log.lock().unwrap().push((target.clone(), authorization.clone()));
    if method != "CONNECT" {
        let _ = client.write_all(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n").await;
        return;
    }
    if expected.is_some() && authorization != expected {
        let _ = client
            .write_all(b"HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"crmsync test\"\r\nContent-Length: 0\r\n\r\n")
            .await;
        return;
    }
    let Ok(mut upstream) = TcpStream::connect(&target).await else {
        let _ = client.write_all(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n").await;
        return;
    };
    if client.write_all(b"HTTP/1.1 200 Connection Established\r\n\r\n").await.is_ok() {
        let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
    }
}

fn ca_file(ca: &TestCa) -> Value {
    json!({"ca_file": ca.pem_file.to_str().unwrap()})
}

#[test]
fn https_with_the_ca_trusted_by_option_works_over_http2() {
    let _env = environment();
    let ca = TestCa::new();
    let world = World::start(ca.server_config(&["localhost", "127.0.0.1"]));
    assert!(world.url.starts_with("https://127.0.0.1:"), "{}", world.url);
    assert_eq!(world.who_am_i(ca_file(&ca)).unwrap(), world.organization_id());
    let protocols = world.tls.protocols();
    assert!(!protocols.is_empty() && protocols.iter().all(|p| p == "h2"), "negotiated: {protocols:?}");
}

#[test]
fn the_simulator_also_speaks_http1_to_a_client_that_offers_only_http1() {
    let _env = environment();
    let ca = TestCa::new();
    let world = World::start(ca.server_config(&["127.0.0.1"]));
    let root = reqwest::Certificate::from_pem(std::fs::read(&ca.pem_file).unwrap().as_slice()).unwrap();
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::Client::builder().tls_certs_only([root]).http1_only().build().unwrap();
    let status = world.runtime.block_on(async {
        client.get(format!("{}/api/data/v9.2/WhoAmI", world.url)).bearer_auth(fixtures::ADMIN_TOKEN).send().await.unwrap().status()
    });
    assert!(status.is_success(), "{status}");
    assert_eq!(world.tls.protocols(), vec!["http/1.1".to_owned()]);
}

#[cfg(target_os = "linux")]
#[test]
fn on_linux_the_platform_verifier_trusts_a_ca_in_ssl_cert_file() {
    let _env = environment();
    let ca = TestCa::new();
    let world = World::start(ca.server_config(&["127.0.0.1"]));
    set_env("SSL_CERT_FILE", ca.pem_file.to_str().unwrap());
    assert_eq!(world.who_am_i(json!({})).unwrap(), world.organization_id());
}

#[test]
fn an_untrusted_certificate_fails_naming_the_host_and_the_reason() {
    let _env = environment();
    let ca = TestCa::new();
    let world = World::start(ca.server_config(&["127.0.0.1"]));
    let error = world.who_am_i(json!({})).unwrap_err();
    assert_eq!(error.kind, crmsync::ErrorKind::Transport);
    assert!(error.message.contains("TLS certificate of 127.0.0.1 was refused"), "{}", error.message);
    assert!(error.message.contains("certificate authority this computer does not trust"), "{}", error.message);
    let remedy = error.remedy.clone().unwrap_or_default();
    assert!(remedy.contains("transport.ca_file") && remedy.contains("cannot be turned off"), "{remedy}");
    assert!(world.tls.protocols().is_empty(), "no handshake may complete");
}

#[test]
fn a_certificate_for_another_host_fails_naming_the_host() {
    let _env = environment();
    let ca = TestCa::new();
    let world = World::start(ca.server_config(&["dataverse.other.example"]));
    let error = world.who_am_i(ca_file(&ca)).unwrap_err();
    assert_eq!(error.kind, crmsync::ErrorKind::Transport);
    assert!(error.message.contains("it is not valid for the host name 127.0.0.1"), "{}", error.message);
}

#[test]
fn no_option_turns_certificate_checks_off_and_bad_ca_files_are_refused() {
    let _env = environment();
    let ca = TestCa::new();
    let world = World::start(ca.server_config(&["127.0.0.1"]));
    for switch in ["danger_accept_invalid_certs", "insecure", "skip_certificate_check", "verify"] {
        let error = world.who_am_i(json!({ switch: true })).unwrap_err();
        assert_eq!(error.kind, crmsync::ErrorKind::InvalidArgument, "{switch}");
        assert!(error.message.contains("unknown field"), "{switch}: {}", error.message);
    }
    let missing = world.who_am_i(json!({"ca_file": "/nonexistent/ca.pem"})).unwrap_err();
    assert!(missing.message.contains("'/nonexistent/ca.pem' cannot be read"), "{}", missing.message);
    let dir = TempDir::new();
    let not_pem = dir.0.join("not.pem");
    std::fs::write(&not_pem, "not a certificate").unwrap();
    let error = world.who_am_i(json!({"ca_file": not_pem.to_str().unwrap()})).unwrap_err();
    assert!(error.message.contains("holds no PEM certificate"), "{}", error.message);
}

#[test]
fn https_proxy_is_honoured_and_no_proxy_bypasses_it() {
    let _env = environment();
    let ca = TestCa::new();
    let world = World::start(ca.server_config(&["127.0.0.1"]));
    let proxy = world.proxy(None);
    set_env("HTTPS_PROXY", &proxy.url());
    assert_eq!(world.who_am_i(ca_file(&ca)).unwrap(), world.organization_id());
    let host = world.url.trim_start_matches("https://").to_owned();
    assert_eq!(proxy.targets(), vec![host.clone()], "one tunnel to the organization");

    set_env("NO_PROXY", "127.0.0.1");
    assert_eq!(world.who_am_i(ca_file(&ca)).unwrap(), world.organization_id());
    assert_eq!(proxy.targets(), vec![host], "NO_PROXY: no further tunnel");
}

#[test]
fn an_explicit_proxy_wins_over_the_environment() {
    let _env = environment();
    let ca = TestCa::new();
    let world = World::start(ca.server_config(&["127.0.0.1"]));
    let environment_proxy = world.proxy(None);
    let explicit = world.proxy(None);
    set_env("HTTPS_PROXY", &environment_proxy.url());
    let transport = json!({"ca_file": ca.pem_file.to_str().unwrap(), "proxy": explicit.url()});
    assert_eq!(world.who_am_i(transport).unwrap(), world.organization_id());
    assert_eq!(explicit.targets().len(), 1);
    assert!(environment_proxy.targets().is_empty());
}

#[test]
fn a_proxy_demanding_authentication_gets_a_clear_error_and_the_credential_passes() {
    let _env = environment();
    let ca = TestCa::new();
    let world = World::start(ca.server_config(&["127.0.0.1"]));
    let proxy = world.proxy(Some(("runbook", "Pr0xy-S3cret")));
    let without = json!({"ca_file": ca.pem_file.to_str().unwrap(), "proxy": proxy.url()});
    let error = world.who_am_i(without).unwrap_err();
    assert_eq!(error.kind, crmsync::ErrorKind::Transport);
    assert!(error.message.contains("demands authentication (HTTP 407"), "{}", error.message);
    assert!(error.remedy.clone().unwrap_or_default().contains("proxy_username"));
    assert_eq!(proxy.targets().len(), 1, "a 407 is not retried");

    let wrong = json!({"ca_file": ca.pem_file.to_str().unwrap(), "proxy": proxy.url(), "proxy_username": "runbook", "proxy_password": "wrong-S3cret"});
    let error = world.who_am_i(wrong).unwrap_err();
    assert!(error.message.contains("407"), "{}", error.message);
    assert!(!crmsync::documents::to_value(crmsync::documents::ErrorDocument::from(&error)).to_string().contains("wrong-S3cret"));

    let with = json!({"ca_file": ca.pem_file.to_str().unwrap(), "proxy": proxy.url(), "proxy_username": "runbook", "proxy_password": "Pr0xy-S3cret"});
    assert_eq!(world.who_am_i(with).unwrap(), world.organization_id());
    let expected = format!("Basic {}", base64::engine::general_purpose::STANDARD.encode("runbook:Pr0xy-S3cret"));
    assert_eq!(proxy.authorizations().last().cloned().flatten(), Some(expected));
}

#[test]
fn proxy_settings_are_validated_and_never_echo_the_password() {
    let _env = environment();
    let ca = TestCa::new();
    let world = World::start(ca.server_config(&["127.0.0.1"]));
    let in_url = world.who_am_i(json!({"proxy": "http://user:UrlS3cret@127.0.0.1:3128"})).unwrap_err();
    assert!(in_url.message.contains("proxy_username"), "{}", in_url.message);
    assert!(!crmsync::documents::to_value(crmsync::documents::ErrorDocument::from(&in_url)).to_string().contains("UrlS3cret"));
    let no_proxy = world.who_am_i(json!({"proxy_username": "u", "proxy_password": "OrphanS3cret"})).unwrap_err();
    assert!(no_proxy.message.contains("without a proxy"), "{}", no_proxy.message);
    let half = world.who_am_i(json!({"proxy": "http://127.0.0.1:3128", "proxy_username": "u"})).unwrap_err();
    assert!(half.message.contains("both a user name and a password"), "{}", half.message);
    let scheme = world.who_am_i(json!({"proxy": "socks9://127.0.0.1:1"})).unwrap_err();
    assert!(scheme.message.contains("http:// or https://"), "{}", scheme.message);
}
