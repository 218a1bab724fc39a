//! Transaction reports: one finished daily CSV report per UTC day that has transactions
//! (parents and children, deleted payments left out). The list is `PaginatedReportAPIListList`;
//! a report's download token is a UUID derived from the seed and the day, so it stays valid
//! across restarts.

use std::collections::BTreeMap;

use serde_json::json;

use crate::clock::{EpochMs, IdSpace, id_bits, parse_day, rfc3339, utc_day};
use crate::money::format_minor;
use crate::store::{Db, StoreError};
use crate::views::{FieldErrors, field_error};

/// Page size when the request does not say.
pub const DEFAULT_PAGE_SIZE: usize = 20;
/// Largest page a request may ask for.
pub const MAX_PAGE_SIZE: usize = 100;
const DAY_MS: EpochMs = 24 * 60 * 60 * 1000;

/// The CSV columns, named like Ottu's transaction report.
pub const CSV_HEADER: &[&str] = &[
    "session_id",
    "order_no",
    "parent_session_id",
    "operation",
    "amount",
    "currency_code",
    "state",
    "pg_code",
    "created",
    "modified",
    "reference_number",
    "customer_email",
];

/// One row of a report.
struct ReportRow {
    created_at_ms: EpochMs,
    fields: Vec<String>,
}

/// Every report row, grouped by UTC day (`YYYY-MM-DD`), oldest day first.
fn rows_by_day(db: &Db<'_>) -> Result<BTreeMap<String, Vec<ReportRow>>, StoreError> {
    let payments = db.all_payments()?;
    let mut days: BTreeMap<String, Vec<ReportRow>> = BTreeMap::new();
    let mut visible = std::collections::HashMap::new();
    for p in payments.iter().filter(|p| !p.deleted) {
        visible.insert(p.session_id.as_str(), p);
        let operation = if p.state == crate::model::PaymentState::Authorized {
            "authorize"
        } else {
            "purchase"
        };
        days.entry(utc_day(p.created_at_ms))
            .or_default()
            .push(ReportRow {
                created_at_ms: p.created_at_ms,
                fields: vec![
                    p.session_id.clone(),
                    p.order_no.clone().unwrap_or_default(),
                    String::new(),
                    operation.to_owned(),
                    format_minor(p.amount, p.currency),
                    p.currency.code().to_owned(),
                    p.state.as_str().to_owned(),
                    p.pg_code.clone(),
                    rfc3339(p.created_at_ms),
                    rfc3339(p.modified_at_ms),
                    p.reference_number.clone(),
                    p.customer_email.clone().unwrap_or_default(),
                ],
            });
    }
    for c in db.all_children()? {
        let Some(parent) = visible.get(c.parent_session_id.as_str()) else {
            continue;
        };
        days.entry(utc_day(c.created_at_ms))
            .or_default()
            .push(ReportRow {
                created_at_ms: c.created_at_ms,
                fields: vec![
                    c.session_id.clone(),
                    parent.order_no.clone().unwrap_or_default(),
                    c.parent_session_id.clone(),
                    c.operation.as_str().to_owned(),
                    format_minor(c.amount, c.currency),
                    c.currency.code().to_owned(),
                    c.state.as_str().to_owned(),
                    c.pg_code.clone(),
                    rfc3339(c.created_at_ms),
                    rfc3339(c.modified_at_ms),
                    c.reference_number.clone(),
                    parent.customer_email.clone().unwrap_or_default(),
                ],
            });
    }
    for rows in days.values_mut() {
        rows.sort_by(|a, b| (a.created_at_ms, &a.fields[0]).cmp(&(b.created_at_ms, &b.fields[0])));
    }
    Ok(days)
}

/// The download token of a day's report: a UUID from the seed and the day.
pub fn token_for(seed: u64, day: &str) -> String {
    let day_ms = parse_day(day).unwrap_or(0);
    let bits = id_bits(seed, IdSpace::Report, day_ms as u64);
    uuid::Builder::from_random_bytes(bits.to_be_bytes())
        .into_uuid()
        .to_string()
}

/// Query parameters of the list endpoint.
#[derive(Debug, Default)]
pub struct ListQuery {
    pub created_after: Option<String>,
    pub created_before: Option<String>,
    pub interval: Option<String>,
    pub source: Option<String>,
    pub limit: Option<String>,
    pub offset: Option<String>,
}

