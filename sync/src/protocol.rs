//! The batch sync protocol on the wire (DESIGN §8, written down for client authors in
//! `docs/PROTOCOL.md`): the messages each side sends, their CBOR encoding, the limits checked while
//! decoding, and the ids and codes they carry.
//!
//! Every message is one CBOR array `[version, kind, body]`: the protocol version first, so that a
//! reader can tell "another version" from "garbage" before it parses anything else, then a text
//! kind, then a map with text keys. Byte strings (document ids, cursors, change hashes, Automerge
//! sync messages and saved documents) are CBOR byte strings, never arrays of numbers.
//!
//! These types are the compatibility boundary of the protocol: renaming a field or a code here
//! changes the wire format.

use std::fmt;
use std::marker::PhantomData;

use automerge::ChangeHash;
use serde::de::{self, IgnoredAny, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The version of this protocol, the first item of every message.
pub const PROTOCOL_VERSION: u32 = 2;

/// How deeply CBOR items may nest in a message; the deepest real message nests seven levels.
const MAX_NESTING: usize = 16;

// ---------------------------------------------------------------------------------------------
// Limits
// ---------------------------------------------------------------------------------------------

/// Sizes a peer accepts. Both sides check them while decoding; the server announces its own in
/// [`Welcome::limits`] and the client keeps to the smaller of each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limits {
    /// The largest encoded message, in bytes. Checked before anything is parsed.
    pub max_message_bytes: usize,
    /// The most entries in one batch (one entry per document).
    pub max_entries: usize,
    /// The largest Automerge sync message a client may send for one document. A larger one is a
    /// hard reject of that document ([`RejectCode::TooLarge`]), not of the batch (DESIGN §5.1).
    pub max_doc_message_bytes: usize,
}

impl Limits {
    /// 8 MiB per message, 256 documents per batch, 1 MiB per document.
    pub const DEFAULT: Limits = Limits {
        max_message_bytes: 8 * 1024 * 1024,
        max_entries: 256,
        max_doc_message_bytes: 1024 * 1024,
    };

    /// The smaller of each limit: what both peers accept.
    pub fn min(&self, other: &Limits) -> Limits {
        Limits {
            max_message_bytes: self.max_message_bytes.min(other.max_message_bytes),
            max_entries: self.max_entries.min(other.max_entries).max(1),
            max_doc_message_bytes: self.max_doc_message_bytes.min(other.max_doc_message_bytes),
        }
    }
}

impl Default for Limits {
    fn default() -> Self {
        Self::DEFAULT
    }
}

// ---------------------------------------------------------------------------------------------
// Ids
// ---------------------------------------------------------------------------------------------

/// Documents are cases: a document id is a [`CaseId`] (16 random bytes), written on the wire as
/// a CBOR byte string of those 16 bytes (its bs58check text, the way automerge-repo writes
/// document ids, is for people and URLs; on the wire it would cost 11 bytes more per entry).
pub use fengqiao_schema::ids::CaseId;

/// A case id as the wire writes it: its 16 bytes.
struct WireId(CaseId);

impl Serialize for WireId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_bytes(self.0.as_bytes())
    }
}

impl<'de> Deserialize<'de> for WireId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let bytes = byte_buf::deserialize(deserializer)?;
        CaseId::from_slice(&bytes)
            .map(WireId)
            .ok_or_else(|| de::Error::custom(format!("a case id is 16 bytes, not {}", bytes.len())))
    }
}

/// `Vec<CaseId>` as an array of [`WireId`]s.
mod wire_ids {
    use super::*;

    pub fn serialize<S: Serializer>(ids: &[CaseId], serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        let mut seq = serializer.serialize_seq(Some(ids.len()))?;
        for id in ids {
            seq.serialize_element(&WireId(*id))?;
        }
        seq.end()
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Vec<CaseId>, D::Error> {
        let ids: Vec<WireId> = Vec::deserialize(deserializer)?;
        Ok(ids.into_iter().map(|id| id.0).collect())
    }
}

/// A position in the server's change feed (DESIGN §9): where a client's last completed session
/// ended. Opaque to clients: they store the bytes and send them back. At most
/// [`Cursor::MAX_LEN`] bytes; a CBOR byte string on the wire.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Cursor(Vec<u8>);

/// A cursor token longer than [`Cursor::MAX_LEN`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a cursor has at most {max} bytes, this one has {len}", max = Cursor::MAX_LEN)]
pub struct CursorTooLong {
    pub len: usize,
}

impl Cursor {
    pub const MAX_LEN: usize = 64;
    /// The first byte of a feed-sequence cursor, so that the server can change the format later.
    const FEED_SEQ_TAG: u8 = 1;

