//! Authentication flows through the C ABI against the simulator's identity provider:
//! certificate credentials (PFX file, inline PEM, inline PFX; PS256 and RS256), managed
//! identity (IDENTITY_ENDPOINT style and IMDS), device code (approve, decline, expiry, refresh),
//! and the failures an administrator must be able to act on. The last test runs them all and
//! checks that no secret, assertion, refresh token or access token reaches any document.

mod common;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use common::*;
use crmsync::auth::{ClientCertificate, SigningAlgorithm};
use crmsync::ffi::Status;
use dataverse_sim::fixtures;
use rsa::pkcs8::{DecodePublicKey, EncodePrivateKey, LineEnding};
use rsa::signature::Verifier;
use serde_json::{Value, json};
use sha2::Digest;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

const PFX_PASSWORD: &str = "pfx-pa55word-do-not-leak";

struct TestCert {
    der: Vec<u8>,
    /// Certificate + PKCS#8 private key.
    pem: String,
    pfx: Vec<u8>,
}

fn make_cert(name: &str) -> TestCert {
    let key = rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048).expect("RSA key");
    let pkcs8 = key.to_pkcs8_der().expect("PKCS#8");
    let key_pair = rcgen::KeyPair::try_from(pkcs8.as_bytes()).expect("rcgen takes the RSA key");
    let cert = rcgen::CertificateParams::new(vec![name.to_string()]).unwrap().self_signed(&key_pair).expect("self-signed");
    let der = cert.der().to_vec();
    let key_pem = key.to_pkcs8_pem(LineEnding::LF).expect("PEM");
    let pem = format!("{}{}", cert.pem(), key_pem.as_str());
    let mut store = p12_keystore::KeyStore::new();
    let chain = p12_keystore::PrivateKeyChain::new(
        vec![1u8, 2, 3, 4],
        p12_keystore::PrivateKey::from_der(pkcs8.as_bytes()).unwrap(),
        [p12_keystore::Certificate::from_der(&der).unwrap()],
    );
    store.add_entry(name, p12_keystore::KeyStoreEntry::PrivateKeyChain(chain));
    let pfx = store.writer(PFX_PASSWORD).write().expect("PFX");
    TestCert { der, pem, pfx }
}

fn trusted() -> &'static TestCert {
    static CERT: OnceLock<TestCert> = OnceLock::new();
    CERT.get_or_init(|| make_cert("crmsync-trusted"))
}

fn untrusted() -> &'static TestCert {
    static CERT: OnceLock<TestCert> = OnceLock::new();
    CERT.get_or_init(|| make_cert("crmsync-untrusted"))
}

/// Every document a scenario produced (results, events, errors) and the secrets it used.
#[derive(Default)]
struct Seen {
    documents: Vec<String>,
    secrets: Vec<String>,
}

impl Seen {
    fn doc(&mut self, v: &Value) {
        self.documents.push(v.to_string());
    }

    fn outcome(&mut self, r: &Result<Value, (Status, Value)>) {
        match r {
            Ok(v) => self.doc(v),
            Err((_, e)) => self.doc(e),
        }
    }
}

fn sim_with(configure: impl FnOnce(&mut dataverse_sim::SimConfig)) -> Sim {
    Sim::start_with(|c| {
        c.mailboxes = 3;
        c.queues = 1;
        c.identity.trusted_certificates = vec![trusted().der.clone()];
        c.identity.device_code_interval_secs = 1;
        configure(c);
    })
}

fn config(url: &str, credential: Value) -> String {
    json!({"version": 1, "url": url, "max_retries": 1, "credential": credential}).to_string()
}

fn cert_credential(url: &str, extra: Value) -> Value {
    let mut c =
        json!({"kind": "client_certificate", "tenant_id": fixtures::TENANT_ID, "client_id": fixtures::CLIENT_ID, "authority_host": url});
    for (k, v) in extra.as_object().unwrap() {
        c[k] = v.clone();
    }
    c
}

