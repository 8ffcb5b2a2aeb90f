//! The annual figures for the 法治政府建设情况报告 (LAW.md §5): for a unit and the units below it
//! over a calendar year, the statistics paragraph in Chinese (every figure, every rate with its
//! numerator and denominator), a Markdown table and an `.xlsx` workbook (a sheet of figures, a
//! sheet by township). Built on `stats::unit_figures`, the same queries and fact records as
//! `GET /v1/stats`, so the report never disagrees with the dashboard. Aggregates only.
//!
//! Served by `fengqiao report --year 2025 --unit X` and `GET /v1/reports/annual` (supervisors of the
//! unit or above it, like `/v1/stats`).
//!
//! Percentages: the paragraph writes a full rate as the reports do (`100%`), every other rate with
//! two decimals (`98.87%`); tables keep two decimals everywhere (`100.00%`) so a column aligns; the
//! workbook stores the rate as a number (`0.9887`, the same rounding) formatted `0.00%`.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use fengqiao_schema::rates::RateKind;
use fengqiao_schema::time::LegalDate;
use fengqiao_schema::units::UnitTree;
use fengqiao_schema::vocab::{CaseKind, Channel, DisputeType, MediationSource, ReconsiderationDecision, Track};
use rust_xlsxwriter::{Format, FormatAlign, Workbook, Worksheet, XlsxError};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::api::{today, unit_tree};
use crate::error::{Error, Result};
use crate::http::{AppState, Authenticated};
use crate::stats::{authorize_supervisor, unit_figures, Figures, RateView};
use crate::store::Store;

/// How the report is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ReportFormat {
    /// The statistics paragraph, plain text.
    #[default]
    Text,
    /// A heading, the paragraph and the tables in Markdown.
    Markdown,
    /// An Excel workbook.
    Xlsx,
}

impl ReportFormat {
    pub fn from_code(code: &str) -> Option<ReportFormat> {
        match code {
            "text" => Some(ReportFormat::Text),
            "markdown" => Some(ReportFormat::Markdown),
            "xlsx" => Some(ReportFormat::Xlsx),
            _ => None,
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            ReportFormat::Text => "text/plain; charset=utf-8",
            ReportFormat::Markdown => "text/markdown; charset=utf-8",
            ReportFormat::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            ReportFormat::Text => "txt",
            ReportFormat::Markdown => "md",
            ReportFormat::Xlsx => "xlsx",
        }
    }
}

impl std::str::FromStr for ReportFormat {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<ReportFormat, String> {
        ReportFormat::from_code(s).ok_or_else(|| format!("报告格式「{s}」无效，应为 text、markdown 或 xlsx"))
    }
}

/// The years a report may be asked for.
const YEARS: std::ops::RangeInclusive<i32> = 2000..=2999;

/// The annual figures of one unit (with the units below it) for one calendar year.
#[derive(Debug, Clone)]
pub struct AnnualReport {
    pub year: i32,
    pub unit: String,
    pub unit_name: String,
    pub figures: Figures,
    /// Township (street) names by unit id, for the table by township.
    township_names: BTreeMap<String, String>,
}

impl AnnualReport {
    /// The figures of `unit` for `year`, as of `today` (which decides what is overdue in a year not
    /// yet over).
    pub async fn build(
        store: &Store,
        units: &UnitTree,
        unit: &str,
        year: i32,
        today: LegalDate,
    ) -> Result<AnnualReport> {
        if !YEARS.contains(&year) {
            return Err(Error::BadRequest(format!("年度「{year}」无效")));
        }
        let Some(found) = units.get(unit) else {
            return Err(Error::UnknownUnit(fengqiao_schema::ids::UnitId::new(unit)));
        };
        let from = LegalDate::ymd(year, 1, 1);
        let to = LegalDate::ymd(year, 12, 31);
        let figures = unit_figures(store, units, unit, from, to, today).await?;
        let township_names = figures.stats.townships.iter().map(|t| (t.township.clone(), t.name.clone())).collect();
        Ok(AnnualReport { year, unit: unit.to_string(), unit_name: found.name.clone(), figures, township_names })
    }

