//! Logins, sessions and who may open what, on SQLite and PostgreSQL, through `app(state)`:
//! the first start asks for an account, the API and stream refuse calls without a session,
//! logins are rate-limited, share links open read-only sessions, device tokens open nothing
//! but ingest and a revoked one is refused.

mod common;

use common::on_both_databases;

use hearth_app::functions::climate::LoadClimate;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode, header};
use axum::response::Response;
use common::{OWNER, TestDb};
use hearth::config::Config;
use http_body_util::BodyExt;
use leptos::server_fn::ServerFn;
use serde_json::{Value, json};
use std::net::SocketAddr;
use tower::ServiceExt;

/// A request to `app` with an optional cookie and client address.
struct Call {
    request: axum::http::request::Builder,
    body: Body,
}

impl Call {
    fn get(uri: &str) -> Call {
        Call { request: Request::get(uri), body: Body::empty() }
    }

    /// A form post, as a browser sends it to a server function.
    fn form(uri: &str, fields: &[(&str, &str)]) -> Call {
        let body = fields.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("&");
        let request = Request::post(uri).header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        Call { request, body: Body::from(body) }
    }

    /// The cookie, sent as the app's own pages send it (`Sec-Fetch-Site: same-origin`).
    fn cookie(mut self, cookie: &str) -> Call {
        self.request = self.request.header(header::COOKIE, cookie).header("sec-fetch-site", "same-origin");
        self
    }

    fn header(mut self, name: &str, value: &str) -> Call {
        self.request = self.request.header(name, value);
        self
    }

    fn client_ip(mut self, ip: [u8; 4]) -> Call {
        self.request = self.request.extension(ConnectInfo(SocketAddr::from((ip, 40000))));
        self
    }

    async fn send(self, t: &TestDb) -> Response {
        self.send_with(t, Config::default()).await
    }

    async fn send_with(self, t: &TestDb, config: Config) -> Response {
        hearth::app(common::state_with(&t.db, config)).oneshot(self.request()).await.unwrap()
    }

    fn request(self) -> Request<Body> {
        self.request.body(self.body).unwrap()
    }
}

fn location(response: &Response) -> &str {
    response.headers().get(header::LOCATION).map_or("", |v| v.to_str().unwrap())
}

/// The `name=value` part of the response's session cookie, and the whole header.
fn set_cookie(response: &Response) -> Option<(String, String)> {
    let header = response.headers().get(header::SET_COOKIE)?.to_str().unwrap().to_owned();
    Some((header.split(';').next().unwrap().to_owned(), header))
}

async fn json(response: Response) -> Value {
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    serde_json::from_slice(&bytes).unwrap_or_else(|_| json!({ "raw": String::from_utf8_lossy(&bytes) }))
}

async fn login(t: &TestDb, name: &str, password: &str) -> Response {
    Call::form("/api/public/login", &[("name", name), ("password", password)]).send(t).await
}

