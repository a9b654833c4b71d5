//! Accounts and what they guard: signing in and out, cookies, console pages, the CSRF token on
//! every change a person makes, WebSocket origins, agents kept to their bots, throttling, idle
//! expiry and password changes.

pub mod common;

use common::browser::Browser;
use common::{spawn_app, spawn_app_with_bots, welcome, TestApp, ADMIN_EMAIL, ADMIN_PASSWORD};
use reqwest::Method;
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;

async fn signed_in_admin(app: &TestApp) -> Browser {
    Browser::signed_in(app, ADMIN_EMAIL, ADMIN_PASSWORD).await
}

#[tokio::test]
async fn strangers_are_sent_to_the_login_page_and_a_sign_in_brings_them_back() {
    let app = spawn_app().await;
    let mut browser = Browser::new(&app);
    let page = browser.get("/modules/hitl?session=3").await;
    assert_eq!(page.status, 303);
    assert_eq!(
        page.location.as_deref(),
        Some("/login?next=/modules/hitl%3Fsession%3D3")
    );
    assert_eq!(browser.get("/account").await.status, 303);
    let login = browser.get("/login").await;
    assert_eq!(login.status, 200);
    assert!(login.body.contains("Sign in to hitl"));

    let wrong = browser.sign_in(ADMIN_EMAIL, "not the password").await;
    assert_eq!(wrong.status, 303);
    assert!(wrong
        .location
        .unwrap()
        .starts_with("/login?error=credentials"));
    let unknown = browser.sign_in("nobody@test.local", ADMIN_PASSWORD).await;
    assert!(unknown
        .location
        .unwrap()
        .starts_with("/login?error=credentials"));
    assert!(browser.cookie("hitl_session").is_none());

    let page = browser
        .form(
            "/login",
            &[
                ("email", ADMIN_EMAIL),
                ("password", ADMIN_PASSWORD),
                ("next", "/modules/hitl?session=3"),
            ],
        )
        .await;
    assert_eq!(page.location.as_deref(), Some("/modules/hitl?session=3"));
    let session_cookie = browser
        .last_set_cookies
        .iter()
        .find(|c| c.starts_with("hitl_session="))
        .expect("a session cookie");
    assert!(session_cookie.contains("HttpOnly"), "{session_cookie}");
    assert!(session_cookie.contains("SameSite=Lax"), "{session_cookie}");
    let console = browser.get("/modules/hitl").await;
    assert_eq!(console.status, 200);
    assert!(
        console.body.contains("admin (admin)"),
        "the top bar names the admin and their role"
    );

    // Only local addresses are followed after signing in.
    let mut other = Browser::new(&app);
    let page = other
        .form(
            "/login",
            &[
                ("email", ADMIN_EMAIL),
                ("password", ADMIN_PASSWORD),
                ("next", "//evil.example/"),
            ],
        )
        .await;
    assert_eq!(page.location.as_deref(), Some("/modules/hitl"));
}

#[tokio::test]
async fn a_persons_changes_need_the_csrf_token_and_are_recorded_under_their_name() {
    let app = spawn_app().await;
    let id = app.say("u1", "hello").await["sessionId"].as_i64().unwrap();
    let mut browser = signed_in_admin(&app).await;
    let pause = welcome(&format!("/mod/hitl/sessions/{id}/pause"));

    // Reading needs no token; changing does.
    let list = browser
        .call(Method::GET, &welcome("/mod/hitl/sessions"), None, false)
        .await;
    assert_eq!(list.status, 200);
    let refused = browser.call(Method::POST, &pause, None, false).await;
    assert_eq!(refused.status, 403);
    let body: Value = serde_json::from_str(&refused.body).unwrap();
    assert_eq!(body["error"]["code"], "forbidden");
    assert_eq!(app.session(id).await["isPaused"], false, "nothing changed");

    let done = browser.call(Method::POST, &pause, None, true).await;
    assert_eq!(done.status, 200);
    let session: Value = serde_json::from_str(&done.body).unwrap();
    assert_eq!(session["isPaused"], true);
    assert_eq!(
        session["pausedBy"], "admin",
        "the admin's name, not \"api\""
    );

    // Server functions too: none without a session, none without the token.
    let stranger = reqwest::Client::new()
        .post(app.url("/fn/whoami"))
        .send()
        .await
        .unwrap();
    assert_eq!(stranger.status(), 401);
    let no_token = browser.call(Method::POST, "/fn/whoami", None, false).await;
    assert_eq!(no_token.status, 403);
    let me = browser.call(Method::POST, "/fn/whoami", None, true).await;
    assert_eq!(me.status, 200, "{}", me.body);
    let me: Value = serde_json::from_str(&me.body).unwrap();
    assert_eq!(me["email"], ADMIN_EMAIL);
    assert_eq!(me["role"], "admin");
}

