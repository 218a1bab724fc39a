//! Transaction reports: one finished daily CSV report per UTC day that has transactions
//! (parents and children, deleted payments left out), and one monthly XLSX report per UTC
//! month that has ended, in a second layout: Arabic column labels, another column order,
//! amounts as numbers with the currency's number format (the merchant configured it so in
//! Ottu's dashboard, as merchants do). The list is `PaginatedReportAPIListList`; a report's
//! download token is a UUID derived from the seed and the day (or month), so it stays valid
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

/// The monthly XLSX report's columns: Ottu's Arabic labels, and for each the index of the
/// same value in [`CSV_HEADER`] (the order differs on purpose: columns are found by label).
pub const XLSX_AR_COLUMNS: &[(&str, usize)] = &[
    ("رقم الطلب", 1),
    ("رقم الجلسة", 0),
    ("رقم الجلسة الأصلية", 2),
    ("العملية", 3),
    ("الحالة", 6),
    ("المبلغ", 4),
    ("العملة", 5),
    ("الرقم المرجعي", 10),
    ("بوابة الدفع", 7),
    ("تاريخ الإنشاء", 8),
    ("تاريخ التعديل", 9),
    ("البريد الإلكتروني للعميل", 11),
];
/// Index of the amount in [`CSV_HEADER`] (written as a number in the XLSX layout).
const AMOUNT_COLUMN: usize = 4;
const CURRENCY_COLUMN: usize = 5;
/// The XLSX media type.
pub const XLSX_CONTENT_TYPE: &str =
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
pub const CSV_CONTENT_TYPE: &str = "text/csv; charset=utf-8";

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

/// The download token of a month's report (`YYYY-MM`): a UUID from the seed and the month,
/// in an id space of its own (a month starts on a day that has a daily token).
pub fn monthly_token_for(seed: u64, month: &str) -> String {
    let month_ms = parse_day(&format!("{month}-01")).unwrap_or(0);
    let bits = id_bits(seed, IdSpace::MonthlyReport, month_ms as u64);
    uuid::Builder::from_random_bytes(bits.to_be_bytes())
        .into_uuid()
        .to_string()
}

/// The start of the month after `month` (`YYYY-MM`), in epoch ms.
fn month_end_ms(month: &str) -> Option<EpochMs> {
    let year: i32 = month.get(..4)?.parse().ok()?;
    let number: u8 = month.get(5..7)?.parse().ok()?;
    let (year, number) = if number == 12 {
        (year + 1, 1)
    } else {
        (year, number + 1)
    };
    parse_day(&format!("{year:04}-{number:02}-01"))
}