async fn the_first_start_asks_for_an_account_then_for_a_login(t: TestDb) {
    for path in ["/", "/login", "/sharing"] {
        let response = Call::get(path).send(&t).await;
        assert_eq!((response.status(), location(&response)), (StatusCode::SEE_OTHER, "/setup"), "{path}");
    }
    let page = Call::get("/setup").send(&t).await;
    assert_eq!(page.status(), StatusCode::OK);
    assert!(json(page).await["raw"].as_str().unwrap().contains("Create the account"));

    let mismatch = Call::form("/api/public/setup", &[("name", "Ana"), ("password", "long-enough"), ("confirm", "different")]).send(&t).await;
    assert_eq!(mismatch.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let short = Call::form("/api/public/setup", &[("name", "Ana"), ("password", "short"), ("confirm", "short")]).send(&t).await;
    assert_eq!(short.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let short = json(short).await;
    assert_eq!((short["status"].as_i64(), short["field"].as_str()), (Some(422), Some("password")), "{short}");
    assert!(short["message"].as_str().unwrap().contains("password"), "{short}");

    let created = Call::form("/api/public/setup", &[("name", "Ana"), ("password", "long-enough"), ("confirm", "long-enough")]).send(&t).await;
    assert_eq!(created.status(), StatusCode::OK);
    let (cookie, _) = set_cookie(&created).expect("setup logs the new owner in");
    assert_eq!(Call::get("/api/v1/sensors").cookie(&cookie).send(&t).await.status(), StatusCode::OK);

    for path in ["/", "/setup"] {
        let response = Call::get(path).send(&t).await;
        assert_eq!((response.status(), location(&response)), (StatusCode::SEE_OTHER, "/login"), "{path}");
    }
    let again = Call::form("/api/public/setup", &[("name", "Eve"), ("password", "long-enough"), ("confirm", "long-enough")]).send(&t).await;
    assert_eq!(again.status(), StatusCode::CONFLICT, "a second account cannot be set up");
    assert_eq!(login(&t, "Eve", "long-enough").await.status(), StatusCode::UNAUTHORIZED);
}

async fn the_api_the_stream_and_server_functions_need_a_session(t: TestDb) {
    common::owner_cookie(&t.db).await;
    let token = common::device_token(&t.db, "hall").await;
    let history = LoadClimate::PATH.to_owned();
    for path in ["/api/v1/sensors", "/api/v1/sensors/1/series", "/api/v1/stream", history.as_str()] {
        let anonymous = Call::get(path).send(&t).await;
        assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED, "{path}");
        assert!(json(anonymous).await["error"].as_str().unwrap().contains("log in"), "{path}");
        let forged = Call::get(path).cookie("hearth_session=hth_0000").send(&t).await;
        assert_eq!(forged.status(), StatusCode::UNAUTHORIZED, "{path}");
        let device = Call::get(path).header("authorization", &format!("Bearer {token}")).send(&t).await;
        assert_eq!(device.status(), StatusCode::UNAUTHORIZED, "a device token opens nothing but ingest: {path}");
    }
    let owner = common::owner_cookie(&t.db).await;
    let listed = Call::get("/api/v1/sensors").cookie(&owner).send(&t).await;
    assert_eq!(listed.status(), StatusCode::OK);
    let page = Call::get("/").cookie(&owner).send(&t).await;
    assert_eq!(page.status(), StatusCode::OK);
}

async fn login_sets_a_strict_http_only_cookie_and_logout_ends_the_session(t: TestDb) {
    common::owner_cookie(&t.db).await;
    let wrong = login(&t, OWNER.0, "not-the-password").await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert!(set_cookie(&wrong).is_none());
    assert!(json(wrong).await["message"].as_str().unwrap().contains("wrong name or password"));
    assert_eq!(login(&t, "nobody", OWNER.1).await.status(), StatusCode::UNAUTHORIZED);

    let right = login(&t, OWNER.0, OWNER.1).await;
    assert_eq!(right.status(), StatusCode::OK);
    let (cookie, header) = set_cookie(&right).unwrap();
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(header.contains(attribute), "{header}");
    }
    assert!(!header.contains("Secure"), "plain HTTP: {header}");
    let viewer = json(Call::form("/api/public/viewer", &[]).cookie(&cookie).send(&t).await).await;
    assert_eq!(viewer, json!({"name": OWNER.0, "read_only": false}));

    let out = Call::form("/api/logout", &[]).cookie(&cookie).send(&t).await;
    assert_eq!(out.status(), StatusCode::OK);
    assert!(set_cookie(&out).unwrap().1.contains("Max-Age=0"), "the cookie is cleared");
    assert_eq!(Call::get("/api/v1/sensors").cookie(&cookie).send(&t).await.status(), StatusCode::UNAUTHORIZED, "the session is gone");
    assert_eq!(json(Call::form("/api/public/viewer", &[]).cookie(&cookie).send(&t).await).await, Value::Null);
}