/// Connects (authenticate operation) and calls WhoAmI; returns the WhoAmI result.
fn connect_and_who_am_i(config: &str, seen: &mut Seen) -> Result<Value, (Status, Value)> {
    let client = new_client(config).inspect_err(|e| seen.doc(&e.1))?;
    let (events, result) = authenticate(&client, |_| {});
    events.iter().for_each(|e| seen.doc(e));
    seen.outcome(&result);
    let auth = result?;
    assert_eq!(auth["authenticated"], true);
    let who = who_am_i(&client);
    seen.outcome(&who);
    who
}

fn temp_file(name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let path = std::env::temp_dir().join(format!("crmsync-{}-{name}", uuid::Uuid::new_v4().simple()));
    std::fs::write(&path, bytes).unwrap();
    path
}

// ---------------------------------------------------------------------------------------------
// Certificates

fn certificate_flows(seen: &mut Seen) {
    let sim = sim_with(|_| {});
    let cert = trusted();
    seen.secrets.extend([PFX_PASSWORD.to_string(), STANDARD.encode(&cert.pfx)]);
    seen.secrets.extend(cert.pem.lines().filter(|l| !l.starts_with("-----") && l.len() > 40).map(str::to_string));

    let pfx_path = temp_file("trusted.pfx", &cert.pfx);
    let by_file = config(&sim.url, cert_credential(&sim.url, json!({"certificate_path": pfx_path, "certificate_password": PFX_PASSWORD})));
    let who = connect_and_who_am_i(&by_file, seen).expect("PFX file + password connects");
    assert_eq!(who["user_id"], fixtures::APP_USER_ID, "certificate tokens map to the application user");

    let by_pem = config(&sim.url, cert_credential(&sim.url, json!({"certificate_pem": cert.pem, "signing_algorithm": "RS256"})));
    assert_eq!(connect_and_who_am_i(&by_pem, seen).expect("inline PEM with RS256 connects")["user_id"], fixtures::APP_USER_ID);

    let by_b64 = config(
        &sim.url,
        cert_credential(&sim.url, json!({"certificate_pfx_base64": STANDARD.encode(&cert.pfx), "certificate_password": PFX_PASSWORD})),
    );
    assert_eq!(connect_and_who_am_i(&by_b64, seen).expect("inline PFX connects")["user_id"], fixtures::APP_USER_ID);

    // A certificate the app registration does not know.
    let stranger = untrusted();
    let pem_path = temp_file("untrusted.pem", stranger.pem.as_bytes());
    let (status, err) = connect_and_who_am_i(&config(&sim.url, cert_credential(&sim.url, json!({"certificate_path": pem_path}))), seen)
        .expect_err("an untrusted certificate is refused");
    assert_eq!(status, Status::Authentication);
    assert!(err["message"].as_str().unwrap().contains("AADSTS700027"), "{err}");
    let remedy = err["remedy"].as_str().unwrap();
    let thumbprint = ClientCertificate::from_pem(stranger.pem.as_bytes()).unwrap().thumbprint_sha1_hex();
    assert!(remedy.contains(&thumbprint) && remedy.contains("Certificates & secrets"), "{remedy}");

    // Wrong PFX password: refused when the client is created, without echoing the password.
    let wrong =
        config(&sim.url, cert_credential(&sim.url, json!({"certificate_path": pfx_path, "certificate_password": "not-the-password"})));
    let (status, err) = new_client(&wrong).err().expect("a wrong password is refused");
    seen.doc(&err);
    assert_eq!(status, Status::InvalidArgument);
    assert!(err["message"].as_str().unwrap().contains("password"), "{err}");
    assert!(!err.to_string().contains("not-the-password"));

    // Two sources at once are ambiguous.
    let both = config(&sim.url, cert_credential(&sim.url, json!({"certificate_path": pfx_path, "certificate_pem": cert.pem})));
    let (status, err) = new_client(&both).err().expect("two certificate sources are refused");
    seen.doc(&err);
    assert_eq!(status, Status::InvalidArgument);
    let _ = std::fs::remove_file(pfx_path);
    let _ = std::fs::remove_file(pem_path);
}

#[test]
fn certificate_credentials_connect_and_an_untrusted_certificate_is_refused() {
    certificate_flows(&mut Seen::default());
}

