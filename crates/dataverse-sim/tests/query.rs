//! Reading collections and rows: $select, $filter, $count, paging, annotations, errors.

mod common;

use std::collections::HashSet;

use common::Harness;
use dataverse_sim::fixtures as fx;
use reqwest::StatusCode;
use uuid::Uuid;

#[tokio::test]
async fn paging_through_three_pages_returns_every_row_once() {
    let h = Harness::default().await; // 25 users + 5 queues = 30 mailboxes
    let prefer = [("Prefer", "odata.maxpagesize=12")];
    let mut url = "mailboxes?$select=mailboxid,name&$filter=statecode eq 0&$count=true".to_string();
    let mut ids = Vec::new();
    let mut pages = 0;
    loop {
        let r = h.get_with(fx::ADMIN_TOKEN, &url, &prefer).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        assert_eq!(r.header("preference-applied").as_deref(), Some("odata.maxpagesize=12"));
        let v = r.json();
        assert_eq!(v["@odata.count"], 30);
        assert_eq!(v["@odata.context"], format!("{}/api/data/v9.2/$metadata#mailboxes(mailboxid,name)", h.sim.url()));
        for row in v["value"].as_array().unwrap() {
            assert!(row["@odata.etag"].as_str().unwrap().starts_with("W/\""));
            // Only the selected columns (plus the etag) come back.
            assert_eq!(row.as_object().unwrap().len(), 3, "{row}");
            ids.push(row["mailboxid"].as_str().unwrap().to_string());
        }
        pages += 1;
        match v["@odata.nextLink"].as_str() {
            Some(next) => {
                assert!(next.starts_with(&format!("{}/api/data/v9.2/mailboxes?", h.sim.url())), "{next}");
                assert!(next.contains("$select=mailboxid,name") && next.contains("$filter=") && next.contains("$skiptoken="), "{next}");
                url = next.to_string();
            }
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(ids.len(), 30);
    assert_eq!(ids.iter().collect::<HashSet<_>>().len(), 30);
    h.sim.shutdown().await;
}

#[tokio::test]
async fn filter_with_escaped_quote_orderby_and_top() {
    let h = Harness::default().await;
    let r = h.get(fx::ADMIN_TOKEN, "systemusers?$select=fullname,internalemailaddress&$filter=fullname eq 'Liam O''Brien'").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let rows = r.json()["value"].as_array().unwrap().clone();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["internalemailaddress"], "liam.obrien@contoso.example");

    let r = h.get(fx::ADMIN_TOKEN, "emailserverprofiles?$select=name,servertype&$filter=servertype eq 0 and statecode eq 0").await;
    let rows = r.json()["value"].as_array().unwrap().clone();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["name"], fx::EXO_PROFILE_NAME);

    let r = h.get(fx::ADMIN_TOKEN, "mailboxes?$select=name&$orderby=name desc&$top=3").await;
    let v = r.json();
    let names: Vec<&str> = v["value"].as_array().unwrap().iter().map(|r| r["name"].as_str().unwrap()).collect();
    assert_eq!(names.len(), 3);
    assert!(names.windows(2).all(|w| w[0].to_lowercase() >= w[1].to_lowercase()), "{names:?}");
    assert!(v.get("@odata.nextLink").is_none());
    h.sim.shutdown().await;
}

#[tokio::test]
async fn query_errors_are_400_with_odata_bodies() {
    let h = Harness::default().await;
    let r = h.get(fx::ADMIN_TOKEN, "mailboxes?$select=name,regardingobjecttypecode").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        r.json(),
        serde_json::json!({"error": {"code": "0x80060888", "message": "Could not find a property named 'regardingobjecttypecode' on type 'Microsoft.Dynamics.CRM.mailbox'."}})
    );

    let r = h.get(fx::ADMIN_TOKEN, "mailboxes?$filter=x eq 1").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.error().1, "Could not find a property named 'x' on type 'Microsoft.Dynamics.CRM.mailbox'.");

    let r = h.get(fx::ADMIN_TOKEN, "mailboxes?$filter=name eq").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.error().1.starts_with("Syntax error"), "{}", r.text);

    let r = h.get(fx::ADMIN_TOKEN, "mailboxes?$skip=5").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);

    let r = h.get(fx::ADMIN_TOKEN, "mailboxes(1234)").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.error().0, "0x80060888");

    let missing = Uuid::new_v4();
    let r = h.get(fx::ADMIN_TOKEN, &format!("mailboxes({missing})?$select=name")).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(
        r.json(),
        serde_json::json!({"error": {"code": "0x80040217", "message": format!("mailbox With Id = {missing} Does Not Exist")}})
    );

    let r = h.get(fx::ADMIN_TOKEN, "accounts").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    h.sim.shutdown().await;
}

