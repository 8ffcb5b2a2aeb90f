//! The batch protocol through its public interface: every message's CBOR form (as diagnostic
//! notation snapshots) and round trip, the decoding errors, and whole sessions between a
//! `ClientSession` and a `ServerSession` over in-memory documents, with every message encoded and
//! decoded on the way, recorded as transcripts.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use automerge::sync::{self, SyncDoc};
use automerge::transaction::{CommitOptions, Transactable};
use automerge::{ActorId, Automerge, AutomergeError, ChangeHash, ReadDoc, ROOT};
use ciborium::Value;
use expect_test::{expect, Expect};
use fengqiao_sync::protocol::{
    CaseId, ClientBatch, ClientMessage, Compensation, Cursor, DecodeError, DocMessage, DocReply,
    Done, ErrorCode, Failure, Hello, Limits, RejectCode, Rejection, ServerBatch, ServerMessage,
    Welcome,
};
use fengqiao_sync::session::{
    ApplyOutcome, ClientInput, ClientOutput, ClientSession, ClientStart, DocUpdate, FeedAnswer,
    LocalDoc, Need, Notice, ServerInput, ServerOutput, ServerSession, Snapshot,
};

// ---------------------------------------------------------------------------------------------
// Fixtures
// ---------------------------------------------------------------------------------------------

/// Case `A`, `B`, ...: the letter repeated, so transcripts can name cases by their first byte.
fn case(letter: char) -> CaseId {
    CaseId::from_bytes([letter as u8; 16])
}

fn name(id: CaseId) -> char {
    id.as_bytes()[0] as char
}

fn hash(byte: u8) -> ChangeHash {
    ChangeHash([byte; 32])
}

/// One committed change putting `key` = `value` at the root, stamped at time 0 so that hashes
/// and sizes do not depend on the clock.
fn edit(doc: &mut Automerge, key: &str, value: &str) {
    doc.transact_with::<_, _, AutomergeError, _>(
        |_| CommitOptions::default().with_time(0),
        |tx| tx.put(ROOT, key, value),
    )
    .expect("a put at the root commits");
}

fn new_doc(actor: &str) -> Automerge {
    Automerge::new().with_actor(ActorId::from(actor.as_bytes()))
}

/// Sorted heads, for comparing replicas.
fn heads(doc: &Automerge) -> Vec<ChangeHash> {
    let mut heads = doc.get_heads();
    heads.sort();
    heads
}

// ---------------------------------------------------------------------------------------------
// Messages: wire form and round trip
// ---------------------------------------------------------------------------------------------