async fn login_attempts_are_rate_limited_by_address_and_by_name(t: TestDb) {
    common::owner_cookie(&t.db).await;
    let config = || Config { login_attempts_per_minute: 3.try_into().unwrap(), ..Config::default() };
    let state = common::state_with(&t.db, config());
    let attempt = |ip: [u8; 4], name: &str, password: &str| {
        let request = Call::form("/api/public/login", &[("name", name), ("password", password)]).client_ip(ip).request();
        hearth::app(state.clone()).oneshot(request)
    };
    for _ in 0..3 {
        assert_eq!(attempt([10, 0, 0, 1], "owner", "guess").await.unwrap().status(), StatusCode::UNAUTHORIZED);
    }
    let limited = attempt([10, 0, 0, 1], "owner", OWNER.1).await.unwrap();
    assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS, "even the right password waits");
    let wait: u64 = limited.headers()[header::RETRY_AFTER].to_str().unwrap().parse().unwrap();
    assert!((1..=21).contains(&wait), "Retry-After {wait}");
    assert!(set_cookie(&limited).is_none());
    assert_eq!(
        attempt([10, 0, 0, 2], "owner", OWNER.1).await.unwrap().status(),
        StatusCode::TOO_MANY_REQUESTS,
        "the name is limited from any address"
    );
    assert_eq!(attempt([10, 0, 0, 1], "someone", "x").await.unwrap().status(), StatusCode::TOO_MANY_REQUESTS, "and the address for any name");
    assert_eq!(attempt([10, 0, 0, 3], "someone", "x").await.unwrap().status(), StatusCode::UNAUTHORIZED, "others are not held up");
}

/// Every `Set-Cookie` of a response, whole.
fn set_cookies(response: &Response) -> Vec<String> {
    response.headers().get_all(header::SET_COOKIE).iter().map(|v| v.to_str().unwrap().to_owned()).collect()
}

async fn names_no_account_can_have_are_refused_before_they_are_counted(t: TestDb) {
    common::owner_cookie(&t.db).await;
    let state = common::state_with(&t.db, Config { login_attempts_per_minute: 3.try_into().unwrap(), ..Config::default() });
    let long = "n".repeat(100_000);
    for name in [long.as_str(), &"o".repeat(65), "", "  "] {
        let request = Call::form("/api/public/login", &[("name", name), ("password", "guess")]).client_ip([10, 0, 0, 1]).request();
        let refused = hearth::app(state.clone()).oneshot(request).await.unwrap();
        assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY, "{} characters", name.len());
        let body = json(refused).await;
        assert!(body.to_string().contains("name must be 1 to 64 characters"), "{body}");
    }
    let huge_password = "p".repeat(5_000);
    let request = Call::form("/api/public/login", &[("name", "owner"), ("password", &huge_password)]).client_ip([10, 0, 0, 1]).request();
    assert_eq!(hearth::app(state.clone()).oneshot(request).await.unwrap().status(), StatusCode::UNPROCESSABLE_ENTITY);
    // None of them was counted against the address or any name.
    let request = Call::form("/api/public/login", &[("name", OWNER.0), ("password", OWNER.1)]).client_ip([10, 0, 0, 1]).request();
    assert_eq!(hearth::app(state).oneshot(request).await.unwrap().status(), StatusCode::OK);
}

/// A stranger's wrong guesses use up the limit on the owner's name; the owner, from a browser
/// that logged in before (its `hearth_browser` cookie), still gets in.
async fn a_stranger_cannot_keep_the_owner_out(t: TestDb) {
    common::owner_cookie(&t.db).await;
    let state = common::state_with(&t.db, Config { login_attempts_per_minute: 3.try_into().unwrap(), ..Config::default() });
    let attempt = |ip: [u8; 4], password: &str, browser: Option<&str>| {
        let mut call = Call::form("/api/public/login", &[("name", OWNER.0), ("password", password)]).client_ip(ip);
        if let Some(browser) = browser {
            call = call.header("cookie", browser);
        }
        hearth::app(state.clone()).oneshot(call.request())
    };
    let home = [192, 168, 1, 20];
    let first = attempt(home, OWNER.1, None).await.unwrap();
    assert_eq!(first.status(), StatusCode::OK);
    let browser = set_cookies(&first).into_iter().find(|c| c.starts_with("hearth_browser=")).expect("the browser is remembered");
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/api/public/login", "Max-Age=34560000"] {
        assert!(browser.contains(attribute), "{attribute} in {browser}");
    }
    let browser = browser.split(';').next().unwrap().to_owned();

    for n in 0..5u8 {
        let guess = attempt([203, 0, 113, n], "guess", None).await.unwrap().status();
        assert!(guess == StatusCode::UNAUTHORIZED || guess == StatusCode::TOO_MANY_REQUESTS, "{guess}");
    }
    // (From other addresses, so that the home address keeps attempts of its own.)
    assert_eq!(attempt([192, 168, 1, 21], OWNER.1, None).await.unwrap().status(), StatusCode::TOO_MANY_REQUESTS, "the name is used up");
    assert_eq!(
        attempt([192, 168, 1, 22], OWNER.1, Some("hearth_browser=hth_0000000000000000000000000000000000000000000000000000000000000000")).await.unwrap().status(),
        StatusCode::TOO_MANY_REQUESTS,
        "a made-up browser cookie counts for nothing"
    );
    let known = attempt(home, OWNER.1, Some(&browser)).await.unwrap();
    assert_eq!(known.status(), StatusCode::OK, "the owner's browser gets in");
    assert!(set_cookies(&known).iter().any(|c| c.starts_with("hearth_session=")));
    assert!(!set_cookies(&known).iter().any(|c| c.starts_with("hearth_browser=")), "known already: no new cookie");
    // The known browser has a bound of its own: it cannot be used to guess without limit.
    let mut statuses = Vec::new();
    for n in 0..4u8 {
        statuses.push(attempt([198, 51, 100, n], "guess", Some(&browser)).await.unwrap().status());
    }
    assert!(statuses.contains(&StatusCode::TOO_MANY_REQUESTS), "{statuses:?}");
}