    pub fn from_bytes(bytes: Vec<u8>) -> Result<Self, CursorTooLong> {
        if bytes.len() > Self::MAX_LEN {
            return Err(CursorTooLong { len: bytes.len() });
        }
        Ok(Cursor(bytes))
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The cursor the Fengqiao server hands out: a change-feed sequence number.
    pub fn from_feed_seq(seq: u64) -> Self {
        let mut bytes = Vec::with_capacity(9);
        bytes.push(Self::FEED_SEQ_TAG);
        bytes.extend_from_slice(&seq.to_be_bytes());
        Cursor(bytes)
    }

    /// The feed sequence number, if this is a cursor made by [`Cursor::from_feed_seq`].
    pub fn feed_seq(&self) -> Option<u64> {
        match self.0.split_first() {
            Some((&Self::FEED_SEQ_TAG, rest)) => Some(u64::from_be_bytes(rest.try_into().ok()?)),
            _ => None,
        }
    }
}

impl fmt::Debug for Cursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.feed_seq() {
            Some(seq) => write!(f, "Cursor(seq {seq})"),
            None => write!(f, "Cursor({})", hex(&self.0)),
        }
    }
}

impl Serialize for Cursor {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_bytes(&self.0)
    }
}

impl<'de> Deserialize<'de> for Cursor {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let bytes = byte_buf::deserialize(deserializer)?;
        Cursor::from_bytes(bytes).map_err(de::Error::custom)
    }
}

// ---------------------------------------------------------------------------------------------
// Codes
// ---------------------------------------------------------------------------------------------

/// Declares a code carried as lower-case text on the wire, with the default Chinese text shown to
/// people. Unknown codes (from a newer peer) decode as `Other` so that adding a code never breaks
/// an older client: it shows the message that came with it.
macro_rules! wire_code {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $code:literal => $zh:literal, )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )*
            /// A code this version does not know, sent by a newer peer.
            Other(String),
        }

        impl $name {
            /// Every code this version knows, for tables and documentation.
            pub const KNOWN: &'static [$name] = &[$($name::$variant),*];

            /// The code as it stands on the wire.
            pub fn as_str(&self) -> &str {
                match self {
                    $( $name::$variant => $code, )*
                    $name::Other(code) => code,
                }
            }

            pub fn from_code(code: &str) -> Self {
                match code {
                    $( $code => $name::$variant, )*
                    other => $name::Other(other.to_owned()),
                }
            }

            /// The default text for people (Chinese); the sender's own message is usually better.
            pub fn default_message(&self) -> &'static str {
                match self {
                    $( $name::$variant => $zh, )*
                    $name::Other(_) => "服务器返回了本应用无法识别的原因，请升级应用后重试。",
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let code = String::deserialize(deserializer)?;
                Ok($name::from_code(&code))
            }
        }
    };
}

wire_code! {
    /// Why the server refused one document's sync message (a hard reject, DESIGN §5.1): nothing
    /// from that message is stored. Other documents of the batch go on. The codes are those of
    /// `ingest::Reject`, plus `doc_too_large` from the session.
    pub enum RejectCode {
        /// The sync message or a change in it could not be decoded.
        Malformed = "malformed" => "该案件的同步数据已损坏，服务器未保存本次修改。",
        /// The document's sync message is larger than `max_doc_message_bytes`.
        TooLarge = "too_large" => "该案件本次提交的数据过大，服务器未保存本次修改。",
        /// A change holds more operations than the server accepts.
        TooManyOps = "too_many_ops" => "该案件中有一次修改的内容过多，服务器未保存本次修改。",
        /// No such document, or the user may not read it (the two look the same).
        NotFound = "not_found" => "案件不存在，或您无权查看该案件。",
        /// The user may read the document but write nothing in it.
        NoWriteAccess = "no_write_access" => "您没有修改该案件的权限，本次修改未保存。",
        /// A new case the user may not open (that kind, in that unit).
        MayNotOpen = "may_not_open" => "您无权在该单位登记此类案件，该案件未保存。",
        /// A change is made under an actor id already bound to another user or device.
        ActorBoundToOther = "actor_bound_to_other" => "本设备的修改标识已属于其他用户或设备，本次修改未保存，请联系管理员。",
        /// A change deletes or replaces a whole section, which cannot be undone faithfully.
        ReplacesSection = "replaces_section" => "本次修改删除或整体替换了案件的某个部分，服务器拒绝保存。",
        /// A change writes a top-level key that is not a section of the case document.
        UnknownSection = "unknown_section" => "本次修改写入了案件文档中不存在的部分，服务器拒绝保存。",
        /// The document has a newer schema version than the server knows.
        NewerSchema = "newer_schema" => "该案件由更新版本的软件创建，服务器暂不能保存本次修改。",
        /// The document is not a case document.
        NotACase = "not_a_case" => "这不是一份有效的案件文档，服务器未保存。",
        /// The changes could not be applied to the document.
        CannotApply = "cannot_apply" => "修改无法合并到案件中，服务器未保存本次修改。",
        /// The server cannot send this document: even alone it exceeds `max_message_bytes`.
        DocTooLarge = "doc_too_large" => "该案件文档过大，无法同步到本设备，请联系管理员。",
    }
}