#[test]
fn a_signed_assertion_has_the_documented_header_and_claims_and_verifies_with_the_certificate_key() {
    let cert = trusted();
    let loaded = ClientCertificate::from_pfx(&cert.pfx, PFX_PASSWORD).unwrap();
    assert_eq!(loaded.der(), cert.der.as_slice());
    let parsed = <x509_cert::Certificate as x509_cert::der::Decode>::from_der(&cert.der).unwrap();
    let spki = x509_cert::der::Encode::to_der(&parsed.tbs_certificate.subject_public_key_info).unwrap();
    let public = rsa::RsaPublicKey::from_public_key_der(&spki).unwrap();
    let audience = format!("https://login.microsoftonline.com/{}/oauth2/v2.0/token", fixtures::TENANT_ID);
    for algorithm in [SigningAlgorithm::Ps256, SigningAlgorithm::Rs256] {
        let jwt = loaded.client_assertion(algorithm, fixtures::CLIENT_ID, &audience).unwrap();
        let jwt = secrecy::ExposeSecret::expose_secret(&jwt).to_string();
        let parts: Vec<&str> = jwt.split('.').collect();
        assert_eq!(parts.len(), 3);
        let header: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[0]).unwrap()).unwrap();
        let claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
        assert_eq!(header["alg"], algorithm.name());
        assert_eq!(header["typ"], "JWT");
        assert_eq!(header["x5t#S256"], URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(&cert.der)));
        assert_eq!(header["x5t"], URL_SAFE_NO_PAD.encode(sha1::Sha1::digest(&cert.der)));
        assert_eq!(claims["aud"], audience);
        assert_eq!(claims["iss"], fixtures::CLIENT_ID);
        assert_eq!(claims["sub"], fixtures::CLIENT_ID);
        uuid::Uuid::parse_str(claims["jti"].as_str().unwrap()).expect("jti is a GUID");
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
        let (nbf, iat, exp) = (claims["nbf"].as_u64().unwrap(), claims["iat"].as_u64().unwrap(), claims["exp"].as_u64().unwrap());
        assert!(nbf <= now + 1 && iat <= now + 1 && exp > now);
        assert!(exp - iat <= 600, "assertions live at most 10 minutes");
        let signing_input = format!("{}.{}", parts[0], parts[1]);
        let signature = URL_SAFE_NO_PAD.decode(parts[2]).unwrap();
        let verified = match algorithm {
            SigningAlgorithm::Ps256 => rsa::pss::VerifyingKey::<sha2::Sha256>::new(public.clone())
                .verify(signing_input.as_bytes(), &rsa::pss::Signature::try_from(signature.as_slice()).unwrap())
                .is_ok(),
            SigningAlgorithm::Rs256 => rsa::pkcs1v15::VerifyingKey::<sha2::Sha256>::new(public.clone())
                .verify(signing_input.as_bytes(), &rsa::pkcs1v15::Signature::try_from(signature.as_slice()).unwrap())
                .is_ok(),
        };
        assert!(verified, "{} signature verifies with the certificate's public key", algorithm.name());
        // And a tampered claim set does not.
        let tampered = format!("{}.{}", parts[0], URL_SAFE_NO_PAD.encode(claims.to_string().replace(fixtures::CLIENT_ID, "x")));
        assert!(
            rsa::pkcs1v15::VerifyingKey::<sha2::Sha256>::new(public.clone())
                .verify(tampered.as_bytes(), &rsa::pkcs1v15::Signature::try_from(signature.as_slice()).unwrap())
                .is_err()
        );
    }
    // The key of another certificate is refused next to this certificate.
    let mixed = format!("{}{}", cert.pem.split("-----BEGIN PRIVATE KEY-----").next().unwrap(), {
        let other = &untrusted().pem;
        &other[other.find("-----BEGIN PRIVATE KEY-----").unwrap()..]
    });
    let err = ClientCertificate::from_pem(mixed.as_bytes()).unwrap_err();
    assert!(err.message.contains("does not belong"), "{}", err.message);
}

// ---------------------------------------------------------------------------------------------
// Managed identity

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