/// A page of another site (another port, a sibling name) cannot act with the owner's cookie,
/// which `SameSite=Strict` lets through to them.
async fn cross_site_writes_with_a_session_are_refused(t: TestDb) {
    let owner = common::owner_cookie(&t.db).await;
    let add = |name: &str, headers: &[(&str, &str)], config: Config| {
        let mut request = Request::post("/api/owner/add_device")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::COOKIE, &owner)
            .header(header::HOST, "hearth.lan:3000");
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let request = request.body(Body::from(format!("name={name}"))).unwrap();
        hearth::app(common::state_with(&t.db, config)).oneshot(request)
    };
    let refusals: [&[(&str, &str)]; 5] = [
        &[("origin", "https://evil.example")],
        &[("origin", "http://hearth.lan:8080"), ("sec-fetch-site", "same-site")],
        &[("origin", "null")],
        &[("sec-fetch-site", "same-site")],
        &[],
    ];
    for headers in refusals {
        let refused = add("evil", headers, Config::default()).await.unwrap();
        assert_eq!(refused.status(), StatusCode::FORBIDDEN, "{headers:?}");
        let body = json(refused).await;
        assert_eq!(body["field"], "origin", "{body}");
        assert!(body["error"].as_str().unwrap().contains("another site"), "{body}");
    }
    assert!(hearth_store::device::list(&t.db).await.unwrap().is_empty(), "no device created");

    assert_eq!(add("own", &[("origin", "http://hearth.lan:3000")], Config::default()).await.unwrap().status(), StatusCode::OK);
    assert_eq!(add("fetched", &[("sec-fetch-site", "same-origin")], Config::default()).await.unwrap().status(), StatusCode::OK);
    let public = Config { public_url: Some("https://home.example.org".into()), ..Config::default() };
    assert_eq!(add("proxied", &[("origin", "https://home.example.org")], public).await.unwrap().status(), StatusCode::OK);
    // Reading needs no origin; a login carries no session yet.
    assert_eq!(Call::get("/api/v1/sensors").header("cookie", &owner).header("origin", "https://evil.example").send(&t).await.status(), StatusCode::OK);
    let login = Call::form("/api/public/login", &[("name", OWNER.0), ("password", OWNER.1)]).header("origin", "https://evil.example").send(&t).await;
    assert_eq!(login.status(), StatusCode::OK);
}

async fn cookies_are_secure_over_https(t: TestDb) {
    common::owner_cookie(&t.db).await;
    let https = Config { public_url: Some("https://hearth.example.org".into()), ..Config::default() };
    let response = Call::form("/api/public/login", &[("name", OWNER.0), ("password", OWNER.1)]).send_with(&t, https).await;
    assert!(set_cookie(&response).unwrap().1.contains("Secure"));

    let proxied = || Call::form("/api/public/login", &[("name", OWNER.0), ("password", OWNER.1)]).header("x-forwarded-proto", "https");
    let trusted = proxied().send_with(&t, Config { trusted_proxy: true, ..Config::default() }).await;
    assert!(set_cookie(&trusted).unwrap().1.contains("Secure"), "a trusted proxy says HTTPS");
    let untrusted = proxied().send(&t).await;
    assert!(!set_cookie(&untrusted).unwrap().1.contains("Secure"), "anyone can send the header without a proxy");
}