/// `GET /b/api/v1/reports/files/`: a page of reports, newest first.
pub fn list(
    db: &Db<'_>,
    seed: u64,
    now_ms: EpochMs,
    base_url: &str,
    query: &ListQuery,
) -> Result<Result<String, FieldErrors>, StoreError> {
    let date = |field: &str, value: &Option<String>| -> Result<Option<EpochMs>, FieldErrors> {
        match value {
            None => Ok(None),
            Some(text) => parse_day(text).map(Some).ok_or_else(|| {
                field_error(
                    field,
                    "Date has wrong format. Use one of these formats instead: YYYY-MM-DD.",
                )
            }),
        }
    };
    let number =
        |field: &str, value: &Option<String>, default: usize| -> Result<usize, FieldErrors> {
            match value {
                None => Ok(default),
                Some(text) => text
                    .parse::<usize>()
                    .map_err(|_| field_error(field, "A valid integer is required.")),
            }
        };
    let after = match date("created_after", &query.created_after) {
        Ok(v) => v,
        Err(e) => return Ok(Err(e)),
    };
    let before = match date("created_before", &query.created_before) {
        Ok(v) => v,
        Err(e) => return Ok(Err(e)),
    };
    let limit = match number("limit", &query.limit, DEFAULT_PAGE_SIZE) {
        Ok(v) => v.clamp(1, MAX_PAGE_SIZE),
        Err(e) => return Ok(Err(e)),
    };
    let offset = match number("offset", &query.offset, 0) {
        Ok(v) => v,
        Err(e) => return Ok(Err(e)),
    };
    for (field, value, allowed) in [
        (
            "interval",
            &query.interval,
            &["daily", "weekly", "monthly", "yearly"][..],
        ),
        ("source", &query.source, &["auto", "manual"][..]),
    ] {
        if let Some(v) = value
            && !allowed.contains(&v.as_str())
        {
            return Ok(Err(field_error(
                field,
                format!("Select a valid choice. {v} is not one of the available choices."),
            )));
        }
    }
    // Only daily, automatic reports exist in the sandbox.
    let only_daily_auto = query.interval.as_deref().is_none_or(|i| i == "daily")
        && query.source.as_deref().is_none_or(|s| s == "auto");

    let days = rows_by_day(db)?;
    let mut reports = Vec::new();
    if only_daily_auto {
        for (day, rows) in days.iter().rev() {
            let start = parse_day(day).unwrap_or(0);
            if after.is_some_and(|a| start < a) || before.is_some_and(|b| start > b) {
                continue;
            }
            let generated = (start + DAY_MS).min(now_ms.max(start));
            let token = token_for(seed, day);
            reports.push(json!({
                "encrypted_id": format!("{:032x}", id_bits(seed ^ 0xE4C, IdSpace::Report, start as u64)),
                "report_name": format!("Transactions {day}"),
                "interval": "daily",
                "source": "auto",
                "file_format": "csv",
                "records_amount": rows.len(),
                "status": "finished",
                "generated_at": rfc3339(generated),
                "created_at": rfc3339(generated),
                "download_action": format!("{base_url}/b/api/v1/reports/files/{token}/download/"),
            }));
        }
    }
    let count = reports.len();
    let page: Vec<_> = reports.into_iter().skip(offset).take(limit).collect();
    let link = |offset: usize| {
        let mut url = format!("{base_url}/b/api/v1/reports/files/?limit={limit}&offset={offset}");
        for (name, value) in [
            ("created_after", &query.created_after),
            ("created_before", &query.created_before),
            ("interval", &query.interval),
            ("source", &query.source),
        ] {
            if let Some(v) = value {
                url.push_str(&format!("&{name}={v}"));
            }
        }
        url
    };
    let next = (offset + limit < count).then(|| link(offset + limit));
    let previous = (offset > 0).then(|| link(offset.saturating_sub(limit)));
    Ok(Ok(serde_json::to_string(&json!({
        "count": count,
        "next": next,
        "previous": previous,
        "results": page,
    }))
    .unwrap_or_default()))
}

/// `GET /b/api/v1/reports/files/{token}/download/`: the CSV and its file name, or `None`.
pub fn download(
    db: &Db<'_>,
    seed: u64,
    token: &str,
) -> Result<Option<(String, Vec<u8>)>, StoreError> {
    let days = rows_by_day(db)?;
    let Some((day, rows)) = days.iter().find(|(day, _)| token_for(seed, day) == token) else {
        return Ok(None);
    };
    let mut writer = csv::Writer::from_writer(Vec::new());
    let written = (|| -> Result<Vec<u8>, csv::Error> {
        writer.write_record(CSV_HEADER)?;
        for row in rows {
            writer.write_record(&row.fields)?;
        }
        writer.into_inner().map_err(|e| e.into_error().into())
    })();
    // Writing CSV into memory fails only on an I/O error, which a Vec never has.
    let bytes = written.unwrap_or_default();
    Ok(Some((format!("transactions-{day}.csv"), bytes)))
}