#[tokio::test]
async fn the_api_wants_a_token_or_a_session() {
    let app = spawn_app().await;
    let anonymous = reqwest::Client::new()
        .get(app.url(&welcome("/mod/hitl/sessions")))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
    let forged = reqwest::Client::new()
        .get(app.url(&welcome("/mod/hitl/sessions")))
        .header("cookie", "hitl_session=0123456789abcdef")
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 401);
}

#[tokio::test]
async fn a_persons_event_socket_must_come_from_our_own_origin() {
    let app = spawn_app().await;
    let browser = signed_in_admin(&app).await;
    let cookie = format!("hitl_session={}", browser.cookie("hitl_session").unwrap());
    let open = |origin: &'static str| {
        let mut request = app
            .events_url("welcome-bot", "")
            .into_client_request()
            .unwrap();
        let headers = request.headers_mut();
        headers.insert("cookie", HeaderValue::from_str(&cookie).unwrap());
        headers.insert("origin", HeaderValue::from_static(origin));
        tokio_tungstenite::connect_async(request)
    };
    let ours = format!("http://{}", app.addr);
    let ours: &'static str = Box::leak(ours.into_boxed_str());
    let (_, response) = open(ours).await.expect("our own page may connect");
    assert_eq!(response.status(), 101);
    let refused = open("http://evil.example").await;
    match refused {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), 403)
        }
        other => panic!("another site's page must be refused: {other:?}"),
    }
    let anonymous = tokio_tungstenite::connect_async(app.events_url("welcome-bot", "")).await;
    match anonymous {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), 401)
        }
        other => panic!("a socket without a session or token must be refused: {other:?}"),
    }
}

#[tokio::test]
async fn an_agent_reaches_only_the_bots_they_were_given() {
    let other = "name = \"Other Bot\"\n";
    let app = spawn_app_with_bots(&[("other-bot", other)]).await;
    let id = app.say("u1", "hello").await["sessionId"].as_i64().unwrap();
    common::add_agent(&app, "agent@test.local", &["other-bot"]).await;
    let mut agent = Browser::new(&app);
    assert_eq!(
        agent
            .sign_in("agent@test.local", "agent-password-1")
            .await
            .status,
        303
    );

    // The console opens on their bot, not on the demo bot they may not see.
    let console = agent.get("/modules/hitl").await;
    assert_eq!(
        console.location.as_deref(),
        Some("/modules/hitl?bot=other-bot")
    );
    assert_eq!(agent.get("/modules/hitl?bot=other-bot").await.status, 200);
    // Another bot's console, by its address: refused, and nothing of it rendered.
    let theirs = agent.get("/modules/hitl?bot=welcome-bot").await;
    assert_eq!(theirs.status, 403);
    assert!(
        !theirs.body.contains("u1"),
        "no session of the other bot shows"
    );
    // And by a server function.
    let counted = agent
        .form_with_csrf("/fn/count_sessions", &[("bot_id", "welcome-bot")])
        .await;
    assert_eq!(counted.status, 403, "a refused server function says so");
    assert!(
        counted
            .body
            .contains("you do not work on the bot welcome-bot"),
        "{}",
        counted.body
    );
    let own = agent
        .form_with_csrf("/fn/count_sessions", &[("bot_id", "other-bot")])
        .await;
    assert_eq!(own.status, 200, "{}", own.body);

    let mine = agent
        .call(
            Method::GET,
            "/api/v1/bots/other-bot/mod/hitl/sessions",
            None,
            false,
        )
        .await;
    assert_eq!(mine.status, 200);
    for (method, path) in [
        (Method::GET, welcome("/mod/hitl/sessions")),
        (Method::GET, welcome(&format!("/mod/hitl/sessions/{id}"))),
        (
            Method::POST,
            welcome(&format!("/mod/hitl/sessions/{id}/pause")),
        ),
        (
            Method::POST,
            format!("/api/botpress-hitl/sessions/{id}/pause"),
        ),
        (Method::POST, "/api/v1/bots/other-bot/pause".to_string()),
    ] {
        let page = agent.call(method.clone(), &path, None, true).await;
        assert_eq!(page.status, 403, "{method} {path}: {}", page.body);
    }
    assert_eq!(app.session(id).await["isPaused"], false);

    // Notifications of other bots stay out of sight, and out of reach.
    app.say("u2", "HITL_START").await;
    let all = app.get("/api/v1/notifications").await.expect(200);
    let theirs = all["notifications"][0]["id"].as_i64().unwrap();
    let seen = agent
        .call(Method::GET, "/api/v1/notifications", None, false)
        .await;
    let seen: Value = serde_json::from_str(&seen.body).unwrap();
    assert_eq!(seen["notifications"], json!([]));
    assert_eq!(seen["unreadCount"], 0);
    let read = agent
        .call(
            Method::POST,
            &format!("/api/v1/notifications/{theirs}/read"),
            None,
            true,
        )
        .await;
    assert_eq!(read.status, 404);

    let me = agent.call(Method::POST, "/fn/whoami", None, true).await;
    let me: Value = serde_json::from_str(&me.body).unwrap();
    assert_eq!(me["bots"], json!(["other-bot"]));
}