async fn a_share_link_opens_a_read_only_session_until_revoked(t: TestDb) {
    let owner = common::owner_cookie(&t.db).await;
    let created = Call::form("/api/owner/create_share_link", &[("label", "Kitchen+screen")]).cookie(&owner).send(&t).await;
    assert_eq!(created.status(), StatusCode::OK);
    let path = json(created).await.as_str().unwrap().to_owned();
    assert!(path.starts_with("/share/"), "{path}");

    let opened = Call::get(&path).send(&t).await;
    assert_eq!((opened.status(), location(&opened)), (StatusCode::SEE_OTHER, "/"));
    let (screen, _) = set_cookie(&opened).unwrap();
    assert_eq!(Call::get("/api/v1/sensors").cookie(&screen).send(&t).await.status(), StatusCode::OK);
    assert_eq!(Call::get("/").cookie(&screen).send(&t).await.status(), StatusCode::OK);
    let viewer = json(Call::form("/api/public/viewer", &[]).cookie(&screen).send(&t).await).await;
    assert_eq!(viewer, json!({"name": "Kitchen screen", "read_only": true}));
    for (uri, fields) in [("/api/owner/share_links", vec![]), ("/api/owner/revoke_device", vec![("name", "hall")])] {
        let refused = Call::form(uri, &fields).cookie(&screen).send(&t).await;
        assert_eq!(refused.status(), StatusCode::FORBIDDEN, "{uri}");
        assert!(json(refused).await["error"].as_str().unwrap().contains("read-only"));
    }

    let links = json(Call::form("/api/owner/share_links", &[]).cookie(&owner).send(&t).await).await;
    assert_eq!(links[0]["label"], "Kitchen screen");
    let id = links[0]["share_link_id"].to_string();
    let revoked = Call::form("/api/owner/revoke_share_link", &[("share_link_id", &id)]).cookie(&owner).send(&t).await;
    assert_eq!(revoked.status(), StatusCode::OK);
    assert_eq!(Call::get("/api/v1/sensors").cookie(&screen).send(&t).await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(Call::get(&path).send(&t).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(Call::get("/share/hth_unknown").send(&t).await.status(), StatusCode::NOT_FOUND);
}

async fn a_revoked_device_token_is_refused_and_its_readings_stay(t: TestDb) {
    let owner = common::owner_cookie(&t.db).await;
    let token = common::device_token(&t.db, "hall").await;
    let post = |token: &str| {
        let request = Request::post("/api/v1/readings")
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .body(Body::from(json!({"sensor": "hall.temp", "value": 20.5, "kind": "temperature"}).to_string()))
            .unwrap();
        hearth::app(common::state(&t.db)).oneshot(request)
    };
    assert_eq!(post(&token).await.unwrap().status(), StatusCode::OK);
    let revoked = Call::form("/api/owner/revoke_device", &[("name", "hall")]).cookie(&owner).send(&t).await;
    assert_eq!(revoked.status(), StatusCode::OK);
    let refused = post(&token).await.unwrap();
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    assert!(json(refused).await["error"].as_str().unwrap().contains("revoked"));
    let unknown = Call::form("/api/owner/revoke_device", &[("name", "attic")]).cookie(&owner).send(&t).await;
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    let sensors = json(Call::get("/api/v1/sensors").cookie(&owner).send(&t).await).await;
    assert_eq!(sensors[0]["last_value"], 20.5, "the device's readings stay");
}

on_both_databases!(
    the_first_start_asks_for_an_account_then_for_a_login,
    the_api_the_stream_and_server_functions_need_a_session,
    login_sets_a_strict_http_only_cookie_and_logout_ends_the_session,
    login_attempts_are_rate_limited_by_address_and_by_name,
    names_no_account_can_have_are_refused_before_they_are_counted,
    a_stranger_cannot_keep_the_owner_out,
    cross_site_writes_with_a_session_are_refused,
    cookies_are_secure_over_https,
    a_share_link_opens_a_read_only_session_until_revoked,
    a_revoked_device_token_is_refused_and_its_readings_stay,
);
