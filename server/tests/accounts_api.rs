//! Users and API tokens over REST, as an admin's tools use them: provisioning an agent who then
//! signs in and is kept to their bots, changing role, bots and whether they may sign in, tokens
//! that act as a person, revocation, who may call, and every error answer.

pub mod common;

use common::browser::{Browser, Page};
use common::{
    spawn_app_with_bots, welcome, Answer, TestApp, ADMIN_EMAIL, ADMIN_PASSWORD, TOKEN, WELCOME_BOT,
};
use reqwest::Method;
use serde_json::{json, Value};

const OTHER_BOT: &str = "other-bot";

async fn app_with_two_bots() -> TestApp {
    spawn_app_with_bots(&[(OTHER_BOT, "name = \"Other Bot\"\n")]).await
}

/// A request with a bearer token, answered as status and JSON body.
async fn with_token(
    app: &TestApp,
    token: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> Answer {
    let mut request = app.client.request(method, app.url(path)).bearer_auth(token);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.expect("the server answers");
    let status = response.status();
    let text = response.text().await.expect("a readable body");
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{status}: {text:?}: {e}"))
    };
    Answer { status, body }
}

/// The same with the `--api-token`, an admin's tool.
async fn admin(app: &TestApp, method: Method, path: &str, body: Option<Value>) -> Answer {
    with_token(app, TOKEN, method, path, body).await
}

fn answer(page: Page) -> Answer {
    let body = if page.body.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&page.body).unwrap_or_else(|e| panic!("{}: {e}", page.body))
    };
    Answer {
        status: page.status,
        body,
    }
}

/// Adds an agent through the API; answers their id and temporary password.
async fn provision(app: &TestApp, email: &str, name: &str, bots: &[&str]) -> (i64, String) {
    let made = admin(
        app,
        Method::POST,
        "/api/v1/users",
        Some(json!({ "email": email, "name": name, "role": "agent", "bots": bots })),
    )
    .await
    .expect(201);
    let id = made["user"]["viewer"]["id"].as_i64().expect("an id");
    let password = made["temporaryPassword"].as_str().expect("a password");
    (id, password.to_string())
}

async fn patch_user(app: &TestApp, id: i64, change: Value) -> Value {
    admin(
        app,
        Method::PATCH,
        &format!("/api/v1/users/{id}"),
        Some(change),
    )
    .await
    .expect(200)
}

async fn patch(app: &TestApp, path: &str, body: Value) -> Answer {
    admin(app, Method::PATCH, path, Some(body)).await
}

async fn make_token(app: &TestApp, body: Value) -> (i64, String) {
    let made = admin(app, Method::POST, "/api/v1/tokens", Some(body))
        .await
        .expect(201);
    let id = made["info"]["id"].as_i64().expect("an id");
    (id, made["token"].as_str().expect("a value").to_string())
}

async fn status_in(browser: &mut Browser, path: &str) -> u16 {
    browser
        .call(Method::GET, path, None, false)
        .await
        .status
        .as_u16()
}

