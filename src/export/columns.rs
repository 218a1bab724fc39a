//! The columns of each export: key, English and Arabic header, and the kind of cell.
//!
//! Headers reuse the labels Ottu's reports use where the column means the same thing
//! ("Session ID", "Order No", "Amount", "Refunded Amount", "الرقم المرجعي", ...), so a
//! ledger export reads back through the report import's built-in mapping.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// The language of the header row (and of nothing else: values are the ledger's words).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum Lang {
    #[default]
    En,
    Ar,
}

impl Lang {
    pub fn parse(text: &str) -> Option<Lang> {
        match text {
            "en" => Some(Lang::En),
            "ar" => Some(Lang::Ar),
            _ => None,
        }
    }
}

/// What a column holds, which decides how each format writes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CellKind {
    /// Text: neutralised against formula injection.
    Text,
    /// An amount in the row's currency: exact decimal text in CSV, a number with the
    /// currency's format in XLSX (text when no double holds it exactly).
    Amount,
    /// An instant: ISO 8601 UTC text in CSV, an Excel date-time (UTC) in XLSX.
    Instant,
    /// A whole number (an id, a count).
    Integer,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Column {
    pub key: &'static str,
    pub en: &'static str,
    pub ar: &'static str,
    pub kind: CellKind,
}

impl Column {
    pub fn header(&self, lang: Lang) -> &'static str {
        match lang {
            Lang::En => self.en,
            Lang::Ar => self.ar,
        }
    }
}

const fn col(key: &'static str, en: &'static str, ar: &'static str, kind: CellKind) -> Column {
    Column { key, en, ar, kind }
}

use CellKind::{Amount, Instant, Integer, Text};

/// `export ledger`: one row per payment, with its balances.
pub const LEDGER: &[Column] = &[
    col("session_id", "Session ID", "رقم الجلسة", Text),
    col("order_no", "Order No", "رقم الطلب", Text),
    col("profile", "Profile", "الملف", Text),
    col("created", "Created", "تاريخ الإنشاء", Instant),
    col("state", "State", "الحالة", Text),
    col("currency", "Currency", "العملة", Text),
    col("amount", "Amount", "المبلغ", Amount),
    col("paid", "Paid", "المدفوع", Amount),
    col("captured", "Captured Amount", "المبلغ المحصل", Amount),
    col("refunded", "Refunded Amount", "المبلغ المسترد", Amount),
    col("voided", "Voided Amount", "المبلغ الملغى", Amount),
    col("pending", "Pending", "قيد الانتظار", Amount),
    col("pg_code", "Payment Gateway", "بوابة الدفع", Text),
    col(
        "reference_number",
        "Reference Number",
        "الرقم المرجعي",
        Text,
    ),
    col(
        "customer_email",
        "Customer Email",
        "البريد الإلكتروني للعميل",
        Text,
    ),
    col("customer_phone", "Customer Phone", "هاتف العميل", Text),
    col(
        "customer_reference",
        "Customer Reference",
        "مرجع العميل",
        Text,
    ),
    col("source", "Source", "المصدر", Text),
    col("fees", "Fees", "الرسوم", Amount),
];

/// `export operations`: one row per operation the merchant asked for (with the child
/// transaction it made, if any), then one per child transaction no operation of this
/// ledger made (seen at Ottu). Refunds are negative.
pub const OPERATIONS: &[Column] = &[
    col("session_id", "Session ID", "رقم الجلسة", Text),
    col(
        "parent_session_id",
        "Parent Session ID",
        "رقم الجلسة الأصلية",
        Text,
    ),
    col("order_no", "Order No", "رقم الطلب", Text),
    col("profile", "Profile", "الملف", Text),
    col("operation", "Operation", "العملية", Text),
    col("state", "State", "الحالة", Text),
    col("status", "Status in Daftar", "الحالة في دفتر", Text),
    col("currency", "Currency", "العملة", Text),
    col("amount", "Amount", "المبلغ", Amount),
    col("created", "Created", "تاريخ الإنشاء", Instant),
    col(
        "reference_number",
        "Reference Number",
        "الرقم المرجعي",
        Text,
    ),
    col("requested_by", "Requested By", "طلبها", Text),
    col("reason", "Reason", "السبب", Text),
];

