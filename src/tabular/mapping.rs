//! Which column holds which field. Merchants configure their own report columns in Ottu,
//! each with an English and an Arabic label, so columns are found by header: the built-in
//! labels below, then the profile's saved `column_maps`, then this run's `HEADER=field`
//! overrides (the later wins). Headers compare trimmed, case-folded, with `_` as a space,
//! inner whitespace collapsed, and Arabic written with or without hamza forms, tatweel and
//! diacritics (`الأصلية` = `الاصلية`).

use rusqlite::{Transaction, params};
use serde::{Deserialize, Serialize};

use super::MappingError;
use super::reader::Record;
use crate::model::ProfileId;

/// The two kinds of file whose columns are mapped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum FileKind {
    Report,
    Settlement,
}

impl FileKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FileKind::Report => "report",
            FileKind::Settlement => "settlement",
        }
    }

    /// The fields a file of this kind can hold, in the order they are listed.
    pub fn fields(self) -> &'static [FieldSpec] {
        match self {
            FileKind::Report => REPORT_FIELDS,
            FileKind::Settlement => SETTLEMENT_FIELDS,
        }
    }

    fn field(self, name: &str) -> Option<&'static FieldSpec> {
        self.fields().iter().find(|f| f.name == name)
    }
}

/// A field a column can hold, whether a file must have it, and the labels that name it.
#[derive(Debug)]
pub struct FieldSpec {
    pub name: &'static str,
    pub required: bool,
    /// Built-in headers (any case, `_` or space): the field's own name, Ottu's English and
    /// Arabic labels, and common variants.
    pub labels: &'static [&'static str],
}

const fn f(name: &'static str, required: bool, labels: &'static [&'static str]) -> FieldSpec {
    FieldSpec {
        name,
        required,
        labels,
    }
}

/// What a column mapped to `-` holds: nothing to read.
pub const IGNORED: &str = "-";

/// Ottu transaction report fields.
pub const REPORT_FIELDS: &[FieldSpec] = &[
    f("session_id", true, &["session id", "session", "رقم الجلسة"]),
    f(
        "order_no",
        false,
        &[
            "order no",
            "order number",
            "order no.",
            "order #",
            "رقم الطلب",
        ],
    ),
    f(
        "parent_session_id",
        false,
        &["parent session id", "parent session", "رقم الجلسة الأصلية"],
    ),
    f(
        "operation",
        false,
        &["operation", "transaction type", "العملية"],
    ),
    f("amount", true, &["amount", "transaction amount", "المبلغ"]),
    f("currency", true, &["currency", "currency code", "العملة"]),
    f("state", true, &["state", "status", "الحالة"]),
    f(
        "pg_code",
        false,
        &[
            "pg code",
            "payment gateway",
            "gateway code",
            "gateway",
            "بوابة الدفع",
        ],
    ),
    f(
        "created",
        false,
        &["created", "created at", "creation date", "تاريخ الإنشاء"],
    ),
    f(
        "modified",
        false,
        &[
            "modified",
            "modified at",
            "updated at",
            "last modified",
            "تاريخ التعديل",
        ],
    ),
    f(
        "reference_number",
        false,
        &[
            "reference number",
            "reference no",
            "reference",
            "الرقم المرجعي",
        ],
    ),
    f(
        "refunded_amount",
        false,
        &["refunded amount", "refunded", "المبلغ المسترد"],
    ),
    f(
        "captured_amount",
        false,
        &["captured amount", "captured", "المبلغ المحصل"],
    ),
    f(
        "voided_amount",
        false,
        &["voided amount", "voided", "المبلغ الملغى"],
    ),
    f(
        "customer_email",
        false,
        &["customer email", "email", "البريد الإلكتروني للعميل"],
    ),
];

/// Acquirer or bank settlement file fields. `currency` is not required here: a file
/// without it is in the profile's currency (the settlement module decides).
pub const SETTLEMENT_FIELDS: &[FieldSpec] = &[
    f(
        "order_no",
        false,
        &["order no", "order number", "order no.", "رقم الطلب"],
    ),
    f(
        "reference",
        false,
        &[
            "reference",
            "rrn",
            "auth code",
            "authorization code",
            "retrieval reference number",
            "reference number",
            "الرقم المرجعي",
        ],
    ),
    f(
        "amount",
        true,
        &["amount", "transaction amount", "gross amount", "المبلغ"],
    ),
    f("fee", false, &["fee", "fees", "commission", "الرسوم"]),
    f("net", false, &["net", "net amount", "الصافي"]),
    f("currency", false, &["currency", "currency code", "العملة"]),
    f(
        "settled_on",
        true,
        &[
            "settlement date",
            "settled on",
            "settled",
            "value date",
            "تاريخ التسوية",
        ],
    ),
];

/// A header as it is compared: see the module docs.
pub fn normalize_header(header: &str) -> String {
    let mut out = String::with_capacity(header.len());
    let mut space = false;
    for c in header.chars() {
        let c = match c {
            '_' => ' ',
            'أ' | 'إ' | 'آ' | 'ٱ' => 'ا',
            // Tatweel, Arabic diacritics, BOM, zero-width and direction marks: invisible.
            '\u{0640}' | '\u{064B}'..='\u{0652}' | '\u{FEFF}' | '\u{200B}'..='\u{200F}' => {
                continue;
            }
            c => c,
        };
        if c.is_whitespace() {
            space = !out.is_empty();
            continue;
        }
        if space {
            out.push(' ');
            space = false;
        }
        out.extend(c.to_lowercase());
    }
    out
}

/// One column of the file and the field it holds (`None`: ignored).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct MappedColumn {
    pub header: String,
    pub field: Option<String>,
}