    fn rate(&self, kind: RateKind) -> RateView {
        self.figures.stats.rates.iter().find(|r| r.code == kind.code()).map(|r| r.rate.clone()).unwrap_or(RateView {
            numerator: 0,
            denominator: 0,
            percent_2dp: None,
            percent: None,
        })
    }

    fn registered(&self, track: Track) -> u64 {
        self.figures.stats.by_track.get(track.code()).copied().unwrap_or(0)
    }

    /// Petitions registered in the year, whichever track they are in now.
    fn petitions(&self) -> u64 {
        self.figures.registered_by_kind.get(CaseKind::Petition.code()).copied().unwrap_or(0)
    }

    fn decided(&self, decision: ReconsiderationDecision) -> u64 {
        self.figures.reconsideration_decisions.get(decision.code()).copied().unwrap_or(0)
    }

    /// The file name people get: `青山县2025年法治政府建设统计.xlsx`.
    pub fn file_name(&self, format: ReportFormat) -> String {
        format!("{}{}年法治政府建设统计.{}", self.unit_name, self.year, format.extension())
    }

    /// An ASCII file name for clients that do not read RFC 5987.
    fn ascii_file_name(&self, format: ReportFormat) -> String {
        let unit: String = self
            .unit
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() || c == '.' || c == '-' { c } else { '_' })
            .collect();
        format!("annual-report-{unit}-{}.{}", self.year, format.extension())
    }

    /// The report in `format`, as bytes.
    pub fn render(&self, format: ReportFormat) -> Result<Vec<u8>> {
        match format {
            ReportFormat::Text => Ok(self.paragraph().into_bytes()),
            ReportFormat::Markdown => Ok(self.markdown().into_bytes()),
            ReportFormat::Xlsx => self.xlsx().map_err(|e| Error::internal(format!("cannot write the workbook: {e}"))),
        }
    }

    /// The statistics paragraph, in the style the annual reports quote their figures.
    pub fn paragraph(&self) -> String {
        let mut text = format!(
            "{year}年（{year}年1月1日至12月31日），{name}（含下属单位）法治政府建设相关统计数据如下。\n",
            year = self.year,
            name = self.unit_name
        );

        let mediation = self.rate(RateKind::MediationSuccess);
        let _ = write!(
            text,
            "一、人民调解。受理并调解矛盾纠纷{}件，调解成功{}件，调解成功率{}",
            mediation.denominator,
            mediation.numerator,
            prose_rate(&mediation)
        );
        let sources =
            breakdown(&self.figures.mediated_by_source, |code| MediationSource::from_code(code).map(|s| s.label()));
        if !sources.is_empty() {
            let _ = write!(text, "；按来源分，{sources}");
        }
        let types =
            breakdown(&self.figures.mediated_by_dispute_type, |code| DisputeType::from_code(code).map(|t| t.label()));
        if !types.is_empty() {
            let _ = write!(text, "；按纠纷类型分，{types}");
        }
        text.push_str("。\n");

        let comprehensive = self.rate(RateKind::ComprehensiveCorrection);
        let direct = self.rate(RateKind::DirectCorrection);
        let indirect = comprehensive.numerator.saturating_sub(direct.numerator);
        let _ = writeln!(
            text,
            "二、行政复议。新收行政复议案件{}件，审结{}件，其中维持{}件、驳回复议请求{}件，直接纠错{}件，\
             通过调解、和解及纠正后撤回等方式结案{}件；纠错{}件，综合纠错率{}，直接纠错率{}。",
            self.registered(Track::Reconsideration),
            comprehensive.denominator,
            self.decided(ReconsiderationDecision::Upheld),
            self.decided(ReconsiderationDecision::ClaimDismissed),
            direct.numerator,
            indirect,
            comprehensive.numerator,
            prose_rate(&comprehensive),
            prose_rate(&direct),
        );

        let loss = self.rate(RateKind::LawsuitLoss);
        let head = self.rate(RateKind::HeadAppearance);
        let _ = writeln!(
            text,
            "三、行政应诉。新收行政诉讼案件{}件，一审审结{}件，败诉{}件，败诉率{}；开庭审理{}件（按审级计），\
             行政机关负责人出庭应诉{}件，出庭应诉率{}。",
            self.registered(Track::Litigation),
            loss.denominator,
            loss.numerator,
            prose_rate(&loss),
            head.denominator,
            head.numerator,
            prose_rate(&head),
        );

        let online = self.figures.stats.by_source.get(Channel::Online.code()).copied().unwrap_or(0);
        let petitions = self.petitions();
        let online_share = fengqiao_schema::rates::Rate::new(online.min(petitions), petitions).unwrap_or_default();
        let _ = writeln!(
            text,
            "四、信访工作。登记信访事项{}件，其中网上信访{}件，占{}；及时受理率{}，按期办结率{}，群众满意率{}。",
            petitions,
            online,
            prose_rate(&online_share.into()),
            prose_rate(&self.rate(RateKind::TimelyAcceptance)),
            prose_rate(&self.rate(RateKind::OnTime)),
            prose_rate(&self.rate(RateKind::Satisfaction)),
        );
        text
    }

    /// The rows of the table of counts: label and count.
    fn counts(&self) -> Vec<(&'static str, u64)> {
        let comprehensive = self.rate(RateKind::ComprehensiveCorrection);
        let direct = self.rate(RateKind::DirectCorrection);
        let mediation = self.rate(RateKind::MediationSuccess);
        let loss = self.rate(RateKind::LawsuitLoss);
        let head = self.rate(RateKind::HeadAppearance);
        let stats = &self.figures.stats;
        vec![
            ("受理并调解矛盾纠纷", mediation.denominator),
            ("调解成功", mediation.numerator),
            ("新收行政复议案件", self.registered(Track::Reconsideration)),
            ("审结行政复议案件", comprehensive.denominator),
            ("其中：维持", self.decided(ReconsiderationDecision::Upheld)),
            ("其中：驳回复议请求", self.decided(ReconsiderationDecision::ClaimDismissed)),
            ("其中：直接纠错", direct.numerator),
            ("其中：调解、和解及纠正后撤回结案", comprehensive.numerator.saturating_sub(direct.numerator)),
            ("新收行政诉讼案件", self.registered(Track::Litigation)),
            ("一审审结行政诉讼案件", loss.denominator),
            ("其中：败诉", loss.numerator),
            ("开庭审理（按审级计）", head.denominator),
            ("负责人出庭应诉", head.numerator),
            ("登记信访事项", self.petitions()),
            ("其中：网上信访", stats.by_source.get(Channel::Online.code()).copied().unwrap_or(0)),
            ("登记案件合计", stats.by_track.values().sum()),
            ("办结案件合计", stats.by_outcome.values().sum()),
        ]
    }

    /// A heading, the paragraph, and the tables: rates with their counts, counts, and by township.
    pub fn markdown(&self) -> String {
        let mut md = format!("# {}{}年法治政府建设统计\n\n", self.unit_name, self.year);
        for line in self.paragraph().lines() {
            let _ = writeln!(md, "{line}\n");
        }
        md.push_str("## 主要指标\n\n| 指标 | 比率 | 分子 | 分母 |\n|---|---:|---:|---:|\n");
        for kind in RateKind::ALL {
            let rate = self.rate(*kind);
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} |",
                kind.label(),
                table_rate(&rate),
                rate.numerator,
                rate.denominator
            );
        }
        md.push_str("\n## 案件数量\n\n| 项目 | 件数 |\n|---|---:|\n");
        for (label, count) in self.counts() {
            let _ = writeln!(md, "| {label} | {count} |");
        }
        if !self.figures.stats.townships.is_empty() {
            md.push_str(
                "\n## 分乡镇（街道）\n\n| 乡镇（街道） | 登记 | 办结 | 调解成功率 | 调解成功 | 调解 | 按期办结率 | 按期办结 | 应办结 |\n\
                 |---|---:|---:|---:|---:|---:|---:|---:|---:|\n",
            );
            for t in &self.figures.stats.townships {
                let _ = writeln!(
                    md,
                    "| {} | {} | {} | {} | {} | {} | {} | {} | {} |",
                    self.township_name(&t.township),
                    t.registered,
                    t.concluded,
                    table_rate(&t.mediation_success),
                    t.mediation_success.numerator,
                    t.mediation_success.denominator,
                    table_rate(&t.on_time),
                    t.on_time.numerator,
                    t.on_time.denominator
                );
            }
        }
        md
    }

    fn township_name<'a>(&'a self, id: &'a str) -> &'a str {
        self.township_names.get(id).map(String::as_str).filter(|n| !n.is_empty()).unwrap_or(id)
    }

    /// The workbook: sheet 年度统计 (rates as numbers formatted `0.00%`, with numerator and
    /// denominator; counts) and sheet 分乡镇 (one row per township or street).
    pub fn xlsx(&self) -> std::result::Result<Vec<u8>, XlsxError> {
        let bold = Format::new().set_bold();
        let title = Format::new().set_bold().set_font_size(14);
        let percent = Format::new().set_num_format("0.00%");
        let dash = Format::new().set_align(FormatAlign::Right);
        let write_rate =
            |sheet: &mut Worksheet, row: u32, col: u16, rate: &RateView| -> std::result::Result<(), XlsxError> {
                match rate.percent_2dp {
                    Some(bp) => sheet.write_number_with_format(row, col, f64::from(bp) / 10_000.0, &percent)?,
                    None => sheet.write_string_with_format(row, col, "—", &dash)?,
                };
                Ok(())
            };

        let mut workbook = Workbook::new();
        let mut sheet = Worksheet::new();
        sheet.set_name("年度统计")?;
        sheet.write_string_with_format(0, 0, format!("{}{}年法治政府建设统计", self.unit_name, self.year), &title)?;
        sheet.write_string(1, 0, format!("统计期间：{0}年1月1日至{0}年12月31日", self.year))?;
        let mut row = 3;
        for (col, header) in ["指标", "比率", "分子", "分母"].into_iter().enumerate() {
            sheet.write_string_with_format(row, col as u16, header, &bold)?;
        }
        for kind in RateKind::ALL {
            row += 1;
            let rate = self.rate(*kind);
            sheet.write_string(row, 0, kind.label())?;
            write_rate(&mut sheet, row, 1, &rate)?;
            sheet.write_number(row, 2, rate.numerator as f64)?;
            sheet.write_number(row, 3, rate.denominator as f64)?;
        }
        row += 2;
        sheet.write_string_with_format(row, 0, "项目", &bold)?;
        sheet.write_string_with_format(row, 1, "件数", &bold)?;
        for (label, count) in self.counts() {
            row += 1;
            sheet.write_string(row, 0, label)?;
            sheet.write_number(row, 1, count as f64)?;
        }
        sheet.set_column_width(0, 34)?;
        sheet.set_column_width(1, 12)?;
        workbook.push_worksheet(sheet);

        let mut towns = Worksheet::new();
        towns.set_name("分乡镇")?;
        let headers =
            ["乡镇（街道）", "登记", "办结", "调解成功率", "调解成功", "调解", "按期办结率", "按期办结", "应办结"];
        for (col, header) in headers.into_iter().enumerate() {
            towns.write_string_with_format(0, col as u16, header, &bold)?;
        }
        for (i, t) in self.figures.stats.townships.iter().enumerate() {
            let row = i as u32 + 1;
            towns.write_string(row, 0, self.township_name(&t.township))?;
            towns.write_number(row, 1, t.registered as f64)?;
            towns.write_number(row, 2, t.concluded as f64)?;
            write_rate(&mut towns, row, 3, &t.mediation_success)?;
            towns.write_number(row, 4, t.mediation_success.numerator as f64)?;
            towns.write_number(row, 5, t.mediation_success.denominator as f64)?;
            write_rate(&mut towns, row, 6, &t.on_time)?;
            towns.write_number(row, 7, t.on_time.numerator as f64)?;
            towns.write_number(row, 8, t.on_time.denominator as f64)?;
        }
        towns.set_column_width(0, 16)?;
        workbook.push_worksheet(towns);
        workbook.save_to_buffer()
    }
}