fn managed_identity_flows(seen: &mut Seen) {
    let sim = sim_with(|_| {});
    seen.secrets.push(fixtures::MANAGED_IDENTITY_HEADER.to_string());
    let platform = |extra: Value| {
        let mut c = json!({"kind": "managed_identity", "identity_endpoint": format!("{}/msi/token", sim.url), "identity_header": fixtures::MANAGED_IDENTITY_HEADER});
        for (k, v) in extra.as_object().unwrap() {
            c[k] = v.clone();
        }
        config(&sim.url, c)
    };
    let who = connect_and_who_am_i(&platform(json!({})), seen).expect("IDENTITY_ENDPOINT flow connects");
    assert_eq!(who["user_id"], fixtures::APP_USER_ID);
    connect_and_who_am_i(&platform(json!({"client_id": fixtures::MANAGED_IDENTITY_CLIENT_ID})), seen).expect("user-assigned identity");

    let imds = config(&sim.url, json!({"kind": "managed_identity", "imds_endpoint": sim.url}));
    assert_eq!(connect_and_who_am_i(&imds, seen).expect("IMDS flow connects")["user_id"], fixtures::APP_USER_ID);

    // A user-assigned identity that is not assigned to this host.
    let (status, err) = connect_and_who_am_i(&platform(json!({"client_id": "00000000-0000-4000-8000-000000000009"})), seen)
        .expect_err("an unknown user-assigned identity is refused");
    assert_eq!(status, Status::Authentication);
    assert!(err["remedy"].as_str().unwrap().contains("00000000-0000-4000-8000-000000000009"), "{err}");

    // Wrong X-IDENTITY-HEADER.
    let wrong = config(
        &sim.url,
        json!({"kind": "managed_identity", "identity_endpoint": format!("{}/msi/token", sim.url), "identity_header": "wrong-header"}),
    );
    let (status, _) = connect_and_who_am_i(&wrong, seen).expect_err("a wrong identity header is refused");
    assert_eq!(status, Status::Authentication);

    // Nothing listening: fails fast with what to check. (Never 169.254.169.254 in tests.)
    let nowhere = config(&sim.url, json!({"kind": "managed_identity", "imds_endpoint": format!("http://127.0.0.1:{}", free_port())}));
    let started = Instant::now();
    let (status, err) = connect_and_who_am_i(&nowhere, seen).expect_err("an unreachable endpoint fails");
    assert!(started.elapsed() < Duration::from_secs(20), "took {:?}", started.elapsed());
    assert_eq!(status, Status::Transport, "{err}");
    let remedy = err["remedy"].as_str().unwrap();
    assert!(remedy.contains("managed identity is enabled") && remedy.contains("application user"), "{remedy}");
    assert!(err["message"].as_str().unwrap().contains("instance metadata service"), "{err}");
}

#[test]
fn managed_identity_connects_through_both_endpoints_and_failures_say_what_to_check() {
    managed_identity_flows(&mut Seen::default());
}

// ---------------------------------------------------------------------------------------------
// Device code

fn device_config(url: &str) -> String {
    config(url, json!({"kind": "device_code", "authority_host": url}))
}

