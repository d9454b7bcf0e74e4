//! Many concurrent verification flows across the three providers: none is lost and none
//! crosses into another (each code and each result belongs to its own number).

mod common;

use common::{client, send, start};
use futures::StreamExt as _;
use phone_verify_sandbox::{Provider, SandboxHandle};
use serde_json::json;

/// Flows in total (split over the three providers).
const FLOWS: usize = 2_000;
/// Flows in flight at once.
const IN_FLIGHT: usize = 64;

async fn verifykit_flow(
    sb: &SandboxHandle,
    http: &reqwest::Client,
    n: usize,
) -> Result<(), String> {
    let phone = format!("+90532{n:07}");
    let web = sb.verifykit_web_rest_url();
    let key = ("X-Vfk-Server-Key", "sandbox-server-key");
    let (status, sent) = send(
        http.post(format!("{web}/send-otp"))
            .header(key.0, key.1)
            .json(&json!({"phoneNumber": phone, "countryCode": "TR"})),
    )
    .await;
    if status != 201 {
        return Err(format!("send-otp {status}: {sent}"));
    }
    let reference = sent["result"]["reference"].as_str().unwrap_or_default();
    let message = sb.messages(&phone).into_iter().next().ok_or("no message")?;
    if message.reference.as_deref() != Some(reference) {
        return Err(format!("message of {phone} belongs to another flow"));
    }
    let code = message.code.ok_or("no code")?;
    let (status, checked) = send(http.post(format!("{web}/check-otp")).header(key.0, key.1).json(
        &json!({"phoneNumber": phone, "countryCode": "TR", "reference": reference, "code": code}),
    ))
    .await;
    let session_id = checked["result"]["sessionId"]
        .as_str()
        .ok_or(format!("check-otp {status}: {checked}"))?;
    let (_, result) = send(
        http.post(format!("{}/result", sb.verifykit_api_url()))
            .header(key.0, key.1)
            .json(&json!({"sessionId": session_id})),
    )
    .await;
    if result["result"]["phoneNumber"] == phone.as_str() {
        Ok(())
    } else {
        Err(format!("{phone} resolved to {result}"))
    }
}

async fn verifik_flow(sb: &SandboxHandle, http: &reqwest::Client, n: usize) -> Result<(), String> {
    let national = format!("533{n:07}");
    let url = format!("{}/phone-validations", sb.verifik_url());
    let (status, created) = send(
        http.post(format!("{url}/manual"))
            .bearer_auth("sandbox-token")
            .json(&json!({"phone": national, "countryCode": "+90", "phoneGateway": "sms"})),
    )
    .await;
    if status != 200 {
        return Err(format!("manual {status}: {created}"));
    }
    let code = sb.latest_code(&format!("+90{national}")).ok_or("no code")?;
    let (status, validated) = send(
        http.put(&url)
            .bearer_auth("sandbox-token")
            .json(&json!({"phone": national, "countryCode": "+90", "otp": code})),
    )
    .await;
    let same = validated["data"]["_id"] == created["data"]["_id"]
        && validated["data"]["phone"] == national.as_str();
    if status == 200 && same {
        Ok(())
    } else {
        Err(format!("validate {status}: {validated}"))
    }
}

async fn verigator_flow(
    sb: &SandboxHandle,
    http: &reqwest::Client,
    sid: &str,
    n: usize,
) -> Result<(), String> {
    let phone = format!("+90534{n:07}");
    let users = format!("{}/service/service/{sid}/users", sb.verigator_url());
    let auth = ("X-Service-Auth", "sandbox:sandbox");
    let (_, user) = send(
        http.post(&users)
            .header(auth.0, auth.1)
            .json(&json!({"id_in_service": format!("user-{n}"), "phone_number": phone})),
    )
    .await;
    let uid = user["id"].as_str().ok_or(format!("create user: {user}"))?;
    let auth_url = format!("{users}/{uid}/auth");
    send(
        http.post(&auth_url)
            .header(auth.0, auth.1)
            .json(&json!({"method": "sms"})),
    )
    .await;
    let message = sb.messages(&phone).into_iter().next().ok_or("no message")?;
    if message.reference.as_deref() != Some(uid) {
        return Err(format!("message of {phone} belongs to another user"));
    }
    let pin = message.code.ok_or("no code")?;
    let (_, verified) = send(
        http.put(&auth_url)
            .header(auth.0, auth.1)
            .json(&json!({"token": pin})),
    )
    .await;
    if verified["verified"] == true {
        Ok(())
    } else {
        Err(format!("verify {phone}: {verified}"))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_thousand_concurrent_flows_complete_without_crossing() {
    let sb = start().await;
    let http = client();
    let (_, service) = send(
        http.post(format!("{}/service/service", sb.verigator_url()))
            .header("X-Service-Auth", "sandbox:sandbox")
            .json(&json!({"fqdn": "load.example", "name": "Load"})),
    )
    .await;
    let sid = service["id"].as_str().unwrap().to_owned();

    let failures: Vec<String> = futures::stream::iter(0..FLOWS)
        .map(|n| {
            let (sb, http, sid) = (&sb, &http, sid.as_str());
            async move {
                match n % 3 {
                    0 => verifykit_flow(sb, http, n).await,
                    1 => verifik_flow(sb, http, n).await,
                    _ => verigator_flow(sb, http, sid, n).await,
                }
            }
        })
        .buffer_unordered(IN_FLIGHT)
        .filter_map(|outcome| async move { outcome.err() })
        .collect()
        .await;
    assert!(
        failures.is_empty(),
        "{} failed, e.g. {:?}",
        failures.len(),
        failures.first()
    );

    let flows_of = |k: usize| (0..FLOWS).filter(|n| n % 3 == k).count();
    assert_eq!(
        sb.request_count(Provider::VerifyKit, "POST", "/v1.0/check-otp"),
        flows_of(0)
    );
    assert_eq!(
        sb.request_count(Provider::Verifik, "PUT", "/v2/phone-validations"),
        flows_of(1)
    );
    assert_eq!(
        sb.request_count(
            Provider::Verigator,
            "PUT",
            &format!("/v1/service/service/{sid}/users/x/auth")
        ),
        0
    );
    let verigator_verifies = sb
        .requests()
        .requests
        .iter()
        .filter(|r| r.provider == Provider::Verigator && r.method == "PUT")
        .count();
    assert_eq!(verigator_verifies, flows_of(2));
    let messages = sb.all_messages();
    assert_eq!(messages.len(), FLOWS, "exactly one message per flow");
    let mut phones: Vec<&str> = messages.iter().filter_map(|m| m.phone.as_deref()).collect();
    phones.sort_unstable();
    phones.dedup();
    assert_eq!(phones.len(), FLOWS, "every flow had its own number");
}
