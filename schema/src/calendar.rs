//! Official holiday calendars and the counting of legal periods over them (LAW.md §1).
//!
//! The State Council publishes the holiday schedule each year, so a calendar is data: one TOML file
//! per year (`year`, `rest` = statutory rest days, `work` = weekend days that are working days,
//! 调休). This module parses and validates those files and counts periods:
//! - the start day is not counted;
//! - a calendar-day (or month, or year) period whose last day is a rest day (a listed holiday, or a
//!   Saturday or Sunday that is not a 调休 working day) ends on the next working day instead;
//! - a working-day period counts working days only.
//!
//! A year without a calendar falls back to Monday–Friday. Every count records which years it
//! consulted and on what basis, so that a deadline's explanation can say so.
//!
//! Pure: calendars come in as text; nothing here reads files or the clock.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Datelike, Days, Months, NaiveDate, Weekday};
use serde::{Deserialize, Serialize};

use crate::time::LegalDate;

/// The official calendars embedded in the binary. The server may add or replace years from a
/// directory of files with [`Calendars::insert`]; a newly published year needs no code change there.
const OFFICIAL_SOURCES: &[&str] = &[
    include_str!("../calendars/2024.toml"),
    include_str!("../calendars/2025.toml"),
    include_str!("../calendars/2026.toml"),
];

/// Why a holiday calendar file was refused.
#[derive(Debug, thiserror::Error)]
pub enum CalendarError {
    #[error("节假日安排文件格式不正确：{0}")]
    Toml(#[from] toml::de::Error),
    #[error("{year}年节假日安排：「{value}」不是YYYY-MM-DD格式的日期")]
    BadDate {
        year: i32,
        value: String,
        #[source]
        source: chrono::ParseError,
    },
    #[error("{year}年节假日安排：{date}不在{year}年内")]
    OutsideYear { year: i32, date: LegalDate },
    #[error("{year}年节假日安排：{date}同时列为休息日和调休工作日")]
    RestAndWork { year: i32, date: LegalDate },
    #[error("{year}年节假日安排：调休工作日{date}不是星期六或星期日")]
    WorkDayNotWeekend { year: i32, date: LegalDate },
    #[error("{year}年节假日安排重复提供")]
    DuplicateYear { year: i32 },
}

/// The file as written, before validation.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CalendarFile {
    year: i32,
    #[serde(default)]
    rest: Vec<String>,
    #[serde(default)]
    work: Vec<String>,
}

/// One year's official holiday schedule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HolidayCalendar {
    year: i32,
    rest: BTreeSet<NaiveDate>,
    work: BTreeSet<NaiveDate>,
}

impl HolidayCalendar {
    /// Parses and validates one year's calendar file.
    pub fn parse(source: &str) -> Result<HolidayCalendar, CalendarError> {
        let file: CalendarFile = toml::from_str(source)?;
        let year = file.year;
        let dates = |values: &[String]| -> Result<BTreeSet<NaiveDate>, CalendarError> {
            values
                .iter()
                .map(|value| {
                    let date = NaiveDate::parse_from_str(value, "%Y-%m-%d").map_err(|source| {
                        CalendarError::BadDate {
                            year,
                            value: value.clone(),
                            source,
                        }
                    })?;
                    if date.year() != year {
                        return Err(CalendarError::OutsideYear {
                            year,
                            date: LegalDate(date),
                        });
                    }
                    Ok(date)
                })
                .collect()
        };
        let rest = dates(&file.rest)?;
        let work = dates(&file.work)?;
        if let Some(date) = rest.intersection(&work).next() {
            return Err(CalendarError::RestAndWork {
                year,
                date: LegalDate(*date),
            });
        }
        // A weekday in `work` would change nothing: it is almost certainly a mistyped date.
        if let Some(date) = work.iter().find(|d| !is_weekend(**d)) {
            return Err(CalendarError::WorkDayNotWeekend {
                year,
                date: LegalDate(*date),
            });
        }
        Ok(HolidayCalendar { year, rest, work })
    }

    pub fn year(&self) -> i32 {
        self.year
    }

