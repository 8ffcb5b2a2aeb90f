//! The server's JSON endpoints the client uses: login, refresh, and authenticated reads of the API
//! (`/v1/auth/me`, `/v1/cases`, `/v1/inbox`). Errors come back as the server's stable code with
//! its Chinese message, mapped to what the client must do (log in again, stop: revoked, retry).

use fengqiao_schema::ids::DeviceId;
use serde::Deserialize;

use crate::error::ClientError;
use crate::local::LocalUser;

/// Shown when the refresh token no longer works: the user logs in again, nothing local is lost.
pub const LOGIN_AGAIN: &str =
    "登录已过期（设备离线时间过长或登录已失效），请重新登录（fengqiao-client login）。本机未同步的修改均已保留，重新登录后会自动同步。";

/// Shown when the server says this device is revoked.
pub const DEVICE_REVOKED: &str =
    "本设备已被管理员停用，无法再与服务器同步。本机上的案件和未同步的修改均已保留，可用「fengqiao-client export」导出后交给管理员。";

/// Shown when the user's account is revoked.
pub const USER_REVOKED: &str =
    "您的账号已被停用，无法同步。本机上的案件和未同步的修改均已保留，可用「fengqiao-client export」导出后交给管理员。";

/// The answer to a login or a refresh.
#[derive(Debug, Clone, Deserialize)]
pub struct SessionAnswer {
    pub access_token: String,
    pub expires_at: i64,
    pub refresh_token: String,
    pub refresh_expires_at: i64,
    pub user: LocalUser,
    pub device_id: DeviceId,
}

#[derive(Debug, Deserialize)]
struct ErrorBody {
    code: String,
    message: String,
}

/// The JSON API of one server.
#[derive(Clone)]
pub struct Api {
    http: reqwest::Client,
    base: String,
}

impl Api {
    pub fn new(http: reqwest::Client, base: &str) -> Api {
        Api {
            http,
            base: base.trim_end_matches('/').to_string(),
        }
    }

    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    pub async fn login(
        &self,
        user_id: &str,
        password: &str,
        device_id: &DeviceId,
        device_name: &str,
    ) -> Result<SessionAnswer, ClientError> {
        let body = serde_json::json!({
            "user_id": user_id,
            "password": password,
            "device_id": device_id,
            "device_name": device_name,
        });
        let response = self
            .http
            .post(format!("{}/v1/auth/login", self.base))
            .json(&body)
            .send()
            .await
            .map_err(network)?;
        parse(response).await
    }

    pub async fn refresh(&self, refresh_token: &str) -> Result<SessionAnswer, ClientError> {
        let response = self
            .http
            .post(format!("{}/v1/auth/refresh", self.base))
            .json(&serde_json::json!({ "refresh_token": refresh_token }))
            .send()
            .await
            .map_err(network)?;
        parse(response).await
    }

    /// An authenticated GET of a JSON endpoint, e.g. `/v1/inbox`.
    pub async fn get_json(
        &self,
        token: &str,
        path: &str,
    ) -> Result<serde_json::Value, ClientError> {
        let response = self
            .http
            .get(format!("{}{path}", self.base))
            .bearer_auth(token)
            .send()
            .await
            .map_err(network)?;
        parse(response).await
    }
}

fn network(error: reqwest::Error) -> ClientError {
    ClientError::Network(error.to_string())
}

async fn parse<T: serde::de::DeserializeOwned>(
    response: reqwest::Response,
) -> Result<T, ClientError> {
    let status = response.status().as_u16();
    let bytes = response.bytes().await.map_err(network)?;
    if status == 200 {
        return serde_json::from_slice(&bytes)
            .map_err(|e| ClientError::Local(format!("服务器的应答无法识别：{e}")));
    }
    let body: Option<ErrorBody> = serde_json::from_slice(&bytes).ok();
    let (code, message) = match body {
        Some(ErrorBody { code, message }) => (code, message),
        None => (String::new(), format!("HTTP {status}")),
    };
    Err(match code.as_str() {
        "invalid_credentials" => {
            ClientError::InvalidCredentials(format!("{message}，请检查用户名和密码"))
        }
        "refresh_expired" | "refresh_invalid" | "refresh_reused" | "token_invalid"
        | "token_missing" => ClientError::LoginRequired(LOGIN_AGAIN.to_string()),
        "device_revoked" => ClientError::DeviceRevoked(DEVICE_REVOKED.to_string()),
        "user_revoked" => ClientError::UserRevoked(USER_REVOKED.to_string()),
        _ => ClientError::Server {
            status,
            code,
            message,
        },
    })
}
