//! OAuth 2.0 client credentials with a certificate: a client assertion (a JWT signed with the
//! certificate's private key) instead of a secret (S-ENTRA-CERT, dataverse-reference §11).
//!
//! Header `{"alg":"PS256","typ":"JWT","x5t#S256":…,"x5t":…}` (RS256 selectable; `x5t` is the
//! SHA-1 thumbprint that older Entra documentation uses), claims `aud` = the token URL,
//! `iss` = `sub` = client id, `jti` (GUID), `nbf`, `iat`, `exp` (10 minutes). Sent as
//! `client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer&client_assertion=…`.
//!
//! The private key lives in `RsaPrivateKey` (zeroized on drop); every intermediate copy of key
//! bytes (PFX contents, PKCS#8/PKCS#1 DER, PEM text) is held in `Zeroizing` buffers.

use super::entra::{self, EntraAnswer, TokenResponse};
use super::{AccessToken, BoxFuture, TokenSource};
use crate::error::{Error, Result};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rsa::pkcs1::DecodeRsaPrivateKey;
use rsa::pkcs8::{DecodePrivateKey, DecodePublicKey};
use rsa::signature::{RandomizedSigner, SignatureEncoding, Signer};
use rsa::{RsaPrivateKey, RsaPublicKey};
use secrecy::{ExposeSecret, SecretString};
use sha2::Digest;
use std::time::{SystemTime, UNIX_EPOCH};
use url::Url;
use zeroize::Zeroizing;

pub const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/// Lifetime of an assertion; Microsoft recommends at most 10 minutes.
const ASSERTION_LIFETIME_SECS: u64 = 600;

/// The JWS algorithm of the assertion.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SigningAlgorithm {
    /// RSASSA-PSS with SHA-256 (current Microsoft documentation).
    Ps256,
    /// RSASSA-PKCS1-v1_5 with SHA-256 (older documentation and libraries).
    Rs256,
}

impl SigningAlgorithm {
    pub fn parse(text: &str) -> Result<Self> {
        match text.trim().to_ascii_uppercase().as_str() {
            "PS256" => Ok(SigningAlgorithm::Ps256),
            "RS256" => Ok(SigningAlgorithm::Rs256),
            _ => Err(Error::invalid(format!("signing_algorithm '{text}' is not supported: use PS256 (default) or RS256."))),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            SigningAlgorithm::Ps256 => "PS256",
            SigningAlgorithm::Rs256 => "RS256",
        }
    }
}

/// A certificate with its RSA private key, ready to sign assertions.
pub struct ClientCertificate {
    key: RsaPrivateKey,
    der: Vec<u8>,
    not_after: Option<SystemTime>,
}

impl std::fmt::Debug for ClientCertificate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientCertificate").field("thumbprint_sha1", &self.thumbprint_sha1_hex()).finish_non_exhaustive()
    }
}

fn bad_certificate(what: impl std::fmt::Display) -> Error {
    Error::invalid(format!("The client certificate could not be used: {what}."))
}

impl ClientCertificate {
    /// A PKCS#12 (.pfx/.p12) file's contents; `password` may be empty.
    pub fn from_pfx(bytes: &[u8], password: &str) -> Result<Self> {
        let store = p12_keystore::KeyStore::from_pkcs12(bytes, password, p12_keystore::Pkcs12ImportPolicy::Relaxed).map_err(|e| {
            let text = e.to_string().to_ascii_lowercase();
            if text.contains("mac") || text.contains("password") || text.contains("decrypt") {
                bad_certificate("the PFX password is wrong, or the file is damaged")
            } else {
                bad_certificate("the file is not a readable PFX/PKCS#12 archive")
            }
        })?;
        let (_, chain) = store.private_key_chain().ok_or_else(|| bad_certificate("the PFX holds no private key"))?;
        let key_der = Zeroizing::new(chain.key().as_der().to_vec());
        let key = RsaPrivateKey::from_pkcs8_der(&key_der)
            .map_err(|_| bad_certificate("the private key is not an RSA key (Entra client assertions here use RSA)"))?;
        let certs: Vec<Vec<u8>> = chain.certs().iter().map(|c| c.as_der().to_vec()).collect();
        Self::pair(key, certs)
    }

    /// PEM text holding the certificate and an unencrypted private key (`PRIVATE KEY` or
    /// `RSA PRIVATE KEY`), in any order.
    pub fn from_pem(text: &[u8]) -> Result<Self> {
        let blocks = pem::parse_many(text).map_err(|_| bad_certificate("the PEM text could not be parsed"))?;
        let mut key = None;
        let mut certs = Vec::new();
        for block in blocks {
            let tag = block.tag().to_string();
            match tag.as_str() {
                "CERTIFICATE" => certs.push(block.into_contents()),
                "PRIVATE KEY" => {
                    let der = Zeroizing::new(block.into_contents());
                    key = Some(RsaPrivateKey::from_pkcs8_der(&der).map_err(|_| bad_certificate("the private key is not an RSA key"))?);
                }
                "RSA PRIVATE KEY" => {
                    let der = Zeroizing::new(block.into_contents());
                    key = Some(RsaPrivateKey::from_pkcs1_der(&der).map_err(|_| bad_certificate("the RSA private key could not be read"))?);
                }
                "ENCRYPTED PRIVATE KEY" => {
                    drop(Zeroizing::new(block.into_contents()));
                    return Err(bad_certificate(
                        "the PEM private key is encrypted; give the certificate as a password-protected PFX instead (certificate_path + certificate_password)",
                    ));
                }
                _ => drop(Zeroizing::new(block.into_contents())),
            }
        }
        let key = key.ok_or_else(|| bad_certificate("the PEM text has no private key (PRIVATE KEY or RSA PRIVATE KEY block)"))?;
        Self::pair(key, certs)
    }