wire_code! {
    /// Why a whole session stopped ([`ServerMessage::Error`]).
    pub enum ErrorCode {
        /// The message is of a protocol version this peer does not speak.
        UnsupportedVersion = "unsupported_version" => "同步协议版本不受支持，请升级应用。",
        /// The message could not be decoded.
        Malformed = "malformed" => "同步消息格式错误，本次同步已中止。",
        /// The message is larger than `max_message_bytes`.
        TooLarge = "too_large" => "同步消息过大，本次同步已中止。",
        /// The batch holds more than `max_entries` entries.
        TooManyEntries = "too_many_entries" => "一批中的案件过多，本次同步已中止。",
        /// The message came at the wrong point of the session.
        UnexpectedMessage = "unexpected_message" => "同步步骤顺序错误，请重新同步。",
        /// The access token is missing or expired: refresh it, then sync again.
        Unauthorized = "unauthorized" => "登录已过期，请重新登录后再同步。",
        /// The device has been revoked.
        DeviceRevoked = "device_revoked" => "本设备已被停用，无法同步，请联系管理员。",
        /// The server is overloaded or its storage is unavailable.
        Unavailable = "unavailable" => "服务器暂时不可用，请稍后重试。",
        /// Something failed inside the server.
        Internal = "internal" => "服务器内部错误，请稍后重试。",
    }
}

impl ErrorCode {
    /// Whether sending the same session again later can succeed (after refreshing the token for
    /// [`ErrorCode::Unauthorized`]).
    pub fn retry(&self) -> bool {
        matches!(
            self,
            ErrorCode::UnexpectedMessage
                | ErrorCode::Unauthorized
                | ErrorCode::Unavailable
                | ErrorCode::Internal
        )
    }
}

// ---------------------------------------------------------------------------------------------
// Messages
// ---------------------------------------------------------------------------------------------

/// What a client sends.
#[derive(Debug, Clone, PartialEq)]
pub enum ClientMessage {
    /// Starts a session.
    Hello(Hello),
    /// One round: a sync message per document. An empty batch means "I have nothing more to
    /// send"; the server answers it with [`ServerMessage::Done`].
    Batch(ClientBatch),
}

/// Starts a session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Hello {
    /// The cursor of the last session this device completed; `None` on a fresh device.
    pub cursor: Option<Cursor>,
    /// The client program and version, for the server's logs (e.g. `fengqiao-client/0.1.0`).
    /// Not an identity: who is syncing comes from the bearer token.
    pub agent: String,
}

/// One round from the client.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClientBatch {
    /// 1 for the first batch of a session, then one more each round.
    pub round: u64,
    /// The cursor from this session's [`Welcome`], so that a server without memory of the session
    /// (HTTP) can end it with [`Done`].
    pub cursor: Cursor,
    /// At most one entry per document.
    pub entries: Vec<DocMessage>,
}

/// One document's Automerge sync message (`automerge::sync::Message::encode`). On the wire an
/// array `[doc, sync]`: the case id's 16 bytes and the message's bytes.
#[derive(Clone, PartialEq)]
pub struct DocMessage {
    pub doc_id: CaseId,
    pub message: Vec<u8>,
}

/// What the server sends.
#[derive(Debug, Clone, PartialEq)]
pub enum ServerMessage {
    /// The answer to [`Hello`].
    Welcome(Welcome),
    /// The answer to a non-empty [`ClientBatch`].
    Batch(ServerBatch),
    /// The answer to an empty [`ClientBatch`]: the session is complete.
    Done(Done),
    /// The session stopped; nothing more follows.
    Error(Failure),
    /// On a WebSocket between sessions: documents this user may read changed; start a session.
    Notify,
}

