//! Reading tabular files (CSV, XLSX) as a stream of records ([`reader`]), the values
//! spreadsheets write ([`values`]), and mapping columns to fields by header (built-in
//! English and Arabic labels, and a profile's own mapping: [`mapping`]). Shared by report
//! import, reconciliation and settlement files; what a row means is theirs.

pub mod mapping;
pub mod reader;
pub mod rejects;
pub mod values;

use serde_json::json;
use thiserror::Error;

pub use mapping::{FileKind, MappedColumn, Mapping, parse_override};
pub use reader::{Record, TableFormat, TableReader};
pub use rejects::RejectsFile;
pub use values::{parse_amount, parse_date, parse_signed_amount, parse_timestamp};

use crate::error::{Error, Params, params};

/// A file that cannot be read as a table.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum TabularError {
    #[error("cannot open {path}: {detail}")]
    Open { path: String, detail: String },
    #[error("{path} has no header row: the first row must name the columns")]
    NoHeader { path: String },
    #[error("{path} has {columns} columns: at most {max} are read")]
    TooWide {
        path: String,
        columns: usize,
        max: usize,
    },
    #[error(
        "{path} line {line} is not UTF-8 text: save the file as \"CSV UTF-8\" (or as XLSX) and try again"
    )]
    NotUtf8 { path: String, line: u64 },
    #[error("{path} cannot be read at line {line}: {detail}")]
    Read {
        path: String,
        line: u64,
        detail: String,
    },
    #[error("{path} is not a readable XLSX workbook: {detail}")]
    BadWorkbook { path: String, detail: String },
}

impl TabularError {
    pub(crate) fn open(path: &std::path::Path, e: std::io::Error) -> TabularError {
        TabularError::Open {
            path: path.display().to_string(),
            detail: e.to_string(),
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            TabularError::Open { .. } => "table.unreadable",
            TabularError::NoHeader { .. } => "table.no_header",
            TabularError::TooWide { .. } => "table.too_wide",
            TabularError::NotUtf8 { .. } => "table.encoding",
            TabularError::Read { .. } => "table.bad_row",
            TabularError::BadWorkbook { .. } => "table.bad_xlsx",
        }
    }

    pub fn params(&self) -> Params {
        match self {
            TabularError::Open { path, detail } | TabularError::BadWorkbook { path, detail } => {
                params(json!({ "file": path, "detail": detail }))
            }
            TabularError::NoHeader { path } => params(json!({ "file": path })),
            TabularError::TooWide { path, columns, max } => {
                params(json!({ "file": path, "columns": columns, "max": max }))
            }
            TabularError::NotUtf8 { path, line } => params(json!({ "file": path, "line": line })),
            TabularError::Read { path, line, detail } => {
                params(json!({ "file": path, "line": line, "detail": detail }))
            }
        }
    }
}

/// A cell whose text is not the value its column holds. Each becomes a rejected row.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum ValueError {
    #[error("'{value}' is not an amount in {currency}")]
    NotAnAmount { value: String, currency: String },
    #[error("'{value}' has more decimals than {currency} allows: at most {decimals}")]
    TooPrecise {
        value: String,
        currency: String,
        decimals: u32,
    },
    #[error("'{value}' is negative: an amount here must be zero or more")]
    Negative { value: String },
    #[error(
        "'{value}' is not a date and time (e.g. 2026-11-03T14:22:05Z, 2026-11-03 14:22, 03/11/2026 14:22)"
    )]
    NotATime { value: String },
    #[error("'{value}' is not a date (e.g. 2026-11-03 or 03/11/2026)")]
    NotADate { value: String },
}

impl ValueError {
    pub fn code(&self) -> &'static str {
        match self {
            ValueError::NotAnAmount { .. } => "value.not_amount",
            ValueError::TooPrecise { .. } => "value.too_precise",
            ValueError::Negative { .. } => "value.negative",
            ValueError::NotATime { .. } => "value.not_time",
            ValueError::NotADate { .. } => "value.not_date",
        }
    }

    pub fn params(&self) -> Params {
        match self {
            ValueError::NotAnAmount { value, currency } => {
                params(json!({ "value": value, "currency": currency }))
            }
            ValueError::TooPrecise {
                value,
                currency,
                decimals,
            } => params(
                json!({ "value": value, "currency": currency, "allowed_decimals": decimals }),
            ),
            ValueError::Negative { value }
            | ValueError::NotATime { value }
            | ValueError::NotADate { value } => params(json!({ "value": value })),
        }
    }
}

