//! The client's one error type. Its `Display` is Chinese, for the person holding the tablet; the
//! variants let a program act (log in again, retry later, export the stash).

use fengqiao_sync::protocol::Failure;

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// No login on this device yet.
    #[error("本机尚未登录，请先登录（fengqiao-client login）")]
    NotLoggedIn,
    /// The refresh token expired (a long time offline) or was refused: log in again. Nothing
    /// local is lost; it syncs after the login.
    #[error("{0}")]
    LoginRequired(String),
    /// The server says this device is revoked. Local data is kept and can be exported.
    #[error("{0}")]
    DeviceRevoked(String),
    /// The user's account is revoked.
    #[error("{0}")]
    UserRevoked(String),
    /// The password or user id is wrong.
    #[error("{0}")]
    InvalidCredentials(String),
    /// The server could not be reached, or the connection broke. Retry later.
    #[error("无法连接服务器：{0}")]
    Network(String),
    /// The server stopped the session (PROTOCOL.md §8.4).
    #[error("同步中止：{}", .0.message)]
    Session(Failure),
    /// The server answered a request with an error.
    #[error("服务器拒绝了请求：{message}")]
    Server {
        status: u16,
        code: String,
        message: String,
    },
    /// A case the replica does not hold.
    #[error("本机没有案件「{0}」")]
    UnknownCase(String),
    /// An edit the device refuses itself (read-only case, section not writable, invalid value).
    #[error("{0}")]
    EditRefused(String),
    /// Local storage failed.
    #[error("本机数据出错：{0}")]
    Local(String),
}

impl ClientError {
    /// Whether trying the same thing again later may succeed without the user doing anything.
    pub fn is_retryable(&self) -> bool {
        match self {
            ClientError::Network(_) => true,
            ClientError::Session(failure) => failure.retry,
            ClientError::Server { status, .. } => *status >= 500,
            _ => false,
        }
    }
}

impl From<rusqlite::Error> for ClientError {
    fn from(error: rusqlite::Error) -> Self {
        ClientError::Local(error.to_string())
    }
}

impl From<automerge::AutomergeError> for ClientError {
    fn from(error: automerge::AutomergeError) -> Self {
        ClientError::Local(format!("案件文档出错：{error}"))
    }
}

impl From<autosurgeon::ReconcileError> for ClientError {
    fn from(error: autosurgeon::ReconcileError) -> Self {
        ClientError::Local(format!("案件文档写入失败：{error}"))
    }
}

impl From<autosurgeon::HydrateError> for ClientError {
    fn from(error: autosurgeon::HydrateError) -> Self {
        ClientError::Local(format!("案件文档读取失败：{error}"))
    }
}
