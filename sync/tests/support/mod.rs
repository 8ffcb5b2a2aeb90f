//! A server and devices in memory for the ingest tests: the server keeps documents, per-device
//! sync states and actor bindings, and runs every incoming message through `ingest`.

#![allow(dead_code)]

use std::collections::HashMap;

use automerge::sync::{self, SyncDoc};
use automerge::{ActorId, AutoCommit, Automerge};
use autosurgeon::{hydrate, reconcile};
use fengqiao_schema::document::Case;
use fengqiao_schema::fixtures;
use fengqiao_schema::ids::DeviceId;
use fengqiao_schema::time::Instant;
use fengqiao_schema::units::{UnitTree, User};
use fengqiao_schema::upgrade::{new_case_document, Intake};
use fengqiao_schema::vocab::CaseKind;
use fengqiao_sync::ingest::{ingest, ingest_new, Accepted, ActorOwner, IngestContext, IngestLimits, Principal, Reject};

pub struct Server {
    pub units: UnitTree,
    pub actor: ActorId,
    pub now: Instant,
    pub docs: HashMap<String, Automerge>,
    pub states: HashMap<(String, String), sync::State>,
    pub actors: HashMap<ActorId, ActorOwner>,
    pub limits: IngestLimits,
    /// Empty documents answering a device's first message about a case not yet sent.
    waiting: HashMap<String, Automerge>,
    numbers: u64,
}

impl Server {
    pub fn new() -> Server {
        let actor = ActorId::from([0xee; 16]);
        let mut actors = HashMap::new();
        actors.insert(actor.clone(), ActorOwner::Server);
        Server {
            units: fixtures::county(),
            actor,
            now: "2026-03-02T02:00:00Z".parse().unwrap(),
            docs: HashMap::new(),
            states: HashMap::new(),
            actors,
            limits: IngestLimits::default(),
            waiting: HashMap::new(),
            numbers: 0,
        }
    }

    /// Ingests one message from `device` for case `case`; records bindings when accepted.
    pub fn receive(&mut self, device: &Principal, case: &str, message: &[u8]) -> Result<Accepted, Reject> {
        let key = (device.device.as_str().to_string(), case.to_string());
        let mut state = self.states.remove(&key).unwrap_or_default();
        let ctx = IngestContext {
            principal: device,
            units: &self.units,
            actors: &self.actors,
            server_actor: &self.actor,
            now: self.now,
            limits: self.limits,
        };
        let result = match self.docs.get_mut(case) {
            Some(doc) => ingest(doc, message, &ctx),
            None => {
                let numbers = &mut self.numbers;
                let mut numbering = |_: &fengqiao_schema::document::Meta| {
                    *numbers += 1;
                    format!("（2026）东溪调字第{}号", *numbers)
                };
                ingest_new(message, &ctx, &mut numbering).map(|(doc, accepted)| {
                    if accepted.registration.is_some() {
                        self.docs.insert(case.to_string(), doc);
                    } else {
                        self.waiting.insert(case.to_string(), doc);
                    }
                    accepted
                })
            }
        };
        // The sync bookkeeping (the device's heads), as a server session does after ingest.
        if result.is_ok() {
            if let Ok(msg) = sync::Message::decode(message) {
                let doc = self.docs.get_mut(case).or_else(|| self.waiting.get_mut(case));
                if let Some(doc) = doc {
                    let _ = doc.receive_sync_message(&mut state, msg);
                }
            }
        }
        if let Ok(accepted) = &result {
            for actor in &accepted.new_bindings {
                self.actors.insert(actor.clone(), ActorOwner::Device { user: device.user.clone(), device: device.device.clone() });
            }
        }
        self.states.insert(key, state);
        result
    }

    pub fn reply(&mut self, device: &Principal, case: &str) -> Option<sync::Message> {
        let doc = self.docs.get(case).or_else(|| self.waiting.get(case))?;
        let key = (device.device.as_str().to_string(), case.to_string());
        let state = self.states.entry(key).or_default();
        doc.generate_sync_message(state)
    }

    pub fn case(&self, case: &str) -> Case {
        hydrate(self.docs.get(case).expect("the server holds the case")).unwrap()
    }

    pub fn saved(&self, case: &str) -> Vec<u8> {
        self.docs.get(case).map(|d| d.save()).unwrap_or_default()
    }
}

/// A tablet (or browser) holding one case document.
pub struct Device {
    pub principal: Principal,
    pub doc: AutoCommit,
    pub state: sync::State,
    pub outcomes: Vec<Result<Accepted, Reject>>,
}

impl Device {
    pub fn new(user: User, device: &str, actor: u8) -> Device {
        Device {
            principal: Principal { user, device: DeviceId::new(device) },
            doc: AutoCommit::new().with_actor(ActorId::from([actor; 16])),
            state: sync::State::new(),
            outcomes: Vec::new(),
        }
    }

    /// Opens a new case at intake in the user's own unit.
    pub fn open_case(&mut self, kind: CaseKind, title: &str) {
        let actor = self.doc.get_actor().clone();
        let intake = Intake {
            kind,
            unit: self.principal.user.unit.as_str().to_string(),
            user: self.principal.user.id.as_str().to_string(),
            township: self.principal.user.unit.as_str().to_string(),
            title: title.to_string(),
            created_at: "2026-03-01T01:00:00Z".parse().unwrap(),
        };
        self.doc = new_case_document(actor, &intake).unwrap();
    }

    pub fn case(&mut self) -> Case {
        hydrate(&self.doc).unwrap()
    }

    pub fn edit(&mut self, f: impl FnOnce(&mut Case)) {
        let mut case = self.case();
        f(&mut case);
        reconcile(&mut self.doc, &case).unwrap();
        self.doc.commit();
    }

    /// Syncs with the server until neither side has anything to send.
    pub fn sync(&mut self, server: &mut Server, case: &str) {
        for _ in 0..20 {
            let outgoing = self.doc.sync().generate_sync_message(&mut self.state);
            if let Some(msg) = &outgoing {
                let result = server.receive(&self.principal, case, &msg.clone().encode());
                let refused = result.is_err();
                self.outcomes.push(result);
                if refused {
                    // A refused message: start the conversation afresh next time.
                    self.state = sync::State::new();
                    return;
                }
            }
            let incoming = server.reply(&self.principal, case);
            if let Some(msg) = incoming.clone() {
                self.doc.sync().receive_sync_message(&mut self.state, msg).unwrap();
            }
            if outgoing.is_none() && incoming.is_none() {
                return;
            }
        }
        panic!("sync did not settle");
    }

    /// The last accepted outcome that carried something.
    pub fn accepted(&self) -> Vec<&Accepted> {
        self.outcomes.iter().filter_map(|o| o.as_ref().ok()).collect()
    }

    pub fn rejects(&self) -> Vec<&Reject> {
        self.outcomes.iter().filter_map(|o| o.as_ref().err()).collect()
    }
}
