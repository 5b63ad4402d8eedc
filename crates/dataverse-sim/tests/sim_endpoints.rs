//! Over HTTP: paging a large organization, `/_sim/stats`, `/_sim/reset`, the injected 429 and
//! 5xx faults, and the mixed seed.

mod common;

use std::collections::HashSet;

use common::Harness;
use dataverse_sim::seed::{SeedState, state_counts};
use dataverse_sim::{FaultConfig, SimConfig, fixtures as fx};
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn count(h: &Harness, filter: String) -> usize {
    let r = h.get(fx::ADMIN_TOKEN, &format!("mailboxes?$select=mailboxid&$count=true&$filter={filter}")).await;
    assert_eq!(r.status, StatusCode::OK, "{filter}: {}", r.text);
    r.json()["@odata.count"].as_u64().unwrap() as usize
}

async fn stats(h: &Harness) -> Value {
    let r = h.http.get(format!("{}/_sim/stats", h.sim.url())).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    serde_json::from_str(&r.text().await.unwrap()).unwrap()
}

async fn reset(h: &Harness) {
    let r = h.http.post(format!("{}/_sim/reset", h.sim.url())).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn twelve_thousand_mailboxes_page_by_5000_each_row_once() {
    let h = Harness::start(SimConfig { mailboxes: 12_000, queues: 0, ..Default::default() }).await;
    let prefer = [("Prefer", "odata.maxpagesize=5000")];
    let mut next = "mailboxes?$select=mailboxid,name&$count=true".to_string();
    let mut seen = HashSet::new();
    let mut pages = Vec::new();
    loop {
        let r = h.get_with(fx::ADMIN_TOKEN, &next, &prefer).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        let v = r.json();
        if pages.is_empty() {
            assert_eq!(v["@odata.count"], 5000, "@odata.count is capped at 5000 like the service");
        }
        let rows = v["value"].as_array().unwrap();
        pages.push(rows.len());
        for row in rows {
            assert!(seen.insert(row["mailboxid"].as_str().unwrap().to_string()), "row twice: {row}");
        }
        match v["@odata.nextLink"].as_str() {
            Some(link) => next = link.to_string(),
            None => break,
        }
    }
    assert_eq!(pages, vec![5000, 5000, 2000]);
    assert_eq!(seen.len(), 12_000);
    let all: HashSet<String> = h.sim.state().rows("mailboxes").iter().map(|r| r["mailboxid"].as_str().unwrap().to_string()).collect();
    assert_eq!(seen, all);
    h.sim.shutdown().await;
}

#[tokio::test]
async fn stats_count_requests_writes_and_429s_and_reset_restores_the_seed() {
    let h = Harness::start(SimConfig { mailboxes: 4, queues: 1, limits_scale: 0.01, ..Default::default() }).await;
    let st = h.sim.state();
    let users = st.seed_ids().users.clone();
    let (a, b) = (st.mailbox_of(users[0]).unwrap(), st.mailbox_of(users[1]).unwrap());
    assert_eq!(stats(&h).await["requests"], 0);

    assert_eq!(h.get(fx::ADMIN_TOKEN, "WhoAmI").await.status, StatusCode::OK);
    let r = h.patch(fx::ADMIN_TOKEN, &format!("mailboxes({a})"), json!({"testemailconfigurationscheduled": true})).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    // A $batch of two PATCHes: one request, two write operations.
    let body = format!(
        "--b\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\nPATCH mailboxes({a}) HTTP/1.1\r\nContent-Type: application/json\r\n\r\n{{\"actdeliverymethod\":1}}\r\n--b\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\nPATCH mailboxes({b}) HTTP/1.1\r\nContent-Type: application/json\r\n\r\n{{\"actdeliverymethod\":1}}\r\n--b--\r\n"
    );
    let r = h
        .http
        .post(h.api("$batch"))
        .bearer_auth(fx::ADMIN_TOKEN)
        .header("Content-Type", "multipart/mixed; boundary=b")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    assert_eq!(h.send(reqwest::Method::GET, None, "WhoAmI", &[], None).await.status, StatusCode::UNAUTHORIZED);
    // scale 0.01: 60 requests per 3 s; send until two 429s.
    let (mut throttled, mut sent) = (0, 0);
    while throttled < 2 && sent < 1000 {
        sent += 1;
        if h.get(fx::ADMIN_TOKEN, "WhoAmI").await.status == StatusCode::TOO_MANY_REQUESTS {
            throttled += 1;
        }
    }
    assert_eq!(throttled, 2);

    let s = stats(&h).await;
    assert_eq!(s["requests"], 4 + sent, "{s}");
    assert_eq!(s["requests_by_method"], json!({"GET": 2 + sent, "PATCH": 1, "POST": 1}), "{s}");
    assert_eq!(s["requests_by_status"]["204"], 1, "{s}");
    assert_eq!(s["requests_by_status"]["401"], 1, "{s}");
    assert_eq!(s["requests_by_status"]["429"], throttled, "{s}");
    assert_eq!(s["write_operations"], 3, "{s}");
    assert_eq!(s["throttled"]["total"], throttled, "{s}");
    assert_eq!(s["throttled"]["limits"], throttled, "{s}");
    assert_eq!(s["throttled"]["requests"], throttled, "{s}");
    assert_eq!(s["throttled"]["injected"], 0, "{s}");
    assert_eq!(s["concurrency"]["max_overall"], 1, "{s}");
    assert_eq!(s["concurrency"]["max_per_caller"], 1, "{s}");
    assert_eq!(s["callers"][fx::ADMIN_USER_ID]["throttled"], throttled, "{s}");
    assert_eq!(s["faults"]["total"], 0, "{s}");
    assert_eq!(st.stats(), {
        let mut again = stats(&h).await;
        again["requests"] = s["requests"].clone();
        again
    });
    assert_eq!(st.scheduled_tests().len(), 1);
    st.assign_role(fx::READER_USER_ID.parse().unwrap(), fx::ROLE_SYSTEM_ADMINISTRATOR);
    let issued = st.issue_token(fx::APP_USER_ID.parse().unwrap(), std::time::Duration::from_secs(600));

    reset(&h).await;
    let s = stats(&h).await;
    assert_eq!((s["requests"].clone(), s["write_operations"].clone(), s["throttled"]["total"].clone()), (json!(0), json!(0), json!(0)));
    assert_eq!(s["callers"], json!({}));
    assert_eq!(st.row("mailboxes", a).unwrap()["actdeliverymethod"], 0, "rows back to the seed");
    assert_eq!(st.row("mailboxes", b).unwrap()["actdeliverymethod"], 0);
    assert!(st.scheduled_tests().is_empty(), "pending tests dropped");
    assert_eq!(st.request_count(), 0);
    assert_eq!(st.seed_ids().users, users);
    // Limits windows start over: the admin is admitted again at once.
    assert_eq!(h.get(fx::ADMIN_TOKEN, "WhoAmI").await.status, StatusCode::OK);
    // Roles are back to the seed; issued tokens still work.
    let r = h.patch(fx::READER_TOKEN, &format!("mailboxes({a})"), json!({"actdeliverymethod": 1})).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    assert_eq!(h.get(&issued, "WhoAmI").await.status, StatusCode::OK);
    h.sim.shutdown().await;
}

#[tokio::test]
async fn injected_429_has_retry_after_and_the_service_shape() {
    let faults = FaultConfig { throttle: 1.0, throttle_retry_after_secs: 7, ..Default::default() };
    let h = Harness::start(SimConfig { mailboxes: 1, queues: 0, faults, ..Default::default() }).await;
    let st = h.sim.state();
    let mbx = st.mailbox_of(st.seed_ids().users[0]).unwrap();
    let r = h.patch(fx::ADMIN_TOKEN, &format!("mailboxes({mbx})"), json!({"actdeliverymethod": 1})).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(r.header("retry-after").as_deref(), Some("7"));
    assert_eq!(
        r.error(),
        ("0x80072322".to_string(), "Number of requests exceeded the limit of 6000 over time window of 300 seconds.".to_string())
    );
    assert_eq!(st.row("mailboxes", mbx).unwrap()["actdeliverymethod"], 0, "not processed");
    assert_eq!(st.fault_stats().throttled, 1);
    assert_eq!(st.limit_stats(fx::ADMIN_USER_ID.parse().unwrap()).requests, 0, "not charged to the caller's window");
    // The token endpoint and /_sim are left alone.
    let s = stats(&h).await;
    assert_eq!(s["throttled"]["injected"], 1, "{s}");
    assert_eq!(s["throttled"]["total"], 1, "{s}");
    assert_eq!(s["faults"]["throttled_429"], 1, "{s}");
    h.sim.shutdown().await;
}

#[tokio::test]
async fn injected_5xx_are_500_502_or_504_and_deterministic() {
    let run = || async {
        let faults = FaultConfig { server_error: 1.0, ..Default::default() };
        let h = Harness::start(SimConfig { mailboxes: 1, queues: 0, seed: 3, faults, ..Default::default() }).await;
        let mut seen = Vec::new();
        for _ in 0..30 {
            let r = h.get(fx::ADMIN_TOKEN, "WhoAmI").await;
            match r.status.as_u16() {
                500 => assert_eq!(r.error(), ("0x80040216".to_string(), "An unexpected error occurred.".to_string())),
                502 | 504 => assert!(r.text.contains(&format!("<h1>{}", r.status.as_u16())), "{}", r.text),
                other => panic!("unexpected status {other}"),
            }
            seen.push(r.status.as_u16());
        }
        let st = h.sim.state();
        assert_eq!(st.fault_stats().server_errors, 30);
        assert_eq!(stats(&h).await["faults"]["server_errors_5xx"], 30);
        h.sim.shutdown().await;
        seen
    };
    let a = run().await;
    assert!([500, 502, 504].iter().all(|s| a.contains(s)), "all three statuses appear: {a:?}");
    assert_eq!(a, run().await, "same seed, same sequence");

    // Rates of 0 inject nothing; a partial rate injects some.
    let faults = FaultConfig { server_error: 0.3, throttle: 0.2, ..Default::default() };
    let h = Harness::start(SimConfig { mailboxes: 1, queues: 0, faults, ..Default::default() }).await;
    let mut ok = 0;
    for _ in 0..100 {
        if h.get(fx::ADMIN_TOKEN, "WhoAmI").await.status == StatusCode::OK {
            ok += 1;
        }
    }
    let f = h.sim.state().fault_stats();
    assert!((15..=45).contains(&f.server_errors), "{f:?}");
    assert!((5..=35).contains(&f.throttled), "{f:?}");
    assert_eq!(ok as u64, 100 - f.server_errors - f.throttled);
    h.sim.shutdown().await;
}

#[tokio::test]
async fn mixed_seed_states_over_http() {
    let h = Harness::start(SimConfig { mailboxes: 40, queues: 3, mixed_states: true, ..Default::default() }).await;
    let st = h.sim.state();
    let exo = st.seed_ids().exo_profile;
    let expected = state_counts(40, true);
    assert_eq!(expected[&SeedState::Done], 3);
    assert_eq!(expected[&SeedState::Configured], 3);
    assert_eq!(expected[&SeedState::Partial], 5);
    assert_eq!(expected[&SeedState::Inactive], 2);
    assert_eq!(expected[&SeedState::Unconfigured], 27);

    assert_eq!(count(&h, "statecode eq 1 and statuscode eq 2".into()).await, 2);
    assert_eq!(
        count(&h, format!("_emailserverprofile_value eq {exo} and incomingemaildeliverymethod eq 2 and outgoingemaildeliverymethod eq 2 and actdeliverymethod eq 1 and mailboxstatus eq 1 and incomingemailstatus eq 1 and outgoingemailstatus eq 1 and actstatus eq 1 and emailrouteraccessapproval eq 1 and testmailboxaccesscompletedon ne null")).await,
        3,
        "done"
    );
    assert_eq!(
        count(&h, format!("_emailserverprofile_value eq {exo} and incomingemaildeliverymethod eq 2 and emailrouteraccessapproval eq 2 and mailboxstatus eq 0")).await,
        3,
        "configured, approval pending"
    );
    assert_eq!(
        count(&h, format!("_emailserverprofile_value eq {exo} and incomingemaildeliverymethod ne 2 and outgoingemaildeliverymethod ne 2"))
            .await,
        5,
        "partly configured"
    );
    assert_eq!(count(&h, "_emailserverprofile_value eq null and statecode eq 0".into()).await, 27 + 3, "unconfigured users + queues");
    assert_eq!(count(&h, "emailrouteraccessapproval eq 2".into()).await, 40 - 3 + 3, "pending approval: all but the done ones");
    // The owners of done mailboxes are approved too.
    for (uid, state) in st.seed_ids().users.iter().zip(&st.seed_ids().user_states) {
        let u = st.row("systemusers", *uid).unwrap();
        let approved = *state == SeedState::Done;
        assert_eq!(u["emailrouteraccessapproval"], if approved { 1 } else { 2 });
        assert_eq!(u["isemailaddressapprovedbyo365admin"], approved);
    }
    h.sim.shutdown().await;
    // Without mixed_states (the default), every mailbox is active and none is done.
    let h = Harness::start(SimConfig { mailboxes: 40, queues: 0, ..Default::default() }).await;
    assert_eq!(count(&h, "statecode eq 1".into()).await, 0);
    assert_eq!(count(&h, "mailboxstatus eq 1 or emailrouteraccessapproval eq 1".into()).await, 0);
    assert_eq!(count(&h, format!("_emailserverprofile_value eq {}", h.sim.state().seed_ids().exo_profile)).await, 11);
    assert!(!state_counts(40, false).contains_key(&SeedState::Inactive));
    h.sim.shutdown().await;
}
