//! `fengqiao demo`: a realistic county to try the product on. 云溪县 with twelve townships and
//! streets, the county petition bureau, justice bureau (the reconsideration office) and legal
//! office, about 150 users with their tablets, and cases over the two years before today in every
//! track: mediations that succeed, fail or are refused, petitions accepted, refused and replied to,
//! reconsiderations and lawsuits with every kind of outcome, handoffs requested, accepted,
//! rejected and withdrawn, deadlines met, missed and still open.
//!
//! Nothing is written behind the server's back. Every case is made on the acting user's tablet
//! (a device-side Automerge document written with the schema types) and reaches the server through
//! [`crate::sync::ingest_message_at`], the authorisation and commit path of a sync session, with
//! the server's clock set to the day of the event: registration times, handoff arbitration and
//! custody carry the dates the cases happened on, and projections, access and case numbers are
//! the real server code's.
//!
//! Deterministic for a seed: every case draws from its own generator, and the cases of one opening
//! unit are sent in the order they were received (a unit numbers its cases in that order), so the
//! same seed on the same day gives the same county. Units run side by side, which lets the group
//! committer write many commits per transaction.

use std::collections::BTreeMap;
use std::sync::Arc;

use automerge::sync::{Message, MessageVersion};
use automerge::{ActorId, AutoCommit, ChangeHash};
use autosurgeon::{hydrate, reconcile_prop, Text};
use fengqiao_schema::document::*;
use fengqiao_schema::ids::{CaseId, DeviceId, UnitId};
use fengqiao_schema::time::{Instant, LegalDate};
use fengqiao_schema::units::{Unit, User};
use fengqiao_schema::upgrade::{new_case_document, Intake};
use fengqiao_schema::vocab::*;
use indicatif::{ProgressBar, ProgressStyle};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sha2::{Digest, Sha256};

use crate::auth::password::Password;
use crate::auth::{hash_password_blocking, Principal};
use crate::clock::Timestamp;
use crate::error::{Error, Result};
use crate::http::AppState;
use crate::store::units::{ImportedUser, OrgImport};

/// The county's unit id.
pub const COUNTY: &str = "yunxi";
pub const PETITION_BUREAU: &str = "yunxi.xinfang";
pub const JUSTICE_BUREAU: &str = "yunxi.sifa";
pub const LEGAL_OFFICE: &str = "yunxi.fazhi";

/// The townships and streets: id suffix, name, kind, and a weight for how many disputes arise there.
const TOWNSHIPS: &[(&str, &str, UnitKind, u32)] = &[
    ("chengguan", "城关镇", UnitKind::Township, 16),
    ("chengdong", "城东街道", UnitKind::Subdistrict, 14),
    ("dongba", "东坝镇", UnitKind::Township, 9),
    ("xihe", "西河镇", UnitKind::Township, 8),
    ("nanshan", "南山镇", UnitKind::Township, 7),
    ("beiling", "北岭镇", UnitKind::Township, 6),
    ("taoyuan", "桃源镇", UnitKind::Township, 8),
    ("liulin", "柳林镇", UnitKind::Township, 7),
    ("shiqiao", "石桥镇", UnitKind::Township, 7),
    ("longquan", "龙泉镇", UnitKind::Township, 6),
    ("baisha", "白沙镇", UnitKind::Township, 6),
    ("qingshi", "青石乡", UnitKind::Township, 5),
];

const MEDIATORS_PER_TOWNSHIP: usize = 8;
const PETITION_OFFICERS: usize = 12;
const RECONSIDERATION_OFFICERS: usize = 10;
const LITIGATION_OFFICERS: usize = 8;
const COUNTY_SUPERVISORS: usize = 5;

/// What `fengqiao demo` is asked for.
#[derive(Debug, Clone)]
pub struct DemoSettings {
    /// About how many cases to open.
    pub cases: usize,
    pub seed: u64,
    /// Every demo user's password.
    pub password: String,
    /// The server's clock now: cases are spread over the two years before its day.
    pub now: Timestamp,
    /// Draw a progress bar on standard error (when it is a terminal).
    pub progress: bool,
}

/// How to log in as one kind of user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoLogin {
    /// The kind of user, in Chinese (e.g. 乡镇调解员).
    pub kind: String,
    pub user: String,
    pub unit: String,
}

/// What a finished demo load made.
#[derive(Debug, Clone)]
pub struct DemoSummary {
    pub units: usize,
    pub users: usize,
    pub cases: usize,
    /// Device messages ingested (each a sync message through the real path).
    pub messages: usize,
    pub handoffs: BTreeMap<String, usize>,
    pub logins: Vec<DemoLogin>,
    pub elapsed: std::time::Duration,
}

/// The outcome of `fengqiao demo`.
#[derive(Debug, Clone)]
pub enum DemoOutcome {
    /// The database already holds units: nothing was done.
    AlreadyLoaded {
        units: usize,
    },
    Loaded(DemoSummary),
}