fn device_code_flows(seen: &mut Seen) {
    let sim = sim_with(|c| c.token_lifetime_secs = 2);
    let client = new_client(&device_config(&sim.url)).unwrap();

    // Before anyone signed in, calls fail with what to do.
    let (status, err) = who_am_i(&client).expect_err("no sign-in yet");
    seen.doc(&err);
    assert_eq!(status, Status::Authentication);
    assert!(err["remedy"].as_str().unwrap().contains("crmsync_client_authenticate_start"), "{err}");
    assert_eq!(err["hint"], "sign_in_again", "{err}");

    let state = sim.with_state(|s| s.state());
    let (events, result) = authenticate(&client, |event| {
        if event["type"] == "device_code" {
            assert!(state.approve_device_code(event["user_code"].as_str().unwrap(), fixtures::ADMIN_USER_ID.parse().unwrap()));
        }
    });
    events.iter().for_each(|e| seen.doc(e));
    seen.outcome(&result);
    let result = result.expect("the approved sign-in completes");
    assert_eq!(result["authenticated"], true);
    assert_eq!(result["credential"], "DeviceCode");
    assert!(result["expires_on"].as_u64().is_some());
    assert_eq!(events.len(), 1, "{events:?}");
    let event = &events[0];
    assert_eq!(event["version"], 1);
    let code = event["user_code"].as_str().unwrap();
    assert!(event["message"].as_str().unwrap().contains(code));
    assert_eq!(event["verification_uri"], format!("{}/devicelogin", sim.url));
    assert_eq!(event["expires_in"], 900);
    let who = who_am_i(&client).expect("the person is signed in");
    seen.doc(&who);
    assert_eq!(who["user_id"], fixtures::ADMIN_USER_ID, "device code tokens are the person's");

    // The 2 s token expires; the refresh token renews it without the user.
    let calls = state.token_endpoint_calls();
    std::thread::sleep(Duration::from_millis(2200));
    let who = who_am_i(&client).expect("renewed with the refresh token");
    seen.doc(&who);
    assert!(state.token_endpoint_calls() > calls, "a refresh token grant was made");
    assert!(state.pending_device_codes().is_empty(), "no new device code was needed");

    // Revoked: the next renewal asks for a new sign-in.
    state.revoke_refresh_tokens();
    std::thread::sleep(Duration::from_millis(2200));
    let (status, err) = who_am_i(&client).expect_err("a revoked sign-in cannot renew");
    seen.doc(&err);
    assert_eq!(status, Status::Authentication);
    assert!(err["remedy"].as_str().unwrap().contains("crmsync_client_authenticate_start"), "{err}");
    assert_eq!(err["hint"], "sign_in_again", "{err}");

    // Declined in the browser.
    let client = new_client(&device_config(&sim.url)).unwrap();
    let (events, result) = authenticate(&client, |event| {
        if event["type"] == "device_code" {
            assert!(state.decline_device_code(event["user_code"].as_str().unwrap()));
        }
    });
    events.iter().for_each(|e| seen.doc(e));
    seen.outcome(&result);
    let (status, err) = result.expect_err("a declined sign-in fails");
    assert_eq!(status, Status::Authentication);
    assert!(err["message"].as_str().unwrap().contains("declined"), "{err}");
    assert!(err["remedy"].as_str().unwrap().contains("crmsync_client_authenticate_start"), "{err}");
    assert_eq!(err["hint"], "sign_in_again", "{err}");
}

fn grouped_device_config(url: &str, group: &str) -> String {
    config(url, json!({"kind": "device_code", "authority_host": url, "sign_in_group": group}))
}

/// Signs a device code client in, approving every code it shows; returns how many codes it showed.
fn sign_in_approving(client: &Client, sim: &Sim) -> usize {
    let state = sim.with_state(|s| s.state());
    let (events, result) = authenticate(client, |event| {
        if event["type"] == "device_code" {
            assert!(state.approve_device_code(event["user_code"].as_str().unwrap(), fixtures::ADMIN_USER_ID.parse().unwrap()));
        }
    });
    result.expect("the sign-in completes");
    events.iter().filter(|e| e["type"] == "device_code").count()
}

#[test]
fn connections_of_one_sign_in_group_share_the_person_and_prompt_once() {
    let sim = sim_with(|c| c.token_lifetime_secs = 2);
    let group = uuid::Uuid::new_v4().to_string();
    let first = new_client(&grouped_device_config(&sim.url, &group)).unwrap();
    let second = new_client(&grouped_device_config(&sim.url, &group)).unwrap();
    assert_eq!(sign_in_approving(&first, &sim), 1, "the first connection of the group shows a code");
    assert_eq!(sign_in_approving(&second, &sim), 0, "the second redeems the person's refresh token");
    assert_eq!(who_am_i(&second).unwrap()["user_id"], fixtures::ADMIN_USER_ID);

    // Both keep renewing after the other rotated the refresh token (the simulator's refresh
    // tokens are single-use, stricter than Entra's).
    std::thread::sleep(Duration::from_millis(2200));
    assert_eq!(who_am_i(&first).unwrap()["user_id"], fixtures::ADMIN_USER_ID);
    std::thread::sleep(Duration::from_millis(2200));
    assert_eq!(who_am_i(&second).unwrap()["user_id"], fixtures::ADMIN_USER_ID);

    // Outside the group (another group, or none), a connection asks the person again.
    let other = new_client(&grouped_device_config(&sim.url, &uuid::Uuid::new_v4().to_string())).unwrap();
    assert_eq!(sign_in_approving(&other, &sim), 1);
    let alone = new_client(&device_config(&sim.url)).unwrap();
    assert_eq!(sign_in_approving(&alone, &sim), 1);

    // A group that is not a GUID is refused before anything is sent.
    let calls = sim.with_state(|s| s.state()).token_endpoint_calls();
    let Err((status, err)) = new_client(&grouped_device_config(&sim.url, "x' or 1")) else { panic!("a group that is not a GUID") };
    assert_eq!(status, Status::InvalidArgument);
    assert!(err["message"].as_str().unwrap().contains("sign_in_group"), "{err}");
    assert_eq!(sim.with_state(|s| s.state()).token_endpoint_calls(), calls);
}