/// `98.87%（1140/1153）`, a full rate `100%（28/28）`, and nothing counted `—（0/0）`.
fn prose_rate(rate: &RateView) -> String {
    let percent = match rate.percent_2dp {
        Some(10_000) => "100%".to_string(),
        Some(bp) => format!("{}.{:02}%", bp / 100, bp % 100),
        None => "—".to_string(),
    };
    format!("{percent}（{}/{}）", rate.numerator, rate.denominator)
}

/// Two decimals always, `—` when nothing was counted.
fn table_rate(rate: &RateView) -> String {
    rate.percent.clone().unwrap_or_else(|| "—".to_string())
}

/// `申请600件、主动400件`: the counts under their labels, largest first; codes without a label of
/// the vocabulary (or not recorded) are counted as 其他.
fn breakdown(counts: &BTreeMap<String, u64>, label: impl Fn(&str) -> Option<&'static str>) -> String {
    let mut rows: BTreeMap<&'static str, u64> = BTreeMap::new();
    for (code, count) in counts {
        *rows.entry(label(code).unwrap_or("其他")).or_insert(0) += count;
    }
    let mut rows: Vec<(&str, u64)> = rows.into_iter().filter(|(_, n)| *n > 0).collect();
    rows.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    rows.iter().map(|(label, n)| format!("{label}{n}件")).collect::<Vec<_>>().join("、")
}