/// Loads the demo county into the server's database, unless it already holds units.
pub async fn load(state: &AppState, settings: &DemoSettings) -> Result<DemoOutcome> {
    let started = std::time::Instant::now();
    let existing = state.store.units().await?;
    if !existing.is_empty() {
        return Ok(DemoOutcome::AlreadyLoaded { units: existing.len() });
    }
    let org = Organisation::build();
    let hash = hash_password_blocking(Password::new_checked(settings.password.clone())?).await?;
    let import = OrgImport {
        units: org.units.clone(),
        users: org
            .people
            .iter()
            .map(|p| ImportedUser {
                id: p.user.id.clone(),
                name: p.name.clone(),
                unit: p.user.unit.clone(),
                roles: p.user.roles.clone(),
                initial_password_hash: Some(hash.clone()),
            })
            .collect(),
    };
    state.store.import_org(&import, settings.now).await?;
    for person in &org.people {
        state.store.register_device(&person.device, &person.user.id, "演示平板", settings.now).await?;
    }

    let today = Instant::from_unix(settings.now.secs()).china_date();
    let org = Arc::new(org);
    let plans = plan_cases(&org, settings.cases, settings.seed, today);
    let total = plans.values().map(Vec::len).sum::<usize>();
    let bar = if settings.progress { ProgressBar::new(total as u64) } else { ProgressBar::hidden() };
    bar.set_style(
        ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} 件 {elapsed_precise} 剩余约 {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar.set_message("生成演示案件");

    let mut lanes = tokio::task::JoinSet::new();
    for (_, lane) in plans {
        let state = state.clone();
        let org = org.clone();
        let bar = bar.clone();
        lanes.spawn(async move {
            let mut tally = Tally::default();
            for plan in lane {
                run_case(&state, &org, &plan, today, &mut tally).await?;
                bar.inc(1);
            }
            Ok::<Tally, Error>(tally)
        });
    }
    let mut tally = Tally::default();
    while let Some(joined) = lanes.join_next().await {
        let lane = joined.map_err(Error::internal)??;
        tally.messages += lane.messages;
        for (status, n) in lane.handoffs {
            *tally.handoffs.entry(status).or_insert(0) += n;
        }
    }
    bar.finish_and_clear();
    Ok(DemoOutcome::Loaded(DemoSummary {
        units: org.units.len(),
        users: org.people.len(),
        cases: total,
        messages: tally.messages,
        handoffs: tally.handoffs,
        logins: org.logins(),
        elapsed: started.elapsed(),
    }))
}

// ---------------------------------------------------------------------------------------------
// The organisation

/// A demo user with their tablet.
#[derive(Debug, Clone)]
struct Person {
    user: User,
    name: String,
    device: DeviceId,
    actor: ActorId,
}

impl Person {
    fn new(id: &str, name: String, unit: &str, roles: &[Role]) -> Person {
        let digest = Sha256::digest(format!("fengqiao-demo-tablet:{id}").as_bytes());
        Person {
            user: User::new(id, unit, roles),
            name,
            device: DeviceId::new(format!("{id}-pad")),
            actor: ActorId::from(&digest[..16]),
        }
    }

    fn principal(&self) -> Principal {
        Principal { user: self.user.clone(), device: self.device.clone() }
    }

    fn id(&self) -> String {
        self.user.id.as_str().to_string()
    }
}

struct Organisation {
    units: Vec<Unit>,
    people: Vec<Person>,
}

impl Organisation {
    /// The same county whatever the seed, so that the logins printed stay the same.
    fn build() -> Organisation {
        let mut rng = StdRng::seed_from_u64(0x59_75_6e_78_69);
        let unit = |id: &str, name: &str, kind, parent: Option<&str>| Unit {
            id: UnitId::new(id),
            name: name.to_string(),
            kind,
            parent: parent.map(UnitId::new),
        };
        let mut units = vec![
            unit(COUNTY, "云溪县", UnitKind::County, None),
            unit(PETITION_BUREAU, "县信访局", UnitKind::PetitionBureau, Some(COUNTY)),
            unit(JUSTICE_BUREAU, "县司法局", UnitKind::JusticeBureau, Some(COUNTY)),
            unit(LEGAL_OFFICE, "县政府法制办", UnitKind::LegalOffice, Some(COUNTY)),
        ];
        let mut people = Vec::new();
        for (suffix, name, kind, _) in TOWNSHIPS {
            let id = township_id(suffix);
            units.push(unit(&id, name, *kind, Some(COUNTY)));
            for n in 1..=MEDIATORS_PER_TOWNSHIP {
                people.push(Person::new(&format!("{suffix}.tj{n:02}"), person_name(&mut rng), &id, &[Role::Mediator]));
            }
            people.push(Person::new(&format!("{suffix}.xf01"), person_name(&mut rng), &id, &[Role::PetitionOfficer]));
            people.push(Person::new(&format!("{suffix}.dc"), person_name(&mut rng), &id, &[Role::Supervisor]));
        }
        for n in 1..=PETITION_OFFICERS {
            people.push(Person::new(
                &format!("xinfang{n:02}"),
                person_name(&mut rng),
                PETITION_BUREAU,
                &[Role::PetitionOfficer],
            ));
        }
        for n in 1..=RECONSIDERATION_OFFICERS {
            people.push(Person::new(
                &format!("fuyi{n:02}"),
                person_name(&mut rng),
                JUSTICE_BUREAU,
                &[Role::ReconsiderationOfficer],
            ));
        }
        for n in 1..=LITIGATION_OFFICERS {
            people.push(Person::new(
                &format!("yingsu{n:02}"),
                person_name(&mut rng),
                LEGAL_OFFICE,
                &[Role::LitigationOfficer],
            ));
        }
        for n in 1..=COUNTY_SUPERVISORS {
            people.push(Person::new(&format!("ducha{n:02}"), person_name(&mut rng), COUNTY, &[Role::Supervisor]));
        }
        people.push(Person::new("admin", "系统管理员".to_string(), COUNTY, &[Role::Admin]));
        Organisation { units, people }
    }

    fn unit_name(&self, id: &str) -> String {
        self.units.iter().find(|u| u.id.as_str() == id).map(|u| u.name.clone()).unwrap_or_default()
    }

    /// The people of `unit` with `role`.
    fn staff(&self, unit: &str, role: Role) -> Vec<&Person> {
        self.people.iter().filter(|p| p.user.unit.as_str() == unit && p.user.has_role(role)).collect()
    }

    fn pick<'a>(&'a self, unit: &str, role: Role, rng: &mut StdRng) -> &'a Person {
        let staff = self.staff(unit, role);
        staff[rng.random_range(0..staff.len())]
    }

    /// One login per kind of user.
    fn logins(&self) -> Vec<DemoLogin> {
        let first = township_id(TOWNSHIPS[0].0);
        let rows: [(&str, &str, Role); 8] = [
            ("县级督查（全县统计）", COUNTY, Role::Supervisor),
            ("乡镇督查（本镇统计）", &first, Role::Supervisor),
            ("乡镇调解员", &first, Role::Mediator),
            ("乡镇信访干部", &first, Role::PetitionOfficer),
            ("县信访局信访干部", PETITION_BUREAU, Role::PetitionOfficer),
            ("县司法局复议工作人员", JUSTICE_BUREAU, Role::ReconsiderationOfficer),
            ("县政府法制办应诉工作人员", LEGAL_OFFICE, Role::LitigationOfficer),
            ("系统管理员", COUNTY, Role::Admin),
        ];
        rows.iter()
            .filter_map(|(kind, unit, role)| {
                let person = self.staff(unit, *role).into_iter().next()?;
                Some(DemoLogin { kind: kind.to_string(), user: person.id(), unit: self.unit_name(unit) })
            })
            .collect()
    }
}

fn township_id(suffix: &str) -> String {
    format!("{COUNTY}.{suffix}")
}

const SURNAMES: &[&str] = &[
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭", "何", "高", "林",
    "罗", "郑", "梁", "谢", "宋", "唐", "许", "韩", "冯", "邓", "曹", "彭", "曾", "肖", "田", "董", "袁", "潘", "蒋",
    "蔡", "余", "杜", "叶", "程", "魏", "吕", "丁", "任", "沈", "姚", "卢", "姜", "崔", "钟", "谭", "陆", "汪", "范",
    "金", "廖", "贾",
];
const GIVEN: &[&str] = &[
    "建国", "秀英", "桂英", "秀兰", "玉兰", "志强", "海燕", "春梅", "德明", "国华", "丽娟", "晓峰", "红霞", "永刚",
    "金凤", "卫东", "淑芬", "文斌", "素珍", "立新", "雪梅", "宏伟", "翠花", "振华", "美玲", "家豪", "子涵", "思远",
    "雨欣", "浩然", "俊杰", "佳怡", "明辉", "凤英", "长生", "福来", "桂芝", "树林", "保国", "爱莲",
];

fn person_name(rng: &mut StdRng) -> String {
    format!("{}{}", SURNAMES[rng.random_range(0..SURNAMES.len())], GIVEN[rng.random_range(0..GIVEN.len())])
}

// ---------------------------------------------------------------------------------------------
// Planning

/// One case to make: where and when it was received, and the seed of its own story.
#[derive(Debug, Clone)]
struct CasePlan {
    kind: CaseKind,
    /// The unit that opens (and numbers) the case.
    unit: String,
    /// The township or street the matter arose in.
    township: String,
    received: LegalDate,
    seed: u64,
}