/// The answer to [`Hello`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Welcome {
    /// The feed position this session will end at; the client echoes it in each batch.
    pub cursor: Cursor,
    /// True when `changed` lists every document the user may read: the client sent no cursor, or
    /// the server could not use it.
    pub fresh: bool,
    /// Documents the user may read that changed after the client's cursor. The client must sync
    /// each of them in this session before it takes the new cursor.
    #[serde(with = "wire_ids")]
    pub changed: Vec<CaseId>,
    /// Documents the user could read at the client's cursor and no longer can. The client stops
    /// syncing them and deletes its copy (stashing its own unsynced changes, see PROTOCOL.md).
    #[serde(with = "wire_ids")]
    pub gone: Vec<CaseId>,
    /// The server's limits.
    pub limits: Limits,
}

/// One round from the server: at most one entry per document the client sent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServerBatch {
    /// The round of the client batch this answers.
    pub round: u64,
    pub entries: Vec<DocReply>,
}

/// The server's answer for one document. On the wire an array led by its kind and the case id's
/// 16 bytes: `["sync", doc, sync, compensated?]`, `["saved", doc, heads, document]`,
/// `["rejected", doc, code, message]`, `["deferred", doc, compensated?]` (`compensated` left out
/// when empty; items after these are ignored, for later versions to add).
#[derive(Clone, PartialEq)]
pub enum DocReply {
    /// An Automerge sync message, and notices of the client's changes that the server stored and
    /// then reverted.
    Sync {
        doc_id: CaseId,
        message: Vec<u8>,
        compensated: Vec<Compensation>,
    },
    /// The whole document in Automerge's compact saved form: the answer to a sync message with
    /// no heads and no changes (a client that holds nothing of the document).
    Saved {
        doc_id: CaseId,
        /// The heads of `document`, so the client can record what it now shares with the server
        /// without loading it.
        heads: Vec<ChangeHash>,
        document: Vec<u8>,
    },
    /// The document's sync message was refused; nothing from it is stored.
    Rejected {
        doc_id: CaseId,
        code: RejectCode,
        /// Chinese, for the user.
        message: String,
    },
    /// The server did not fit its answer into this batch: send the same sync message again in
    /// the next round. Anything it contained is already stored; `compensated` is final.
    Deferred {
        doc_id: CaseId,
        compensated: Vec<Compensation>,
    },
}

impl DocReply {
    /// The entry refusing `doc_id` for `rejection`.
    pub fn rejected(doc_id: CaseId, rejection: Rejection) -> Self {
        DocReply::Rejected {
            doc_id,
            code: rejection.code,
            message: rejection.message,
        }
    }

    pub fn doc_id(&self) -> CaseId {
        match self {
            DocReply::Sync { doc_id, .. }
            | DocReply::Saved { doc_id, .. }
            | DocReply::Rejected { doc_id, .. }
            | DocReply::Deferred { doc_id, .. } => *doc_id,
        }
    }
}

/// Why one document's message was refused, for the user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rejection {
    pub code: RejectCode,
    /// Chinese, for the user.
    pub message: String,
}

impl Rejection {
    /// A rejection with the code's default text.
    pub fn new(code: RejectCode) -> Self {
        let message = code.default_message().to_owned();
        Rejection { code, message }
    }
}

/// Changes of the client that the server stored and then reverted in one section (DESIGN §5.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Compensation {
    /// The section (top-level key of the case document), e.g. `mediation`.
    pub section: String,
    /// The client's changes whose effect on the section was reverted.
    pub reverted: Vec<ChangeHash>,
    /// Why, in Chinese, for the user.
    pub reason: String,
    /// The id of the item in the document's `review` section that records it.
    pub review_item: String,
}

/// The session is complete: store the cursor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Done {
    pub cursor: Cursor,
}

/// Why a session stopped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Failure {
    pub code: ErrorCode,
    /// Chinese, for the user. Never internal details.
    pub message: String,
    /// Whether the same session can succeed later.
    pub retry: bool,
}

impl Failure {
    /// A failure with the code's default text and retry flag.
    pub fn new(code: ErrorCode) -> Self {
        Failure {
            message: code.default_message().to_owned(),
            retry: code.retry(),
            code,
        }
    }
}

/// The body of [`ServerMessage::Notify`]: an empty map, kept as a map so fields can be added.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Empty {}

// ---------------------------------------------------------------------------------------------
// Encoding and decoding
// ---------------------------------------------------------------------------------------------