/// The columns of one file resolved to fields.
#[derive(Clone, Debug)]
pub struct Mapping {
    kind: FileKind,
    headers: Vec<String>,
    /// For each column, the field it holds.
    by_column: Vec<Option<&'static str>>,
    /// For each mapped field, its column.
    by_field: Vec<(&'static str, usize)>,
}

/// Where a column's field came from: an explicit choice beats a built-in label.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Source {
    BuiltIn,
    Saved,
    Override,
}

impl Mapping {
    /// Built-in labels + the profile's saved `column_maps` + `HEADER=field` overrides (the
    /// later wins; `HEADER=-` ignores a column). A saved header not in this file is
    /// skipped (a profile's mapping covers all its files); an override naming a header the
    /// file lacks is an error. When two columns claim one field, an explicit choice wins
    /// over a built-in label, and of two built-in ones the first column wins. Error if a
    /// required field has no column (it names the field and lists the headers).
    pub fn resolve(
        kind: FileKind,
        headers: &[String],
        saved: &[(String, String)],
        overrides: &[(String, String)],
    ) -> Result<Mapping, MappingError> {
        let normalized: Vec<String> = headers.iter().map(|h| normalize_header(h)).collect();
        let mut chosen: Vec<Option<(&'static str, Source)>> = normalized
            .iter()
            .map(|h| {
                kind.fields()
                    .iter()
                    .find(|spec| {
                        normalize_header(spec.name) == *h
                            || spec.labels.iter().any(|l| normalize_header(l) == *h)
                    })
                    .map(|spec| (spec.name, Source::BuiltIn))
            })
            .collect();
        let mut explicit = |pairs: &[(String, String)], source: Source| {
            for (header, field) in pairs {
                let field = field.trim();
                let target = if field == IGNORED {
                    IGNORED
                } else {
                    kind.field(field)
                        .ok_or_else(|| MappingError::UnknownField {
                            field: field.to_string(),
                            kind: kind.as_str(),
                            allowed: kind
                                .fields()
                                .iter()
                                .map(|f| f.name)
                                .collect::<Vec<_>>()
                                .join(", "),
                        })?
                        .name
                };
                let key = normalize_header(header);
                let columns: Vec<usize> = (0..normalized.len())
                    .filter(|&i| normalized[i] == key)
                    .collect();
                if columns.is_empty() {
                    if source == Source::Override {
                        return Err(MappingError::NoSuchHeader {
                            header: header.clone(),
                            headers: headers.to_vec(),
                        });
                    }
                    continue;
                }
                for i in columns {
                    chosen[i] = Some((target, source));
                }
            }
            Ok(())
        };
        explicit(saved, Source::Saved)?;
        explicit(overrides, Source::Override)?;

        let mut by_column: Vec<Option<&'static str>> = vec![None; headers.len()];
        let mut by_field: Vec<(&'static str, usize)> = Vec::new();
        for spec in kind.fields() {
            let claims: Vec<(usize, Source)> = chosen
                .iter()
                .enumerate()
                .filter_map(|(i, c)| {
                    c.filter(|(name, _)| *name == spec.name)
                        .map(|(_, s)| (i, s))
                })
                .collect();
            let Some(best) = claims.iter().map(|(_, s)| *s).max() else {
                continue;
            };
            let winners: Vec<usize> = claims
                .iter()
                .filter(|(_, s)| *s == best)
                .map(|(i, _)| *i)
                .collect();
            if best != Source::BuiltIn && winners.len() > 1 {
                return Err(MappingError::DuplicateField {
                    field: spec.name.to_string(),
                    headers: winners.iter().map(|&i| headers[i].clone()).collect(),
                });
            }
            by_column[winners[0]] = Some(spec.name);
            by_field.push((spec.name, winners[0]));
        }
        for spec in kind.fields().iter().filter(|s| s.required) {
            if !by_field.iter().any(|(name, _)| *name == spec.name) {
                return Err(MappingError::MissingField {
                    field: spec.name.to_string(),
                    kind: kind.as_str(),
                    headers: headers.to_vec(),
                });
            }
        }
        if kind == FileKind::Settlement
            && !by_field
                .iter()
                .any(|(name, _)| matches!(*name, "order_no" | "reference"))
        {
            return Err(MappingError::MissingReference {
                headers: headers.to_vec(),
            });
        }
        Ok(Mapping {
            kind,
            headers: headers.to_vec(),
            by_column,
            by_field,
        })
    }

    pub fn kind(&self) -> FileKind {
        self.kind
    }

    pub fn headers(&self) -> &[String] {
        &self.headers
    }

    /// The column holding `field`, if mapped: for loops that read many records.
    pub fn column(&self, field: &str) -> Option<usize> {
        self.by_field
            .iter()
            .find(|(name, _)| *name == field)
            .map(|(_, i)| *i)
    }

    /// The record's value of `field`, trimmed; `None` when unmapped or blank.
    pub fn get<'r>(&self, record: &'r Record, field: &str) -> Option<&'r str> {
        let text = record.cell(self.column(field)?).trim();
        (!text.is_empty()).then_some(text)
    }