/// The cases by opening unit, each unit's in the order received.
fn plan_cases(org: &Organisation, cases: usize, seed: u64, today: LegalDate) -> BTreeMap<String, Vec<CasePlan>> {
    let mut rng = StdRng::seed_from_u64(seed);
    let weights: u32 = TOWNSHIPS.iter().map(|t| t.3).sum();
    let mut lanes: BTreeMap<String, Vec<CasePlan>> = BTreeMap::new();
    for _ in 0..cases {
        let mut draw = rng.random_range(0..weights);
        let township = TOWNSHIPS
            .iter()
            .find(|t| {
                if draw < t.3 {
                    true
                } else {
                    draw -= t.3;
                    false
                }
            })
            .map(|t| township_id(t.0))
            .unwrap_or_else(|| township_id(TOWNSHIPS[0].0));
        let kind = if rng.random_bool(0.7) { CaseKind::Dispute } else { CaseKind::Petition };
        let unit = match kind {
            CaseKind::Petition if rng.random_bool(0.4) => PETITION_BUREAU.to_string(),
            _ => township.clone(),
        };
        let received = days_after(today, -rng.random_range(1..=730));
        lanes.entry(unit.clone()).or_default().push(CasePlan { kind, unit, township, received, seed: rng.random() });
    }
    debug_assert!(lanes.keys().all(|u| !org.unit_name(u).is_empty()));
    for lane in lanes.values_mut() {
        // Stable: cases received on the same day keep the order they were drawn in.
        lane.sort_by_key(|p| p.received);
    }
    lanes
}

fn days_after(day: LegalDate, days: i64) -> LegalDate {
    LegalDate::from(day.date() + chrono::Duration::days(days))
}

/// The moment of an event on `day`: office hours in China Standard Time.
fn office_hours(day: LegalDate, rng: &mut StdRng) -> Timestamp {
    let midnight_utc = day.date().and_hms_opt(0, 0, 0).expect("midnight exists").and_utc().timestamp();
    // 08:30 CST is 00:30 UTC; events fall in the next eight hours.
    Timestamp::from_secs(midnight_utc + 30 * 60 + rng.random_range(0..8 * 3600))
}

fn instant(ts: Timestamp) -> Instant {
    Instant::from_unix(ts.secs())
}

// ---------------------------------------------------------------------------------------------
// One case's story

#[derive(Debug, Default)]
struct Tally {
    messages: usize,
    handoffs: BTreeMap<String, usize>,
}

/// A case on the acting users' tablets, kept in step with the server's copy.
struct CaseRun<'a> {
    state: &'a AppState,
    case_id: CaseId,
    doc: AutoCommit,
    /// The case as in `doc`, section by section.
    mirror: Case,
    /// Heads the server holds.
    synced: Vec<ChangeHash>,
    today: LegalDate,
    rng: StdRng,
    tally: &'a mut Tally,
}

impl CaseRun<'_> {
    /// Events on or after today have not happened yet.
    fn happened(&self, day: LegalDate) -> bool {
        day < self.today
    }

    /// The case as the tablet holds it.
    fn case(&self) -> &Case {
        &self.mirror
    }

    /// `who` edits the case on their tablet on `day` and syncs: the change goes through ingest
    /// with the server's clock on that day, and the tablet takes back what the server wrote.
    async fn push(&mut self, who: &Person, day: LegalDate, edit: impl FnOnce(&mut Case)) -> Result<()> {
        self.doc.set_actor(who.actor.clone());
        let mut case = self.mirror.clone();
        edit(&mut case);
        // Only the sections the user changed are reconciled, as a form saves its own section:
        // reconciling the whole case walks every field of the document.
        macro_rules! reconcile_changed {
            ($($section:ident),*) => {$(
                if case.$section != self.mirror.$section {
                    reconcile_prop(&mut self.doc, automerge::ROOT, stringify!($section), &case.$section)
                        .map_err(Error::internal)?;
                }
            )*};
        }
        reconcile_changed!(
            meta,
            parties,
            claims,
            mediation,
            petition,
            reconsideration,
            litigation,
            handoffs,
            attachments
        );
        self.doc.commit();
        let changes: Vec<Vec<u8>> = self.doc.get_changes(&self.synced).iter().map(|c| c.raw_bytes().to_vec()).collect();
        if changes.is_empty() {
            return Ok(());
        }
        let message = Message {
            heads: self.doc.get_heads(),
            need: Vec::new(),
            have: Vec::new(),
            changes: changes.into(),
            flags: None,
            version: MessageVersion::V1,
        }
        .encode();
        let at = office_hours(day, &mut self.rng);
        if let Err(refusal) =
            crate::sync::ingest_message_at(self.state, who.principal(), self.case_id, message, at).await?
        {
            return Err(Error::internal(format!("the server refused a demo case ({}): {refusal}", self.case_id)));
        }
        self.tally.messages += 1;
        let ours = self.doc.get_heads();
        let theirs = self
            .state
            .documents
            .with_document(self.case_id, |d| d.save_after(&ours))
            .await?
            .ok_or_else(|| Error::internal("a demo case is missing after its commit"))?;
        self.doc.load_incremental(&theirs).map_err(Error::internal)?;
        self.synced = self.doc.get_heads();
        // The case as merged: what the user wrote and what the server wrote (registration,
        // custody, handoff arbitration, review items). Hydrated afresh: a hydrated Text
        // reconciles only against the heads it was read at.
        let reviews = self.mirror.review.len();
        drop(case);
        self.mirror = hydrate(&self.doc).map_err(Error::internal)?;
        if self.mirror.review.len() != reviews {
            // The demo writes only what its users may: a review item means a change was reverted.
            return Err(Error::internal(format!(
                "the server reverted a demo change ({}): {:?}",
                self.case_id,
                self.mirror.review.last().map(|r| &r.summary)
            )));
        }
        Ok(())
    }

    /// The status the server gave a handoff.
    fn handoff_status(&self, id: &str) -> Result<Option<HandoffStatus>> {
        Ok(self.case().handoff(id).and_then(|h| h.status))
    }

    fn count_handoff(&mut self, status: Option<HandoffStatus>) {
        let code = status.map(|s| s.code()).unwrap_or("none").to_string();
        *self.tally.handoffs.entry(code).or_insert(0) += 1;
    }

    /// `from` asks to hand the case to `to_unit`'s `to_track`; the receiver decides (or the
    /// requester withdraws). Returns the receiving officer and the day custody moved, if accepted.
    async fn hand_off<'o>(
        &mut self,
        org: &'o Organisation,
        from: &Person,
        requested: LegalDate,
        to_track: Track,
        to_unit: &str,
        reason: &str,
    ) -> Result<Option<(&'o Person, LegalDate)>> {
        if !self.happened(requested) {
            return Ok(None);
        }
        let id = format!("h{}", self.case().handoffs.len() + 1);
        let (requester, unit) = (from.id(), to_unit.to_string());
        let at = instant(office_hours(requested, &mut self.rng));
        self.push(from, requested, |case| {
            case.handoffs.push(HandoffRequest {
                id: id.clone(),
                from_track: case.custody.track,
                from_unit: case.custody.unit.clone(),
                to_track: Some(to_track),
                to_unit: unit,
                reason: reason.to_string(),
                custody_version: case.custody.version,
                requested_by: requester,
                requested_at: Some(at),
                status: Some(HandoffStatus::Requested),
                ..HandoffRequest::default()
            });
        })
        .await?;
        let status = self.handoff_status(&id)?;
        if status != Some(HandoffStatus::Pending) {
            self.count_handoff(status);
            return Ok(None);
        }
        let decided = days_after(requested, self.rng.random_range(1..=8));
        let receiver = org.pick(to_unit, Role::for_track(to_track), &mut self.rng);
        let roll = self.rng.random_range(0..100);
        if !self.happened(decided) {
            self.count_handoff(Some(HandoffStatus::Pending));
            return Ok(None);
        }
        let at = instant(office_hours(decided, &mut self.rng));
        if roll < 8 {
            let by = from.id();
            self.push(from, decided, |case| {
                if let Some(h) = case.handoffs.iter_mut().find(|h| h.id == id) {
                    h.withdrawal = HandoffWithdrawal { by, at: Some(at) };
                }
            })
            .await?;
        } else {
            let (verdict, note) = if roll < 22 {
                (HandoffVerdict::Reject, "材料不全或不属于本机关受理范围，退回原单位")
            } else {
                (HandoffVerdict::Accept, "同意接收")
            };
            let by = receiver.id();
            self.push(receiver, decided, |case| {
                if let Some(h) = case.handoffs.iter_mut().find(|h| h.id == id) {
                    h.decision = HandoffDecision { verdict: Some(verdict), by, at: Some(at), note: note.to_string() };
                }
            })
            .await?;
        }
        let status = self.handoff_status(&id)?;
        self.count_handoff(status);
        Ok((status == Some(HandoffStatus::Accepted)).then_some((receiver, decided)))
    }
}