/// Why bytes are not a message. `Display` is English, for logs; [`DecodeError::user_message`] is
/// Chinese, for people.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("message of {size} bytes exceeds the limit of {limit} bytes")]
    TooLarge { size: usize, limit: usize },
    #[error("message ends early")]
    Truncated,
    #[error("not well-formed CBOR (at byte {offset})")]
    NotCbor { offset: usize },
    #[error("protocol version {found}, this peer speaks version {PROTOCOL_VERSION}")]
    WrongVersion { found: u64 },
    #[error("unknown message kind {kind:?}")]
    UnknownKind { kind: String },
    #[error("CBOR that is not a protocol message: {detail}")]
    Malformed { detail: String },
    #[error("{extra} bytes after the end of the message")]
    TrailingBytes { extra: usize },
    #[error("batch of {count} entries exceeds the limit of {limit}")]
    TooManyEntries { count: usize, limit: usize },
    #[error("document {doc_id} appears more than once in the batch")]
    DuplicateDoc { doc_id: CaseId },
}

impl DecodeError {
    /// What a tablet can show (Chinese).
    pub fn user_message(&self) -> String {
        match self {
            DecodeError::TooLarge { size, limit } => {
                format!("同步消息过大（{size} 字节，上限 {limit} 字节），无法处理。")
            }
            DecodeError::Truncated => "同步消息不完整，可能是网络中断，请重新同步。".to_owned(),
            DecodeError::NotCbor { .. } => "收到的数据不是有效的同步消息。".to_owned(),
            DecodeError::WrongVersion { found } => format!(
                "同步协议版本不一致（收到第 {found} 版，本端支持第 {PROTOCOL_VERSION} 版），请升级应用。"
            ),
            DecodeError::UnknownKind { kind } => {
                format!("收到无法识别的同步消息类型“{kind}”，请升级应用。")
            }
            DecodeError::Malformed { .. } => "同步消息的内容不符合同步协议。".to_owned(),
            DecodeError::TrailingBytes { .. } => "同步消息末尾有多余的数据。".to_owned(),
            DecodeError::TooManyEntries { count, limit } => {
                format!("一批中的案件过多（{count} 个，上限 {limit} 个）。")
            }
            DecodeError::DuplicateDoc { .. } => "同一批中同一案件出现了多次。".to_owned(),
        }
    }

    /// The code a server answers with.
    pub fn code(&self) -> ErrorCode {
        match self {
            DecodeError::TooLarge { .. } => ErrorCode::TooLarge,
            DecodeError::WrongVersion { .. } => ErrorCode::UnsupportedVersion,
            DecodeError::TooManyEntries { .. } => ErrorCode::TooManyEntries,
            DecodeError::Truncated
            | DecodeError::NotCbor { .. }
            | DecodeError::UnknownKind { .. }
            | DecodeError::Malformed { .. }
            | DecodeError::TrailingBytes { .. }
            | DecodeError::DuplicateDoc { .. } => ErrorCode::Malformed,
        }
    }

    /// The [`ServerMessage::Error`] a server answers with.
    pub fn to_failure(&self) -> Failure {
        Failure {
            code: self.code(),
            message: self.user_message(),
            // A message cut short in transit may arrive whole next time.
            retry: matches!(self, DecodeError::Truncated),
        }
    }
}

impl ClientMessage {
    /// The kind as it stands on the wire.
    pub fn kind(&self) -> &'static str {
        match self {
            ClientMessage::Hello(_) => "hello",
            ClientMessage::Batch(_) => "batch",
        }
    }

    pub fn encode(&self) -> Vec<u8> {
        match self {
            ClientMessage::Hello(body) => encode_frame(self.kind(), body),
            ClientMessage::Batch(body) => encode_frame(self.kind(), body),
        }
    }

    /// Decodes and checks a message against `limits` (size before parsing, then entry count and
    /// duplicate documents). Per-document sizes are not checked here: an oversized document is
    /// refused on its own by the server session, so the rest of the batch goes on.
    pub fn decode(bytes: &[u8], limits: &Limits) -> Result<Self, DecodeError> {
        let message: ClientMessage = decode_frame(bytes, limits)?;
        message.check(limits)?;
        Ok(message)
    }

    /// The checks [`ClientMessage::decode`] makes after parsing.
    pub fn check(&self, limits: &Limits) -> Result<(), DecodeError> {
        match self {
            ClientMessage::Hello(_) => Ok(()),
            ClientMessage::Batch(batch) => {
                check_entries(batch.entries.iter().map(|e| e.doc_id), limits)
            }
        }
    }
}

