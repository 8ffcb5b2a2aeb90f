//! The simulated county: devices, the server, and the network between them, driven by one seeded
//! random number generator.
//!
//! Every message is encoded to bytes by the sender and decoded by the receiver. The network loses,
//! duplicates and reorders messages; a connection is either a WebSocket (one `ServerSession` for the
//! whole session) or HTTP (a fresh `ServerSession` for every request, as a server without session
//! memory). A message that arrives after its session was given up is still handled by the server
//! (it had left the device), and its answer finds nobody listening. Devices give up a session that
//! has gone quiet and sync again later; now and then a tablet with nothing unsynced is replaced by
//! a fresh one, which fetches every case again (saved documents, windows, deferred answers).

use std::collections::VecDeque;

use automerge::{sync, ChangeHash, ReadDoc};

use fengqiao_schema::fixtures::{self, JUSTICE, LEGAL, PETITION, TOWN_A, TOWN_B};
use fengqiao_schema::time::Instant;
use fengqiao_schema::units::User;
use fengqiao_schema::vocab::Role;
use fengqiao_sync::protocol::{CaseId, DocReply, Limits, ServerMessage};
use fengqiao_sync::session::{
    ClientInput, ClientOutput, ClientSession, ClientStart, ServerOutput, ServerSession,
};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::device::{ActiveSession, Device};
use super::server::SimServer;
use super::work::{self, short};

/// How unreliable the network is in one run.
#[derive(Debug, Clone, Copy)]
pub struct Faults {
    pub loss: f64,
    pub duplicate: f64,
    pub reorder: f64,
}

impl Faults {
    const NONE: Faults = Faults {
        loss: 0.0,
        duplicate: 0.0,
        reorder: 0.0,
    };
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Transport {
    WebSocket,
    Http,
}

struct Conn {
    device: usize,
    transport: Transport,
    /// The limits both sides of this connection keep to.
    limits: Limits,
    /// The server's side of a WebSocket; HTTP keeps nothing between requests.
    server: Option<ServerSession>,
}

struct Packet {
    conn: usize,
    to_server: bool,
    bytes: Vec<u8>,
}

#[derive(Debug, Default, Clone)]
pub struct NetStats {
    pub sent: usize,
    pub lost: usize,
    pub duplicated: usize,
    pub reordered: usize,
    /// Answers that arrived after their session was given up.
    pub unheard: usize,
    pub given_up: usize,
    /// Answers the server deferred to the next round (its message was full).
    pub deferred: usize,
}

pub struct World {
    rng: StdRng,
    pub server: SimServer,
    pub devices: Vec<Device>,
    conns: Vec<Conn>,
    in_flight: Vec<Packet>,
    pub faults: Faults,
    pub limits: Limits,
    /// Messages just large enough for the largest case (`session_limits`).
    pub small_messages: bool,
    pub step: u64,
    pub trace: Vec<String>,
    pub net: NetStats,
    /// Trace every message (`SIM_VERBOSE=1`).
    pub verbose: bool,
    /// Violations seen while the plan ran (the checks add them to their own).
    pub problems: Vec<String>,
}

/// The users of the simulated county, one device each, plus a second device of the
/// reconsideration officer (two decisions on one handoff can race).
fn cast() -> Vec<(&'static str, User)> {
    vec![
        ("tablet-a1", fixtures::user(Role::Mediator, TOWN_A)),
        (
            "tablet-a2",
            User::new("mediator2@qingshan.dongxi", TOWN_A, &[Role::Mediator]),
        ),
        ("tablet-b1", fixtures::user(Role::Mediator, TOWN_B)),
        (
            "pc-justice",
            fixtures::user(Role::ReconsiderationOfficer, JUSTICE),
        ),
        (
            "laptop-justice",
            fixtures::user(Role::ReconsiderationOfficer, JUSTICE),
        ),
        ("pc-legal", fixtures::user(Role::LitigationOfficer, LEGAL)),
        (
            "pc-petition",
            fixtures::user(Role::PetitionOfficer, PETITION),
        ),
        (
            "pad-supervisor",
            fixtures::user(Role::Supervisor, fixtures::COUNTY),
        ),
    ]
}

const START: &str = "2026-03-02T00:30:00Z";

impl World {
    pub fn new(seed: u64) -> World {
        let mut rng = StdRng::seed_from_u64(seed);
        let cast = cast();
        let devices: Vec<Device> = cast
            .iter()
            .enumerate()
            .map(|(i, (name, user))| Device::new(name, user.clone(), 0x10 + i as u8))
            .collect();
        let users = cast.into_iter().map(|(_, u)| u).collect();
        let faults = Faults {
            loss: *work::pick(&mut rng, &[0.0, 0.03, 0.08, 0.15]).unwrap(),
            duplicate: *work::pick(&mut rng, &[0.0, 0.05, 0.12]).unwrap(),
            reorder: *work::pick(&mut rng, &[0.0, 0.1, 0.3]).unwrap(),
        };
        // Small windows now and then, and small messages (see `session_limits`), so that windows
        // and deferred answers are exercised.
        let limits = Limits {
            max_entries: *work::pick(&mut rng, &[256, 256, 2, 3]).unwrap(),
            ..Limits::DEFAULT
        };
        let small_messages = rng.random_bool(0.35);
        let now: Instant = START.parse().expect("a start time");
        let mut server = SimServer::new(fixtures::county(), users, now);
        server.keeps_queued = rng.random_bool(0.5);
        World {
            rng,
            server,
            devices,
            conns: Vec::new(),
            in_flight: Vec::new(),
            faults,
            limits,
            small_messages,
            step: 0,
            trace: Vec::new(),
            net: NetStats::default(),
            verbose: std::env::var("SIM_VERBOSE").is_ok(),
            problems: Vec::new(),
        }
    }