    /// Every column of the file with the field it holds.
    pub fn columns(&self) -> Vec<MappedColumn> {
        self.headers
            .iter()
            .zip(&self.by_column)
            .map(|(header, field)| MappedColumn {
                header: header.clone(),
                field: field.map(str::to_string),
            })
            .collect()
    }
}

/// `HEADER=field` (the last `=` splits, so a header may hold one); `HEADER=-` ignores it.
pub fn parse_override(text: &str) -> Result<(String, String), MappingError> {
    let bad = || MappingError::BadOverride {
        text: text.to_string(),
    };
    let (header, field) = text.rsplit_once('=').ok_or_else(bad)?;
    let (header, field) = (header.trim(), field.trim());
    if header.is_empty() || field.is_empty() {
        return Err(bad());
    }
    Ok((header.to_string(), field.to_string()))
}

/// The profile's saved mapping for `kind`: (normalized header, field or `-`), oldest first.
pub fn load_saved(
    tx: &Transaction<'_>,
    profile: ProfileId,
    kind: FileKind,
) -> crate::store::Result<Vec<(String, String)>> {
    let mut stmt = tx.prepare_cached(
        "SELECT header, field FROM column_maps WHERE profile_id = ?1 AND file_kind = ?2
         ORDER BY updated_at_ms, header",
    )?;
    let rows = stmt.query_map(params![profile.0, kind.as_str()], |r| {
        Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Saves `pairs` (header → field or `-`) for the profile; a header saved before takes the
/// new field. Headers are stored normalized, as they are compared. Returns how many rows
/// changed (0 when everything was saved already, so a rerun writes nothing).
pub fn save(
    tx: &Transaction<'_>,
    profile: ProfileId,
    kind: FileKind,
    pairs: &[(String, String)],
    now_ms: i64,
) -> crate::store::Result<usize> {
    let mut stmt = tx.prepare_cached(
        "INSERT INTO column_maps (profile_id, file_kind, header, field, updated_at_ms)
         VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (profile_id, file_kind, header) DO UPDATE SET
             field = excluded.field, updated_at_ms = excluded.updated_at_ms
         WHERE column_maps.field <> excluded.field",
    )?;
    let mut changed = 0;
    for (header, field) in pairs {
        changed += stmt.execute(params![
            profile.0,
            kind.as_str(),
            normalize_header(header),
            field.trim(),
            now_ms
        ])?;
    }
    Ok(changed)
}

/// Removes the profile's saved mapping of `header` (back to the built-in labels).
pub fn forget(
    tx: &Transaction<'_>,
    profile: ProfileId,
    kind: FileKind,
    header: &str,
) -> crate::store::Result<bool> {
    Ok(tx.execute(
        "DELETE FROM column_maps WHERE profile_id = ?1 AND file_kind = ?2 AND header = ?3",
        params![profile.0, kind.as_str(), normalize_header(header)],
    )? > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    fn pair(a: &str, b: &str) -> (String, String) {
        (a.to_string(), b.to_string())
    }

    fn fields(m: &Mapping) -> Vec<Option<String>> {
        m.columns().into_iter().map(|c| c.field).collect()
    }

    #[test]
    fn english_snake_case_and_arabic_labels() {
        let m = Mapping::resolve(
            FileKind::Report,
            &h(&[
                "session_id",
                "Order No",
                "  AMOUNT ",
                "currency_code",
                "State",
                "Note",
            ]),
            &[],
            &[],
        )
        .unwrap();
        assert_eq!(
            fields(&m),
            [
                Some("session_id".into()),
                Some("order_no".into()),
                Some("amount".into()),
                Some("currency".into()),
                Some("state".into()),
                None
            ]
        );
        let ar = Mapping::resolve(
            FileKind::Report,
            &h(&[
                "رقم الطلب",
                "رقم الجلسة",
                "رقم الجلسة الاصلية",
                "الحالة",
                "المبلغ",
                "العملة",
                "بوابة  الدفع",
            ]),
            &[],
            &[],
        )
        .unwrap();
        assert_eq!(ar.column("order_no"), Some(0));
        assert_eq!(ar.column("session_id"), Some(1));
        assert_eq!(ar.column("parent_session_id"), Some(2));
        assert_eq!(ar.column("pg_code"), Some(6));
        let record = Record {
            line: 2,
            cells: h(&["O-1", " S-1 ", "", "paid", "1", "KWD"]),
        };
        assert_eq!(ar.get(&record, "session_id"), Some("S-1"));
        assert_eq!(ar.get(&record, "parent_session_id"), None);
        assert_eq!(ar.get(&record, "pg_code"), None);
    }

    #[test]
    fn a_missing_required_field_is_named_with_the_headers() {
        let err = Mapping::resolve(
            FileKind::Report,
            &h(&["Txn", "Amount", "Currency", "State"]),
            &[],
            &[],
        )
        .unwrap_err();
        match &err {
            MappingError::MissingField { field, headers, .. } => {
                assert_eq!(field, "session_id");
                assert_eq!(headers, &h(&["Txn", "Amount", "Currency", "State"]));
            }
            other => panic!("{other:?}"),
        }
        assert!(err.to_string().contains("session_id"), "{err}");
        assert!(
            err.to_string().contains("Txn, Amount, Currency, State"),
            "{err}"
        );
        // Mapped by hand, it resolves; saved maps for other files' headers are skipped.
        let m = Mapping::resolve(
            FileKind::Report,
            &h(&["Txn", "Amount", "Currency", "State"]),
            &[pair("elsewhere", "order_no")],
            &[pair("txn", "session_id")],
        )
        .unwrap();
        assert_eq!(m.column("session_id"), Some(0));
    }

    #[test]
    fn overrides_beat_saved_beat_built_in() {
        let headers = h(&["Session ID", "Ref", "Amount", "Net", "Currency", "State"]);
        let m = Mapping::resolve(
            FileKind::Report,
            &headers,
            &[pair("ref", "session_id"), pair("net", "amount")],
            &[pair("Net", "-")],
        )
        .unwrap();
        // The saved `ref` wins session_id; the built-in "Session ID" column is then ignored.
        assert_eq!(m.column("session_id"), Some(1));
        assert_eq!(m.column("amount"), Some(2));
        assert_eq!(fields(&m)[0], None);
        assert_eq!(fields(&m)[3], None);
        assert!(matches!(
            Mapping::resolve(FileKind::Report, &headers, &[], &[pair("Nope", "amount")]),
            Err(MappingError::NoSuchHeader { .. })
        ));
        assert!(matches!(
            Mapping::resolve(FileKind::Report, &headers, &[], &[pair("Ref", "amout")]),
            Err(MappingError::UnknownField { .. })
        ));
        assert!(matches!(
            Mapping::resolve(
                FileKind::Report,
                &headers,
                &[],
                &[pair("Ref", "amount"), pair("Net", "amount")]
            ),
            Err(MappingError::DuplicateField { .. })
        ));
    }

    #[test]
    fn settlement_needs_a_reference_or_order() {
        let m = Mapping::resolve(
            FileKind::Settlement,
            &h(&["RRN", "Amount", "Fee", "Net Amount", "Settlement Date"]),
            &[],
            &[],
        )
        .unwrap();
        assert_eq!(m.column("reference"), Some(0));
        assert_eq!(m.column("net"), Some(3));
        assert!(matches!(
            Mapping::resolve(
                FileKind::Settlement,
                &h(&["Amount", "تاريخ التسوية"]),
                &[],
                &[]
            ),
            Err(MappingError::MissingReference { .. })
        ));
    }

    #[test]
    fn overrides_parse() {
        assert_eq!(
            parse_override("Txn Ref=session_id").unwrap(),
            pair("Txn Ref", "session_id")
        );
        assert_eq!(parse_override("a=b=amount").unwrap(), pair("a=b", "amount"));
        assert!(parse_override("nothing").is_err());
        assert!(parse_override("=amount").is_err());
        assert!(parse_override("x= ").is_err());
        assert_eq!(normalize_header("  Session__ID\u{200F} "), "session id");
        assert_eq!(normalize_header("الأصلية"), normalize_header("الاصلية"));
    }
}