/// The rows of every month (`YYYY-MM`) that has ended by `now_ms`, oldest first: a monthly
/// report exists only once its month is over, as Ottu generates it then.
fn rows_by_finished_month(
    days: &BTreeMap<String, Vec<ReportRow>>,
    now_ms: EpochMs,
) -> BTreeMap<String, Vec<&ReportRow>> {
    let mut months: BTreeMap<String, Vec<&ReportRow>> = BTreeMap::new();
    for (day, rows) in days {
        let month = &day[..7];
        if month_end_ms(month).is_some_and(|end| end <= now_ms) {
            months.entry(month.to_owned()).or_default().extend(rows);
        }
    }
    months
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
    // Only daily and monthly automatic reports exist in the sandbox.
    let auto = query.source.as_deref().is_none_or(|s| s == "auto");
    let daily = auto && query.interval.as_deref().is_none_or(|i| i == "daily");
    let monthly = auto && query.interval.as_deref().is_none_or(|i| i == "monthly");

    let days = rows_by_day(db)?;
    // (generated_at, monthly first on a tie, the report): sorted newest first below.
    let mut reports: Vec<(EpochMs, u8, serde_json::Value)> = Vec::new();
    if monthly {
        for (month, rows) in rows_by_finished_month(&days, now_ms) {
            let start = parse_day(&format!("{month}-01")).unwrap_or(0);
            let generated = month_end_ms(&month).unwrap_or(start);
            if after.is_some_and(|a| start < a) || before.is_some_and(|b| start > b) {
                continue;
            }
            let token = monthly_token_for(seed, &month);
            reports.push((generated, 0, json!({
                "encrypted_id": format!("{:032x}", id_bits(seed ^ 0xE4C, IdSpace::MonthlyReport, start as u64)),
                "report_name": format!("المعاملات {month}"),
                "interval": "monthly",
                "source": "auto",
                "file_format": "xlsx",
                "records_amount": rows.len(),
                "status": "finished",
                "generated_at": rfc3339(generated),
                "created_at": rfc3339(generated),
                "download_action": format!("{base_url}/b/api/v1/reports/files/{token}/download/"),
            })));
        }
    }
    if daily {
        for (day, rows) in days.iter().rev() {
            let start = parse_day(day).unwrap_or(0);
            if after.is_some_and(|a| start < a) || before.is_some_and(|b| start > b) {
                continue;
            }
            let generated = (start + DAY_MS).min(now_ms.max(start));
            let token = token_for(seed, day);
            reports.push((generated, 1, json!({
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
            })));
        }
    }
    reports.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    let reports: Vec<serde_json::Value> = reports.into_iter().map(|(_, _, r)| r).collect();
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

/// A downloaded report: its file name, media type and bytes.
pub struct ReportFile {
    pub file_name: String,
    pub content_type: &'static str,
    pub bytes: Vec<u8>,
}

/// `GET /b/api/v1/reports/files/{token}/download/`: a daily CSV or a monthly XLSX, or `None`.
pub fn download(
    db: &Db<'_>,
    seed: u64,
    now_ms: EpochMs,
    token: &str,
) -> Result<Option<ReportFile>, StoreError> {
    let days = rows_by_day(db)?;
    if let Some((day, rows)) = days.iter().find(|(day, _)| token_for(seed, day) == token) {
        return Ok(Some(ReportFile {
            file_name: format!("transactions-{day}.csv"),
            content_type: CSV_CONTENT_TYPE,
            bytes: daily_csv(rows),
        }));
    }
    let months = rows_by_finished_month(&days, now_ms);
    let Some((month, rows)) = months
        .iter()
        .find(|(month, _)| monthly_token_for(seed, month) == token)
    else {
        return Ok(None);
    };
    let bytes = monthly_xlsx(rows).map_err(|e| StoreError::Corrupt {
        what: "monthly report",
        value: e.to_string(),
    })?;
    Ok(Some(ReportFile {
        file_name: format!("transactions-{month}.xlsx"),
        content_type: XLSX_CONTENT_TYPE,
        bytes,
    }))
}

fn daily_csv(rows: &[ReportRow]) -> Vec<u8> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let written = (|| -> Result<Vec<u8>, csv::Error> {
        writer.write_record(CSV_HEADER)?;
        for row in rows {
            writer.write_record(&row.fields)?;
        }
        writer.into_inner().map_err(|e| e.into_error().into())
    })();
    // Writing CSV into memory fails only on an I/O error, which a Vec never has.
    written.unwrap_or_default()
}

/// The monthly report: one sheet, right-to-left, Arabic labels ([`XLSX_AR_COLUMNS`]),
/// amounts as numbers formatted with the currency's decimals, everything else as text
/// (times stay RFC 3339 text with milliseconds, exactly as the API and the CSV give them).
/// The workbook's creation time is fixed, so the same data gives the same bytes.
fn monthly_xlsx(rows: &[&ReportRow]) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    use rust_xlsxwriter::{DocProperties, ExcelDateTime, Format, Workbook};

    let mut workbook = Workbook::new();
    let created = ExcelDateTime::from_ymd(2026, 1, 1)?;
    workbook.set_properties(&DocProperties::new().set_creation_datetime(&created));
    let bold = Format::new().set_bold();
    let formats: Vec<Format> = (0..=3)
        .map(|decimals| {
            let pattern = if decimals == 0 {
                "#,##0".to_owned()
            } else {
                format!("#,##0.{}", "0".repeat(decimals))
            };
            Format::new().set_num_format(pattern)
        })
        .collect();
    let sheet = workbook.add_worksheet();
    sheet.set_name("المعاملات")?;
    sheet.set_right_to_left(true);
    for (col, (label, _)) in XLSX_AR_COLUMNS.iter().enumerate() {
        sheet.write_string_with_format(0, col as u16, *label, &bold)?;
        sheet.set_column_width(col as u16, if col < 3 { 34 } else { 16 })?;
    }
    for (i, row) in rows.iter().enumerate() {
        let r = i as u32 + 1;
        let currency = crate::money::Currency::from_code(&row.fields[CURRENCY_COLUMN]);
        for (col, (_, source)) in XLSX_AR_COLUMNS.iter().enumerate() {
            let text = &row.fields[*source];
            let amount = (*source == AMOUNT_COLUMN)
                .then_some(currency)
                .flatten()
                .and_then(|c| text.parse::<f64>().ok().map(|v| (v, c.decimals())));
            match amount {
                // Every sandbox amount (at most 13 digits and 3 decimals) reads back from the
                // f64's shortest text exactly as written.
                Some((value, decimals)) => {
                    sheet.write_number_with_format(
                        r,
                        col as u16,
                        value,
                        &formats[decimals as usize],
                    )?;
                }
                None if text.is_empty() => {}
                None => {
                    sheet.write_string(r, col as u16, text)?;
                }
            }
        }
    }
    workbook.save_to_buffer()
}