    fn now(&self) -> Instant {
        let start: Instant = START.parse().expect("a start time");
        Instant::from_unix(start.unix_seconds() + self.step as i64 * 240)
    }

    fn tick(&mut self) {
        self.step += 1;
        self.server.now = self.now();
    }

    fn log(&mut self, line: String) {
        self.trace.push(format!("{:>4} {line}", self.step));
    }

    /// The plan: `ops` operations chosen by the generator.
    pub fn run_plan(&mut self, ops: usize) {
        self.log(format!(
            "faults {:?}, limits {:?}, small messages: {}, server keeps queued changes: {}",
            self.faults, self.limits, self.small_messages, self.server.keeps_queued
        ));
        for _ in 0..ops {
            self.tick();
            self.give_up_quiet_sessions();
            let n = self.devices.len();
            let roll = self.rng.random_range(0..100);
            match roll {
                0..=44 if !self.in_flight.is_empty() => {
                    let i = if self.rng.random_bool(self.faults.reorder) {
                        self.net.reordered += 1;
                        self.rng.random_range(0..self.in_flight.len())
                    } else {
                        0
                    };
                    self.deliver(i);
                }
                0..=56 => {
                    let dev = self.rng.random_range(0..n);
                    let d = &self.devices[dev];
                    if d.online(self.step) && d.session.is_none() {
                        self.start_session(dev);
                    }
                }
                57..=59 => {
                    let dev = self.rng.random_range(0..n);
                    let until = self.step + self.rng.random_range(5..90);
                    self.devices[dev].offline_until = until;
                    self.abandon(dev, "goes offline");
                    self.log(format!("{} offline until {until}", self.devices[dev].name));
                }
                60..=61 => {
                    let dev = self.rng.random_range(0..n);
                    self.abandon(dev, "connection drops");
                }
                62 => {
                    // A tablet is replaced: the new one starts with nothing and no cursor, and
                    // fetches every case it may read. Only one that holds nothing unsynced.
                    let dev = self.rng.random_range(0..n);
                    let d = &mut self.devices[dev];
                    if d.session.is_none() && d.pending.is_empty() && d.stash.is_empty() {
                        d.replica.clear();
                        d.sync_states.clear();
                        d.cursor = None;
                        let line = format!("{} is replaced by a fresh tablet", d.name);
                        self.log(line);
                    }
                }
                _ => {
                    let dev = self.rng.random_range(0..n);
                    let now = self.now();
                    let units = self.server.units.clone();
                    if let Some(line) =
                        work::act(&mut self.devices[dev], &mut self.rng, now, &units)
                    {
                        self.log(line);
                    }
                }
            }
        }
    }

