//! Small HTTP helpers over reqwest for the simulator's integration tests.
#![allow(dead_code)]

use dataverse_sim::{SimConfig, Simulator};
use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode};
use serde_json::Value;

pub struct Harness {
    pub sim: Simulator,
    pub http: reqwest::Client,
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub text: String,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", self.text))
    }

    pub fn header(&self, name: &str) -> Option<String> {
        self.headers.get(name).map(|v| v.to_str().unwrap().to_string())
    }

    /// `(code, message)` of an OData error body.
    pub fn error(&self) -> (String, String) {
        let v = self.json();
        (v["error"]["code"].as_str().unwrap().to_string(), v["error"]["message"].as_str().unwrap().to_string())
    }
}

impl Harness {
    pub async fn start(config: SimConfig) -> Harness {
        let sim = Simulator::start(config).await.expect("simulator starts");
        Harness { sim, http: http_client() }
    }

    pub async fn default() -> Harness {
        Self::start(SimConfig::default()).await
    }

    pub fn api(&self, path: &str) -> String {
        if path.starts_with("http") { path.to_string() } else { format!("{}/api/data/v9.2/{path}", self.sim.url()) }
    }

    pub async fn send(&self, method: Method, token: Option<&str>, path: &str, headers: &[(&str, &str)], body: Option<&Value>) -> Reply {
        let mut req = self.http.request(method, self.api(path)).header("Accept", "application/json").header("OData-Version", "4.0");
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        if let Some(b) = body {
            req = req.header("Content-Type", "application/json").body(b.to_string());
        }
        let resp = req.send().await.expect("request sent");
        let status = resp.status();
        let headers = resp.headers().clone();
        let text = resp.text().await.expect("body");
        Reply { status, headers, text }
    }

    pub async fn get(&self, token: &str, path: &str) -> Reply {
        self.send(Method::GET, Some(token), path, &[], None).await
    }

    pub async fn get_with(&self, token: &str, path: &str, headers: &[(&str, &str)]) -> Reply {
        self.send(Method::GET, Some(token), path, headers, None).await
    }

    pub async fn patch(&self, token: &str, path: &str, body: Value) -> Reply {
        self.send(Method::PATCH, Some(token), path, &[], Some(&body)).await
    }

    pub async fn patch_with(&self, token: &str, path: &str, headers: &[(&str, &str)], body: Value) -> Reply {
        self.send(Method::PATCH, Some(token), path, headers, Some(&body)).await
    }
}

/// A plain HTTP client; installs the crypto provider reqwest needs in this workspace.
pub fn http_client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}