async fn run_case(
    state: &AppState,
    org: &Organisation,
    plan: &CasePlan,
    today: LegalDate,
    tally: &mut Tally,
) -> Result<()> {
    let mut rng = StdRng::seed_from_u64(plan.seed);
    let case_id = CaseId::from_bytes(rng.random());
    let role = Role::for_track(plan.kind.opening_track());
    let opener = org.pick(&plan.unit, role, &mut rng);
    let created = office_hours(plan.received, &mut rng);
    let facts = Facts::draw(&mut rng, plan, org);
    let intake = Intake {
        kind: plan.kind,
        unit: plan.unit.clone(),
        user: opener.id(),
        township: plan.township.clone(),
        title: facts.title.clone(),
        created_at: instant(created),
    };
    let doc = new_case_document(opener.actor.clone(), &intake).map_err(Error::internal)?;
    let mirror = hydrate(&doc).map_err(Error::internal)?;
    let mut run = CaseRun { state, case_id, doc, mirror, synced: Vec::new(), today, rng, tally };
    match plan.kind {
        CaseKind::Dispute => {
            run.push(opener, plan.received, |case| facts.record_dispute(case, opener, plan.received)).await?;
            mediation(&mut run, org, opener, plan.received, &facts).await
        }
        CaseKind::Petition => {
            run.push(opener, plan.received, |case| facts.record_petition(case, plan.received)).await?;
            petition(&mut run, org, opener, plan, &facts).await
        }
    }
}

/// The parties and the matter of a case, drawn once.
struct Facts {
    title: String,
    dispute_type: DisputeType,
    village: String,
    parties: Vec<Party>,
    claims: String,
    facts: String,
    agency: &'static str,
    subject: ReconsiderationSubject,
    act: &'static str,
}

const AGENCIES: &[&str] = &[
    "县自然资源局",
    "县市场监督管理局",
    "县公安局",
    "县住房和城乡建设局",
    "县人力资源和社会保障局",
    "县生态环境局",
    "县交通运输局",
    "县综合行政执法局",
    "县农业农村局",
    "县卫生健康局",
];
const ACTS: &[&str] = &[
    "行政处罚决定书",
    "责令限期拆除决定书",
    "政府信息公开答复书",
    "不予受理举报告知书",
    "房屋征收补偿决定书",
    "工伤认定决定书",
    "不动产登记行为",
    "行政强制措施决定书",
];
const VILLAGE_WORDS: &[&str] = &["上", "下", "东", "西", "新", "前", "后", "河口", "石门", "柏树", "杨家", "大坪"];

impl Facts {
    fn draw(rng: &mut StdRng, plan: &CasePlan, org: &Organisation) -> Facts {
        let dispute_type = DisputeType::ALL[rng.random_range(0..DisputeType::ALL.len())];
        let village = format!("{}村", VILLAGE_WORDS[rng.random_range(0..VILLAGE_WORDS.len())]);
        let township_name = org.unit_name(&plan.township);
        let mut parties = vec![party(rng, "p1", PartyRole::Applicant, &township_name, &village)];
        parties.push(if rng.random_bool(0.15) {
            Party {
                id: "p2".into(),
                role: Some(PartyRole::Respondent),
                kind: Some(PartyKind::Organisation),
                name: format!(
                    "云溪县{}有限公司",
                    ["鑫源建材", "绿野农业", "恒通物流", "安居物业", "宏达建筑"][rng.random_range(0..5)]
                ),
                id_number: format!("91330{:013}", rng.random_range(0..10_000_000_000_000u64)),
                phone: phone(rng),
                address: format!("{township_name}工业园区{}号", rng.random_range(1..99)),
                represents: None,
            }
        } else {
            party(rng, "p2", PartyRole::Respondent, &township_name, &village)
        });
        if rng.random_bool(0.1) {
            let mut agent = party(rng, "p3", PartyRole::Agent, &township_name, &village);
            agent.represents = Some("p1".into());
            parties.push(agent);
        }
        let surname = |p: &Party| p.name.chars().next().map(String::from).unwrap_or_default();
        let title = match plan.kind {
            CaseKind::Dispute => {
                format!("{}某与{}某{}纠纷", surname(&parties[0]), surname(&parties[1]), dispute_type.label())
            }
            CaseKind::Petition => format!("{}某反映{}问题", surname(&parties[0]), dispute_type.label()),
        };
        let claims = format!("申请人请求依法解决{}纠纷，赔偿损失并停止侵害。", dispute_type.label());
        let facts = format!("双方因{}问题发生争执，经村委会调处未果。", dispute_type.label());
        Facts {
            title,
            dispute_type,
            village,
            parties,
            claims,
            facts,
            agency: AGENCIES[rng.random_range(0..AGENCIES.len())],
            subject: ReconsiderationSubject::ALL[rng.random_range(0..ReconsiderationSubject::ALL.len())],
            act: ACTS[rng.random_range(0..ACTS.len())],
        }
    }

    fn record_common(&self, case: &mut Case) {
        case.meta.dispute_type = Some(self.dispute_type);
        case.meta.village = self.village.clone();
        case.parties = self.parties.clone();
        case.claims.claims = Text::with_value(&self.claims);
        case.claims.facts = Text::with_value(&self.facts);
    }

    fn record_dispute(&self, case: &mut Case, mediator: &Person, received: LegalDate) {
        self.record_common(case);
        case.meta.handlers = vec![mediator.id()];
        case.mediation.committee = "人民调解委员会".into();
        case.mediation.mediators = vec![mediator.id()];
        case.mediation.accepted_on = Some(received);
        case.mediation.labour_dispute = self.dispute_type == DisputeType::Labour;
    }

    fn record_petition(&self, case: &mut Case, received: LegalDate) {
        self.record_common(case);
        case.petition.received_on = Some(received);
        case.petition.registered_on = Some(received);
    }