impl ServerMessage {
    /// The kind as it stands on the wire.
    pub fn kind(&self) -> &'static str {
        match self {
            ServerMessage::Welcome(_) => "welcome",
            ServerMessage::Batch(_) => "batch",
            ServerMessage::Done(_) => "done",
            ServerMessage::Error(_) => "error",
            ServerMessage::Notify => "notify",
        }
    }

    pub fn encode(&self) -> Vec<u8> {
        match self {
            ServerMessage::Welcome(body) => encode_frame(self.kind(), body),
            ServerMessage::Batch(body) => encode_frame(self.kind(), body),
            ServerMessage::Done(body) => encode_frame(self.kind(), body),
            ServerMessage::Error(body) => encode_frame(self.kind(), body),
            ServerMessage::Notify => encode_frame(self.kind(), &Empty {}),
        }
    }

    /// Decodes and checks a message against `limits`, as [`ClientMessage::decode`].
    pub fn decode(bytes: &[u8], limits: &Limits) -> Result<Self, DecodeError> {
        let message: ServerMessage = decode_frame(bytes, limits)?;
        message.check(limits)?;
        Ok(message)
    }

    /// The checks [`ServerMessage::decode`] makes after parsing.
    pub fn check(&self, limits: &Limits) -> Result<(), DecodeError> {
        match self {
            ServerMessage::Batch(batch) => {
                check_entries(batch.entries.iter().map(DocReply::doc_id), limits)
            }
            _ => Ok(()),
        }
    }
}

fn check_entries(
    docs: impl ExactSizeIterator<Item = CaseId>,
    limits: &Limits,
) -> Result<(), DecodeError> {
    let count = docs.len();
    if count > limits.max_entries {
        return Err(DecodeError::TooManyEntries {
            count,
            limit: limits.max_entries,
        });
    }
    let mut seen = std::collections::HashSet::with_capacity(count);
    for doc_id in docs {
        if !seen.insert(doc_id) {
            return Err(DecodeError::DuplicateDoc { doc_id });
        }
    }
    Ok(())
}

fn encode_frame<B: Serialize>(kind: &str, body: &B) -> Vec<u8> {
    let mut out = Vec::new();
    ciborium::into_writer(&(PROTOCOL_VERSION, kind, body), &mut out)
        .expect("protocol types always serialise to CBOR, and a Vec never fails to grow");
    out
}

/// The number of bytes `value` takes in CBOR, without keeping them.
pub(crate) fn encoded_len<T: Serialize + ?Sized>(value: &T) -> usize {
    struct Counter(usize);
    impl std::io::Write for Counter {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0 += buf.len();
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut counter = Counter(0);
    ciborium::into_writer(value, &mut counter).expect("protocol types always serialise to CBOR");
    counter.0
}

/// A message direction: which kinds it has and how to read their bodies.
trait Direction: Sized {
    /// Reads the body of `kind` from the envelope, or `None` for a kind this direction lacks.
    fn read_body<'de, A: SeqAccess<'de>>(kind: &str, seq: &mut A)
        -> Result<Option<Self>, A::Error>;
}

fn body<'de, A: SeqAccess<'de>, B: Deserialize<'de>>(seq: &mut A) -> Result<B, A::Error> {
    seq.next_element()?
        .ok_or_else(|| de::Error::custom("the envelope has no body"))
}

impl Direction for ClientMessage {
    fn read_body<'de, A: SeqAccess<'de>>(
        kind: &str,
        seq: &mut A,
    ) -> Result<Option<Self>, A::Error> {
        Ok(Some(match kind {
            "hello" => ClientMessage::Hello(body(seq)?),
            "batch" => ClientMessage::Batch(body(seq)?),
            _ => return Ok(None),
        }))
    }
}

impl Direction for ServerMessage {
    fn read_body<'de, A: SeqAccess<'de>>(
        kind: &str,
        seq: &mut A,
    ) -> Result<Option<Self>, A::Error> {
        Ok(Some(match kind {
            "welcome" => ServerMessage::Welcome(body(seq)?),
            "batch" => ServerMessage::Batch(body(seq)?),
            "done" => ServerMessage::Done(body(seq)?),
            "error" => ServerMessage::Error(body(seq)?),
            "notify" => {
                let Empty {} = body(seq)?;
                ServerMessage::Notify
            }
            _ => return Ok(None),
        }))
    }
}

/// What the envelope held. Wrong versions and unknown kinds are values, not errors, so that the
/// reader stops before parsing a body it cannot understand.
enum Framed<T> {
    Message(T),
    WrongVersion(u64),
    UnknownKind(String),
}