    /// Reads a file: PEM when it starts like PEM text, PFX otherwise.
    pub fn from_file(path: &std::path::Path, password: Option<&SecretString>) -> Result<Self> {
        let bytes = Zeroizing::new(std::fs::read(path).map_err(|e| {
            Error::invalid(format!("The certificate file '{}' could not be read: {e}.", path.display()))
                .with_remedy("Check certificate_path: a .pfx, or a .pem holding the certificate and its private key.")
                .with_hint("certificate_path")
        })?);
        if bytes.trim_ascii_start().starts_with(b"-----BEGIN") {
            Self::from_pem(&bytes)
        } else {
            Self::from_pfx(&bytes, password.map(|p| p.expose_secret()).unwrap_or(""))
        }
    }

    /// Keeps the certificate whose public key is the private key's.
    fn pair(key: RsaPrivateKey, certs: Vec<Vec<u8>>) -> Result<Self> {
        if certs.is_empty() {
            return Err(bad_certificate("no certificate was found next to the private key"));
        }
        let public = key.to_public_key();
        for der in certs {
            let Ok(parsed) = <x509_cert::Certificate as x509_cert::der::Decode>::from_der(&der) else { continue };
            let Ok(spki) = x509_cert::der::Encode::to_der(&parsed.tbs_certificate.subject_public_key_info) else { continue };
            if RsaPublicKey::from_public_key_der(&spki).is_ok_and(|p| p == public) {
                let not_after = Some(parsed.tbs_certificate.validity.not_after.to_system_time());
                return Ok(ClientCertificate { key, der, not_after });
            }
        }
        Err(bad_certificate("the private key does not belong to the certificate given with it"))
    }

    /// The certificate (DER).
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// The thumbprint Windows and the Entra portal show (SHA-1, upper-case hex).
    pub fn thumbprint_sha1_hex(&self) -> String {
        sha1::Sha1::digest(&self.der).iter().map(|b| format!("{b:02X}")).collect()
    }

    pub fn not_after(&self) -> Option<SystemTime> {
        self.not_after
    }

    /// A signed client assertion for `audience` (the token URL).
    pub fn client_assertion(&self, algorithm: SigningAlgorithm, client_id: &str, audience: &str) -> Result<SecretString> {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or_default();
        let header = serde_json::json!({
            "alg": algorithm.name(),
            "typ": "JWT",
            "x5t#S256": URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(&self.der)),
            "x5t": URL_SAFE_NO_PAD.encode(sha1::Sha1::digest(&self.der)),
        });
        let claims = serde_json::json!({
            "aud": audience,
            "iss": client_id,
            "sub": client_id,
            "jti": uuid::Uuid::new_v4().to_string(),
            "nbf": now,
            "iat": now,
            "exp": now + ASSERTION_LIFETIME_SECS,
        });
        let signing_input = format!("{}.{}", URL_SAFE_NO_PAD.encode(header.to_string()), URL_SAFE_NO_PAD.encode(claims.to_string()));
        let signature = match algorithm {
            SigningAlgorithm::Ps256 => rsa::pss::BlindedSigningKey::<sha2::Sha256>::new(self.key.clone())
                .try_sign_with_rng(&mut rsa::rand_core::OsRng, signing_input.as_bytes())
                .map(|s| s.to_vec()),
            SigningAlgorithm::Rs256 => {
                rsa::pkcs1v15::SigningKey::<sha2::Sha256>::new(self.key.clone()).try_sign(signing_input.as_bytes()).map(|s| s.to_vec())
            }
        }
        .map_err(|_| Error::internal("signing the client assertion failed"))?;
        Ok(SecretString::from(format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(signature))))
    }
}

pub struct ClientCertificateSource {
    pub(super) http: reqwest::Client,
    pub(super) token_url: Url,
    pub(super) client_id: String,
    pub(super) certificate: std::sync::Arc<ClientCertificate>,
    pub(super) algorithm: SigningAlgorithm,
    pub(super) scope: String,
}

impl TokenSource for ClientCertificateSource {
    fn fetch(&self) -> BoxFuture<'_, Result<AccessToken>> {
        Box::pin(async move {
            if self.certificate.not_after.is_some_and(|t| t < SystemTime::now()) {
                return Err(Error::new(
                    crate::error::ErrorKind::Authentication,
                    format!("The client certificate (thumbprint {}) has expired.", self.certificate.thumbprint_sha1_hex()),
                )
                .with_remedy("Upload a new certificate to the app registration (Entra ID > App registrations > Certificates & secrets) and connect with it."));
            }
            let assertion = self.certificate.client_assertion(self.algorithm, &self.client_id, self.token_url.as_str())?;
            let form = [
                ("grant_type", "client_credentials"),
                ("client_id", self.client_id.as_str()),
                ("client_assertion_type", ASSERTION_TYPE),
                ("client_assertion", assertion.expose_secret()),
                ("scope", self.scope.as_str()),
            ];
            match entra::post_form::<TokenResponse>(&self.http, &self.token_url, &form).await? {
                EntraAnswer::Token(token) => Ok(token.access_token()),
                EntraAnswer::Refused { status, error } => Err(entra::refused(
                    status,
                    format!("Microsoft Entra ID refused the certificate credentials ({}).", error.summary()),
                    &format!(
                        "Check that the certificate with thumbprint {} is uploaded to the app registration {} (Entra ID > App registrations > Certificates & secrets) and not expired, that tenant_id is right, and that the app is an application user in this environment.",
                        self.certificate.thumbprint_sha1_hex(),
                        self.client_id
                    ),
                )),
            }
        })
    }

    fn can_renew(&self) -> bool {
        true
    }
}
