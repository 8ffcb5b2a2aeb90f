//! Official case numbers (DESIGN §3): the number the server writes when a case opened on a device
//! first arrives, from the opening unit's format and its yearly counter.
//!
//! A unit may carry its own format (`case_number_format` in the organisation file, or
//! `fengqiao unit add --case-number-format`), checked when it is given, never when a case arrives.
//! Placeholders: `{year}`, `{unit}` (the unit's name), `{word}` (调 for a dispute, 信 for a
//! petition), `{number}` and a zero-padded `{number:04}` (1 to 9 digits). Both `{year}` and
//! `{number}` are required: the counter starts again at 1 every year, so a format without either
//! would repeat numbers. Without a format a unit numbers `（{year}）{unit}{word}字第{number}号`.

use std::fmt;
use std::str::FromStr;

use fengqiao_schema::vocab::CaseKind;

/// The format of units that have none of their own: `（2026）东溪镇调字第12号`.
pub const DEFAULT_FORMAT: &str = "（{year}）{unit}{word}字第{number}号";

/// The longest format accepted, in characters.
const MAX_CHARS: usize = 100;

/// A checked case-number format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseNumberFormat {
    text: String,
    pieces: Vec<Piece>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Literal(String),
    Year,
    Unit,
    Word,
    /// Zero-padded to `width` digits when given.
    Number {
        width: Option<usize>,
    },
}

/// Why a format is refused; the text is for the administrator who typed it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CaseNumberFormatError {
    #[error("案号格式不能为空")]
    Empty,
    #[error("案号格式不能超过 {MAX_CHARS} 个字符")]
    TooLong,
    #[error("案号格式不能包含换行等控制字符")]
    ControlCharacter,
    #[error("案号格式中的「{{」没有配对的「}}」")]
    Unclosed,
    #[error("案号格式中的「}}」没有配对的「{{」")]
    UnmatchedClose,
    #[error(
        "案号格式中的占位符「{{{0}}}」无法识别；可用 {{year}}、{{unit}}、{{word}}、{{number}} 或补零的 {{number:04}}"
    )]
    UnknownPlaceholder(String),
    #[error("序号位数「{0}」无效：应写作 {{number:0N}}，N 为 1 到 9（如 {{number:04}}）")]
    BadWidth(String),
    #[error("案号格式必须包含 {{year}}（年度）和 {{number}}（序号）：序号每年从 1 重新编起，缺少任一项案号都会重复")]
    MissingYearOrNumber,
}

impl CaseNumberFormat {
    pub fn parse(text: &str) -> Result<CaseNumberFormat, CaseNumberFormatError> {
        if text.trim().is_empty() {
            return Err(CaseNumberFormatError::Empty);
        }
        if text.chars().count() > MAX_CHARS {
            return Err(CaseNumberFormatError::TooLong);
        }
        if text.chars().any(char::is_control) {
            return Err(CaseNumberFormatError::ControlCharacter);
        }
        let mut pieces = Vec::new();
        let mut literal = String::new();
        let mut rest = text;
        while let Some(c) = rest.chars().next() {
            match c {
                '{' => {
                    let end = rest.find('}').ok_or(CaseNumberFormatError::Unclosed)?;
                    let name = &rest[1..end];
                    if name.contains('{') {
                        return Err(CaseNumberFormatError::Unclosed);
                    }
                    if !literal.is_empty() {
                        pieces.push(Piece::Literal(std::mem::take(&mut literal)));
                    }
                    pieces.push(placeholder(name)?);
                    rest = &rest[end + 1..];
                }
                '}' => return Err(CaseNumberFormatError::UnmatchedClose),
                _ => {
                    literal.push(c);
                    rest = &rest[c.len_utf8()..];
                }
            }
        }
        if !literal.is_empty() {
            pieces.push(Piece::Literal(literal));
        }
        let has_year = pieces.contains(&Piece::Year);
        let has_number = pieces.iter().any(|p| matches!(p, Piece::Number { .. }));
        if !has_year || !has_number {
            return Err(CaseNumberFormatError::MissingYearOrNumber);
        }
        Ok(CaseNumberFormat { text: text.to_string(), pieces })
    }

    /// The format as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The case number of the `number`th case of `year` opened by the unit named `unit_name`.
    pub fn render(&self, year: i32, unit_name: &str, kind: Option<CaseKind>, number: i64) -> String {
        let mut out = String::new();
        for piece in &self.pieces {
            match piece {
                Piece::Literal(text) => out.push_str(text),
                Piece::Year => out.push_str(&year.to_string()),
                Piece::Unit => out.push_str(unit_name),
                Piece::Word => out.push_str(word(kind)),
                Piece::Number { width: Some(width) } => out.push_str(&format!("{number:0width$}")),
                Piece::Number { width: None } => out.push_str(&number.to_string()),
            }
        }
        out
    }
}

fn placeholder(name: &str) -> Result<Piece, CaseNumberFormatError> {
    Ok(match name {
        "year" => Piece::Year,
        "unit" => Piece::Unit,
        "word" => Piece::Word,
        "number" => Piece::Number { width: None },
        _ => match name.strip_prefix("number:") {
            Some(spec) => {
                let bad = || CaseNumberFormatError::BadWidth(spec.to_string());
                let digits = spec.strip_prefix('0').ok_or_else(bad)?;
                let width: usize = digits.parse().map_err(|_| bad())?;
                if !(1..=9).contains(&width) || digits.len() != 1 {
                    return Err(bad());
                }
                Piece::Number { width: Some(width) }
            }
            None => return Err(CaseNumberFormatError::UnknownPlaceholder(name.to_string())),
        },
    })
}

/// 调 for a dispute, 信 for a petition.
fn word(kind: Option<CaseKind>) -> &'static str {
    match kind {
        Some(CaseKind::Petition) => "信",
        _ => "调",
    }
}

impl Default for CaseNumberFormat {
    fn default() -> CaseNumberFormat {
        CaseNumberFormat::parse(DEFAULT_FORMAT).expect("the default case-number format is valid")
    }
}

impl FromStr for CaseNumberFormat {
    type Err = CaseNumberFormatError;
    fn from_str(text: &str) -> Result<CaseNumberFormat, CaseNumberFormatError> {
        CaseNumberFormat::parse(text)
    }
}

impl fmt::Display for CaseNumberFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}
