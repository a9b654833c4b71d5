//! A browser as the server sees one: it keeps cookies, does not follow redirects, and signs in
//! through the login form.

use std::collections::BTreeMap;

use reqwest::header::{HeaderMap, HeaderValue, COOKIE, LOCATION, SET_COOKIE};
use reqwest::redirect::Policy;
use reqwest::{Method, Response, StatusCode};

use super::TestApp;

pub struct Browser {
    client: reqwest::Client,
    base: String,
    cookies: BTreeMap<String, String>,
    /// The raw `Set-Cookie` lines of the last sign-in, to check their attributes.
    pub last_set_cookies: Vec<String>,
}

/// A response as the test needs it.
pub struct Page {
    pub status: StatusCode,
    pub location: Option<String>,
    pub body: String,
}

impl Browser {
    pub fn new(app: &TestApp) -> Browser {
        Browser {
            client: reqwest::Client::builder()
                .redirect(Policy::none())
                .build()
                .expect("a client"),
            base: app.address.clone(),
            cookies: BTreeMap::new(),
            last_set_cookies: Vec::new(),
        }
    }

    /// A browser signed in as `email`; asserts the sign-in led to the console.
    pub async fn signed_in(app: &TestApp, email: &str, password: &str) -> Browser {
        let mut browser = Browser::new(app);
        let page = browser.sign_in(email, password).await;
        assert_eq!(page.status, 303, "{email} signs in");
        assert_eq!(
            page.location.as_deref(),
            Some("/modules/hitl"),
            "{email} signs in"
        );
        browser
    }

    /// Signs in with the form; answers where the server sent the browser.
    pub async fn sign_in(&mut self, email: &str, password: &str) -> Page {
        self.form(
            "/login",
            &[
                ("email", email),
                ("password", password),
                ("next", "/modules/hitl"),
            ],
        )
        .await
    }

    pub fn cookie(&self, name: &str) -> Option<&str> {
        self.cookies.get(name).map(String::as_str)
    }

    pub fn csrf(&self) -> String {
        self.cookie("hitl_csrf").expect("signed in").to_string()
    }

    fn headers(&self) -> HeaderMap {
        let mut headers = HeaderMap::new();
        if !self.cookies.is_empty() {
            let line = self
                .cookies
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("; ");
            headers.insert(COOKIE, HeaderValue::from_str(&line).unwrap());
        }
        headers
    }

    async fn read(&mut self, response: Response) -> Page {
        let set: Vec<String> = response
            .headers()
            .get_all(SET_COOKIE)
            .iter()
            .map(|v| v.to_str().unwrap().to_string())
            .collect();
        for line in &set {
            let pair = line.split(';').next().unwrap();
            let (name, value) = pair.split_once('=').unwrap();
            if value.is_empty() {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_string(), value.to_string());
            }
        }
        if !set.is_empty() {
            self.last_set_cookies = set;
        }
        Page {
            status: response.status(),
            location: response
                .headers()
                .get(LOCATION)
                .map(|v| v.to_str().unwrap().to_string()),
            body: response.text().await.unwrap_or_default(),
        }
    }

    pub async fn get(&mut self, path: &str) -> Page {
        let response = self
            .client
            .get(format!("{}{path}", self.base))
            .headers(self.headers())
            .send()
            .await
            .expect("the server answers");
        self.read(response).await
    }

    pub async fn form(&mut self, path: &str, fields: &[(&str, &str)]) -> Page {
        let response = self
            .client
            .post(format!("{}{path}", self.base))
            .headers(self.headers())
            .form(fields)
            .send()
            .await
            .expect("the server answers");
        self.read(response).await
    }

    /// A form post as the console's scripts send it to a server function (with the CSRF header).
    pub async fn form_with_csrf(&mut self, path: &str, fields: &[(&str, &str)]) -> Page {
        let response = self
            .client
            .post(format!("{}{path}", self.base))
            .headers(self.headers())
            .header("x-csrf-token", self.csrf())
            .form(fields)
            .send()
            .await
            .expect("the server answers");
        self.read(response).await
    }

    /// A request as the console's scripts make it: JSON (or empty) body, with or without the
    /// CSRF header.
    pub async fn call(
        &mut self,
        method: Method,
        path: &str,
        body: Option<serde_json::Value>,
        with_csrf: bool,
    ) -> Page {
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.base))
            .headers(self.headers());
        if with_csrf {
            request = request.header("x-csrf-token", self.csrf());
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("the server answers");
        self.read(response).await
    }
}