impl<'de, T: Direction> Deserialize<'de> for Framed<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct FrameVisitor<T>(PhantomData<T>);

        impl<'de, T: Direction> Visitor<'de> for FrameVisitor<T> {
            type Value = Framed<T>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an array [version, kind, body]")
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let version: u64 = seq
                    .next_element()?
                    .ok_or_else(|| de::Error::invalid_length(0, &self))?;
                if version != u64::from(PROTOCOL_VERSION) {
                    return Ok(Framed::WrongVersion(version));
                }
                let kind: String = seq
                    .next_element()?
                    .ok_or_else(|| de::Error::invalid_length(1, &self))?;
                let Some(message) = T::read_body(&kind, &mut seq)? else {
                    return Ok(Framed::UnknownKind(kind));
                };
                if seq.next_element::<IgnoredAny>()?.is_some() {
                    return Err(de::Error::invalid_length(4, &self));
                }
                Ok(Framed::Message(message))
            }
        }

        deserializer.deserialize_seq(FrameVisitor(PhantomData))
    }
}

fn decode_frame<T: Direction>(bytes: &[u8], limits: &Limits) -> Result<T, DecodeError> {
    if bytes.len() > limits.max_message_bytes {
        return Err(DecodeError::TooLarge {
            size: bytes.len(),
            limit: limits.max_message_bytes,
        });
    }
    let mut reader = bytes;
    let framed: Framed<T> =
        ciborium::de::from_reader_with_recursion_limit(&mut reader, MAX_NESTING).map_err(
            |error| match error {
                ciborium::de::Error::Io(_) => DecodeError::Truncated,
                ciborium::de::Error::Syntax(offset) => DecodeError::NotCbor { offset },
                ciborium::de::Error::Semantic(_, detail) => DecodeError::Malformed { detail },
                ciborium::de::Error::RecursionLimitExceeded => DecodeError::Malformed {
                    detail: "items nested too deeply".to_owned(),
                },
            },
        )?;
    match framed {
        Framed::WrongVersion(found) => Err(DecodeError::WrongVersion { found }),
        Framed::UnknownKind(kind) => Err(DecodeError::UnknownKind { kind }),
        Framed::Message(message) if reader.is_empty() => Ok(message),
        Framed::Message(_) => Err(DecodeError::TrailingBytes {
            extra: reader.len(),
        }),
    }
}

impl fmt::Debug for DocMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DocMessage")
            .field("doc_id", &self.doc_id)
            .field("message", &format_args!("{} bytes", self.message.len()))
            .finish()
    }
}

impl fmt::Debug for DocReply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DocReply::Sync {
                doc_id,
                message,
                compensated,
            } => f
                .debug_struct("Sync")
                .field("doc_id", doc_id)
                .field("message", &format_args!("{} bytes", message.len()))
                .field("compensated", compensated)
                .finish(),
            DocReply::Saved {
                doc_id,
                heads,
                document,
            } => f
                .debug_struct("Saved")
                .field("doc_id", doc_id)
                .field("heads", heads)
                .field("document", &format_args!("{} bytes", document.len()))
                .finish(),
            DocReply::Rejected {
                doc_id,
                code,
                message,
            } => f
                .debug_struct("Rejected")
                .field("doc_id", doc_id)
                .field("code", code)
                .field("message", message)
                .finish(),
            DocReply::Deferred {
                doc_id,
                compensated,
            } => f
                .debug_struct("Deferred")
                .field("doc_id", doc_id)
                .field("compensated", compensated)
                .finish(),
        }
    }
}

impl Serialize for DocMessage {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeTuple;
        let mut tuple = serializer.serialize_tuple(2)?;
        tuple.serialize_element(&WireId(self.doc_id))?;
        tuple.serialize_element(&Bytes(&self.message))?;
        tuple.end()
    }
}

impl<'de> Deserialize<'de> for DocMessage {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct EntryVisitor;
        impl<'de> Visitor<'de> for EntryVisitor {
            type Value = DocMessage;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an entry [doc, sync]")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<DocMessage, A::Error> {
                let WireId(doc_id) = item(&mut seq, 0, &self)?;
                let ByteBuf(message) = item(&mut seq, 1, &self)?;
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(DocMessage { doc_id, message })
            }
        }
        deserializer.deserialize_seq(EntryVisitor)
    }
}