/// The file's columns cannot be mapped to the fields it must hold.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum MappingError {
    #[error(
        "the {kind} has no column for {field}: map one of its columns to {field}; its headers are: {}",
        headers.join(", ")
    )]
    MissingField {
        field: String,
        kind: &'static str,
        headers: Vec<String>,
    },
    #[error(
        "the settlement file has no column for order_no or reference (RRN, auth code): map one; its headers are: {}",
        headers.join(", ")
    )]
    MissingReference { headers: Vec<String> },
    #[error(
        "'{field}' is not a field of a {kind}: allowed are {allowed}, or - to ignore the column"
    )]
    UnknownField {
        field: String,
        kind: &'static str,
        allowed: String,
    },
    #[error("the file has no column '{header}'; its headers are: {}", headers.join(", "))]
    NoSuchHeader {
        header: String,
        headers: Vec<String>,
    },
    #[error(
        "'{text}' is not HEADER=field (e.g. \"Txn Ref=session_id\", or \"Notes=-\" to ignore a column)"
    )]
    BadOverride { text: String },
    #[error("{field} is mapped to more than one column: {}", headers.join(", "))]
    DuplicateField { field: String, headers: Vec<String> },
}

impl MappingError {
    pub fn code(&self) -> &'static str {
        match self {
            MappingError::MissingField { .. } => "mapping.missing_field",
            MappingError::MissingReference { .. } => "mapping.missing_reference",
            MappingError::UnknownField { .. } => "mapping.unknown_field",
            MappingError::NoSuchHeader { .. } => "mapping.no_such_header",
            MappingError::BadOverride { .. } => "mapping.bad_override",
            MappingError::DuplicateField { .. } => "mapping.duplicate_field",
        }
    }

    pub fn params(&self) -> Params {
        match self {
            MappingError::MissingField {
                field,
                kind,
                headers,
            } => params(json!({ "field": field, "kind": kind, "headers": headers })),
            MappingError::MissingReference { headers } => params(json!({ "headers": headers })),
            MappingError::UnknownField {
                field,
                kind,
                allowed,
            } => params(json!({ "field": field, "kind": kind, "allowed": allowed })),
            MappingError::NoSuchHeader { header, headers } => {
                params(json!({ "header": header, "headers": headers }))
            }
            MappingError::BadOverride { text } => params(json!({ "value": text })),
            MappingError::DuplicateField { field, headers } => {
                params(json!({ "field": field, "headers": headers }))
            }
        }
    }
}

/// Builds bad input with the error's own code and params (the codes are registered, bad
/// input in the registry: exit 2).
fn invalid(field: &'static str, code: &'static str, message: String, p: Params) -> Error {
    Error::Invalid {
        field,
        code,
        message,
        params: p,
    }
}

impl From<TabularError> for Error {
    fn from(e: TabularError) -> Error {
        invalid("file", e.code(), e.to_string(), e.params())
    }
}

impl From<MappingError> for Error {
    fn from(e: MappingError) -> Error {
        invalid("map", e.code(), e.to_string(), e.params())
    }
}

impl From<ValueError> for Error {
    fn from(e: ValueError) -> Error {
        invalid("value", e.code(), e.to_string(), e.params())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{ErrorKind, codes};

    #[test]
    fn every_code_is_registered_as_bad_input() {
        let errors: Vec<Error> = vec![
            TabularError::NoHeader {
                path: "r.csv".into(),
            }
            .into(),
            TabularError::NotUtf8 {
                path: "r.csv".into(),
                line: 3,
            }
            .into(),
            MappingError::BadOverride { text: "x".into() }.into(),
            ValueError::NotADate { value: "x".into() }.into(),
        ];
        for e in errors {
            assert!(codes::lookup(e.code()).is_some(), "{}", e.code());
            assert_eq!(e.kind(), ErrorKind::InvalidInput, "{}", e.code());
        }
        let e: Error = TabularError::NotUtf8 {
            path: "r.csv".into(),
            line: 3,
        }
        .into();
        assert_eq!(e.params()["line"], 3);
        assert_eq!(e.field(), Some("file"));
    }
}