    fn give_up_quiet_sessions(&mut self) {
        for dev in 0..self.devices.len() {
            let Some(session) = &mut self.devices[dev].session else {
                continue;
            };
            let conn = session.conn;
            if self.in_flight.iter().any(|p| p.conn == conn) {
                session.idle = 0;
                continue;
            }
            session.idle += 1;
            if session.idle > 3 {
                self.abandon(dev, "gives up a quiet session");
            }
        }
    }

    fn abandon(&mut self, dev: usize, why: &str) {
        if self.devices[dev].session.take().is_some() {
            self.net.given_up += 1;
            let line = format!("{} {why}", self.devices[dev].name);
            self.log(line);
        }
    }

    /// The limits of a new connection. With small messages, a message holds a few cases: room for
    /// three times the largest saved case, so that a fresh device's batch of saved cases is
    /// deferred in part, yet every case always fits (a case too large for any message could never
    /// reach a device, which is a limit of the deployment, not of the protocol).
    fn session_limits(&self) -> Limits {
        if !self.small_messages {
            return self.limits;
        }
        Limits {
            max_message_bytes: (3 * self.server.largest_saved).max(12 << 10),
            ..self.limits
        }
    }

    fn start_session(&mut self, dev: usize) {
        let limits = self.session_limits();
        let device = &self.devices[dev];
        let (client, hello) = ClientSession::new(
            ClientStart {
                cursor: device.cursor.clone(),
                pending: device.pending.iter().copied().collect(),
                agent: "fengqiao-sim/1".into(),
            },
            limits,
        );
        let transport = if self.rng.random_bool(0.6) {
            Transport::WebSocket
        } else {
            Transport::Http
        };
        let conn = self.conns.len();
        self.conns.push(Conn {
            device: dev,
            transport,
            limits,
            server: None,
        });
        self.devices[dev].session = Some(ActiveSession {
            client,
            conn,
            idle: 0,
        });
        let line = format!(
            "{} syncs over {transport:?} (conn {conn}, {} pending)",
            self.devices[dev].name,
            self.devices[dev].pending.len()
        );
        self.log(line);
        self.send(conn, true, hello.encode());
    }

    fn send(&mut self, conn: usize, to_server: bool, bytes: Vec<u8>) {
        self.net.sent += 1;
        if self.rng.random_bool(self.faults.loss) {
            self.net.lost += 1;
            let line = format!(
                "lost a message {} on conn {conn}",
                if to_server {
                    "to the server"
                } else {
                    "to the device"
                }
            );
            self.log(line);
            return;
        }
        if self.rng.random_bool(self.faults.duplicate) {
            self.net.duplicated += 1;
            self.in_flight.push(Packet {
                conn,
                to_server,
                bytes: bytes.clone(),
            });
        }
        self.in_flight.push(Packet {
            conn,
            to_server,
            bytes,
        });
    }

    fn deliver(&mut self, i: usize) {
        let packet = self.in_flight.remove(i);
        if self.verbose {
            let line = describe(&packet, &self.conns[packet.conn].limits);
            self.log(line);
        }
        if packet.to_server {
            self.arrive_at_server(packet);
        } else {
            self.arrive_at_device(packet);
        }
    }

    fn arrive_at_server(&mut self, packet: Packet) {
        let dev = self.conns[packet.conn].device;
        let limits = self.conns[packet.conn].limits;
        let principal = self.devices[dev].principal.clone();
        let mut session = match self.conns[packet.conn].transport {
            Transport::WebSocket => self.conns[packet.conn]
                .server
                .take()
                .unwrap_or_else(|| ServerSession::new(limits)),
            Transport::Http => ServerSession::new(limits),
        };
        let mut outputs: VecDeque<ServerOutput> = session.receive(&packet.bytes).into();
        while let Some(output) = outputs.pop_front() {
            match output {
                ServerOutput::Send(message) => {
                    assert!(
                        message.encode().len() <= limits.max_message_bytes,
                        "the server keeps to its message limit"
                    );
                    self.send(packet.conn, false, message.encode());
                }
                ServerOutput::Need(need) => {
                    for input in self.server.answer(dev, &principal, need) {
                        outputs.extend(session.handle(input));
                    }
                }
            }
        }
        if self.conns[packet.conn].transport == Transport::WebSocket {
            self.conns[packet.conn].server = Some(session);
        }
        for note in std::mem::take(&mut self.server.notes) {
            if self.verbose {
                self.log(note);
            }
        }
    }