    /// Whether the date is a working day by this calendar; `None` for a date of another year.
    pub fn is_working_day(&self, date: LegalDate) -> Option<bool> {
        let date = date.0;
        if date.year() != self.year {
            return None;
        }
        Some(if self.rest.contains(&date) {
            false
        } else if self.work.contains(&date) {
            true
        } else {
            !is_weekend(date)
        })
    }
}

fn is_weekend(date: NaiveDate) -> bool {
    matches!(date.weekday(), Weekday::Sat | Weekday::Sun)
}

/// The holiday calendars known to the server, by year.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Calendars {
    years: BTreeMap<i32, HolidayCalendar>,
}

impl Calendars {
    /// No calendars at all: every year falls back to Monday–Friday.
    pub fn new() -> Calendars {
        Calendars::default()
    }

    /// The official calendars embedded in the binary (2024–2026).
    pub fn official() -> Calendars {
        Calendars::from_sources(OFFICIAL_SOURCES.iter().copied())
            .expect("the embedded official calendars are valid (checked by the calendar tests)")
    }

    /// Calendars from the text of several files, one year each; two files for one year are refused.
    pub fn from_sources<'a>(
        sources: impl IntoIterator<Item = &'a str>,
    ) -> Result<Calendars, CalendarError> {
        let mut calendars = Calendars::new();
        for source in sources {
            let calendar = HolidayCalendar::parse(source)?;
            let year = calendar.year();
            if calendars.insert(calendar).is_some() {
                return Err(CalendarError::DuplicateYear { year });
            }
        }
        Ok(calendars)
    }

    /// Adds a year's calendar, returning the one it replaces, if any.
    pub fn insert(&mut self, calendar: HolidayCalendar) -> Option<HolidayCalendar> {
        self.years.insert(calendar.year(), calendar)
    }

    /// The years that have an official calendar, in order.
    pub fn years(&self) -> impl Iterator<Item = i32> + '_ {
        self.years.keys().copied()
    }

    /// Whether the date is a working day, and on what basis that was decided.
    pub fn day(&self, date: LegalDate) -> (bool, CalendarBasis) {
        match self
            .years
            .get(&date.0.year())
            .and_then(|c| c.is_working_day(date))
        {
            Some(working) => (working, CalendarBasis::Official),
            None => (!is_weekend(date.0), CalendarBasis::WeekdaysOnly),
        }
    }

    pub fn is_working_day(&self, date: LegalDate) -> bool {
        self.day(date).0
    }

    /// The end of a period that starts on `start` (not counted), by LAW.md §1.
    pub fn period_end(&self, start: LegalDate, period: Period) -> PeriodEnd {
        let mut years = Consulted::default();
        let last_day = match period {
            Period::CalendarDays(days) => LegalDate(add_days(start.0, days)),
            Period::Months(months) => LegalDate(add_months(start.0, months)),
            Period::Years(years) => LegalDate(add_months(start.0, years.saturating_mul(12))),
            Period::WorkingDays(days) => {
                let mut date = start.0;
                let mut counted = 0;
                while counted < days {
                    let Some(next) = date.succ_opt() else { break };
                    date = next;
                    if years.is_working_day(self, date) {
                        counted += 1;
                    }
                }
                // Counting only working days, the last day is always one: nothing to shift.
                return PeriodEnd {
                    last_day: LegalDate(date),
                    due: LegalDate(date),
                    shifted_from: None,
                    years: years.done(),
                };
            }
        };
        let mut due = last_day.0;
        while !years.is_working_day(self, due) {
            let Some(next) = due.succ_opt() else { break };
            due = next;
        }
        let due = LegalDate(due);
        PeriodEnd {
            last_day,
            due,
            shifted_from: (due != last_day).then_some(last_day),
            years: years.done(),
        }
    }
}

/// Years consulted while counting, and on what basis.
#[derive(Default)]
struct Consulted(BTreeMap<i32, CalendarBasis>);

impl Consulted {
    fn is_working_day(&mut self, calendars: &Calendars, date: NaiveDate) -> bool {
        let (working, basis) = calendars.day(LegalDate(date));
        self.0.insert(date.year(), basis);
        working
    }

    fn done(self) -> Vec<YearBasis> {
        self.0
            .into_iter()
            .map(|(year, basis)| YearBasis { year, basis })
            .collect()
    }
}