impl Serialize for DocReply {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        let len = match self {
            DocReply::Sync { compensated, .. } => 3 + usize::from(!compensated.is_empty()),
            DocReply::Saved { .. } | DocReply::Rejected { .. } => 4,
            DocReply::Deferred { compensated, .. } => 2 + usize::from(!compensated.is_empty()),
        };
        let mut seq = serializer.serialize_seq(Some(len))?;
        match self {
            DocReply::Sync {
                doc_id,
                message,
                compensated,
            } => {
                seq.serialize_element("sync")?;
                seq.serialize_element(&WireId(*doc_id))?;
                seq.serialize_element(&Bytes(message))?;
                if !compensated.is_empty() {
                    seq.serialize_element(compensated)?;
                }
            }
            DocReply::Saved {
                doc_id,
                heads,
                document,
            } => {
                seq.serialize_element("saved")?;
                seq.serialize_element(&WireId(*doc_id))?;
                seq.serialize_element(heads)?;
                seq.serialize_element(&Bytes(document))?;
            }
            DocReply::Rejected {
                doc_id,
                code,
                message,
            } => {
                seq.serialize_element("rejected")?;
                seq.serialize_element(&WireId(*doc_id))?;
                seq.serialize_element(code)?;
                seq.serialize_element(message)?;
            }
            DocReply::Deferred {
                doc_id,
                compensated,
            } => {
                seq.serialize_element("deferred")?;
                seq.serialize_element(&WireId(*doc_id))?;
                if !compensated.is_empty() {
                    seq.serialize_element(compensated)?;
                }
            }
        }
        seq.end()
    }
}

impl<'de> Deserialize<'de> for DocReply {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ReplyVisitor;
        impl<'de> Visitor<'de> for ReplyVisitor {
            type Value = DocReply;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an entry [kind, doc, ...]")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<DocReply, A::Error> {
                let kind: String = item(&mut seq, 0, &self)?;
                let WireId(doc_id) = item(&mut seq, 1, &self)?;
                let reply = match kind.as_str() {
                    "sync" => {
                        let ByteBuf(message) = item(&mut seq, 2, &self)?;
                        let compensated = seq.next_element()?.unwrap_or_default();
                        DocReply::Sync {
                            doc_id,
                            message,
                            compensated,
                        }
                    }
                    "saved" => {
                        let heads = item(&mut seq, 2, &self)?;
                        let ByteBuf(document) = item(&mut seq, 3, &self)?;
                        DocReply::Saved {
                            doc_id,
                            heads,
                            document,
                        }
                    }
                    "rejected" => {
                        let code = item(&mut seq, 2, &self)?;
                        let message = item(&mut seq, 3, &self)?;
                        DocReply::Rejected {
                            doc_id,
                            code,
                            message,
                        }
                    }
                    "deferred" => {
                        let compensated = seq.next_element()?.unwrap_or_default();
                        DocReply::Deferred {
                            doc_id,
                            compensated,
                        }
                    }
                    other => {
                        return Err(de::Error::unknown_variant(
                            other,
                            &["sync", "saved", "rejected", "deferred"],
                        ))
                    }
                };
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(reply)
            }
        }
        deserializer.deserialize_seq(ReplyVisitor)
    }
}

/// The `index`th item of an array, which must be there.
fn item<'de, A: SeqAccess<'de>, T: Deserialize<'de>>(
    seq: &mut A,
    index: usize,
    expected: &dyn de::Expected,
) -> Result<T, A::Error> {
    seq.next_element()?
        .ok_or_else(|| de::Error::invalid_length(index, expected))
}

/// Borrowed bytes, written as a CBOR byte string.
struct Bytes<'a>(&'a [u8]);

impl Serialize for Bytes<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_bytes(self.0)
    }
}

/// Owned bytes, read from a CBOR byte string (never from an array of numbers).
struct ByteBuf(Vec<u8>);

impl<'de> Deserialize<'de> for ByteBuf {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        byte_buf::deserialize(deserializer).map(ByteBuf)
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

// ---------------------------------------------------------------------------------------------
// Byte strings in serde
// ---------------------------------------------------------------------------------------------

/// `Vec<u8>` as a CBOR byte string (serde's default would be an array of numbers).
mod byte_buf {
    use super::*;

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<u8>, D::Error> {
        struct BytesVisitor;
        impl Visitor<'_> for BytesVisitor {
            type Value = Vec<u8>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a byte string")
            }
            fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Vec<u8>, E> {
                Ok(v.to_vec())
            }
            fn visit_byte_buf<E: de::Error>(self, v: Vec<u8>) -> Result<Vec<u8>, E> {
                Ok(v)
            }
        }
        deserializer.deserialize_byte_buf(BytesVisitor)
    }
}