#[tokio::test]
async fn an_admin_provisions_an_agent_who_signs_in_and_works_on_their_bots_only() {
    let app = app_with_two_bots().await;
    let made = admin(
        &app,
        Method::POST,
        "/api/v1/users",
        Some(json!({
            "email": "grace@test.local", "name": "Grace", "role": "agent", "bots": [OTHER_BOT]
        })),
    )
    .await
    .expect(201);
    let user = &made["user"];
    assert_eq!(user["viewer"]["email"], "grace@test.local");
    assert_eq!(user["viewer"]["name"], "Grace");
    assert_eq!(user["viewer"]["role"], "agent");
    assert_eq!(user["viewer"]["bots"], json!([OTHER_BOT]));
    assert_eq!(user["active"], true);
    let password = made["temporaryPassword"].as_str().expect("shown once");

    let mut grace = Browser::signed_in(&app, "grace@test.local", password).await;
    let theirs = format!("/api/v1/bots/{OTHER_BOT}/mod/hitl/sessions");
    assert_eq!(status_in(&mut grace, &theirs).await, 200);
    assert_eq!(
        status_in(&mut grace, &welcome("/mod/hitl/sessions")).await,
        403
    );
    assert_eq!(
        status_in(&mut grace, "/api/v1/users").await,
        403,
        "an agent manages no one"
    );

    // With a password of the admin's choosing, none is made up.
    let chosen = admin(
        &app,
        Method::POST,
        "/api/v1/users",
        Some(json!({
            "email": "ada@test.local", "name": "Ada", "role": "admin", "password": "ada-chose-this-1"
        })),
    )
    .await
    .expect(201);
    assert!(chosen.get("temporaryPassword").is_none(), "{chosen}");
    let mut ada = Browser::signed_in(&app, "ada@test.local", "ada-chose-this-1").await;
    assert_eq!(status_in(&mut ada, "/api/v1/users").await, 200);

    let listed = admin(&app, Method::GET, "/api/v1/users", None)
        .await
        .expect(200);
    let emails: Vec<&str> = listed["users"]
        .as_array()
        .expect("users")
        .iter()
        .map(|u| u["viewer"]["email"].as_str().unwrap())
        .collect();
    assert_eq!(
        emails,
        ["ada@test.local", ADMIN_EMAIL, "grace@test.local"],
        "by email"
    );
    assert!(!listed.to_string().contains("argon2"), "no password hash");

    // The audit log says which tool did it.
    let log = admin(&app, Method::GET, "/api/v1/audit?action=user.created", None)
        .await
        .expect(200);
    let created: Vec<(&str, &str, &str)> = log["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["detail"].as_str().unwrap(),
                e["actor"].as_str().unwrap_or(""),
                e["actorKind"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert!(
        created.contains(&("grace@test.local (agent)", "api", "token")),
        "{created:?}"
    );
}

#[tokio::test]
async fn changing_role_bots_and_active_takes_effect_on_the_next_request() {
    let app = app_with_two_bots().await;
    let (id, password) = provision(&app, "grace@test.local", "Grace", &[OTHER_BOT]).await;
    let mut grace = Browser::signed_in(&app, "grace@test.local", &password).await;
    let other = format!("/api/v1/bots/{OTHER_BOT}/mod/hitl/sessions");
    let welcome_sessions = welcome("/mod/hitl/sessions");

    let user = patch_user(&app, id, json!({ "bots": [WELCOME_BOT] })).await;
    assert_eq!(user["viewer"]["bots"], json!([WELCOME_BOT]));
    assert_eq!(status_in(&mut grace, &welcome_sessions).await, 200);
    assert_eq!(status_in(&mut grace, &other).await, 403);

    let user = patch_user(&app, id, json!({ "role": "admin", "name": "Grace Hopper" })).await;
    assert_eq!(user["viewer"]["role"], "admin");
    assert_eq!(user["viewer"]["name"], "Grace Hopper");
    assert_eq!(
        status_in(&mut grace, &other).await,
        200,
        "admins see every bot"
    );
    assert_eq!(status_in(&mut grace, "/api/v1/users").await, 200);

    let user = patch_user(&app, id, json!({ "role": "agent" })).await;
    assert_eq!(user["viewer"]["role"], "agent");
    assert_eq!(status_in(&mut grace, "/api/v1/users").await, 403);

    // Deactivated: her browser is signed out at once, and she cannot sign in again.
    let user = patch_user(&app, id, json!({ "active": false })).await;
    assert_eq!(user["active"], false);
    assert_eq!(grace.get("/modules/hitl").await.status, 303);
    assert_eq!(status_in(&mut grace, &welcome_sessions).await, 401);
    let refused = Browser::new(&app)
        .sign_in("grace@test.local", &password)
        .await;
    assert!(refused.location.unwrap().contains("error=credentials"));

    patch_user(&app, id, json!({ "active": true })).await;
    Browser::signed_in(&app, "grace@test.local", &password).await;
}

#[tokio::test]
async fn a_persons_token_acts_as_that_person_with_their_bots() {
    let app = app_with_two_bots().await;
    let (grace_id, _) = provision(&app, "grace@test.local", "Grace", &[WELCOME_BOT]).await;
    let made = admin(
        &app,
        Method::POST,
        "/api/v1/tokens",
        Some(json!({ "name": "grace-cli", "userId": grace_id })),
    )
    .await
    .expect(201);
    assert_eq!(made["info"]["userId"], grace_id);
    let token = made["token"].as_str().unwrap().to_string();

    let session = app.say("u1", "I need help").await["sessionId"]
        .as_i64()
        .unwrap();
    let paused = with_token(
        &app,
        &token,
        Method::POST,
        &welcome(&format!("/mod/hitl/sessions/{session}/pause")),
        Some(json!({ "reason": "billing" })),
    )
    .await
    .expect(200);
    assert_eq!(paused["pausedBy"], "Grace");
    assert_eq!(paused["pausedByKind"], "agent");
    assert_eq!(paused["pausedById"], grace_id);
    let line = app
        .messages(session)
        .await
        .into_iter()
        .find(|m| m["source"] == "system")
        .expect("a pause line");
    assert_eq!(line["author"], "Grace");
    assert_eq!(line["authorKind"], "agent");
    assert_eq!(line["authorId"], grace_id);
    assert!(
        line["text"].as_str().unwrap().contains("Paused by Grace"),
        "{line}"
    );

    let other = format!("/api/v1/bots/{OTHER_BOT}/mod/hitl/sessions");
    with_token(&app, &token, Method::GET, &other, None)
        .await
        .expect_error(403, "forbidden");
    with_token(&app, &token, Method::GET, "/api/v1/users", None)
        .await
        .expect_error(403, "forbidden");
    // Switching a whole bot off is an admin's: not hers, even on her own bot.
    with_token(
        &app,
        &token,
        Method::POST,
        "/api/v1/bots/welcome-bot/pause",
        None,
    )
    .await
    .expect_error(403, "forbidden");

    // Her rights are read as they are now: the token follows her bots, and her deactivation.
    patch_user(&app, grace_id, json!({ "bots": [OTHER_BOT] })).await;
    with_token(&app, &token, Method::GET, &other, None)
        .await
        .expect(200);
    with_token(
        &app,
        &token,
        Method::GET,
        &welcome("/mod/hitl/sessions"),
        None,
    )
    .await
    .expect_error(403, "forbidden");
    patch_user(&app, grace_id, json!({ "active": false })).await;
    with_token(&app, &token, Method::GET, &other, None)
        .await
        .expect_error(401, "unauthorized");

    // An admin's token manages accounts, in the admin's name.
    let (_, admins) = make_token(&app, json!({ "name": "admin-cli", "userId": 1 })).await;
    with_token(
        &app,
        &admins,
        Method::POST,
        "/api/v1/users",
        Some(json!({ "email": "bob@test.local", "name": "Bob", "role": "agent" })),
    )
    .await
    .expect(201);
    let log = admin(&app, Method::GET, "/api/v1/audit?action=user.created", None)
        .await
        .expect(200);
    let newest = &log["entries"][0];
    assert_eq!(newest["detail"], "bob@test.local (agent)");
    assert_eq!(newest["actor"], ADMIN_EMAIL);
    assert_eq!(newest["actorKind"], "agent");
    assert_eq!(newest["actorId"], 1);
}

#[tokio::test]
async fn a_revoked_token_is_refused_from_the_next_call_on() {
    let app = app_with_two_bots().await;
    let (id, token) = make_token(&app, json!({ "name": "deploy", "botId": OTHER_BOT })).await;
    let other = format!("/api/v1/bots/{OTHER_BOT}/mod/hitl/sessions");
    with_token(&app, &token, Method::GET, &other, None)
        .await
        .expect(200);

    let listed = admin(&app, Method::GET, "/api/v1/tokens", None)
        .await
        .expect(200);
    let deploy = listed["tokens"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == id)
        .expect("listed")
        .clone();
    assert_eq!(deploy["name"], "deploy");
    assert_eq!(deploy["botId"], OTHER_BOT);
    assert_eq!(deploy["userId"], Value::Null);
    assert_eq!(deploy["revoked"], false);
    assert!(!listed.to_string().contains(&token), "never the value");
    assert!(!listed.to_string().contains("hash"), "never its hash");

    let gone = admin(&app, Method::DELETE, &format!("/api/v1/tokens/{id}"), None).await;
    assert_eq!(gone.status, 204);
    with_token(&app, &token, Method::GET, &other, None)
        .await
        .expect_error(401, "unauthorized");
    let listed = admin(&app, Method::GET, "/api/v1/tokens", None)
        .await
        .expect(200);
    let deploy = listed["tokens"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == id)
        .unwrap()
        .clone();
    assert_eq!(deploy["revoked"], true);
}

#[tokio::test]
async fn who_may_manage_accounts() {
    let app = app_with_two_bots().await;
    let body = || Some(json!({ "name": "t" }));

    // No caller.
    let anonymous = app
        .client
        .get(app.url("/api/v1/users"))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
    with_token(&app, "not-a-token", Method::GET, "/api/v1/tokens", None)
        .await
        .expect_error(401, "unauthorized");

    // A token for one bot, and a signed-in agent.
    let (_, scoped) = make_token(&app, json!({ "name": "one-bot", "botId": WELCOME_BOT })).await;
    for (method, path) in [
        (Method::GET, "/api/v1/users"),
        (Method::GET, "/api/v1/tokens"),
        (Method::POST, "/api/v1/tokens"),
    ] {
        let sent = (method == Method::POST).then(body).flatten();
        with_token(&app, &scoped, method, path, sent)
            .await
            .expect_error(403, "forbidden");
    }
    let (_, password) = provision(&app, "grace@test.local", "Grace", &[WELCOME_BOT]).await;
    let mut grace = Browser::signed_in(&app, "grace@test.local", &password).await;
    let tried = grace
        .call(Method::POST, "/api/v1/tokens", body(), true)
        .await;
    answer(tried).expect_error(403, "forbidden");

    // A signed-in admin, with the CSRF header as for every change.
    let mut boss = Browser::signed_in(&app, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let without = boss
        .call(Method::POST, "/api/v1/tokens", body(), false)
        .await;
    answer(without).expect_error(403, "forbidden");
    let with = boss
        .call(Method::POST, "/api/v1/tokens", body(), true)
        .await;
    let made = answer(with).expect(201);
    assert_eq!(made["info"]["createdBy"], ADMIN_EMAIL);
    let listed = boss.call(Method::GET, "/api/v1/users", None, false).await;
    answer(listed).expect(200);
}

#[tokio::test]
async fn every_error_says_what_is_wrong() {
    let app = app_with_two_bots().await;
    let users = "/api/v1/users";
    let post_user = |body: Value| admin(&app, Method::POST, users, Some(body));

    // Malformed JSON.
    let malformed = app
        .client
        .post(app.url(users))
        .bearer_auth(TOKEN)
        .header("content-type", "application/json")
        .body("{\"email\":")
        .send()
        .await
        .unwrap();
    assert_eq!(malformed.status(), 400);
    let body: Value = malformed.json().await.unwrap();
    assert_eq!(body["error"]["code"], "bad_request");

    // Invalid fields.
    for (wrong, why) in [
        (
            json!({ "email": "not-an-email", "name": "X", "role": "agent" }),
            "email address",
        ),
        (
            json!({ "email": "x@test.local", "name": "  ", "role": "agent" }),
            "name",
        ),
        (
            json!({ "email": "x@test.local", "name": "X", "role": "agent", "bots": ["nope"] }),
            "no bot nope",
        ),
        (
            json!({ "email": "x@test.local", "name": "X", "role": "owner" }),
            "owner",
        ),
        (
            json!({ "email": "x@test.local", "name": "X", "role": "agent", "password": "short" }),
            "at least",
        ),
        (
            json!({ "email": "x@test.local", "name": "X", "role": "agent", "admin": true }),
            "admin",
        ),
    ] {
        let answer = post_user(wrong.clone()).await;
        let message = answer.body["error"]["message"].to_string();
        answer.expect_error(422, "unprocessable");
        assert!(message.contains(why), "{wrong}: {message}");
    }
    // Taken, whatever the case.
    let (id, _) = provision(&app, "grace@test.local", "Grace", &[]).await;
    let taken =
        post_user(json!({ "email": "Grace@test.local", "name": "G", "role": "agent" })).await;
    taken.expect_error(409, "conflict");

    // Changes.
    patch(&app, &format!("{users}/{id}"), json!({ "bots": ["nope"] }))
        .await
        .expect_error(422, "unprocessable");
    patch(&app, &format!("{users}/{id}"), json!({ "role": "owner" }))
        .await
        .expect_error(422, "unprocessable");
    patch(&app, &format!("{users}/{id}"), json!({ "name": "" }))
        .await
        .expect_error(422, "unprocessable");
    patch(&app, &format!("{users}/9999"), json!({ "active": false }))
        .await
        .expect_error(404, "not_found");
    patch(&app, &format!("{users}/grace"), json!({ "active": false }))
        .await
        .expect_error(404, "not_found");

    // An admin cannot lock themselves out.
    let mut boss = Browser::signed_in(&app, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let demoted = boss
        .call(
            Method::PATCH,
            &format!("{users}/1"),
            Some(json!({ "role": "agent" })),
            true,
        )
        .await;
    answer(demoted).expect_error(422, "unprocessable");
    let gone = boss
        .call(
            Method::PATCH,
            &format!("{users}/1"),
            Some(json!({ "active": false })),
            true,
        )
        .await;
    answer(gone).expect_error(422, "unprocessable");

    // Tokens.
    let post_token = |body: Value| admin(&app, Method::POST, "/api/v1/tokens", Some(body));
    post_token(json!({ "name": "" }))
        .await
        .expect_error(422, "unprocessable");
    post_token(json!({ "name": "t", "botId": "nope" }))
        .await
        .expect_error(422, "unprocessable");
    post_token(json!({ "name": "t", "userId": 9999 }))
        .await
        .expect_error(422, "unprocessable");
    patch(&app, &format!("{users}/{id}"), json!({ "active": false }))
        .await
        .expect(200);
    post_token(json!({ "name": "t", "userId": id }))
        .await
        .expect_error(422, "unprocessable");
    admin(&app, Method::DELETE, "/api/v1/tokens/9999", None)
        .await
        .expect_error(404, "not_found");
    admin(&app, Method::PUT, "/api/v1/tokens/1", None)
        .await
        .expect_error(405, "method_not_allowed");
}