    fn arrive_at_device(&mut self, packet: Packet) {
        let dev = self.conns[packet.conn].device;
        let session = match self.devices[dev].session.take() {
            Some(session) if session.conn == packet.conn => session,
            other => {
                self.devices[dev].session = other;
                self.net.unheard += 1;
                return;
            }
        };
        let mut session = session;
        session.idle = 0;
        let limits = self.conns[packet.conn].limits;
        if let Ok(ServerMessage::Batch(batch)) = ServerMessage::decode(&packet.bytes, &limits) {
            self.net.deferred += batch
                .entries
                .iter()
                .filter(|e| matches!(e, DocReply::Deferred { .. }))
                .count();
        }
        let outputs = session.client.receive(&packet.bytes);
        self.client_outputs(dev, session, outputs);
    }

    fn client_outputs(
        &mut self,
        dev: usize,
        mut session: ActiveSession,
        outputs: Vec<ClientOutput>,
    ) {
        let mut queue: VecDeque<ClientOutput> = outputs.into();
        let mut ended = false;
        while let Some(output) = queue.pop_front() {
            match output {
                ClientOutput::Send(message) => {
                    let bytes = message.encode();
                    assert!(
                        bytes.len() <= self.conns[session.conn].limits.max_message_bytes,
                        "the client keeps to the message limit"
                    );
                    self.send(session.conn, true, bytes);
                }
                ClientOutput::Load(ids) => {
                    for doc_id in ids {
                        let local = self.devices[dev].local(doc_id);
                        queue.extend(session.client.handle(ClientInput::Loaded { doc_id, local }));
                    }
                }
                ClientOutput::Store {
                    doc_id,
                    update,
                    sync_state,
                } => {
                    self.durable_before_acknowledged(dev, doc_id, &sync_state);
                    self.devices[dev].store(doc_id, update, sync_state);
                }
                ClientOutput::Notice(notice) => {
                    let line = format!("{} is shown {notice:?}", self.devices[dev].name);
                    self.log(line);
                    self.devices[dev].show(notice);
                }
                ClientOutput::Stash(doc_id) => {
                    let line = format!("{} stashes {}", self.devices[dev].name, short(&doc_id));
                    self.log(line);
                    self.devices[dev].stash_case(doc_id);
                }
                ClientOutput::Forget { doc_id, reason } => {
                    let line = format!(
                        "{} forgets {} ({reason:?})",
                        self.devices[dev].name,
                        short(&doc_id)
                    );
                    self.log(line);
                    self.devices[dev].forget(doc_id, reason);
                }
                ClientOutput::Finished(cursor) => {
                    ended = true;
                    let device = &mut self.devices[dev];
                    device.cursor = Some(cursor);
                    device.sessions_finished += 1;
                    let line = format!("{} finished a session", device.name);
                    self.log(line);
                }
                ClientOutput::Failed(failure) => {
                    ended = true;
                    self.devices[dev].sessions_failed += 1;
                    let line = format!(
                        "{} session failed: {} (retry {})",
                        self.devices[dev].name, failure.code, failure.retry
                    );
                    self.log(line);
                }
            }
        }
        if !ended {
            self.devices[dev].session = Some(session);
        }
    }

    /// Every head a device records as shared with the server is committed on the server: the
    /// server never announced a change it had not made durable (DESIGN §8).
    fn durable_before_acknowledged(&mut self, dev: usize, doc_id: CaseId, sync_state: &[u8]) {
        let shared = sync::State::decode(sync_state)
            .expect("the client stores sync states it can read")
            .shared_heads;
        let committed = |h: &ChangeHash| {
            self.server
                .docs
                .get(&doc_id)
                .is_some_and(|doc| doc.get_change_by_hash(h).is_some())
        };
        if let Some(h) = shared.iter().find(|h| !committed(h)) {
            let problem = format!(
                "{} records {} of {} as shared, which the server has not committed",
                self.devices[dev].name,
                &h.to_string()[..8],
                short(&doc_id)
            );
            self.problems.push(problem);
        }
    }

