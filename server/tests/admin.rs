//! What admins manage, through the admin pages' server functions: users (made, changed,
//! deactivated, passwords reset) and API tokens (scoped, shown once, revoked at once); none of
//! it open to agents.

pub mod common;

use common::browser::Browser;
use common::{spawn_app_with_bots, welcome, ADMIN_EMAIL, ADMIN_PASSWORD};
use reqwest::Method;
use serde_json::{json, Value};

async fn admin_call(browser: &mut Browser, name: &str, body: Value) -> (u16, Value) {
    let page = browser
        .call(Method::POST, &format!("/fn/admin/{name}"), Some(body), true)
        .await;
    let value = serde_json::from_str(&page.body).unwrap_or(Value::String(page.body.clone()));
    (page.status.as_u16(), value)
}

async fn form_call(browser: &mut Browser, name: &str, fields: &[(&str, &str)]) -> (u16, Value) {
    // Server functions without `input = Json` take form fields.
    let page = browser
        .form_with_csrf(&format!("/fn/admin/{name}"), fields)
        .await;
    let value = serde_json::from_str(&page.body).unwrap_or(Value::String(page.body.clone()));
    (page.status.as_u16(), value)
}

#[tokio::test]
async fn an_admin_makes_an_agent_who_then_works_on_their_bot_only() {
    let app = spawn_app_with_bots(&[("other-bot", "name = \"Other\"\n")]).await;
    let mut admin = Browser::signed_in(&app, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let (status, made) = admin_call(
        &mut admin,
        "create_user",
        json!({ "email": "grace@test.local", "name": "Grace", "role": "agent", "bots": ["other-bot"] }),
    )
    .await;
    assert_eq!(status, 200, "{made}");
    let password = made["temporaryPassword"].as_str().unwrap().to_string();
    let grace_id = made["user"]["viewer"]["id"].as_i64().unwrap();

    let mut grace = Browser::signed_in(&app, "grace@test.local", &password).await;
    let theirs = grace
        .call(
            Method::GET,
            "/api/v1/bots/other-bot/mod/hitl/sessions",
            None,
            false,
        )
        .await;
    assert_eq!(theirs.status, 200);
    let not_theirs = grace
        .call(Method::GET, &welcome("/mod/hitl/sessions"), None, false)
        .await;
    assert_eq!(not_theirs.status, 403);

    // Agents reach none of the admin functions.
    for name in ["list_users", "list_tokens", "admin_bots", "list_bots"] {
        let (status, body) = form_call(&mut grace, name, &[]).await;
        assert_eq!(status, 403, "{name} must refuse an agent: {body}");
        assert!(body.to_string().contains("only admins"), "{name}: {body}");
    }
    let (status, body) = admin_call(&mut grace, "audit_log", json!({ "query": {} })).await;
    assert_eq!(status, 403, "the audit log must refuse an agent: {body}");
    assert!(body.to_string().contains("only admins"), "{body}");
    let (status, _) = admin_call(
        &mut grace,
        "create_user",
        json!({ "email": "eve@test.local", "name": "Eve", "role": "admin", "bots": [] }),
    )
    .await;
    assert_ne!(status, 200);

    // Giving Grace the welcome bot takes effect on her next request.
    let (status, _) = admin_call(
        &mut admin,
        "update_user",
        json!({ "id": grace_id, "role": "agent", "bots": ["welcome-bot"], "active": true }),
    )
    .await;
    assert_eq!(status, 200);
    let now_hers = grace
        .call(Method::GET, &welcome("/mod/hitl/sessions"), None, false)
        .await;
    assert_eq!(now_hers.status, 200);

    // Deactivated: signed out at once, and no way back in.
    let (status, _) = admin_call(
        &mut admin,
        "update_user",
        json!({ "id": grace_id, "role": "agent", "bots": ["welcome-bot"], "active": false }),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(grace.get("/modules/hitl").await.status, 303);
    let again = Browser::new(&app)
        .sign_in("grace@test.local", &password)
        .await;
    assert!(again.location.unwrap().contains("error=credentials"));

    // An admin cannot lock themselves out.
    let (status, body) = admin_call(
        &mut admin,
        "update_user",
        json!({ "id": 1, "role": "agent", "bots": [], "active": true }),
    )
    .await;
    assert_ne!(status, 200, "{body}");
}

#[tokio::test]
async fn a_reset_password_signs_the_user_out_and_the_new_one_works() {
    let app = spawn_app_with_bots(&[]).await;
    let mut admin = Browser::signed_in(&app, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let (_, made) = admin_call(
        &mut admin,
        "create_user",
        json!({ "email": "ada@test.local", "name": "Ada", "role": "agent", "bots": ["welcome-bot"] }),
    )
    .await;
    let first = made["temporaryPassword"].as_str().unwrap().to_string();
    let id = made["user"]["viewer"]["id"].as_i64().unwrap().to_string();
    let mut ada = Browser::signed_in(&app, "ada@test.local", &first).await;

    let (status, reset) = form_call(&mut admin, "reset_password", &[("id", &id)]).await;
    assert_eq!(status, 200, "{reset}");
    let second = reset["temporaryPassword"].as_str().unwrap();
    assert_ne!(second, first);
    assert_eq!(ada.get("/modules/hitl").await.status, 303, "signed out");
    Browser::signed_in(&app, "ada@test.local", second).await;
}

#[tokio::test]
async fn a_token_acts_on_its_bot_only_and_stops_working_the_moment_it_is_revoked() {
    let app = spawn_app_with_bots(&[("other-bot", "name = \"Other\"\n")]).await;
    let mut admin = Browser::signed_in(&app, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let (status, made) = admin_call(
        &mut admin,
        "create_token",
        json!({ "name": "deploy", "bot_id": "other-bot" }),
    )
    .await;
    assert_eq!(status, 200, "{made}");
    let token = made["token"].as_str().unwrap().to_string();
    let id = made["info"]["id"].as_i64().unwrap().to_string();
    let get = |path: String| {
        reqwest::Client::new()
            .get(app.url(&path))
            .bearer_auth(&token)
            .send()
    };
    assert_eq!(
        get("/api/v1/bots/other-bot/mod/hitl/sessions".into())
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        get(welcome("/mod/hitl/sessions")).await.unwrap().status(),
        403
    );

    // Listed with its last use, never with its value.
    let (_, list) = form_call(&mut admin, "list_tokens", &[]).await;
    let listed = list
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "deploy")
        .unwrap()
        .clone();
    assert!(listed["lastUsedAt"].is_string(), "{listed}");
    assert!(!list.to_string().contains(&token));

    let (status, _) = form_call(&mut admin, "revoke_token", &[("id", &id)]).await;
    assert_eq!(status, 200);
    assert_eq!(
        get("/api/v1/bots/other-bot/mod/hitl/sessions".into())
            .await
            .unwrap()
            .status(),
        401
    );
    // The bootstrap token (`--api-token`) keeps working.
    app.get(&welcome("/mod/hitl/sessions")).await.expect(200);

    let (_, log) = admin_call(&mut admin, "audit_log", json!({ "query": {} })).await;
    let actions: Vec<&str> = log
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert!(
        actions.contains(&"token.created") && actions.contains(&"token.revoked"),
        "{actions:?}"
    );
}

#[tokio::test]
async fn an_admin_switches_a_whole_bot_off_and_on_and_the_log_says_who() {
    let app = spawn_app_with_bots(&[]).await;
    let mut admin = Browser::signed_in(&app, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    app.say("ada", "hello").await;
    app.say("ada", "HITL_START").await;
    app.say("bob", "hello").await;

    let (status, bots) = form_call(&mut admin, "list_bots", &[]).await;
    assert_eq!(status, 200, "{bots}");
    let welcome_bot = bots
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["id"] == "welcome-bot")
        .unwrap()
        .clone();
    assert_eq!(welcome_bot["kind"], "rules");
    assert_eq!(welcome_bot["running"], true);
    assert_eq!(welcome_bot["sessions"], 2);
    assert_eq!(welcome_bot["pausedSessions"], 1);

    let off = [("bot_id", "welcome-bot"), ("running", "false")];
    let (status, bot) = form_call(&mut admin, "set_bot_running", &off).await;
    assert_eq!(status, 200, "{bot}");
    assert_eq!(bot["running"], false);
    let held = app.say("bob", "are you there?").await;
    assert_eq!(held["responses"], json!([]), "{held}");

    let on = [("bot_id", "welcome-bot"), ("running", "true")];
    form_call(&mut admin, "set_bot_running", &on).await;
    let answered = app.say("bob", "hi").await;
    assert_eq!(answered["responses"][0]["text"], "You said: hi");

    let (_, log) = admin_call(&mut admin, "audit_log", json!({ "query": {} })).await;
    let switches: Vec<(String, String)> = log
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"].as_str().unwrap().starts_with("bot."))
        .map(|e| (e["action"].to_string(), e["actor"].to_string()))
        .collect();
    let by_admin = json!(ADMIN_EMAIL).to_string();
    assert_eq!(
        switches,
        [
            ("\"bot.resumed\"".to_string(), by_admin.clone()),
            ("\"bot.paused\"".to_string(), by_admin)
        ]
    );

    let (status, kept) = admin_call(
        &mut admin,
        "set_retention",
        json!({ "bot_id": "welcome-bot", "days": 30 }),
    )
    .await;
    assert_eq!(status, 200, "{kept}");
    assert_eq!(kept["retentionDays"], 30);

    let unknown = [("bot_id", "nope"), ("running", "false")];
    let (status, body) = form_call(&mut admin, "set_bot_running", &unknown).await;
    assert_ne!(status, 200);
    assert_eq!(body, json!({ "NotFound": "bot" }));
}