/// `Content-Disposition` with an ASCII fallback and the Chinese name encoded per RFC 5987
/// (`filename*=UTF-8''…`).
pub fn content_disposition(disposition: &str, ascii_name: &str, name: &str) -> String {
    const ATTR_CHARS: &[u8] = b"!#$&+-.^_`|~";
    let mut encoded = String::new();
    for byte in name.bytes() {
        if byte.is_ascii_alphanumeric() || ATTR_CHARS.contains(&byte) {
            encoded.push(byte as char);
        } else {
            let _ = write!(encoded, "%{byte:02X}");
        }
    }
    format!("{disposition}; filename=\"{ascii_name}\"; filename*=UTF-8''{encoded}")
}

#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AnnualReportQuery {
    /// The calendar year, e.g. `2025`.
    pub year: i32,
    /// The unit whose figures (with those of the units below it) are reported.
    pub unit: String,
    /// `text` (default), `markdown` or `xlsx`.
    pub format: Option<String>,
}

/// `GET /v1/reports/annual?year=&unit=&format=`: the annual figures, for supervisors of the unit
/// or above it. Text and Markdown are sent inline, the workbook as an attachment; the file name is
/// Chinese (RFC 5987).
#[utoipa::path(get, path = "/v1/reports/annual", params(AnnualReportQuery), security(("bearer" = [])),
    responses(
        (status = 200, description = "the report in the format asked for", content(
            (String = "text/plain; charset=utf-8"),
            (String = "text/markdown; charset=utf-8"),
            (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        ), headers(("content-disposition" = String, description = "file name, RFC 5987"))),
        (status = 400, body = crate::error::ErrorBody),
        (status = 403, body = crate::error::ErrorBody)))]
pub async fn annual(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    Query(query): Query<AnnualReportQuery>,
) -> Result<Response> {
    let format = match query.format.as_deref() {
        None | Some("") => ReportFormat::Text,
        Some(code) => code.parse().map_err(Error::BadRequest)?,
    };
    let units = unit_tree(&state).await?;
    authorize_supervisor(&principal.user, &query.unit, &units)?;
    let report = AnnualReport::build(&state.store, &units, &query.unit, query.year, today()).await?;
    let body = report.render(format)?;
    let disposition = if format == ReportFormat::Xlsx { "attachment" } else { "inline" };
    Ok((
        [
            (header::CONTENT_TYPE, format.content_type().to_string()),
            (
                header::CONTENT_DISPOSITION,
                content_disposition(disposition, &report.ascii_file_name(format), &report.file_name(format)),
            ),
        ],
        body,
    )
        .into_response())
}
