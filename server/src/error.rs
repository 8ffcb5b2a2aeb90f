//! The server's one error type, with its one `IntoResponse`. A client gets a stable `code` and a
//! Chinese `message` meant for the person holding the tablet; internal details (SQL errors, I/O
//! errors, corrupt documents) go to the log and never into a response.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use fengqiao_schema::ids::{DeviceId, UnitId, UserId};
use fengqiao_schema::units::UnitTreeError;
use serde::{Deserialize, Serialize};

/// Everything that can go wrong in the server, from a wrong password to a broken database.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    // Identity.
    #[error("用户名或密码错误")]
    InvalidCredentials,
    #[error("缺少访问令牌")]
    TokenMissing,
    #[error("访问令牌无效")]
    TokenInvalid,
    #[error("访问令牌已过期")]
    TokenExpired,
    #[error("设备已被停用")]
    DeviceRevoked,
    #[error("账号已被停用")]
    UserRevoked,
    #[error("设备已登记在其他用户名下")]
    DeviceTaken,
    #[error("刷新令牌无效")]
    RefreshInvalid,
    #[error("刷新令牌已过期")]
    RefreshExpired,
    #[error("刷新令牌被重复使用")]
    RefreshReused,

    // Requests and administration.
    /// A request we understood and refuse; the text is Chinese and shown as it is.
    #[error("{0}")]
    BadRequest(String),
    /// A body that does not parse; the parser's text (English, may quote the request) is logged.
    #[error("请求格式不正确：{0}")]
    MalformedBody(String),
    /// A case, review item or attachment that does not exist or that the user may not read: the
    /// same answer for both (DESIGN §4).
    #[error("未找到")]
    NotFound,
    /// The user reads the thing but may not do this to it.
    #[error("无权进行此操作")]
    Forbidden,
    #[error("单位「{0}」已存在")]
    UnitExists(UnitId),
    #[error("单位「{0}」不存在")]
    UnknownUnit(UnitId),
    #[error("用户「{0}」已存在")]
    UserExists(UserId),
    #[error("用户「{0}」不存在")]
    UnknownUser(UserId),
    #[error("设备「{0}」不存在")]
    UnknownDevice(DeviceId),
    #[error("签名密钥「{0}」不存在")]
    UnknownKey(String),
    #[error("{0}")]
    NotATree(#[from] UnitTreeError),
    #[error("组织架构文件有误：{0}")]
    OrgFile(String),

    // Documents.
    #[error("案件修改未被接受：{0}")]
    CommitRefused(crate::store::documents::CommitRefused),

    // The service itself.
    #[error("服务正在停止或暂不可用")]
    Unavailable,
    #[error("数据库错误：{0}")]
    Database(#[from] sqlx::Error),
    #[error("数据库迁移失败：{0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("案件文档损坏：{0}")]
    Document(#[from] automerge::AutomergeError),
    #[error("内部错误：{0}")]
    Internal(String),
}

/// The JSON body of every error response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// Stable, lower-case, for programs.
    pub code: String,
    /// Chinese, for people.
    pub message: String,
}

impl Error {
    pub fn status(&self) -> StatusCode {
        use Error::*;
        match self {
            InvalidCredentials | TokenMissing | TokenInvalid | TokenExpired | RefreshInvalid | RefreshExpired
            | RefreshReused => StatusCode::UNAUTHORIZED,
            // The server knows who is asking and refuses: the client must not retry with a refresh.
            DeviceRevoked | UserRevoked | DeviceTaken | Forbidden => StatusCode::FORBIDDEN,
            NotFound => StatusCode::NOT_FOUND,
            BadRequest(_) | MalformedBody(_) | NotATree(_) | OrgFile(_) => StatusCode::BAD_REQUEST,
            UnitExists(_) | UserExists(_) | CommitRefused(_) => StatusCode::CONFLICT,
            UnknownUnit(_) | UnknownUser(_) | UnknownDevice(_) | UnknownKey(_) => StatusCode::NOT_FOUND,
            Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            Database(_) | Migrate(_) | Document(_) | Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The stable code clients act on.
    pub fn code(&self) -> &'static str {
        use Error::*;
        match self {
            InvalidCredentials => "invalid_credentials",
            TokenMissing => "token_missing",
            TokenInvalid => "token_invalid",
            TokenExpired => "token_expired",
            DeviceRevoked => "device_revoked",
            UserRevoked => "user_revoked",
            DeviceTaken => "device_taken",
            RefreshInvalid => "refresh_invalid",
            RefreshExpired => "refresh_expired",
            RefreshReused => "refresh_reused",
            BadRequest(_) | MalformedBody(_) => "bad_request",
            NotFound => "not_found",
            Forbidden => "forbidden",
            UnitExists(_) => "unit_exists",
            UnknownUnit(_) => "unknown_unit",
            UserExists(_) => "user_exists",
            UnknownUser(_) => "unknown_user",
            UnknownDevice(_) => "unknown_device",
            UnknownKey(_) => "unknown_key",
            NotATree(_) => "units_not_a_tree",
            OrgFile(_) => "invalid_org_file",
            CommitRefused(_) => "commit_refused",
            Unavailable => "unavailable",
            Database(_) | Migrate(_) | Document(_) | Internal(_) => "internal",
        }
    }

    /// What the person is told. Internal errors say nothing about their cause.
    pub fn message(&self) -> String {
        use Error::*;
        match self {
            TokenMissing => "缺少访问令牌，请先登录".to_string(),
            TokenInvalid => "访问令牌无效，请重新登录".to_string(),
            TokenExpired => "访问令牌已过期，请刷新后重试".to_string(),
            DeviceRevoked => "此设备已被停用，请联系管理员".to_string(),
            UserRevoked => "此账号已被停用，请联系管理员".to_string(),
            DeviceTaken => "此设备已登记在其他用户名下，请联系管理员".to_string(),
            RefreshInvalid => "登录已失效，请重新登录".to_string(),
            RefreshExpired => "登录已过期，请重新登录".to_string(),
            RefreshReused => "检测到登录凭据被重复使用，此设备已退出登录，请重新登录".to_string(),
            MalformedBody(_) => "请求格式不正确".to_string(),
            // The reason names actors and users: the sync layer tells the client in its own words.
            CommitRefused(_) => "案件修改未被接受".to_string(),
            Unavailable => "服务暂不可用，请稍后重试".to_string(),
            Database(_) | Migrate(_) | Document(_) | Internal(_) => "服务器内部错误，请稍后重试".to_string(),
            other => other.to_string(),
        }
    }

    pub fn body(&self) -> ErrorBody {
        ErrorBody { code: self.code().to_string(), message: self.message() }
    }

    /// An error from a task that should not fail (a panicked or cancelled blocking task).
    pub fn internal(what: impl std::fmt::Display) -> Error {
        Error::Internal(what.to_string())
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let status = self.status();
        if status.is_server_error() {
            tracing::error!(error = %self, code = self.code(), "request failed");
        } else {
            tracing::debug!(error = %self, code = self.code(), "request refused");
        }
        (status, Json(self.body())).into_response()
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