/// Dates far beyond any real case saturate instead of overflowing: a typo in a recorded year must
/// not bring the server down.
fn add_days(date: NaiveDate, days: u32) -> NaiveDate {
    date.checked_add_days(Days::new(u64::from(days)))
        .unwrap_or(NaiveDate::MAX)
}

/// Months end on the corresponding day, or on the last day of a month that has none (31 March + 6
/// months = 30 September; 29 February + 1 year = 28 February), as 民法典 Art. 202 counts them.
fn add_months(date: NaiveDate, months: u32) -> NaiveDate {
    date.checked_add_months(Months::new(months))
        .unwrap_or(NaiveDate::MAX)
}

/// How the days of a period are counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Counting {
    /// 自然日: every day counts; a last day on a rest day moves to the next working day.
    CalendarDays,
    /// 工作日: only working days count.
    WorkingDays,
}

impl Counting {
    /// A period of this many days counted this way.
    pub fn days(self, days: u32) -> Period {
        match self {
            Counting::CalendarDays => Period::CalendarDays(days),
            Counting::WorkingDays => Period::WorkingDays(days),
        }
    }
}

/// The length of a legal period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(tag = "unit", content = "length", rename_all = "snake_case")]
pub enum Period {
    CalendarDays(u32),
    WorkingDays(u32),
    Months(u32),
    Years(u32),
}

impl Period {
    /// How its days are counted: months and years run over calendar days.
    pub fn counting(self) -> Counting {
        match self {
            Period::WorkingDays(_) => Counting::WorkingDays,
            Period::CalendarDays(_) | Period::Months(_) | Period::Years(_) => {
                Counting::CalendarDays
            }
        }
    }

    /// The same period lengthened by `days` days of its own counting (an extension, or days
    /// suspended). Months and years are not lengthened by days in any rule; they are left as they are.
    pub fn plus_days(self, days: u32) -> Period {
        match self {
            Period::CalendarDays(n) => Period::CalendarDays(n.saturating_add(days)),
            Period::WorkingDays(n) => Period::WorkingDays(n.saturating_add(days)),
            other => other,
        }
    }

    /// The period in words, e.g. `15日（自然日）`, `5个工作日`, `6个月`.
    pub fn describe(self) -> String {
        match self {
            Period::CalendarDays(n) => format!("{n}日（自然日）"),
            Period::WorkingDays(n) => format!("{n}个工作日"),
            Period::Months(n) => format!("{n}个月"),
            Period::Years(n) => format!("{n}年"),
        }
    }
}

/// On what basis a year's working days were decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CalendarBasis {
    /// The year's official holiday schedule.
    Official,
    /// No calendar for the year: Monday to Friday are working days.
    WeekdaysOnly,
}

/// A year consulted while counting a period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct YearBasis {
    pub year: i32,
    pub basis: CalendarBasis,
}

/// Where a period ends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PeriodEnd {
    /// The last day of the period as counted, before any move off a rest day.
    pub last_day: LegalDate,
    /// The day the period actually ends.
    pub due: LegalDate,
    /// Set when the last day was a rest day and the period was moved to `due`.
    pub shifted_from: Option<LegalDate>,
    /// The years whose days were consulted, in order.
    pub years: Vec<YearBasis>,
}

/// Names the official calendars a count used, e.g. `依据2025年、2026年官方节假日安排`; `None` when
/// it used none.
pub fn describe_official_years(years: &[YearBasis]) -> Option<String> {
    let official: Vec<String> = years
        .iter()
        .filter(|y| y.basis == CalendarBasis::Official)
        .map(|y| format!("{}年", y.year))
        .collect();
    (!official.is_empty()).then(|| format!("依据{}官方节假日安排", official.join("、")))
}

/// Says, for each year a count consulted without a calendar,
/// `（2027年无官方节假日安排，按周一至周五计算）`. Empty when every year had one.
pub fn describe_fallback_years(years: &[YearBasis]) -> String {
    years
        .iter()
        .filter(|y| y.basis == CalendarBasis::WeekdaysOnly)
        .map(|y| format!("（{}年无官方节假日安排，按周一至周五计算）", y.year))
        .collect()
}