#[tokio::test]
async fn repeated_failures_lock_the_account_for_a_while_even_with_the_right_password() {
    let app = spawn_app().await;
    let mut browser = Browser::new(&app);
    for _ in 0..5 {
        let page = browser.sign_in(ADMIN_EMAIL, "guess").await;
        assert!(page.location.unwrap().contains("error=credentials"));
    }
    let page = browser.sign_in(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert!(
        page.location
            .as_deref()
            .unwrap()
            .contains("error=throttled"),
        "{:?}",
        page.location
    );
    assert!(browser.cookie("hitl_session").is_none());
}

#[tokio::test]
async fn signing_out_needs_the_csrf_token_and_ends_the_session() {
    let app = spawn_app().await;
    let mut browser = signed_in_admin(&app).await;
    let session = browser.cookie("hitl_session").unwrap().to_string();
    let refused = browser.form("/logout", &[("csrf", "wrong")]).await;
    assert_eq!(refused.status, 403);
    let csrf = browser.csrf();
    let out = browser.form("/logout", &[("csrf", &csrf)]).await;
    assert_eq!(out.status, 303);
    assert!(browser.cookie("hitl_session").is_none());

    // The old cookie is worth nothing now.
    let replay = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(app.url("/modules/hitl"))
        .header("cookie", format!("hitl_session={session}"))
        .send()
        .await
        .unwrap();
    assert_eq!(replay.status(), 303);
}

#[tokio::test]
async fn a_session_idle_for_too_long_must_sign_in_again() {
    let app = spawn_app().await;
    let mut browser = signed_in_admin(&app).await;
    assert_eq!(browser.get("/modules/hitl").await.status, 200);
    // Nine hours without a request (the limit is eight).
    app.sql("update login_sessions set last_seen_at = last_seen_at - 9 * 3600 * 1000")
        .await;
    assert_eq!(browser.get("/modules/hitl").await.status, 303);
}

#[tokio::test]
async fn changing_the_password_keeps_this_browser_and_signs_out_the_others() {
    let app = spawn_app().await;
    let mut here = signed_in_admin(&app).await;
    let mut there = signed_in_admin(&app).await;
    let csrf = here.csrf();
    let wrong = here
        .form(
            "/account/password",
            &[
                ("csrf", &csrf),
                ("current", "nope"),
                ("new", "a-new-password-1"),
                ("confirm", "a-new-password-1"),
            ],
        )
        .await;
    assert_eq!(wrong.location.as_deref(), Some("/account?error=current"));
    let short = here
        .form(
            "/account/password",
            &[
                ("csrf", &csrf),
                ("current", ADMIN_PASSWORD),
                ("new", "short"),
                ("confirm", "short"),
            ],
        )
        .await;
    assert_eq!(short.location.as_deref(), Some("/account?error=short"));
    let done = here
        .form(
            "/account/password",
            &[
                ("csrf", &csrf),
                ("current", ADMIN_PASSWORD),
                ("new", "a-new-password-1"),
                ("confirm", "a-new-password-1"),
            ],
        )
        .await;
    assert_eq!(done.location.as_deref(), Some("/account?changed=1"));
    assert_eq!(here.get("/modules/hitl").await.status, 200);
    assert_eq!(there.get("/modules/hitl").await.status, 303);

    let mut later = Browser::new(&app);
    let old = later.sign_in(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert!(old.location.unwrap().contains("error=credentials"));
    let new = later.sign_in(ADMIN_EMAIL, "a-new-password-1").await;
    assert_eq!(new.location.as_deref(), Some("/modules/hitl"));
}

#[tokio::test]
async fn an_agent_without_bots_is_told_so_instead_of_seeing_a_broken_console() {
    let app = spawn_app().await;
    common::add_agent(&app, "idle@test.local", &[]).await;
    let mut agent = Browser::new(&app);
    agent.sign_in("idle@test.local", "agent-password-1").await;
    let page = agent.get("/modules/hitl").await;
    assert_eq!(page.status, 403);
    assert!(
        page.body.contains("You do not work on any bot yet"),
        "{}",
        page.body
    );
}