/// `export reconciliation`: one row per classified payment of one reconciliation.
pub const RECONCILIATION: &[Column] = &[
    col("item", "Item", "البند", Integer),
    col("class", "Class", "التصنيف", Text),
    col("session_id", "Session ID", "رقم الجلسة", Text),
    col("order_no", "Order No", "رقم الطلب", Text),
    col("currency", "Currency", "العملة", Text),
    col("ledger_state", "Ledger State", "الحالة في الدفتر", Text),
    col("report_state", "Report State", "الحالة في التقرير", Text),
    col("ledger_amount", "Ledger Amount", "المبلغ في الدفتر", Amount),
    col(
        "report_amount",
        "Report Amount",
        "المبلغ في التقرير",
        Amount,
    ),
    col("difference", "Difference", "الفرق", Amount),
    col("decision", "Decision", "القرار", Text),
    col("decided", "Decided", "تاريخ القرار", Instant),
    col("decided_by", "Decided By", "صاحب القرار", Text),
];

/// The reconciliation's `Summary` sheet: one row per class and currency.
pub const SUMMARY_CLASSES: &[Column] = &[
    col("class", "Class", "التصنيف", Text),
    col("currency", "Currency", "العملة", Text),
    col("count", "Count", "العدد", Integer),
    col("ledger_amount", "Ledger Amount", "المبلغ في الدفتر", Amount),
    col(
        "report_amount",
        "Report Amount",
        "المبلغ في التقرير",
        Amount,
    ),
];

/// The totals block (XLSX `Summary` sheet and every XLSX export's closing block).
pub const TOTALS: &[Column] = &[
    col("total", "Totals", "الإجماليات", Text),
    col("currency", "Currency", "العملة", Text),
    col("paid", "Paid", "المدفوع", Amount),
    col("captured", "Captured", "المحصل", Amount),
    col("refunded", "Refunded", "المسترد", Amount),
    col("voided", "Voided", "الملغى", Amount),
    col("pending", "Pending", "قيد الانتظار", Amount),
    col("fees", "Fees", "الرسوم", Amount),
];

/// The labels of the reconciliation's `Summary` sheet, in both languages.
pub const SUMMARY_LABELS: &[(&str, &str, &str)] = &[
    ("reconciliation", "Reconciliation", "المطابقة"),
    ("profile", "Profile", "الملف"),
    ("from", "From", "من"),
    ("to", "To", "إلى"),
    ("source", "Report", "التقرير"),
    ("created", "Reconciled at", "تاريخ المطابقة"),
    ("classes", "Classes", "التصنيفات"),
    ("ledger_totals", "Ledger totals", "إجماليات الدفتر"),
    ("report_totals", "Report totals", "إجماليات التقرير"),
];

/// A `Summary` label by key (the key itself if unknown: a bug shows, never a blank).
pub fn summary_label(key: &'static str, lang: Lang) -> &'static str {
    SUMMARY_LABELS
        .iter()
        .find(|(k, _, _)| *k == key)
        .map_or(key, |(_, en, ar)| match lang {
            Lang::En => en,
            Lang::Ar => ar,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_unique_and_every_header_is_translated() {
        for columns in [LEDGER, OPERATIONS, RECONCILIATION, SUMMARY_CLASSES, TOTALS] {
            let mut keys: Vec<_> = columns.iter().map(|c| c.key).collect();
            keys.sort_unstable();
            keys.dedup();
            assert_eq!(keys.len(), columns.len());
            for c in columns {
                assert!(!c.en.is_empty() && !c.ar.is_empty());
                assert_ne!(c.en, c.ar);
                assert!(!crate::export::cells::is_dangerous(c.en));
                assert!(!crate::export::cells::is_dangerous(c.ar));
            }
        }
    }
}