#[tokio::test]
async fn single_row_and_annotations() {
    let h = Harness::default().await;
    let st = h.sim.state();
    let user = st.seed_ids().users[1];
    let queue = st.seed_ids().queues[0];
    let user_mbx = st.mailbox_of(user).unwrap();
    let queue_mbx = st.mailbox_of(queue).unwrap();
    let prefer = [("Prefer", "odata.include-annotations=\"*\"")];

    let r = h
        .get_with(
            fx::ADMIN_TOKEN,
            &format!(
                "mailboxes({user_mbx})?$select=name,_regardingobjectid_value,incomingemaildeliverymethod,testemailconfigurationscheduled"
            ),
            &prefer,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.header("preference-applied").as_deref(), Some("odata.include-annotations=\"*\""));
    let v = r.json();
    assert!(v["@odata.context"].as_str().unwrap().ends_with(
        "$metadata#mailboxes(name,_regardingobjectid_value,incomingemaildeliverymethod,testemailconfigurationscheduled)/$entity"
    ));
    assert_eq!(v["mailboxid"], user_mbx.to_string());
    assert_eq!(v["name"], "Liam O'Brien");
    assert_eq!(v["_regardingobjectid_value"], user.to_string());
    assert_eq!(v["_regardingobjectid_value@Microsoft.Dynamics.CRM.lookuplogicalname"], "systemuser");
    assert_eq!(v["_regardingobjectid_value@OData.Community.Display.V1.FormattedValue"], "Liam O'Brien");
    assert_eq!(v["incomingemaildeliverymethod@OData.Community.Display.V1.FormattedValue"], "None");
    assert_eq!(v["testemailconfigurationscheduled@OData.Community.Display.V1.FormattedValue"], "No");

    let only_lookup = [("Prefer", "odata.include-annotations=\"Microsoft.Dynamics.CRM.lookuplogicalname\"")];
    let r = h
        .get_with(fx::ADMIN_TOKEN, &format!("mailboxes({queue_mbx})?$select=_regardingobjectid_value,actdeliverymethod"), &only_lookup)
        .await;
    let v = r.json();
    assert_eq!(v["_regardingobjectid_value@Microsoft.Dynamics.CRM.lookuplogicalname"], "queue");
    assert!(v.get("_regardingobjectid_value@OData.Community.Display.V1.FormattedValue").is_none());
    assert!(v.get("actdeliverymethod@OData.Community.Display.V1.FormattedValue").is_none());

    // Without the preference: no annotations at all.
    let r = h.get(fx::ADMIN_TOKEN, &format!("mailboxes({queue_mbx})?$select=_regardingobjectid_value")).await;
    assert!(!r.text.contains("lookuplogicalname"));

    // Organization row.
    let r = h.get(fx::READER_TOKEN, &format!("organizations({})?$select=emailconnectionchannel,_defaultemailserverprofileid_value,defaultemailsettings,requireapprovalforuseremail", fx::ORGANIZATION_ID)).await;
    let v = r.json();
    assert_eq!(v["emailconnectionchannel"], 1);
    assert_eq!(v["_defaultemailserverprofileid_value"], serde_json::Value::Null);
    assert_eq!(v["defaultemailsettings"], fx::DEFAULT_EMAIL_SETTINGS);
    assert_eq!(v["requireapprovalforuseremail"], true);
    h.sim.shutdown().await;
}

/// A filter that requires primary ids reads those rows by key: it must answer exactly as
/// testing every row would (each row once, the filter's other conditions applied, ids that do
/// not exist left out), and an `or` with another condition must not be narrowed to the ids.
#[tokio::test]
async fn a_filter_on_primary_ids_answers_as_a_scan_of_every_row() {
    let h = Harness::default().await;
    let all = h.get(fx::ADMIN_TOKEN, "mailboxes?$select=mailboxid,name&$orderby=name").await.json()["value"].as_array().unwrap().clone();
    let id = |i: usize| all[i]["mailboxid"].as_str().unwrap().to_string();
    let name = |i: usize| all[i]["name"].as_str().unwrap().to_string();
    let missing = Uuid::new_v4();
    // Three ids, one of them twice, and one that is no mailbox: three rows, in name order.
    let (a, b, c) = (id(7), id(2), id(4));
    let any = format!("mailboxid eq {a} or mailboxid eq {b} or mailboxid eq {missing} or mailboxid eq {a} or mailboxid eq {c}");
    assert_eq!(names(&h, &format!("mailboxes?$select=name&$orderby=name&$filter={any}")).await, vec![name(2), name(4), name(7)]);
    // With another condition in an `and`: the ids' rows that also meet it.
    let and = format!("({any}) and name ne '{}'", name(4).replace('\'', "''"));
    assert_eq!(names(&h, &format!("mailboxes?$select=name&$orderby=name&$filter={and}")).await, vec![name(2), name(7)]);
    // One `eq`, written either way round.
    assert_eq!(names(&h, &format!("mailboxes?$select=name&$filter={} eq mailboxid", id(5))).await, vec![name(5)]);
    // An `or` with a condition on another column is not a requirement on the ids.
    let or = format!("mailboxid eq {} or name eq '{}'", id(1), name(3).replace('\'', "''"));
    assert_eq!(names(&h, &format!("mailboxes?$select=name&$orderby=name&$filter={or}")).await, vec![name(1), name(3)]);
    // `not` of the ids: every other row.
    let not = format!("not (mailboxid eq {} or mailboxid eq {})", id(0), id(1));
    assert_eq!(names(&h, &format!("mailboxes?$select=name&$orderby=name&$filter={not}")).await.len(), all.len() - 2);
    // `$count` counts the same rows.
    let r = h.get(fx::ADMIN_TOKEN, &format!("mailboxes/$count?$filter={any}")).await;
    assert_eq!(r.text.trim(), "3", "{}", r.text);
    h.sim.shutdown().await;
}

async fn names(h: &Harness, url: &str) -> Vec<String> {
    let r = h.get(fx::ADMIN_TOKEN, url).await;
    assert_eq!(r.status, StatusCode::OK, "{url}: {}", r.text);
    r.json()["value"].as_array().unwrap().iter().map(|row| row["name"].as_str().unwrap().to_string()).collect()
}