#[test]
fn device_code_sign_in_emits_the_code_renews_with_the_refresh_token_and_reports_decline() {
    device_code_flows(&mut Seen::default());
}

fn expired_device_code(seen: &mut Seen) {
    let sim = sim_with(|c| c.identity.device_code_expires_in_secs = 2);
    let client = new_client(&device_config(&sim.url)).unwrap();
    let started = Instant::now();
    let (events, result) = authenticate(&client, |_| {});
    events.iter().for_each(|e| seen.doc(e));
    seen.outcome(&result);
    let (status, err) = result.expect_err("nobody entered the code");
    assert!(started.elapsed() < Duration::from_secs(15));
    assert_eq!(status, Status::Authentication);
    assert!(err["message"].as_str().unwrap().contains("expired"), "{err}");
    assert!(err["remedy"].as_str().unwrap().contains("crmsync_client_authenticate_start"), "{err}");
    assert_eq!(err["hint"], "sign_in_again", "{err}");
}

#[test]
fn an_expired_device_code_gives_an_authentication_error_with_the_remedy() {
    expired_device_code(&mut Seen::default());
}

// ---------------------------------------------------------------------------------------------
// Client secret through the same Connect-time call

fn client_secret_flows(seen: &mut Seen) {
    let sim = sim_with(|_| {});
    seen.secrets.extend([fixtures::CLIENT_SECRET.to_string(), "wrong-secret-do-not-leak".to_string()]);
    let who = connect_and_who_am_i(&secret_config(&sim.url, fixtures::CLIENT_SECRET), seen).expect("client secret connects");
    assert_eq!(who["user_id"], fixtures::APP_USER_ID);
    let (status, err) =
        connect_and_who_am_i(&secret_config(&sim.url, "wrong-secret-do-not-leak"), seen).expect_err("a wrong secret is refused");
    assert_eq!(status, Status::Authentication);
    assert!(err["message"].as_str().unwrap().contains("7000215"), "{err}");
    assert!(err["remedy"].as_str().unwrap().contains("client secret"), "{err}");
}

#[test]
fn a_wrong_client_secret_gives_an_authentication_error_with_the_remedy() {
    client_secret_flows(&mut Seen::default());
}

// ---------------------------------------------------------------------------------------------

#[test]
fn no_document_of_any_flow_carries_a_secret_an_assertion_or_a_token() {
    let mut seen = Seen::default();
    certificate_flows(&mut seen);
    managed_identity_flows(&mut seen);
    device_code_flows(&mut seen);
    expired_device_code(&mut seen);
    client_secret_flows(&mut seen);
    assert!(seen.documents.len() >= 30, "collected {} documents", seen.documents.len());
    // What the simulator issues or expects, by shape, plus the secrets the scenarios used.
    let mut forbidden: Vec<String> =
        ["sim-issued-", "sim-refresh-", "sim-device-", "eyJ", "PRIVATE KEY", "client_assertion=", "refresh_token\""]
            .map(String::from)
            .to_vec();
    forbidden.extend(seen.secrets.iter().cloned());
    for document in &seen.documents {
        for secret in &forbidden {
            assert!(!document.contains(secret.as_str()), "a document carries '{secret}': {document}");
        }
    }
}