/// CBOR diagnostic notation (RFC 8949 §8) of a value.
fn diag(value: &Value) -> String {
    match value {
        Value::Integer(i) => i128::from(*i).to_string(),
        Value::Bytes(bytes) => format!(
            "h'{}'",
            bytes.iter().map(|b| format!("{b:02x}")).collect::<String>()
        ),
        Value::Text(text) => format!("{text:?}"),
        Value::Bool(b) => b.to_string(),
        Value::Null => "null".to_owned(),
        Value::Float(f) => f.to_string(),
        Value::Tag(tag, inner) => format!("{tag}({})", diag(inner)),
        Value::Array(items) => {
            format!(
                "[{}]",
                items.iter().map(diag).collect::<Vec<_>>().join(", ")
            )
        }
        Value::Map(entries) => format!(
            "{{{}}}",
            entries
                .iter()
                .map(|(k, v)| format!("{}: {}", diag(k), diag(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        other => format!("{other:?}"),
    }
}

fn diag_bytes(bytes: &[u8]) -> String {
    let value: Value = ciborium::from_reader(bytes).expect("an encoded message is CBOR");
    diag(&value)
}

fn client_messages() -> Vec<ClientMessage> {
    vec![
        ClientMessage::Hello(Hello {
            cursor: None,
            agent: "fengqiao-client/0.1.0".into(),
        }),
        ClientMessage::Hello(Hello {
            cursor: Some(Cursor::from_feed_seq(42)),
            agent: "web/1".into(),
        }),
        ClientMessage::Batch(ClientBatch {
            round: 1,
            cursor: Cursor::from_feed_seq(42),
            entries: vec![
                DocMessage {
                    doc_id: case('A'),
                    message: vec![0x42, 0, 0, 1, 0, 0],
                },
                DocMessage {
                    doc_id: case('B'),
                    message: vec![0x43],
                },
            ],
        }),
        ClientMessage::Batch(ClientBatch {
            round: 2,
            cursor: Cursor::from_feed_seq(42),
            entries: vec![],
        }),
    ]
}

fn server_messages() -> Vec<ServerMessage> {
    vec![
        ServerMessage::Welcome(Welcome {
            cursor: Cursor::from_feed_seq(42),
            fresh: false,
            changed: vec![case('A'), case('B')],
            gone: vec![case('C')],
            limits: Limits::DEFAULT,
        }),
        ServerMessage::Batch(ServerBatch {
            round: 1,
            entries: vec![
                DocReply::Sync {
                    doc_id: case('A'),
                    message: vec![0x42, 1],
                    compensated: vec![],
                },
                DocReply::Sync {
                    doc_id: case('B'),
                    message: vec![0x42, 2],
                    compensated: vec![Compensation {
                        section: "mediation".into(),
                        reverted: vec![hash(0xab)],
                        reason: "案件已移交，移交后提交的修改已被撤销。".into(),
                        review_item: "review-7".into(),
                    }],
                },
                DocReply::Saved {
                    doc_id: case('C'),
                    heads: vec![hash(0xcd)],
                    document: vec![0x85, 0x6f],
                },
                DocReply::rejected(case('D'), Rejection::new(RejectCode::NoWriteAccess)),
                DocReply::Deferred {
                    doc_id: case('E'),
                    compensated: vec![],
                },
            ],
        }),
        ServerMessage::Done(Done {
            cursor: Cursor::from_feed_seq(42),
        }),
        ServerMessage::Error(Failure::new(ErrorCode::Unavailable)),
        ServerMessage::Notify,
    ]
}

#[test]
fn client_messages_on_the_wire() {
    let mut wire = String::new();
    for message in client_messages() {
        let bytes = message.encode();
        let decoded = ClientMessage::decode(&bytes, &Limits::DEFAULT).expect("round trip");
        assert_eq!(decoded, message);
        wire += &format!("{}\n", diag_bytes(&bytes));
    }
    expect![[r#"
        [2, "hello", {"cursor": null, "agent": "fengqiao-client/0.1.0"}]
        [2, "hello", {"cursor": h'01000000000000002a', "agent": "web/1"}]
        [2, "batch", {"round": 1, "cursor": h'01000000000000002a', "entries": [[h'41414141414141414141414141414141', h'420000010000'], [h'42424242424242424242424242424242', h'43']]}]
        [2, "batch", {"round": 2, "cursor": h'01000000000000002a', "entries": []}]
    "#]]
    .assert_eq(&wire);
}

#[test]
fn server_messages_on_the_wire() {
    let mut wire = String::new();
    for message in server_messages() {
        let bytes = message.encode();
        let decoded = ServerMessage::decode(&bytes, &Limits::DEFAULT).expect("round trip");
        assert_eq!(decoded, message);
        wire += &format!("{}\n", diag_bytes(&bytes));
    }
    expect![[r#"
        [2, "welcome", {"cursor": h'01000000000000002a', "fresh": false, "changed": [h'41414141414141414141414141414141', h'42424242424242424242424242424242'], "gone": [h'43434343434343434343434343434343'], "limits": {"max_message_bytes": 8388608, "max_entries": 256, "max_doc_message_bytes": 1048576}}]
        [2, "batch", {"round": 1, "entries": [["sync", h'41414141414141414141414141414141', h'4201'], ["sync", h'42424242424242424242424242424242', h'4202', [{"section": "mediation", "reverted": ["abababababababababababababababababababababababababababababababab"], "reason": "案件已移交，移交后提交的修改已被撤销。", "review_item": "review-7"}]], ["saved", h'43434343434343434343434343434343', ["cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd"], h'856f'], ["rejected", h'44444444444444444444444444444444', "no_write_access", "您没有修改该案件的权限，本次修改未保存。"], ["deferred", h'45454545454545454545454545454545']]}]
        [2, "done", {"cursor": h'01000000000000002a'}]
        [2, "error", {"code": "unavailable", "message": "服务器暂时不可用，请稍后重试。", "retry": true}]
        [2, "notify", {}]
    "#]].assert_eq(&wire);
}

#[test]
fn codes_from_newer_peers_decode_as_other() {
    let bytes = encode_value(cbor_batch_with_reject_code("needs_countersignature"));
    let decoded =
        ServerMessage::decode(&bytes, &Limits::DEFAULT).expect("an unknown code is not an error");
    let ServerMessage::Batch(batch) = decoded else {
        panic!("a batch")
    };
    let DocReply::Rejected { code, message, .. } = &batch.entries[0] else {
        panic!("a rejection")
    };
    assert_eq!(code, &RejectCode::Other("needs_countersignature".into()));
    assert_eq!(message, "需要会签");
    // And it goes back out unchanged.
    assert_eq!(ServerMessage::Batch(batch).encode(), bytes);
}

fn cbor_batch_with_reject_code(code: &str) -> Value {
    Value::Array(vec![
        Value::from(2),
        Value::from("batch"),
        Value::Map(vec![
            (Value::from("round"), Value::from(1)),
            (
                Value::from("entries"),
                Value::Array(vec![Value::Array(vec![
                    Value::from("rejected"),
                    Value::Bytes(case('A').as_bytes().to_vec()),
                    Value::from(code),
                    Value::from("需要会签"),
                ])]),
            ),
        ]),
    ])
}

#[test]
fn small_messages_byte_for_byte() {
    // Definite lengths throughout, so any CBOR library reads them.
    let messages = [
        ServerMessage::Notify,
        ServerMessage::Done(Done {
            cursor: Cursor::from_feed_seq(1),
        }),
        ServerMessage::Batch(ServerBatch {
            round: 3,
            entries: vec![DocReply::Deferred {
                doc_id: CaseId::from_bytes([0; 16]),
                compensated: vec![],
            }],
        }),
    ];
    let hex: String = messages
        .iter()
        .map(|m| {
            m.encode()
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<String>()
                + "\n"
        })
        .collect();
    expect![[r#"
        8302666e6f74696679a0
        830264646f6e65a166637572736f7249010000000000000001
        8302656261746368a265726f756e640367656e747269657381826864656665727265645000000000000000000000000000000000
    "#]].assert_eq(&hex);
}

#[test]
fn every_code_is_documented() {
    let protocol_md =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/PROTOCOL.md"))
            .expect("docs/PROTOCOL.md exists");
    let codes = RejectCode::KNOWN
        .iter()
        .map(RejectCode::as_str)
        .chain(ErrorCode::KNOWN.iter().map(ErrorCode::as_str));
    let missing: Vec<&str> = codes
        .filter(|code| !protocol_md.contains(&format!("`{code}`")))
        .collect();
    assert!(
        missing.is_empty(),
        "codes missing from docs/PROTOCOL.md: {missing:?}"
    );
    assert_eq!(Limits::default(), Limits::DEFAULT);
}

// ---------------------------------------------------------------------------------------------
// Decoding errors
// ---------------------------------------------------------------------------------------------

fn encode_value(value: Value) -> Vec<u8> {
    let mut bytes = Vec::new();
    ciborium::into_writer(&value, &mut bytes).expect("a value encodes");
    bytes
}

fn hello_bytes() -> Vec<u8> {
    client_messages()[0].encode()
}

/// Bytes from a fixed linear congruential sequence: "random", and the same on every run.
fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed;
    (0..len)
        .map(|_| {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (x >> 56) as u8
        })
        .collect()
}

fn check_decode_errors(cases: Vec<(&str, Vec<u8>, Limits)>, expect: Expect) {
    let mut report = String::new();
    for (label, bytes, limits) in cases {
        let line = match ClientMessage::decode(&bytes, &limits) {
            Ok(message) => format!("decoded {}", message.kind()),
            Err(error) => {
                let failure = error.to_failure();
                format!(
                    "{error} | {} | {} retry={}",
                    error.user_message(),
                    failure.code,
                    failure.retry
                )
            }
        };
        report += &format!("{label}: {line}\n");
    }
    expect.assert_eq(&report);
}

#[test]
fn decoding_errors() {
    let hello = hello_bytes();
    let small = Limits {
        max_message_bytes: 16,
        ..Limits::DEFAULT
    };
    let two = Limits {
        max_entries: 2,
        ..Limits::DEFAULT
    };
    let three_entries = ClientMessage::Batch(ClientBatch {
        round: 1,
        cursor: Cursor::from_feed_seq(1),
        entries: ['A', 'B', 'C']
            .map(|c| DocMessage {
                doc_id: case(c),
                message: vec![0x42],
            })
            .to_vec(),
    })
    .encode();
    let duplicate = ClientMessage::Batch(ClientBatch {
        round: 1,
        cursor: Cursor::from_feed_seq(1),
        entries: ['A', 'B', 'A']
            .map(|c| DocMessage {
                doc_id: case(c),
                message: vec![0x42],
            })
            .to_vec(),
    })
    .encode();
    let hello_body = || {
        Value::Map(vec![
            (Value::from("cursor"), Value::Null),
            (Value::from("agent"), Value::from("x")),
        ])
    };
    let frame = |items: Vec<Value>| encode_value(Value::Array(items));
    let mut trailing = hello.clone();
    trailing.push(0);
    let long_cursor = frame(vec![
        Value::from(2),
        Value::from("hello"),
        Value::Map(vec![
            (Value::from("cursor"), Value::Bytes(vec![7; 65])),
            (Value::from("agent"), Value::from("x")),
        ]),
    ]);
    let bad_doc_id = frame(vec![
        Value::from(2),
        Value::from("batch"),
        Value::Map(vec![
            (Value::from("round"), Value::from(1)),
            (Value::from("cursor"), Value::Bytes(vec![1])),
            (
                Value::from("entries"),
                Value::Array(vec![Value::Array(vec![
                    Value::Bytes(vec![1, 2, 3]),
                    Value::Bytes(vec![0x42]),
                ])]),
            ),
        ]),
    ]);

    check_decode_errors(
        vec![
            ("empty", vec![], Limits::DEFAULT),
            (
                "truncated",
                hello[..hello.len() - 3].to_vec(),
                Limits::DEFAULT,
            ),
            ("random bytes", noise(64, 7), Limits::DEFAULT),
            ("more random bytes", noise(64, 11), Limits::DEFAULT),
            (
                "random body",
                [&[0x83, 0x02, 0x65][..], b"hello", &noise(40, 3)].concat(),
                Limits::DEFAULT,
            ),
            ("reserved byte", vec![0x1c], Limits::DEFAULT),
            ("not an array", encode_value(hello_body()), Limits::DEFAULT),
            (
                "wrong version",
                frame(vec![Value::from(3), Value::from("hello"), hello_body()]),
                Limits::DEFAULT,
            ),
            (
                "version as text",
                frame(vec![Value::from("2"), Value::from("hello"), hello_body()]),
                Limits::DEFAULT,
            ),
            (
                "unknown kind",
                frame(vec![Value::from(2), Value::from("goodbye"), hello_body()]),
                Limits::DEFAULT,
            ),
            (
                "server kind",
                server_messages()[2].encode(),
                Limits::DEFAULT,
            ),
            (
                "no body",
                frame(vec![Value::from(2), Value::from("hello")]),
                Limits::DEFAULT,
            ),
            (
                "fourth item",
                frame(vec![
                    Value::from(2),
                    Value::from("hello"),
                    hello_body(),
                    Value::Null,
                ]),
                Limits::DEFAULT,
            ),
            (
                "missing field",
                frame(vec![
                    Value::from(2),
                    Value::from("hello"),
                    Value::Map(vec![]),
                ]),
                Limits::DEFAULT,
            ),
            ("trailing bytes", trailing, Limits::DEFAULT),
            ("cursor too long", long_cursor, Limits::DEFAULT),
            ("bad document id", bad_doc_id, Limits::DEFAULT),
            ("over the size limit", hello.clone(), small),
            ("over the entry limit", three_entries.clone(), two),
            (
                "at the entry limit",
                three_entries,
                Limits {
                    max_entries: 3,
                    ..Limits::DEFAULT
                },
            ),
            ("duplicate document", duplicate, Limits::DEFAULT),
        ],
        expect![[r#"
            empty: message ends early | 同步消息不完整，可能是网络中断，请重新同步。 | malformed retry=true
            truncated: message ends early | 同步消息不完整，可能是网络中断，请重新同步。 | malformed retry=true
            random bytes: not well-formed CBOR (at byte 0) | 收到的数据不是有效的同步消息。 | malformed retry=false
            more random bytes: not well-formed CBOR (at byte 0) | 收到的数据不是有效的同步消息。 | malformed retry=false
            random body: not well-formed CBOR (at byte 8) | 收到的数据不是有效的同步消息。 | malformed retry=false
            reserved byte: not well-formed CBOR (at byte 0) | 收到的数据不是有效的同步消息。 | malformed retry=false
            not an array: CBOR that is not a protocol message: invalid type: map, expected array | 同步消息的内容不符合同步协议。 | malformed retry=false
            wrong version: protocol version 3, this peer speaks version 2 | 同步协议版本不一致（收到第 3 版，本端支持第 2 版），请升级应用。 | unsupported_version retry=false
            version as text: CBOR that is not a protocol message: invalid type: string, expected integer | 同步消息的内容不符合同步协议。 | malformed retry=false
            unknown kind: unknown message kind "goodbye" | 收到无法识别的同步消息类型“goodbye”，请升级应用。 | malformed retry=false
            server kind: unknown message kind "done" | 收到无法识别的同步消息类型“done”，请升级应用。 | malformed retry=false
            no body: CBOR that is not a protocol message: the envelope has no body | 同步消息的内容不符合同步协议。 | malformed retry=false
            fourth item: CBOR that is not a protocol message: invalid length 4, expected an array [version, kind, body] | 同步消息的内容不符合同步协议。 | malformed retry=false
            missing field: CBOR that is not a protocol message: missing field `agent` | 同步消息的内容不符合同步协议。 | malformed retry=false
            trailing bytes: 1 bytes after the end of the message | 同步消息末尾有多余的数据。 | malformed retry=false
            cursor too long: CBOR that is not a protocol message: a cursor has at most 64 bytes, this one has 65 | 同步消息的内容不符合同步协议。 | malformed retry=false
            bad document id: CBOR that is not a protocol message: a case id is 16 bytes, not 3 | 同步消息的内容不符合同步协议。 | malformed retry=false
            over the size limit: message of 45 bytes exceeds the limit of 16 bytes | 同步消息过大（45 字节，上限 16 字节），无法处理。 | too_large retry=false
            over the entry limit: batch of 3 entries exceeds the limit of 2 | 一批中的案件过多（3 个，上限 2 个）。 | too_many_entries retry=false
            at the entry limit: decoded batch
            duplicate document: document ujFMvSEi2ULTeL3PGRvCBJw9us5 appears more than once in the batch | 同一批中同一案件出现了多次。 | malformed retry=false
        "#]],
    );
}

#[test]
fn no_prefix_decodes_and_noise_never_panics() {
    for message in server_messages() {
        let bytes = message.encode();
        for len in 0..bytes.len() {
            let error = ServerMessage::decode(&bytes[..len], &Limits::DEFAULT)
                .expect_err("a cut message is refused");
            assert_eq!(
                error,
                DecodeError::Truncated,
                "{} cut to {len} bytes",
                message.kind()
            );
        }
    }
    let mut envelope = vec![0x83, 0x02, 0x65];
    envelope.extend_from_slice(b"batch");
    for seed in 0..3000u64 {
        let noise = noise(1 + (seed as usize % 300), seed);
        let _ = ClientMessage::decode(&noise, &Limits::DEFAULT);
        let _ = ServerMessage::decode(&noise, &Limits::DEFAULT);
        let framed = [envelope.as_slice(), &noise].concat();
        assert!(ClientMessage::decode(&framed, &Limits::DEFAULT).is_err());
        assert!(ServerMessage::decode(&framed, &Limits::DEFAULT).is_err());
    }
}

#[test]
fn server_message_errors() {
    // The client side decodes with the same rules; one example of each direction's own checks.
    let too_many = ServerMessage::Batch(ServerBatch {
        round: 1,
        entries: ['A', 'B']
            .map(|c| DocReply::Deferred {
                doc_id: case(c),
                compensated: vec![],
            })
            .to_vec(),
    })
    .encode();
    let limits = Limits {
        max_entries: 1,
        ..Limits::DEFAULT
    };
    let bad_hash = encode_value(Value::Array(vec![
        Value::from(2),
        Value::from("batch"),
        Value::Map(vec![
            (Value::from("round"), Value::from(1)),
            (
                Value::from("entries"),
                Value::Array(vec![Value::Array(vec![
                    Value::from("saved"),
                    Value::Bytes(case('A').as_bytes().to_vec()),
                    Value::Array(vec![Value::from("abcd")]),
                    Value::Bytes(vec![]),
                ])]),
            ),
        ]),
    ]));
    let report = [
        ServerMessage::decode(&too_many, &limits).unwrap_err(),
        ServerMessage::decode(&bad_hash, &Limits::DEFAULT).unwrap_err(),
        ServerMessage::decode(&hello_bytes(), &Limits::DEFAULT).unwrap_err(),
    ]
    .iter()
    .map(|e| format!("{e}\n"))
    .collect::<String>();
    expect![[r#"
        batch of 2 entries exceeds the limit of 1
        CBOR that is not a protocol message: invalid value: string "abcd", expected A 32 byte hex encoded string
        unknown message kind "hello"
    "#]].assert_eq(&report);
}

// ---------------------------------------------------------------------------------------------
// Sessions
// ---------------------------------------------------------------------------------------------

/// Something that happens on the server while a session runs.
type ServerHook = Box<dyn FnOnce(&mut Server)>;

/// The server side of the tests: in-memory documents, a change feed, and a caller that accepts
/// every change unless told otherwise.
struct Server {
    docs: BTreeMap<CaseId, Automerge>,
    /// (sequence number, document) per commit.
    feed: Vec<(u64, CaseId)>,
    /// Documents the user may not read.
    hidden: BTreeSet<CaseId>,
    /// Documents whose incoming changes are refused, and why.
    refuse: BTreeMap<CaseId, RejectCode>,
    /// Documents whose incoming changes are stored and then reverted.
    compensate: BTreeSet<CaseId>,
    limits: Limits,
    /// Called once, right after the feed is read: a change committed during the session.
    during_session: Option<ServerHook>,
}

impl Server {
    fn new(limits: Limits) -> Self {
        Server {
            docs: BTreeMap::new(),
            feed: Vec::new(),
            hidden: BTreeSet::new(),
            refuse: BTreeMap::new(),
            compensate: BTreeSet::new(),
            limits,
            during_session: None,
        }
    }

    /// A case edited on the server (by another device, or the server itself).
    fn edit(&mut self, id: CaseId, key: &str, value: &str) {
        let doc = self
            .docs
            .entry(id)
            .or_insert_with(|| new_doc("other-device"));
        edit(doc, key, value);
        self.commit(id);
    }

    fn commit(&mut self, id: CaseId) {
        let seq = self.feed.len() as u64 + 1;
        self.feed.push((seq, id));
    }

    fn visible(&self, id: &CaseId) -> Option<&Automerge> {
        self.docs.get(id).filter(|_| !self.hidden.contains(id))
    }

    fn feed_since(&self, since: Option<&Cursor>) -> FeedAnswer {
        let head = self.feed.len() as u64;
        let since_seq = since.and_then(Cursor::feed_seq);
        let touched: BTreeSet<CaseId> = match since_seq {
            None => self.docs.keys().copied().collect(),
            Some(seq) => self
                .feed
                .iter()
                .filter(|(s, _)| *s > seq)
                .map(|(_, id)| *id)
                .collect(),
        };
        let (gone, changed): (Vec<CaseId>, Vec<CaseId>) =
            touched.into_iter().partition(|id| self.hidden.contains(id));
        FeedAnswer {
            head: Cursor::from_feed_seq(head),
            changed,
            gone: if since_seq.is_some() {
                gone
            } else {
                Vec::new()
            },
            complete: since_seq.is_none(),
        }
    }

    fn apply(&mut self, id: CaseId, bytes: &[u8]) -> ApplyOutcome {
        if let Some(code) = self.refuse.get(&id) {
            return ApplyOutcome::Rejected(Rejection::new(code.clone()));
        }
        if self.hidden.contains(&id) {
            return ApplyOutcome::Rejected(Rejection::new(RejectCode::NotFound));
        }
        let doc = self.docs.entry(id).or_insert_with(|| new_doc("server"));
        let before = doc.get_heads();
        let message = sync::Message::decode(bytes).expect("the session passes decodable messages");
        doc.receive_sync_message(&mut sync::State::new(), message)
            .expect("changes apply");
        let mut compensations = Vec::new();
        if self.compensate.contains(&id) && doc.get_heads() != before {
            let reverted = doc.get_changes(&before).iter().map(|c| c.hash()).collect();
            doc.set_actor(ActorId::from(b"server".as_slice()));
            edit(doc, "mediation", "restored by the server");
            compensations.push(Compensation {
                section: "mediation".into(),
                reverted,
                reason: "案件已移交，移交后提交的修改已被撤销。".into(),
                review_item: "review-1".into(),
            });
        }
        let changed = doc.get_heads() != before;
        let doc = doc.clone();
        if changed {
            self.commit(id);
        }
        ApplyOutcome::Committed { doc, compensations }
    }

    /// The trivial caller: answers a need at once.
    fn answer(&mut self, need: Need, log: &mut Vec<String>) -> Vec<ServerInput> {
        match need {
            Need::Feed { since } => {
                log.push("  server reads the feed".into());
                let answer = self.feed_since(since.as_ref());
                if let Some(hook) = self.during_session.take() {
                    hook(self);
                }
                vec![ServerInput::Feed(answer)]
            }
            Need::Load(ids) => {
                log.push(format!("  server loads {}", names(&ids)));
                ids.into_iter()
                    .map(|doc_id| ServerInput::Loaded {
                        doc_id,
                        doc: self.visible(&doc_id).cloned(),
                    })
                    .collect()
            }
            Need::Snapshot(ids) => {
                log.push(format!("  server snapshots {}", names(&ids)));
                ids.into_iter()
                    .map(|doc_id| ServerInput::Snapshot {
                        doc_id,
                        snapshot: self.visible(&doc_id).map(Snapshot::of),
                    })
                    .collect()
            }
            Need::Apply(requests) => {
                log.push(format!(
                    "  server applies {}",
                    names(&requests.iter().map(|r| r.doc_id).collect::<Vec<_>>())
                ));
                requests
                    .into_iter()
                    .map(|r| ServerInput::Applied {
                        doc_id: r.doc_id,
                        outcome: self.apply(r.doc_id, &r.message),
                    })
                    .collect()
            }
        }
    }
}

/// A device: its replica, sync states, cursor, and what it showed the user.
struct Device {
    actor: &'static str,
    replica: BTreeMap<CaseId, Automerge>,
    sync_states: BTreeMap<CaseId, Vec<u8>>,
    cursor: Option<Cursor>,
    pending: BTreeSet<CaseId>,
    stash: BTreeMap<CaseId, Automerge>,
}

impl Device {
    fn new(actor: &'static str) -> Self {
        Device {
            actor,
            replica: BTreeMap::new(),
            sync_states: BTreeMap::new(),
            cursor: None,
            pending: BTreeSet::new(),
            stash: BTreeMap::new(),
        }
    }

    /// An edit made offline.
    fn edit(&mut self, id: CaseId, key: &str, value: &str) {
        let actor = self.actor;
        let doc = self.replica.entry(id).or_insert_with(|| new_doc(actor));
        edit(doc, key, value);
        self.pending.insert(id);
    }

    fn local(&self, id: CaseId) -> Option<LocalDoc> {
        self.replica.get(&id).map(|doc| LocalDoc {
            doc: doc.clone(),
            sync_state: self.sync_states.get(&id).cloned(),
        })
    }

    fn store(&mut self, id: CaseId, update: Option<DocUpdate>, sync_state: Vec<u8>) {
        let actor = ActorId::from(self.actor.as_bytes());
        match update {
            Some(DocUpdate::Merge(bytes)) => match self.replica.get_mut(&id) {
                Some(doc) => {
                    doc.load_incremental(&bytes).expect("merge");
                }
                None => {
                    self.replica
                        .insert(id, Automerge::load(&bytes).expect("load").with_actor(actor));
                }
            },
            Some(DocUpdate::Replace(bytes)) => {
                self.replica
                    .insert(id, Automerge::load(&bytes).expect("load").with_actor(actor));
            }
            None => {}
        }
        // A document is no longer pending once the server shares all of it.
        let shared = sync::State::decode(&sync_state)
            .expect("a stored sync state decodes")
            .shared_heads;
        if self
            .replica
            .get(&id)
            .is_some_and(|doc| heads(doc) == sorted(shared))
        {
            self.pending.remove(&id);
        }
        self.sync_states.insert(id, sync_state);
    }
}

fn sorted(mut hashes: Vec<ChangeHash>) -> Vec<ChangeHash> {
    hashes.sort();
    hashes
}

fn names(ids: &[CaseId]) -> String {
    ids.iter().map(|id| name(*id)).collect()
}

#[derive(Clone, Copy, PartialEq)]
enum Transport {
    /// One `ServerSession` for the whole session.
    WebSocket,
    /// A new `ServerSession` for every message, as an HTTP server without session memory.
    Http,
}

fn describe_client(message: &ClientMessage) -> String {
    match message {
        ClientMessage::Hello(hello) => {
            format!("→ hello cursor={}", show_cursor(hello.cursor.as_ref()))
        }
        ClientMessage::Batch(batch) if batch.entries.is_empty() => {
            format!("→ batch {}: (empty)", batch.round)
        }
        ClientMessage::Batch(batch) => {
            let entries: Vec<String> = batch
                .entries
                .iter()
                .map(|e| {
                    let message = sync::Message::decode(&e.message).expect("a sync message");
                    let what = if message.heads.is_empty() && message.changes.is_empty() {
                        "fetch"
                    } else if message.changes.is_empty() {
                        "heads"
                    } else {
                        "changes"
                    };
                    format!("{}:{what}", name(e.doc_id))
                })
                .collect();
            format!("→ batch {}: {}", batch.round, entries.join(" "))
        }
    }
}

fn describe_server(message: &ServerMessage) -> String {
    match message {
        ServerMessage::Welcome(w) => format!(
            "← welcome fresh={} changed=[{}] gone=[{}] cursor={}",
            w.fresh,
            names(&w.changed),
            names(&w.gone),
            show_cursor(Some(&w.cursor))
        ),
        ServerMessage::Batch(batch) => {
            let entries: Vec<String> = batch
                .entries
                .iter()
                .map(|e| match e {
                    DocReply::Sync {
                        doc_id,
                        message,
                        compensated,
                    } => {
                        let message = sync::Message::decode(message).expect("a sync message");
                        let what = if message.changes.is_empty() {
                            "heads"
                        } else {
                            "changes"
                        };
                        let notes = if compensated.is_empty() {
                            String::new()
                        } else {
                            format!("+{}compensated", compensated.len())
                        };
                        format!("{}:{what}{notes}", name(*doc_id))
                    }
                    DocReply::Saved { doc_id, .. } => format!("{}:saved", name(*doc_id)),
                    DocReply::Rejected { doc_id, code, .. } => {
                        format!("{}:rejected({code})", name(*doc_id))
                    }
                    DocReply::Deferred { doc_id, .. } => format!("{}:deferred", name(*doc_id)),
                })
                .collect();
            if entries.is_empty() {
                format!("← batch {}: (empty)", batch.round)
            } else {
                format!("← batch {}: {}", batch.round, entries.join(" "))
            }
        }
        ServerMessage::Done(done) => format!("← done cursor={}", show_cursor(Some(&done.cursor))),
        ServerMessage::Error(failure) => {
            format!("← error {} retry={}", failure.code, failure.retry)
        }
        ServerMessage::Notify => "← notify".into(),
    }
}

fn show_cursor(cursor: Option<&Cursor>) -> String {
    match cursor.and_then(Cursor::feed_seq) {
        Some(seq) => seq.to_string(),
        None => "none".into(),
    }
}

/// Runs one session between `device` and `server`, every message encoded and decoded on the way,
/// and returns its transcript followed by whether the device's replica converged.
fn run_session(server: &mut Server, device: &mut Device, transport: Transport) -> String {
    let limits = server.limits;
    let mut log = Vec::new();
    let (mut client, hello) = ClientSession::new(
        ClientStart {
            cursor: device.cursor.clone(),
            pending: device.pending.iter().copied().collect(),
            agent: "test".into(),
        },
        limits,
    );
    let mut server_session = ServerSession::new(limits);
    let mut to_server = Some(hello);

    while let Some(message) = to_server.take() {
        assert!(
            log.len() < 400,
            "the session does not end:\n{}",
            log.join("\n")
        );
        let bytes = message.encode();
        assert!(
            bytes.len() <= limits.max_message_bytes,
            "the client kept to the size limit"
        );
        log.push(describe_client(&message));
        if transport == Transport::Http {
            server_session = ServerSession::new(limits);
        }

        // The server answers the message.
        let mut reply = None;
        let mut outputs: VecDeque<ServerOutput> = server_session.receive(&bytes).into();
        while let Some(output) = outputs.pop_front() {
            match output {
                ServerOutput::Send(message) => {
                    assert!(reply.is_none(), "one answer per message");
                    reply = Some(message);
                }
                ServerOutput::Need(need) => {
                    for input in server.answer(need, &mut log) {
                        outputs.extend(server_session.handle(input));
                    }
                }
            }
        }
        let reply = reply.expect("every client message is answered");
        let bytes = reply.encode();
        let reply = ServerMessage::decode(&bytes, &limits)
            .expect("the server's message decodes within the limits");
        log.push(describe_server(&reply));

        // The client takes the answer.
        let mut outputs: VecDeque<ClientOutput> = client.handle(ClientInput::Message(reply)).into();
        while let Some(output) = outputs.pop_front() {
            match output {
                ClientOutput::Send(message) => to_server = Some(message),
                ClientOutput::Load(ids) => {
                    for doc_id in ids {
                        let local = device.local(doc_id);
                        outputs.extend(client.handle(ClientInput::Loaded { doc_id, local }));
                    }
                }
                ClientOutput::Store {
                    doc_id,
                    update,
                    sync_state,
                } => {
                    if let Some(DocUpdate::Replace(_)) = &update {
                        log.push(format!("  device replaces {}", name(doc_id)));
                    }
                    device.store(doc_id, update, sync_state);
                }
                ClientOutput::Notice(Notice::Rejected { doc_id, rejection }) => {
                    log.push(format!(
                        "  device shows: {} refused: {}",
                        name(doc_id),
                        rejection.message
                    ));
                }
                ClientOutput::Notice(Notice::Compensated {
                    doc_id,
                    compensation,
                }) => log.push(format!(
                    "  device shows: {} {} reverted ({} changes): {}",
                    name(doc_id),
                    compensation.section,
                    compensation.reverted.len(),
                    compensation.reason
                )),
                ClientOutput::Stash(doc_id) => {
                    log.push(format!("  device stashes {}", name(doc_id)));
                    if let Some(doc) = device.replica.remove(&doc_id) {
                        device.stash.insert(doc_id, doc);
                    }
                    device.sync_states.remove(&doc_id);
                    device.pending.remove(&doc_id);
                }
                ClientOutput::Forget { doc_id, reason } => {
                    log.push(format!("  device forgets {} ({reason:?})", name(doc_id)));
                    device.replica.remove(&doc_id);
                    device.sync_states.remove(&doc_id);
                    device.pending.remove(&doc_id);
                }
                ClientOutput::Finished(cursor) => {
                    log.push(format!(
                        "  device stores cursor {}",
                        show_cursor(Some(&cursor))
                    ));
                    device.cursor = Some(cursor);
                }
                ClientOutput::Failed(failure) => {
                    log.push(format!("  device failed: {}", failure.code))
                }
            }
        }
    }
    assert!(
        client.is_finished(),
        "the client session ended:\n{}",
        log.join("\n")
    );
    log.push(convergence(server, device));
    log.join("\n") + "\n"
}

/// Which readable cases the device holds exactly as the server does.
fn convergence(server: &Server, device: &Device) -> String {
    let mut same = String::new();
    let mut differ = String::new();
    for (id, doc) in &server.docs {
        if server.hidden.contains(id) {
            continue;
        }
        match device.replica.get(id) {
            Some(local) if heads(local) == heads(doc) => same.push(name(*id)),
            _ => differ.push(name(*id)),
        }
    }
    let extra: String = device
        .replica
        .keys()
        .filter(|id| server.visible(id).is_none())
        .map(|id| name(*id))
        .collect();
    let pending = names(&device.pending.iter().copied().collect::<Vec<_>>());
    format!("= same [{same}] differ [{differ}] only on device [{extra}] pending [{pending}]")
}

fn server_with(cases: &[char], limits: Limits) -> Server {
    let mut server = Server::new(limits);
    for &c in cases {
        server.edit(case(c), "title", &format!("案件 {c}"));
    }
    server
}

/// A device that completed a first session against `server`.
fn synced_device(server: &mut Server) -> Device {
    let mut device = Device::new("tablet-1");
    run_session(server, &mut device, Transport::WebSocket);
    device
}

#[test]
fn fresh_device_bootstraps_from_saved_documents() {
    let mut server = server_with(&['A', 'B', 'C'], Limits::DEFAULT);
    let mut device = Device::new("tablet-1");
    expect![[r#"
        → hello cursor=none
          server reads the feed
        ← welcome fresh=true changed=[ABC] gone=[] cursor=3
        → batch 1: A:fetch B:fetch C:fetch
          server snapshots ABC
        ← batch 1: A:saved B:saved C:saved
        → batch 2: (empty)
        ← done cursor=3
          device stores cursor 3
        = same [ABC] differ [] only on device [] pending []
    "#]]
    .assert_eq(&run_session(&mut server, &mut device, Transport::WebSocket));
}

#[test]
fn fresh_device_with_more_cases_than_a_batch_holds() {
    let limits = Limits {
        max_entries: 2,
        ..Limits::DEFAULT
    };
    let mut server = server_with(&['A', 'B', 'C', 'D', 'E'], limits);
    let mut device = Device::new("tablet-1");
    expect![[r#"
        → hello cursor=none
          server reads the feed
        ← welcome fresh=true changed=[ABCDE] gone=[] cursor=5
        → batch 1: A:fetch B:fetch
          server snapshots AB
        ← batch 1: A:saved B:saved
        → batch 2: C:fetch D:fetch
          server snapshots CD
        ← batch 2: C:saved D:saved
        → batch 3: E:fetch
          server snapshots E
        ← batch 3: E:saved
        → batch 4: (empty)
        ← done cursor=5
          device stores cursor 5
        = same [ABCDE] differ [] only on device [] pending []
    "#]]
    .assert_eq(&run_session(&mut server, &mut device, Transport::WebSocket));
}

#[test]
fn reconnect_exchanges_only_changed_cases() {
    let mut server = server_with(&['A', 'B', 'C'], Limits::DEFAULT);
    let mut device = synced_device(&mut server);
    server.edit(case('B'), "title", "案件 B（已更正）");
    expect![[r#"
        → hello cursor=3
          server reads the feed
        ← welcome fresh=false changed=[B] gone=[] cursor=4
        → batch 1: B:heads
          server loads B
        ← batch 1: B:changes
        → batch 2: (empty)
        ← done cursor=4
          device stores cursor 4
        = same [ABC] differ [] only on device [] pending []
    "#]]
    .assert_eq(&run_session(&mut server, &mut device, Transport::WebSocket));
    assert_eq!(
        device.replica[&case('B')]
            .get(ROOT, "title")
            .unwrap()
            .unwrap()
            .0
            .to_string(),
        "\"案件 B（已更正）\""
    );
}

#[test]
fn reconnect_with_nothing_changed() {
    let mut server = server_with(&['A', 'B'], Limits::DEFAULT);
    let mut device = synced_device(&mut server);
    expect![[r#"
        → hello cursor=2
          server reads the feed
        ← welcome fresh=false changed=[] gone=[] cursor=2
        → batch 1: (empty)
        ← done cursor=2
          device stores cursor 2
        = same [AB] differ [] only on device [] pending []
    "#]]
    .assert_eq(&run_session(&mut server, &mut device, Transport::WebSocket));
}

#[test]
fn edits_flow_both_ways_and_converge() {
    for transport in [Transport::WebSocket, Transport::Http] {
        let mut server = server_with(&['A', 'B', 'C'], Limits::DEFAULT);
        let mut device = synced_device(&mut server);
        device.edit(case('A'), "claims", "申请人要求赔偿");
        device.edit(case('B'), "claims", "邻里通道纠纷");
        server.edit(case('A'), "village", "上河村");
        server.edit(case('C'), "village", "下河村");
        let transcript = run_session(&mut server, &mut device, transport);
        let expected = match transport {
            Transport::WebSocket => expect![[r#"
                → hello cursor=3
                  server reads the feed
                ← welcome fresh=false changed=[AC] gone=[] cursor=5
                → batch 1: A:changes B:changes C:heads
                  server loads C
                  server applies AB
                ← batch 1: A:changes B:heads C:changes
                → batch 2: (empty)
                ← done cursor=5
                  device stores cursor 5
                = same [ABC] differ [] only on device [] pending []
            "#]],
            Transport::Http => expect![[r#"
                → hello cursor=3
                  server reads the feed
                ← welcome fresh=false changed=[AC] gone=[] cursor=5
                → batch 1: A:changes B:changes C:heads
                  server loads C
                  server applies AB
                ← batch 1: A:changes B:heads C:changes
                → batch 2: (empty)
                ← done cursor=5
                  device stores cursor 5
                = same [ABC] differ [] only on device [] pending []
            "#]],
        };
        expected.assert_eq(&transcript);
        for c in ['A', 'B', 'C'] {
            assert_eq!(
                heads(&device.replica[&case(c)]),
                heads(&server.docs[&case(c)]),
                "case {c}"
            );
        }
    }
}

#[test]
fn case_created_offline_reaches_the_server() {
    let mut server = server_with(&['A'], Limits::DEFAULT);
    let mut device = synced_device(&mut server);
    device.edit(case('N'), "title", "新案件");
    expect![[r#"
        → hello cursor=1
          server reads the feed
        ← welcome fresh=false changed=[] gone=[] cursor=1
        → batch 1: N:heads
          server loads N
        ← batch 1: N:heads
        → batch 2: N:changes
          server applies N
        ← batch 2: N:heads
        → batch 3: (empty)
        ← done cursor=1
          device stores cursor 1
        = same [AN] differ [] only on device [] pending []
    "#]]
    .assert_eq(&run_session(&mut server, &mut device, Transport::WebSocket));
    assert!(server.docs.contains_key(&case('N')));
}

#[test]
fn a_refused_case_does_not_stop_the_others() {
    let mut server = server_with(&['A', 'B', 'C'], Limits::DEFAULT);
    let mut device = synced_device(&mut server);
    device.edit(case('A'), "claims", "可以保存");
    device.edit(case('B'), "custody", "越权修改");
    device.edit(case('C'), "claims", "也可以保存");
    server.refuse.insert(case('B'), RejectCode::NoWriteAccess);
    expect![[r#"
        → hello cursor=3
          server reads the feed
        ← welcome fresh=false changed=[] gone=[] cursor=3
        → batch 1: A:changes B:changes C:changes
          server applies ABC
        ← batch 1: A:heads B:rejected(no_write_access) C:heads
          device shows: B refused: 您没有修改该案件的权限，本次修改未保存。
          device stashes B
        → batch 2: B:fetch
          server snapshots B
        ← batch 2: B:saved
          device replaces B
        → batch 3: (empty)
        ← done cursor=3
          device stores cursor 3
        = same [ABC] differ [] only on device [] pending []
    "#]]
    .assert_eq(&run_session(&mut server, &mut device, Transport::WebSocket));
    // The refused edit is kept aside, not resent.
    assert!(device.stash[&case('B')]
        .get(ROOT, "custody")
        .unwrap()
        .is_some());
    assert!(device.replica[&case('B')]
        .get(ROOT, "custody")
        .unwrap()
        .is_none());
}

#[test]
fn compensated_changes_are_shown_and_the_revert_arrives() {
    let mut server = server_with(&['A'], Limits::DEFAULT);
    let mut device = synced_device(&mut server);
    device.edit(case('A'), "mediation", "移交后补录的调解记录");
    server.compensate.insert(case('A'));
    expect![[r#"
        → hello cursor=1
          server reads the feed
        ← welcome fresh=false changed=[] gone=[] cursor=1
        → batch 1: A:changes
          server applies A
        ← batch 1: A:changes+1compensated
          device shows: A mediation reverted (1 changes): 案件已移交，移交后提交的修改已被撤销。
        → batch 2: (empty)
        ← done cursor=1
          device stores cursor 1
        = same [A] differ [] only on device [] pending []
    "#]]
    .assert_eq(&run_session(&mut server, &mut device, Transport::WebSocket));
    let mediation = device.replica[&case('A')]
        .get(ROOT, "mediation")
        .unwrap()
        .unwrap()
        .0
        .to_string();
    assert_eq!(mediation, "\"restored by the server\"");
}

#[test]
fn cases_no_longer_visible_are_forgotten() {
    let mut server = server_with(&['A', 'B'], Limits::DEFAULT);
    let mut device = synced_device(&mut server);
    server.hidden.insert(case('B'));
    server.edit(case('B'), "category", "jianju_konggao");
    expect![[r#"
        → hello cursor=2
          server reads the feed
        ← welcome fresh=false changed=[] gone=[B] cursor=3
          device forgets B (Gone)
        → batch 1: (empty)
        ← done cursor=3
          device stores cursor 3
        = same [A] differ [] only on device [] pending []
    "#]]
    .assert_eq(&run_session(&mut server, &mut device, Transport::WebSocket));
}

#[test]
fn edits_to_an_unreadable_case_are_stashed() {
    let mut server = server_with(&['A', 'B'], Limits::DEFAULT);
    let mut device = synced_device(&mut server);
    device.edit(case('B'), "claims", "看不到的案件");
    // B became unreadable without a change of its own, so the feed does not list it as gone.
    server.hidden.insert(case('B'));
    expect![[r#"
        → hello cursor=2
          server reads the feed
        ← welcome fresh=false changed=[] gone=[] cursor=2
        → batch 1: B:changes
          server applies B
        ← batch 1: B:rejected(not_found)
          device shows: B refused: 案件不存在，或您无权查看该案件。
          device stashes B
          device forgets B (NotFound)
        → batch 2: (empty)
        ← done cursor=2
          device stores cursor 2
        = same [A] differ [] only on device [] pending []
    "#]]
    .assert_eq(&run_session(&mut server, &mut device, Transport::WebSocket));
    assert!(device.stash.contains_key(&case('B')));
}

#[test]
fn a_change_committed_during_a_session_is_seen_by_the_next() {
    let mut server = server_with(&['A', 'B'], Limits::DEFAULT);
    let mut device = synced_device(&mut server);
    device.edit(case('A'), "claims", "设备上的修改");
    // Another device commits to B after this session read the feed (its cursor is below it).
    server.during_session = Some(Box::new(|server| {
        server.edit(case('B'), "village", "上河村")
    }));
    let first = run_session(&mut server, &mut device, Transport::WebSocket);
    let second = run_session(&mut server, &mut device, Transport::WebSocket);
    expect![[r#"
        → hello cursor=2
          server reads the feed
        ← welcome fresh=false changed=[] gone=[] cursor=2
        → batch 1: A:changes
          server applies A
        ← batch 1: A:heads
        → batch 2: (empty)
        ← done cursor=2
          device stores cursor 2
        = same [A] differ [B] only on device [] pending []
        ---
        → hello cursor=2
          server reads the feed
        ← welcome fresh=false changed=[AB] gone=[] cursor=4
        → batch 1: A:heads B:heads
          server loads AB
        ← batch 1: A:heads B:changes
        → batch 2: (empty)
        ← done cursor=4
          device stores cursor 4
        = same [AB] differ [] only on device [] pending []
    "#]]
    .assert_eq(&format!("{first}---\n{second}"));
}

#[test]
fn answers_that_do_not_fit_are_deferred() {
    // Room for about two documents per message.
    let limits = Limits {
        max_message_bytes: 1200,
        ..Limits::DEFAULT
    };
    let mut server = Server::new(limits);
    for c in ['A', 'B', 'C', 'D'] {
        server.edit(case(c), "notes", &noise_text(c, 300));
    }
    let mut device = Device::new("tablet-1");
    let first = run_session(&mut server, &mut device, Transport::WebSocket);
    for c in ['A', 'B', 'C', 'D'] {
        server.edit(case(c), "notes", &noise_text(c, 250));
    }
    let second = run_session(&mut server, &mut device, Transport::Http);
    expect![[r#"
        → hello cursor=none
          server reads the feed
        ← welcome fresh=true changed=[ABCD] gone=[] cursor=4
        → batch 1: A:fetch B:fetch C:fetch D:fetch
          server snapshots ABCD
        ← batch 1: A:saved B:saved C:deferred D:deferred
        → batch 2: C:fetch D:fetch
          server snapshots CD
        ← batch 2: C:saved D:saved
        → batch 3: (empty)
        ← done cursor=4
          device stores cursor 4
        = same [ABCD] differ [] only on device [] pending []
        ---
        → hello cursor=4
          server reads the feed
        ← welcome fresh=false changed=[ABCD] gone=[] cursor=8
        → batch 1: A:heads B:heads C:heads D:heads
          server loads ABCD
        ← batch 1: A:changes B:changes C:deferred D:deferred
        → batch 2: C:heads D:heads
          server loads CD
        ← batch 2: C:changes D:changes
        → batch 3: (empty)
        ← done cursor=8
          device stores cursor 8
        = same [ABCD] differ [] only on device [] pending []
    "#]]
    .assert_eq(&format!("{first}---\n{second}"));
}

/// Text that compresses badly, so that saved documents keep their size.
fn noise_text(seed: char, len: usize) -> String {
    noise(len, seed as u64)
        .iter()
        .map(|b| char::from(b'a' + b % 26))
        .collect()
}

#[test]
fn an_edit_over_the_document_limit_is_refused_locally() {
    let limits = Limits {
        max_doc_message_bytes: 400,
        ..Limits::DEFAULT
    };
    let mut server = server_with(&['A', 'B'], limits);
    let mut device = synced_device(&mut server);
    device.edit(case('A'), "notes", &noise_text('A', 600));
    device.edit(case('B'), "claims", "小修改");
    expect![[r#"
        → hello cursor=2
          server reads the feed
        ← welcome fresh=false changed=[] gone=[] cursor=2
          device shows: A refused: 该案件本次提交的数据过大，服务器未保存本次修改。
          device stashes A
        → batch 1: A:fetch B:changes
          server snapshots A
          server applies B
        ← batch 1: A:saved B:heads
          device replaces A
        → batch 2: (empty)
        ← done cursor=2
          device stores cursor 2
        = same [AB] differ [] only on device [] pending []
    "#]]
    .assert_eq(&run_session(&mut server, &mut device, Transport::WebSocket));
}

// ---------------------------------------------------------------------------------------------
// The server session, driven by hand
// ---------------------------------------------------------------------------------------------

fn sends(outputs: &[ServerOutput]) -> Vec<String> {
    outputs
        .iter()
        .map(|o| match o {
            ServerOutput::Send(message) => describe_server(message),
            ServerOutput::Need(Need::Feed { since }) => {
                format!("need feed since {}", show_cursor(since.as_ref()))
            }
            ServerOutput::Need(Need::Load(ids)) => format!("need load {}", names(ids)),
            ServerOutput::Need(Need::Snapshot(ids)) => format!("need snapshot {}", names(ids)),
            ServerOutput::Need(Need::Apply(rs)) => {
                format!(
                    "need apply {}",
                    names(&rs.iter().map(|r| r.doc_id).collect::<Vec<_>>())
                )
            }
        })
        .collect()
}

/// A server session past its welcome, at cursor 5.
fn welcomed_server() -> ServerSession {
    let mut session = ServerSession::new(Limits::DEFAULT);
    session.handle(ServerInput::Message(ClientMessage::Hello(Hello {
        cursor: None,
        agent: "t".into(),
    })));
    let welcome = session.handle(ServerInput::Feed(FeedAnswer {
        head: Cursor::from_feed_seq(5),
        changed: vec![],
        gone: vec![],
        complete: true,
    }));
    assert_eq!(
        sends(&welcome),
        ["← welcome fresh=true changed=[] gone=[] cursor=5"]
    );
    session
}

/// A device's sync message for a document holding one change.
fn message_with_changes(letter: char) -> (Automerge, Vec<u8>) {
    let mut doc = new_doc("tablet-1");
    edit(&mut doc, "title", &letter.to_string());
    let mut server_copy = Automerge::new();
    // Two steps of the sync protocol: the device's heads, the server's "I have nothing", then the
    // device's changes.
    let (mut device_state, mut server_state) = (sync::State::new(), sync::State::new());
    let first = doc.generate_sync_message(&mut device_state).unwrap();
    server_copy
        .receive_sync_message(&mut server_state, first)
        .unwrap();
    let answer = server_copy
        .generate_sync_message(&mut server_state)
        .unwrap();
    doc.receive_sync_message(&mut device_state, answer).unwrap();
    let with_changes = doc.generate_sync_message(&mut device_state).unwrap();
    assert!(!with_changes.changes.is_empty());
    (doc, with_changes.encode())
}

fn batch(round: u64, entries: Vec<DocMessage>) -> ServerInput {
    ServerInput::Message(ClientMessage::Batch(ClientBatch {
        round,
        cursor: Cursor::from_feed_seq(5),
        entries,
    }))
}

#[test]
fn nothing_is_answered_before_the_changes_are_committed() {
    let mut session = welcomed_server();
    let (doc, message) = message_with_changes('A');
    let outputs = session.handle(batch(
        1,
        vec![DocMessage {
            doc_id: case('A'),
            message,
        }],
    ));
    // Only the question: no message leaves before the caller reports the commit.
    assert_eq!(sends(&outputs), ["need apply A"]);

    let committed = doc.clone();
    let outputs = session.handle(ServerInput::Applied {
        doc_id: case('A'),
        outcome: ApplyOutcome::Committed {
            doc: committed,
            compensations: vec![],
        },
    });
    assert_eq!(sends(&outputs), ["← batch 1: A:heads"]);
    let ServerOutput::Send(ServerMessage::Batch(reply)) = &outputs[0] else {
        unreachable!()
    };
    let DocReply::Sync { message, .. } = &reply.entries[0] else {
        panic!("a sync reply")
    };
    // The heads sent are those of the committed document.
    assert_eq!(
        sync::Message::decode(message).unwrap().heads,
        doc.get_heads()
    );
}

#[test]
fn server_session_by_hand() {
    let (_, with_changes) = message_with_changes('A');
    let fetch = Automerge::new()
        .generate_sync_message(&mut sync::State::new())
        .unwrap()
        .encode();
    let mut transcript = Vec::new();
    let mut step = |label: &str, session: &mut ServerSession, input: ServerInput| {
        transcript.push(format!(
            "{label}: {}",
            sends(&session.handle(input)).join(" | ")
        ));
    };

    // Per-document refusals decided by the session itself; the rest of the batch goes on.
    let mut session = welcomed_server();
    step(
        "refusals",
        &mut session,
        batch(
            1,
            vec![
                DocMessage {
                    doc_id: case('A'),
                    message: vec![0x42, 0xff],
                },
                DocMessage {
                    doc_id: case('B'),
                    message: vec![0x42; Limits::DEFAULT.max_doc_message_bytes + 1],
                },
                DocMessage {
                    doc_id: case('C'),
                    message: fetch.clone(),
                },
            ],
        ),
    );
    step(
        "snapshot not found",
        &mut session,
        ServerInput::Snapshot {
            doc_id: case('C'),
            snapshot: None,
        },
    );

    // A rejection from the caller: nothing but the rejection goes back.
    let mut session = welcomed_server();
    step(
        "apply",
        &mut session,
        batch(
            1,
            vec![DocMessage {
                doc_id: case('A'),
                message: with_changes.clone(),
            }],
        ),
    );
    step(
        "rejected",
        &mut session,
        ServerInput::Applied {
            doc_id: case('A'),
            outcome: ApplyOutcome::Rejected(Rejection::new(RejectCode::ActorBoundToOther)),
        },
    );

    // Out-of-order messages end the session.
    let mut session = welcomed_server();
    step("round 2 first", &mut session, batch(2, vec![]));
    step("after the end", &mut session, batch(1, vec![]));
    let mut session = welcomed_server();
    step(
        "second hello",
        &mut session,
        ServerInput::Message(ClientMessage::Hello(Hello {
            cursor: None,
            agent: "t".into(),
        })),
    );
    let mut session = welcomed_server();
    step(
        "another session's cursor",
        &mut session,
        ServerInput::Message(ClientMessage::Batch(ClientBatch {
            round: 1,
            cursor: Cursor::from_feed_seq(4),
            entries: vec![],
        })),
    );
    let mut session = welcomed_server();
    step(
        "the caller gives up",
        &mut session,
        ServerInput::Abort(Failure::new(ErrorCode::Unavailable)),
    );

    // Over HTTP a batch may come first; an empty one ends at the cursor it carries.
    let mut session = ServerSession::new(Limits::DEFAULT);
    step("http: empty batch first", &mut session, batch(7, vec![]));
    let mut session = ServerSession::new(Limits::DEFAULT);
    transcript.push(format!(
        "garbage: {}",
        sends(&session.receive(&[0xff, 0x00])).join(" | ")
    ));
    transcript.push(format!("finished: {}", session.is_finished()));

    expect![[r#"
        refusals: need snapshot C
        snapshot not found: ← batch 1: A:rejected(malformed) B:rejected(too_large) C:rejected(not_found)
        apply: need apply A
        rejected: ← batch 1: A:rejected(actor_bound_to_other)
        round 2 first: ← error unexpected_message retry=true
        after the end: 
        second hello: ← error unexpected_message retry=true
        another session's cursor: ← error unexpected_message retry=true
        the caller gives up: ← error unavailable retry=true
        http: empty batch first: ← done cursor=5
        garbage: ← error malformed retry=false
        finished: true
    "#]].assert_eq(&(transcript.join("\n") + "\n"));
}

#[test]
fn client_session_by_hand() {
    let mut transcript = Vec::new();
    let start = || ClientStart {
        cursor: None,
        pending: vec![],
        agent: "t".into(),
    };
    let mut step = |label: &str, session: &mut ClientSession, message: ServerMessage| {
        let outputs = session.handle(ClientInput::Message(message));
        transcript.push(format!("{label}: {outputs:?}"));
    };

    let (mut session, _) = ClientSession::new(start(), Limits::DEFAULT);
    step(
        "batch before welcome",
        &mut session,
        server_messages()[1].clone(),
    );
    let (mut session, _) = ClientSession::new(start(), Limits::DEFAULT);
    step(
        "server error",
        &mut session,
        ServerMessage::Error(Failure::new(ErrorCode::DeviceRevoked)),
    );
    let (mut session, _) = ClientSession::new(start(), Limits::DEFAULT);
    step("notify is ignored", &mut session, ServerMessage::Notify);
    step(
        "welcome with nothing to do",
        &mut session,
        ServerMessage::Welcome(Welcome {
            cursor: Cursor::from_feed_seq(3),
            fresh: true,
            changed: vec![],
            gone: vec![],
            limits: Limits::DEFAULT,
        }),
    );
    step(
        "done",
        &mut session,
        ServerMessage::Done(Done {
            cursor: Cursor::from_feed_seq(3),
        }),
    );
    transcript.push(format!("finished: {}", session.is_finished()));

    expect![[r#"
        batch before welcome: [Failed(Failure { code: UnexpectedMessage, message: "同步步骤顺序错误，请重新同步。", retry: true })]
        server error: [Failed(Failure { code: DeviceRevoked, message: "本设备已被停用，无法同步，请联系管理员。", retry: false })]
        notify is ignored: []
        welcome with nothing to do: [Send(Batch(ClientBatch { round: 1, cursor: Cursor(seq 3), entries: [] }))]
        done: [Finished(Cursor(seq 3))]
        finished: true
    "#]].assert_eq(&(transcript.join("\n") + "\n"));
}