    /// What a reconsideration needs before the case can be handed to it.
    fn record_reconsideration_request(&self, case: &mut Case, known_on: LegalDate) {
        let r = &mut case.reconsideration;
        r.applicant = "p1".into();
        r.respondent_agency = self.agency.into();
        r.subject = Some(self.subject);
        r.act.name = self.act.into();
        let short: String = self.agency.chars().skip(1).take(2).collect();
        r.act.number = format!("云{short}〔{}〕{}号", known_on.date().format("%Y"), known_on.date().format("%j"));
        r.act.made_on = Some(days_after(known_on, -3));
        r.act.known_on = Some(known_on);
        r.act.right_notified = Some(true);
        r.request = Text::with_value(format!("请求撤销{}{}", self.agency, self.act));
    }

    fn record_litigation_request(&self, case: &mut Case, upheld: Option<bool>) {
        let l = &mut case.litigation;
        l.plaintiff = "p1".into();
        l.act_name = self.act.into();
        l.defendants = vec![self.agency.into()];
        if upheld == Some(true) {
            l.defendants.push("云溪县人民政府".into());
        }
        l.reconsideration_upheld = upheld;
        l.claims = Text::with_value(format!("请求撤销被诉{}", self.act));
    }
}

fn party(rng: &mut StdRng, id: &str, role: PartyRole, township: &str, village: &str) -> Party {
    let year = rng.random_range(1950..2000);
    let month = rng.random_range(1..=12);
    let day = rng.random_range(1..=28);
    Party {
        id: id.into(),
        role: Some(role),
        kind: Some(PartyKind::Person),
        name: person_name(rng),
        id_number: id_number(&format!("330127{year:04}{month:02}{day:02}{:03}", rng.random_range(0..1000))),
        phone: phone(rng),
        address: format!("{township}{village}{}组{}号", rng.random_range(1..12), rng.random_range(1..80)),
        represents: None,
    }
}

/// An 18-character resident ID number with its check character (GB 11643).
fn id_number(first17: &str) -> String {
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    const CHECK: &[u8; 11] = b"10X98765432";
    let sum: u32 = first17.bytes().zip(WEIGHTS).map(|(b, w)| u32::from(b - b'0') * w).sum();
    format!("{first17}{}", CHECK[(sum % 11) as usize] as char)
}

fn phone(rng: &mut StdRng) -> String {
    let prefix = ["138", "139", "150", "152", "158", "177", "186", "189"][rng.random_range(0..8)];
    format!("{prefix}{:08}", rng.random_range(0..100_000_000u32))
}

fn weighted<T: Copy>(rng: &mut StdRng, table: &[(T, u32)]) -> T {
    let total: u32 = table.iter().map(|(_, w)| w).sum();
    let mut draw = rng.random_range(0..total);
    for (value, weight) in table {
        if draw < *weight {
            return *value;
        }
        draw -= weight;
    }
    table[0].0
}

// ---------------------------------------------------------------------------------------------
// The tracks