    /// The network heals and every device comes online; each syncs in turn, every message
    /// delivered once and in order, until a whole round of sessions commits nothing. Returns the
    /// number of rounds.
    pub fn settle(&mut self) -> Result<usize, String> {
        self.faults = Faults::NONE;
        self.log("the network heals; every device comes online".into());
        for dev in 0..self.devices.len() {
            self.devices[dev].offline_until = 0;
            self.abandon(dev, "drops its session");
        }
        // What is still on the wire arrives; the answers find nobody listening.
        while !self.in_flight.is_empty() {
            self.deliver(0);
        }
        for round in 1..=12 {
            let commits = self.server.commits.len();
            for dev in 0..self.devices.len() {
                self.tick();
                let failed = self.devices[dev].sessions_failed;
                self.start_session(dev);
                let mut deliveries = 0;
                while self.devices[dev].session.is_some() {
                    if self.in_flight.is_empty() {
                        return Err(format!(
                            "{}: a session on a clean network stalled",
                            self.devices[dev].name
                        ));
                    }
                    self.deliver(0);
                    deliveries += 1;
                    if deliveries > 10_000 {
                        return Err(format!("{}: a session never ends", self.devices[dev].name));
                    }
                }
                if self.devices[dev].sessions_failed != failed {
                    return Err(format!(
                        "{}: a session on a clean network failed",
                        self.devices[dev].name
                    ));
                }
            }
            if round > 1 && self.server.commits.len() == commits {
                return Ok(round);
            }
        }
        Err("the devices never went quiet".into())
    }
}

/// One message in words, for the verbose trace.
fn describe(packet: &Packet, limits: &Limits) -> String {
    use automerge::sync::Message;
    use fengqiao_sync::protocol::{ClientMessage, DocReply, ServerMessage};
    let sync = |bytes: &[u8]| match Message::decode(bytes) {
        Ok(m) => format!(
            "heads {} need {} changes {}",
            m.heads.len(),
            m.need.len(),
            m.changes.iter().count()
        ),
        Err(_) => "undecodable".into(),
    };
    if packet.to_server {
        match ClientMessage::decode(&packet.bytes, limits) {
            Ok(ClientMessage::Hello(h)) => {
                format!("  -> conn {} hello {:?}", packet.conn, h.cursor)
            }
            Ok(ClientMessage::Batch(b)) => format!(
                "  -> conn {} batch {} [{}]",
                packet.conn,
                b.round,
                b.entries
                    .iter()
                    .map(|e| format!("{}: {}", short(&e.doc_id), sync(&e.message)))
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
            Err(e) => format!("  -> conn {} {e}", packet.conn),
        }
    } else {
        match ServerMessage::decode(&packet.bytes, limits) {
            Ok(ServerMessage::Batch(b)) => format!(
                "  <- conn {} batch {} [{}]",
                packet.conn,
                b.round,
                b.entries
                    .iter()
                    .map(|e| match e {
                        DocReply::Sync {
                            doc_id,
                            message,
                            compensated,
                        } => format!(
                            "{}: sync {}{}",
                            short(doc_id),
                            sync(message),
                            if compensated.is_empty() {
                                ""
                            } else {
                                " +compensated"
                            }
                        ),
                        DocReply::Saved { doc_id, .. } => format!("{}: saved", short(doc_id)),
                        DocReply::Rejected { doc_id, code, .. } => {
                            format!("{}: rejected {code}", short(doc_id))
                        }
                        DocReply::Deferred { doc_id, .. } => format!("{}: deferred", short(doc_id)),
                    })
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
            Ok(other) => format!("  <- conn {} {}", packet.conn, other.kind()),
            Err(e) => format!("  <- conn {} {e}", packet.conn),
        }
    }
}
