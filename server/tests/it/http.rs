//! The HTTP surface on a real socket: `serve` on port 0, health and readiness, a login over the
//! wire, and a graceful shutdown after which the port is closed.

use fengqiao_server::{serve, Services, Settings};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::common::*;

/// One HTTP/1.1 exchange; the connection closes after the response.
async fn exchange(address: std::net::SocketAddr, request: &str) -> String {
    let mut stream = TcpStream::connect(address).await.expect("connect");
    stream.write_all(request.as_bytes()).await.expect("send");
    let mut response = String::new();
    within_deadline("the response", stream.read_to_string(&mut response)).await.expect("receive");
    response
}

fn get(path: &str) -> String {
    format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
}

fn post(path: &str, body: &str) -> String {
    format!(
        "POST {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
}

fn status_and_body(response: &str) -> (&str, &str) {
    let status = response.lines().next().unwrap_or_default();
    let body = response.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or_default();
    (status, body)
}

#[tokio::test]
async fn the_server_serves_on_port_zero_and_shuts_down_gracefully() {
    on_each_backend(|database, store| async move {
        seed_people(&store).await;
        let services =
            Services::start_on(store.clone(), &Settings::with_database(database.url.clone())).await.expect("start");
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let address = listener.local_addr().expect("address");
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(serve(listener, services.state(), async {
            stopped.await.ok();
        }));

        // (request, status line, body)
        let login =
            r#"{"user_id":"wang.fang","password":"correct horse battery","device_id":"tablet-1","device_name":"平板"}"#;
        let wrong = r#"{"user_id":"wang.fang","password":"nope","device_id":"tablet-1","device_name":"平板"}"#;
        let cases = [
            (get("/healthz"), "HTTP/1.1 200 OK", Some(r#"{"status":"ok"}"#)),
            (get("/readyz"), "HTTP/1.1 200 OK", Some(r#"{"status":"ready"}"#)),
            (
                post("/v1/auth/login", wrong),
                "HTTP/1.1 401 Unauthorized",
                Some(r#"{"code":"invalid_credentials","message":"用户名或密码错误"}"#),
            ),
            (post("/v1/auth/login", login), "HTTP/1.1 200 OK", None),
            (
                get("/v1/auth/me"),
                "HTTP/1.1 401 Unauthorized",
                Some(r#"{"code":"token_missing","message":"缺少访问令牌，请先登录"}"#),
            ),
            (get("/no-such-path"), "HTTP/1.1 404 Not Found", Some("")),
        ];
        for (request, expected_status, expected_body) in cases {
            let response = exchange(address, &request).await;
            let (status, body) = status_and_body(&response);
            assert_eq!(status, expected_status, "{request}");
            if let Some(expected_body) = expected_body {
                assert_eq!(body, expected_body, "{request}");
            }
        }

        stop.send(()).expect("the server is running");
        within_deadline("the graceful shutdown", server).await.expect("server task").expect("serve");
        assert!(TcpStream::connect(address).await.is_err(), "the port is closed");
        services.stop().await;

        // Not ready once the database is gone.
        let services =
            Services::start_on(store.clone(), &Settings::with_database(database.url.clone())).await.expect("start");
        let state = services.state();
        store.close().await;
        let (status, body) = call(&state, "GET", "/readyz", None, None).await;
        assert_eq!((status, code(&body).as_str()), (503, "unavailable"));
        let (status, body) = call(&state, "GET", "/healthz", None, None).await;
        assert_eq!((status, body["status"].as_str()), (200, Some("ok")));
        // An internal error says nothing about its cause.
        let (status, body) = call(
            &state,
            "POST",
            "/v1/auth/login",
            None,
            Some(serde_json::json!({ "user_id": "wang.fang", "password": "x", "device_id": "d", "device_name": "n" })),
        )
        .await;
        assert_eq!(status, 500);
        assert_eq!(body, serde_json::json!({ "code": "internal", "message": "服务器内部错误，请稍后重试" }));
        services.stop().await;
    })
    .await;
}