/// People's mediation from acceptance on `accepted`, by `mediator`.
async fn mediation(
    run: &mut CaseRun<'_>,
    org: &Organisation,
    mediator: &Person,
    accepted: LegalDate,
    facts: &Facts,
) -> Result<()> {
    use MediationResult as M;
    let result = weighted(&mut run.rng, &[(M::Success, 86), (M::Failed, 9), (M::Refused, 3), (M::Screened, 2)]);
    let source = weighted(
        &mut run.rng,
        &[(MediationSource::Application, 60), (MediationSource::Initiative, 28), (MediationSource::Referral, 12)],
    );
    // Most mediations end within the month; some run late, a few are never closed.
    let days = match run.rng.random_range(0..100) {
        0..=87 => run.rng.random_range(2..=29),
        88..=96 => run.rng.random_range(31..=75),
        _ => 100_000,
    };
    let ended = days_after(accepted, days.min(3_000));
    let sessions = run.rng.random_range(1..=3);
    let mut session_days: Vec<LegalDate> =
        (0..sessions).map(|_| days_after(accepted, run.rng.random_range(0..=days.min(29)))).collect();
    session_days.sort();
    let place = ["村委会调解室", "镇人民调解委员会", "当事人家中", "司法所"][run.rng.random_range(0..4)];
    let oral = run.rng.random_bool(0.2);
    let amount = run.rng.random_bool(0.5).then(|| run.rng.random_range(50_000..50_000_000i64));
    let session_times: Vec<Instant> = session_days.iter().map(|d| instant(office_hours(*d, &mut run.rng))).collect();
    let mediator_id = mediator.id();
    let sessions_of = |case: &mut Case, upto: LegalDate| {
        case.mediation.source = Some(source);
        case.mediation.sessions = session_days
            .iter()
            .zip(&session_times)
            .enumerate()
            .filter(|(_, (day, _))| **day <= upto)
            .map(|(i, (_, at))| MediationSession {
                id: format!("s{}", i + 1),
                held_at: Some(*at),
                place: place.to_string(),
                mediators: vec![mediator_id.clone()],
                notes: Text::with_value(format!("第{}次调解：听取双方陈述，释法说理。", i + 1)),
            })
            .collect();
    };
    if !run.happened(ended) {
        // Still under way: the sessions held so far.
        if let Some(latest) = session_days.iter().copied().filter(|d| run.happened(*d)).max() {
            run.push(mediator, latest, |case| sessions_of(case, latest)).await?;
        }
        return Ok(());
    }
    run.push(mediator, ended, |case| {
        sessions_of(case, ended);
        case.mediation.result = Some(result);
        case.mediation.result_on = Some(ended);
        match result {
            M::Success => {
                case.mediation.agreement = Agreement {
                    terms: Text::with_value(
                        "双方自愿达成如下协议：被申请人于三十日内履行赔偿义务，双方不再因此事发生纠纷。",
                    ),
                    signed_on: (!oral).then_some(ended),
                    effective_on: Some(ended),
                    oral,
                    amount_fen: amount,
                };
            }
            M::Failed | M::Refused => {
                case.mediation.routes_told =
                    Text::with_value("已告知当事人可以依法申请仲裁、申请行政复议或者向人民法院提起诉讼。");
            }
            M::Screened => {}
        }
    })
    .await?;
    match result {
        M::Success => follow_up(run, mediator, ended, oral).await,
        M::Failed | M::Refused if run.rng.random_bool(0.6) => {
            // The parties choose to challenge an administrative act behind the dispute.
            let requested = days_after(ended, run.rng.random_range(1..=6));
            let to_litigation = run.rng.random_bool(0.3);
            if !run.happened(requested) {
                return Ok(());
            }
            run.push(mediator, requested, |case| {
                if to_litigation {
                    facts.record_litigation_request(case, None);
                } else {
                    facts.record_reconsideration_request(case, days_after(ended, -20));
                }
            })
            .await?;
            if to_litigation {
                if let Some((officer, on)) = run
                    .hand_off(org, mediator, requested, Track::Litigation, LEGAL_OFFICE, "调解不成，当事人提起行政诉讼")
                    .await?
                {
                    litigation(run, officer, on, Instance::First).await?;
                }
            } else if let Some((officer, on)) = run
                .hand_off(
                    org,
                    mediator,
                    requested,
                    Track::Reconsideration,
                    JUSTICE_BUREAU,
                    "调解不成，当事人申请行政复议",
                )
                .await?
            {
                reconsideration(run, org, officer, on, facts).await?;
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// Follow-up visit and judicial confirmation of a successful mediation.
async fn follow_up(run: &mut CaseRun<'_>, mediator: &Person, ended: LegalDate, oral: bool) -> Result<()> {
    if run.rng.random_bool(0.5) {
        let visited = days_after(ended, run.rng.random_range(10..=45));
        let performance = weighted(
            &mut run.rng,
            &[(Performance::Performed, 82), (Performance::PartlyPerformed, 12), (Performance::NotPerformed, 6)],
        );
        if run.happened(visited) {
            run.push(mediator, visited, |case| {
                case.mediation.follow_up = FollowUp {
                    visited_on: Some(visited),
                    performance: Some(performance),
                    notes: Text::with_value("回访当事人，了解协议履行情况。"),
                };
            })
            .await?;
        }
    }
    if !oral && run.rng.random_bool(0.15) {
        let applied = days_after(ended, run.rng.random_range(3..=34));
        let decided = days_after(applied, run.rng.random_range(5..=15));
        let result = weighted(
            &mut run.rng,
            &[
                (JudicialConfirmationResult::Valid, 85),
                (JudicialConfirmationResult::Rejected, 8),
                (JudicialConfirmationResult::Withdrawn, 7),
            ],
        );
        if run.happened(decided) {
            run.push(mediator, decided, |case| {
                case.mediation.judicial_confirmation = JudicialConfirmation {
                    applied_on: Some(applied),
                    court: "云溪县人民法院".into(),
                    result: Some(result),
                    decided_on: Some(decided),
                };
            })
            .await?;
        }
    }
    Ok(())
}

/// A petition from registration: intake, and then handling, a handoff or a reply.
async fn petition(
    run: &mut CaseRun<'_>,
    org: &Organisation,
    officer: &Person,
    plan: &CasePlan,
    facts: &Facts,
) -> Result<()> {
    use PetitionCategory as C;
    use PetitionRoute as R;
    let received = plan.received;
    let channel = weighted(
        &mut run.rng,
        &[(Channel::Online, 45), (Channel::Letter, 10), (Channel::Phone, 15), (Channel::Fax, 2), (Channel::Visit, 28)],
    );
    let group = (channel == Channel::Visit && run.rng.random_bool(0.15)).then(|| run.rng.random_range(5..=30u64));
    let category = weighted(&mut run.rng, &[(C::Grievance, 82), (C::Suggestion, 12), (C::Accusation, 6)]);
    let route = (category == C::Grievance).then(|| {
        weighted(
            &mut run.rng,
            &[
                (R::PetitionHandling, 66),
                (R::AdministrativeProcedure, 12),
                (R::LitigationProcedure, 6),
                (R::Arbitration, 4),
                (R::PartyDiscipline, 2),
                (R::EnforcementRequest, 10),
            ],
        )
    });
    let intake_days =
        if run.rng.random_bool(0.9) { run.rng.random_range(1..=14) } else { run.rng.random_range(16..=30) };
    let intake_on = days_after(received, intake_days);
    let intake = match route {
        Some(R::AdministrativeProcedure | R::LitigationProcedure | R::Arbitration | R::PartyDiscipline) => {
            PetitionIntake::NotAccepted
        }
        Some(R::EnforcementRequest) => {
            weighted(&mut run.rng, &[(PetitionIntake::Transferred, 60), (PetitionIntake::Assigned, 40)])
        }
        _ => weighted(
            &mut run.rng,
            &[(PetitionIntake::Accepted, 90), (PetitionIntake::NotAccepted, 6), (PetitionIntake::NotReaccepted, 4)],
        ),
    };
    let to_mediation =
        route == Some(R::PetitionHandling) && intake == PetitionIntake::Accepted && run.rng.random_bool(0.1);
    if !run.happened(intake_on) {
        // Registered, not yet decided: only the channel and category so far.
        run.push(officer, received, |case| {
            case.petition.channel = Some(channel);
            case.petition.group_size = group;
            case.petition.category = Some(category);
            case.petition.route = route;
        })
        .await?;
        return Ok(());
    }
    run.push(officer, intake_on, |case| {
        let p = &mut case.petition;
        p.channel = Some(channel);
        p.group_size = group;
        if group.is_some() {
            p.representatives = vec!["代表一".into(), "代表二".into(), "代表三".into()];
        }
        p.category = Some(category);
        p.route = route;
        p.intake = Some(intake);
        p.intake_notified_on = Some(intake_on);
        if intake == PetitionIntake::Accepted {
            p.accepted_on = Some(intake_on);
        }
        if intake == PetitionIntake::Transferred {
            p.transferred_on = Some(intake_on);
        }
        match route {
            Some(R::AdministrativeProcedure) => facts.record_reconsideration_request(case, days_after(received, -15)),
            Some(R::LitigationProcedure) => facts.record_litigation_request(case, None),
            _ => {}
        }
    })
    .await?;
    match route {
        Some(R::AdministrativeProcedure) => {
            if let Some((officer, on)) = run
                .hand_off(
                    org,
                    officer,
                    intake_on,
                    Track::Reconsideration,
                    JUSTICE_BUREAU,
                    "属于行政复议受理范围，依法分类处理",
                )
                .await?
            {
                reconsideration(run, org, officer, on, facts).await?;
            }
            return Ok(());
        }
        Some(R::LitigationProcedure) => {
            if let Some((officer, on)) =
                run.hand_off(org, officer, intake_on, Track::Litigation, LEGAL_OFFICE, "诉访分离，导入诉讼程序").await?
            {
                litigation(run, officer, on, Instance::First).await?;
            }
            return Ok(());
        }
        _ => {}
    }
    if to_mediation {
        if let Some((mediator, on)) = run
            .hand_off(org, officer, intake_on, Track::Mediation, &plan.township, "信访事项可以调解，交由人民调解")
            .await?
        {
            run.push(mediator, on, |case| {
                case.mediation.committee = "人民调解委员会".into();
                case.mediation.mediators = vec![mediator.id()];
                case.mediation.accepted_on = Some(on);
                case.meta.handlers = vec![mediator.id()];
            })
            .await?;
            return mediation(run, org, mediator, on, facts).await;
        }
    }
    if intake != PetitionIntake::Accepted {
        return Ok(());
    }
    // Handling and the written reply (XF 32–34): 60 days, extended by 30 for some.
    let accepted = intake_on;
    let (days, extension) = match run.rng.random_range(0..100) {
        0..=83 => (run.rng.random_range(10..=58), None),
        84..=90 => (run.rng.random_range(62..=85), None),
        91..=97 => (run.rng.random_range(62..=88), Some(days_after(accepted, run.rng.random_range(45..=58)))),
        _ => (100_000, None),
    };
    let issued = days_after(accepted, days.min(3_000));
    let result = match category {
        C::Suggestion => weighted(
            &mut run.rng,
            &[(PetitionResult::Adopted, 30), (PetitionResult::PartlyAdopted, 40), (PetitionResult::NotAdopted, 30)],
        ),
        _ => weighted(
            &mut run.rng,
            &[
                (PetitionResult::Support, 30),
                (PetitionResult::Explain, 35),
                (PetitionResult::NotSupport, 20),
                (PetitionResult::Mediated, 8),
                (PetitionResult::Settled, 7),
            ],
        ),
    };
    if let Some(approved) = extension.filter(|d| run.happened(*d)) {
        run.push(officer, approved, |case| {
            case.petition.extension = Extension {
                days: Some(30),
                approved_on: Some(approved),
                reason: "情况复杂，需进一步调查核实".into(),
                notified_on: Some(days_after(approved, 1)),
            };
        })
        .await?;
    }
    if !run.happened(issued) {
        return Ok(());
    }
    let received_reply = days_after(issued, run.rng.random_range(1..=5));
    let satisfaction = run.rng.random_bool(0.75).then(|| {
        weighted(
            &mut run.rng,
            &[(Satisfaction::Satisfied, 62), (Satisfaction::BasicallySatisfied, 24), (Satisfaction::Dissatisfied, 14)],
        )
    });
    run.push(officer, issued, |case| {
        let reply = &mut case.petition.reply;
        reply.request = Text::with_value("信访人反映的诉求");
        reply.facts_and_reasons = Text::with_value("经调查核实，情况如下。");
        reply.decision = Text::with_value("处理意见：依法依规予以答复。");
        reply.legal_basis = Text::with_value("《信访工作条例》第三十二条");
        reply.result = Some(result);
        reply.issued_on = Some(issued);
        reply.received_on = Some(received_reply);
        case.petition.satisfaction = satisfaction;
    })
    .await?;
    // 复查 for some of those not satisfied.
    if route == Some(R::PetitionHandling)
        && satisfaction == Some(Satisfaction::Dissatisfied)
        && run.rng.random_bool(0.5)
    {
        let requested = days_after(received_reply, run.rng.random_range(5..=28));
        let decided = days_after(requested, run.rng.random_range(10..=35));
        let outcome =
            weighted(&mut run.rng, &[(PetitionReviewResult::Upheld, 80), (PetitionReviewResult::Revised, 20)]);
        if run.happened(decided) {
            run.push(officer, decided, |case| {
                case.petition.review = PetitionReview {
                    requested_on: Some(requested),
                    organ: "云溪县人民政府".into(),
                    result: Some(outcome),
                    decided_on: Some(decided),
                    received_on: Some(days_after(decided, 2)),
                };
            })
            .await?;
        }
    }
    Ok(())
}

/// Administrative reconsideration from the day the justice bureau took the case.
async fn reconsideration(
    run: &mut CaseRun<'_>,
    org: &Organisation,
    officer: &Person,
    received: LegalDate,
    facts: &Facts,
) -> Result<()> {
    use ReconsiderationDecision as D;
    let intake_on = days_after(
        received,
        if run.rng.random_bool(0.93) { run.rng.random_range(1..=5) } else { run.rng.random_range(9..=14) },
    );
    let intake = weighted(
        &mut run.rng,
        &[
            (ReconsiderationIntake::Accepted, 88),
            (ReconsiderationIntake::NotAccepted, 8),
            (ReconsiderationIntake::ApplicationDismissed, 4),
        ],
    );
    let procedure = if run.rng.random_bool(0.2) { Procedure::Simplified } else { Procedure::Ordinary };
    // The intake decision is recorded on the day the application arrives at the latest, so that
    // no application is ever left to be deemed accepted by the passing of time.
    let intake_day = if run.happened(intake_on) { intake_on } else { received };
    run.push(officer, received, |case| {
        let r = &mut case.reconsideration;
        r.received_on = Some(received);
        r.intake = Some(intake);
        r.intake_decided_on = Some(intake_day);
        if intake == ReconsiderationIntake::Accepted {
            r.accepted_on = Some(intake_day);
            r.procedure = Some(procedure);
            r.sent_to_respondent_on = Some(days_after(intake_day, 2));
        }
        case.meta.handlers = vec![officer.id()];
    })
    .await?;
    if intake != ReconsiderationIntake::Accepted {
        return Ok(());
    }
    let accepted = intake_day;
    let limit = if procedure == Procedure::Simplified { 30 } else { 60 };
    let decision = weighted(
        &mut run.rng,
        &[
            (D::Upheld, 24),
            (D::ClaimDismissed, 7),
            (D::Changed, 3),
            (D::Revoked, 8),
            (D::PartlyRevoked, 3),
            (D::ConfirmedIllegal, 5),
            (D::OrderedToPerform, 4),
            (D::ConfirmedVoid, 1),
            (D::Mediation, 12),
            (D::SettledWithdrawn, 12),
            (D::CorrectedWithdrawn, 9),
            (D::Withdrawn, 8),
            (D::Terminated, 4),
        ],
    );
    enum Course {
        OnTime(i64),
        Late(i64),
        Extended(i64, i64),
        Suspended(i64, i64, i64),
        LeftSuspended(i64),
        Open,
    }
    let course = match run.rng.random_range(0..100) {
        0..=77 => Course::OnTime(run.rng.random_range(10..limit - 1)),
        78..=84 => Course::Late(run.rng.random_range(limit + 3..limit + 40)),
        85..=91 if procedure == Procedure::Ordinary => {
            Course::Extended(run.rng.random_range(40..55), run.rng.random_range(62..88))
        }
        85..=94 => Course::Suspended(
            run.rng.random_range(5..20),
            run.rng.random_range(10..30),
            run.rng.random_range(30..limit + 5),
        ),
        95..=96 => Course::LeftSuspended(run.rng.random_range(5..25)),
        _ => Course::Open,
    };
    let answer = days_after(accepted, run.rng.random_range(5..=12));
    if run.happened(answer) {
        run.push(officer, answer, |case| case.reconsideration.answer_received_on = Some(answer)).await?;
    }
    let decided_after = match course {
        Course::OnTime(d) | Course::Late(d) => d,
        Course::Extended(approved, d) => {
            let approved_on = days_after(accepted, approved);
            if run.happened(approved_on) {
                run.push(officer, approved_on, |case| {
                    case.reconsideration.extension = Extension {
                        days: Some(30),
                        approved_on: Some(approved_on),
                        reason: "案情重大复杂，经机关负责人批准延长".into(),
                        notified_on: Some(days_after(approved_on, 1)),
                    };
                })
                .await?;
            }
            d
        }
        Course::Suspended(from, length, d) => {
            let (from, to) = (days_after(accepted, from), days_after(accepted, from + length));
            if run.happened(to) {
                run.push(officer, to, |case| {
                    case.reconsideration.suspensions = vec![Suspension {
                        id: "z1".into(),
                        from: Some(from),
                        to: Some(to),
                        reason: "案件涉及法律适用问题，需有权机关作出解释".into(),
                    }];
                })
                .await?;
            }
            d + length
        }
        Course::LeftSuspended(from) => {
            let from = days_after(accepted, from);
            if run.happened(from) {
                run.push(officer, from, |case| {
                    case.reconsideration.suspensions = vec![Suspension {
                        id: "z1".into(),
                        from: Some(from),
                        to: None,
                        reason: "申请人下落不明，中止审理".into(),
                    }];
                })
                .await?;
            }
            return Ok(());
        }
        Course::Open => return Ok(()),
    };
    let decided = days_after(accepted, decided_after);
    if !run.happened(decided) {
        return Ok(());
    }
    let served = days_after(decided, run.rng.random_range(1..=5));
    let hearing = (run.rng.random_bool(0.2)).then(|| days_after(accepted, decided_after / 2));
    run.push(officer, decided, |case| {
        let r = &mut case.reconsideration;
        if let Some(held) = hearing {
            r.hearing = Hearing {
                held_on: Some(held),
                place: "县司法局复议听证室".into(),
                notes: Text::with_value("听证笔录"),
            };
        }
        r.decision = ReconsiderationOutcome {
            kind: Some(decision),
            decided_on: Some(decided),
            served_on: Some(served),
            number: format!("云复决〔{}〕{}号", decided.date().format("%Y"), decided.date().format("%j")),
        };
    })
    .await?;
    // Some applicants go to court after the decision (SS 45): 15 days from service.
    let sues =
        matches!(decision, D::Upheld | D::ClaimDismissed | D::Changed | D::Withdrawn) && run.rng.random_bool(0.35);
    if sues {
        let requested = days_after(served, run.rng.random_range(3..=14));
        if !run.happened(requested) {
            return Ok(());
        }
        let upheld = matches!(decision, D::Upheld | D::ClaimDismissed);
        run.push(officer, requested, |case| facts.record_litigation_request(case, Some(upheld))).await?;
        if let Some((litigator, on)) = run
            .hand_off(org, officer, requested, Track::Litigation, LEGAL_OFFICE, "申请人不服复议决定，提起行政诉讼")
            .await?
        {
            let instance = if run.rng.random_bool(0.12) { Instance::Second } else { Instance::First };
            litigation(run, litigator, on, instance).await?;
        }
    }
    Ok(())
}

/// Responding to an administrative lawsuit from the day the legal office took the case.
async fn litigation(run: &mut CaseRun<'_>, officer: &Person, received: LegalDate, instance: Instance) -> Result<()> {
    use LitigationOutcome as L;
    let procedure = if run.rng.random_bool(0.25) { Procedure::Simplified } else { Procedure::Ordinary };
    let defence = days_after(
        received,
        if run.rng.random_bool(0.94) { run.rng.random_range(4..=14) } else { run.rng.random_range(17..=25) },
    );
    let court = if instance == Instance::First { "云溪县人民法院" } else { "市中级人民法院" };
    let number = format!(
        "（{}）浙{}行{}{}号",
        received.date().format("%Y"),
        if instance == Instance::First { "0127" } else { "01" },
        if instance == Instance::First { "初" } else { "终" },
        run.rng.random_range(1..400)
    );
    run.push(officer, received, |case| {
        let l = &mut case.litigation;
        l.court = court.into();
        l.court_case_number = number;
        l.instance = Some(instance);
        l.procedure = Some(procedure);
        l.registered_on = Some(days_after(received, -3));
        l.complaint_received_on = Some(received);
        case.meta.handlers = vec![officer.id()];
    })
    .await?;
    if !run.happened(defence) {
        return Ok(());
    }
    run.push(officer, defence, |case| case.litigation.defence_filed_on = Some(defence)).await?;
    let outcome = match instance {
        Instance::First => weighted(
            &mut run.rng,
            &[
                (L::NotRegistered, 2),
                (L::ComplaintDismissed, 12),
                (L::WithdrawalPermitted, 18),
                (L::Mediation, 6),
                (L::ClaimRejected, 38),
                (L::Revoked, 8),
                (L::Perform, 4),
                (L::Payment, 2),
                (L::ConfirmedIllegal, 6),
                (L::ConfirmedVoid, 1),
                (L::Changed, 3),
            ],
        ),
        _ => weighted(&mut run.rng, &[(L::AppealDismissed, 70), (L::JudgmentChanged, 18), (L::Remanded, 12)]),
    };
    let heard = !matches!(outcome, L::NotRegistered | L::WithdrawalPermitted) || run.rng.random_bool(0.3);
    let hearing_on = days_after(received, run.rng.random_range(30..=90));
    if heard && run.happened(hearing_on) {
        let attendance = run.rng.random_range(0..100);
        let (head_name, rank) =
            (person_name(&mut run.rng), if run.rng.random_bool(0.6) { HeadRank::Deputy } else { HeadRank::Chief });
        run.push(officer, hearing_on, |case| {
            let agency = case.litigation.defendants.first().cloned().unwrap_or_default();
            case.litigation.hearings = vec![CourtHearing {
                id: "t1".into(),
                held_on: Some(hearing_on),
                head_appeared: attendance < 84,
                head_name: if attendance < 84 { head_name } else { String::new() },
                head_title: if attendance < 84 {
                    format!("{agency}{}", if rank == HeadRank::Chief { "局长" } else { "副局长" })
                } else {
                    String::new()
                },
                head_rank: (attendance < 84).then_some(rank),
                head_spoke: attendance < 70,
                delegated_staff: if (84..95).contains(&attendance) {
                    vec!["法制科工作人员".into()]
                } else {
                    Vec::new()
                },
                lawyer_only: (95..98).contains(&attendance),
            }];
        })
        .await?;
    }
    let judged = days_after(if heard { hearing_on } else { received }, run.rng.random_range(10..=60));
    if !run.happened(judged) || run.rng.random_bool(0.04) {
        return Ok(());
    }
    let served = days_after(judged, run.rng.random_range(1..=6));
    let appealed = instance == Instance::First && run.rng.random_bool(0.15);
    run.push(officer, judged, |case| {
        let l = &mut case.litigation;
        l.judgment = Judgment { outcome: Some(outcome), judged_on: Some(judged), served_on: Some(served) };
        if appealed {
            l.appeal = Appeal { filed_on: Some(days_after(served, 10)), by: "p1".into() };
        }
        if matches!(outcome, L::Revoked | L::ConfirmedIllegal) {
            l.recommendations = Text::with_value("建议规范执法程序，加强证据收集。");
        }
    })
    .await?;
    Ok(())
}

/// The login table and how to start the server, in Chinese, for the console.
pub fn describe(summary: &DemoSummary, password: &str) -> String {
    let mut out = String::new();
    out.push_str(&format!(
        "演示数据已生成：{} 个单位，{} 名用户，{} 件案件（{} 次设备同步），用时 {:.1} 秒。\n",
        summary.units,
        summary.users,
        summary.cases,
        summary.messages,
        summary.elapsed.as_secs_f64()
    ));
    if !summary.handoffs.is_empty() {
        let parts: Vec<String> = summary
            .handoffs
            .iter()
            .map(|(code, n)| format!("{} {n}", HandoffStatus::from_code(code).map(|s| s.label()).unwrap_or(code)))
            .collect();
        out.push_str(&format!("移交：{}\n", parts.join("，")));
    }
    out.push_str("\n可用以下账号登录（每个账号对应一台平板）：\n\n");
    out.push_str("| 角色 | 用户名 | 单位 | 密码 |\n|---|---|---|---|\n");
    for login in &summary.logins {
        out.push_str(&format!("| {} | {} | {} | {} |\n", login.kind, login.user, login.unit, password));
    }
    out.push_str(
        "\n其余用户：各乡镇调解员 <乡镇>.tj01–tj08、乡镇信访干部 <乡镇>.xf01、乡镇督查 <乡镇>.dc（乡镇：chengguan、chengdong、dongba、xihe、nanshan、beiling、taoyuan、liulin、shiqiao、longquan、baisha、qingshi），\
         县信访局 xinfang01–12，县司法局 fuyi01–10，县政府法制办 yingsu01–08，县级督查 ducha01–05；密码相同。\n",
    );
    out.push_str("\n启动服务器：fengqiao serve（默认监听 127.0.0.1:8080，数据库与本命令相同）\n");
    out
}
