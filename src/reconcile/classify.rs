//! The class rules: what one payment's two sides (the ledger's, the report's) say about it.
//! Pure functions over plain facts, so every rule and its priority is unit-tested here and
//! the run ([`super::run`]) only gathers the facts with SQL.
//!
//! Priority, first that applies: `report_only` / `ledger_only` (one side is missing);
//! `queued` (an operation on the payment is not final yet, so the sides are expected to
//! differ); `changed_late` (the ledger says `failed`/`expired`, the report `paid` or
//! `authorized`: the customer paid after Daftar last looked); `amount_differs` (amount or
//! currency); `state_differs`; `totals_differ` (refunded, captured or voided); `matched`.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::model::UnknownWord;

/// What a reconciliation found for one payment.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum MatchClass {
    Matched,
    AmountDiffers,
    StateDiffers,
    TotalsDiffer,
    ReportOnly,
    LedgerOnly,
    Queued,
    ChangedLate,
}

impl MatchClass {
    /// In the order summaries list them: the clean ones first, then what needs a decision.
    pub const ALL: &'static [MatchClass] = &[
        MatchClass::Matched,
        MatchClass::Queued,
        MatchClass::AmountDiffers,
        MatchClass::StateDiffers,
        MatchClass::TotalsDiffer,
        MatchClass::ChangedLate,
        MatchClass::ReportOnly,
        MatchClass::LedgerOnly,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            MatchClass::Matched => "matched",
            MatchClass::AmountDiffers => "amount_differs",
            MatchClass::StateDiffers => "state_differs",
            MatchClass::TotalsDiffer => "totals_differ",
            MatchClass::ReportOnly => "report_only",
            MatchClass::LedgerOnly => "ledger_only",
            MatchClass::Queued => "queued",
            MatchClass::ChangedLate => "changed_late",
        }
    }

    /// A mismatch: the merchant decides it (accept Ottu's value or keep the ledger's)
    /// before the period can be locked. `matched` agrees; `queued` is expected to differ
    /// until its operation ends.
    pub fn is_mismatch(self) -> bool {
        !matches!(self, MatchClass::Matched | MatchClass::Queued)
    }

    /// Whether accepting Ottu's value can change anything: there is a report side, and
    /// the ledger is not waiting on an operation of its own.
    pub fn is_acceptable(self) -> bool {
        matches!(
            self,
            MatchClass::AmountDiffers
                | MatchClass::StateDiffers
                | MatchClass::TotalsDiffer
                | MatchClass::ReportOnly
                | MatchClass::ChangedLate
        )
    }
}

impl FromStr for MatchClass {
    type Err = UnknownWord;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        MatchClass::ALL
            .iter()
            .copied()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| UnknownWord {
                what: "class",
                value: s.to_string(),
                allowed: MatchClass::ALL
                    .iter()
                    .map(|c| c.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            })
    }
}

impl fmt::Display for MatchClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// The ledger's side of a payment, as the run read it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LedgerSide {
    pub amount_minor: i64,
    pub currency: String,
    pub state: String,
    pub refunded_minor: i64,
    pub captured_minor: i64,
    pub voided_minor: i64,
    /// An operation on the payment is queued, in flight, blocked or unresolved.
    pub unfinished: bool,
}

/// The report's side. A total is `None` when the report says nothing about it (no such
/// column on the row and no child rows in the file): it is then not compared.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReportSide {
    pub amount_minor: i64,
    pub currency: String,
    pub state: String,
    pub refunded_minor: Option<i64>,
    pub captured_minor: Option<i64>,
    pub voided_minor: Option<i64>,
}

/// The class of one payment; at least one side is present.
pub fn classify(ledger: Option<&LedgerSide>, report: Option<&ReportSide>) -> MatchClass {
    let (ledger, report) = match (ledger, report) {
        (Some(l), Some(r)) => (l, r),
        (None, _) => return MatchClass::ReportOnly,
        (Some(_), None) => return MatchClass::LedgerOnly,
    };
    if ledger.unfinished {
        return MatchClass::Queued;
    }
    if matches!(ledger.state.as_str(), "failed" | "expired")
        && matches!(report.state.as_str(), "paid" | "authorized")
    {
        return MatchClass::ChangedLate;
    }
    if ledger.amount_minor != report.amount_minor || ledger.currency != report.currency {
        return MatchClass::AmountDiffers;
    }
    if ledger.state != report.state {
        return MatchClass::StateDiffers;
    }
    if !totals_differences(ledger, report).is_empty() {
        return MatchClass::TotalsDiffer;
    }
    MatchClass::Matched
}

/// The totals the two sides disagree on (`refunded`, `captured`, `voided`), in that order.
pub fn totals_differences(ledger: &LedgerSide, report: &ReportSide) -> Vec<&'static str> {
    [
        ("refunded", ledger.refunded_minor, report.refunded_minor),
        ("captured", ledger.captured_minor, report.captured_minor),
        ("voided", ledger.voided_minor, report.voided_minor),
    ]
    .into_iter()
    .filter(|(_, l, r)| r.is_some_and(|r| r != *l))
    .map(|(field, _, _)| field)
    .collect()
}

/// Every field the two sides disagree on, in a fixed order: `amount`, `currency`,
/// `state`, then the totals.
pub fn differences(ledger: &LedgerSide, report: &ReportSide) -> Vec<&'static str> {
    let mut out = Vec::new();
    if ledger.amount_minor != report.amount_minor {
        out.push("amount");
    }
    if ledger.currency != report.currency {
        out.push("currency");
    }
    if ledger.state != report.state {
        out.push("state");
    }
    out.extend(totals_differences(ledger, report));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ledger() -> LedgerSide {
        LedgerSide {
            amount_minor: 12_500,
            currency: "KWD".into(),
            state: "paid".into(),
            ..LedgerSide::default()
        }
    }

    fn report() -> ReportSide {
        ReportSide {
            amount_minor: 12_500,
            currency: "KWD".into(),
            state: "paid".into(),
            refunded_minor: Some(0),
            captured_minor: None,
            voided_minor: None,
        }
    }

    #[test]
    fn words_round_trip() {
        for class in MatchClass::ALL {
            assert_eq!(class.as_str().parse::<MatchClass>().unwrap(), *class);
            assert_eq!(
                serde_json::to_string(class).unwrap(),
                format!("\"{}\"", class.as_str())
            );
        }
        let err = "match".parse::<MatchClass>().unwrap_err();
        assert!(err.allowed.contains("totals_differ"), "{}", err.allowed);
    }

    #[test]
    fn one_side_missing() {
        assert_eq!(classify(None, Some(&report())), MatchClass::ReportOnly);
        assert_eq!(classify(Some(&ledger()), None), MatchClass::LedgerOnly);
    }

    #[test]
    fn equal_sides_match() {
        assert_eq!(
            classify(Some(&ledger()), Some(&report())),
            MatchClass::Matched
        );
        assert!(differences(&ledger(), &report()).is_empty());
    }

    #[test]
    fn each_difference_alone() {
        let r = ReportSide {
            amount_minor: 12_000,
            ..report()
        };
        assert_eq!(
            classify(Some(&ledger()), Some(&r)),
            MatchClass::AmountDiffers
        );
        let r = ReportSide {
            currency: "USD".into(),
            amount_minor: 12_500,
            ..report()
        };
        assert_eq!(
            classify(Some(&ledger()), Some(&r)),
            MatchClass::AmountDiffers
        );
        assert_eq!(differences(&ledger(), &r), ["currency"]);
        let r = ReportSide {
            state: "refunded".into(),
            ..report()
        };
        assert_eq!(
            classify(Some(&ledger()), Some(&r)),
            MatchClass::StateDiffers
        );
        let r = ReportSide {
            refunded_minor: Some(2_000),
            ..report()
        };
        assert_eq!(
            classify(Some(&ledger()), Some(&r)),
            MatchClass::TotalsDiffer
        );
        assert_eq!(differences(&ledger(), &r), ["refunded"]);
        let l = LedgerSide {
            captured_minor: 5_000,
            ..ledger()
        };
        // The report says nothing about captures: not compared.
        assert_eq!(classify(Some(&l), Some(&report())), MatchClass::Matched);
        let r = ReportSide {
            captured_minor: Some(0),
            ..report()
        };
        assert_eq!(classify(Some(&l), Some(&r)), MatchClass::TotalsDiffer);
    }

    #[test]
    fn priorities() {
        // Queued wins over everything that differs.
        let l = LedgerSide {
            unfinished: true,
            state: "failed".into(),
            ..ledger()
        };
        let r = ReportSide {
            amount_minor: 1,
            refunded_minor: Some(7),
            ..report()
        };
        assert_eq!(classify(Some(&l), Some(&r)), MatchClass::Queued);
        // Changed late wins over amount and state.
        for (ledger_state, report_state) in [
            ("failed", "paid"),
            ("expired", "paid"),
            ("failed", "authorized"),
            ("expired", "authorized"),
        ] {
            let l = LedgerSide {
                state: ledger_state.into(),
                ..ledger()
            };
            let r = ReportSide {
                state: report_state.into(),
                amount_minor: 99,
                ..report()
            };
            assert_eq!(classify(Some(&l), Some(&r)), MatchClass::ChangedLate);
        }
        // A canceled payment that the report shows paid is a state difference, not late.
        let l = LedgerSide {
            state: "canceled".into(),
            ..ledger()
        };
        assert_eq!(
            classify(Some(&l), Some(&report())),
            MatchClass::StateDiffers
        );
        // failed -> refunded is not "became paid".
        let l = LedgerSide {
            state: "failed".into(),
            ..ledger()
        };
        let r = ReportSide {
            state: "refunded".into(),
            ..report()
        };
        assert_eq!(classify(Some(&l), Some(&r)), MatchClass::StateDiffers);
        // Amount wins over state and totals.
        let r = ReportSide {
            amount_minor: 1,
            state: "refunded".into(),
            refunded_minor: Some(1),
            ..report()
        };
        assert_eq!(
            classify(Some(&ledger()), Some(&r)),
            MatchClass::AmountDiffers
        );
        assert_eq!(differences(&ledger(), &r), ["amount", "state", "refunded"]);
        // State wins over totals.
        let r = ReportSide {
            state: "refunded".into(),
            refunded_minor: Some(12_500),
            ..report()
        };
        assert_eq!(
            classify(Some(&ledger()), Some(&r)),
            MatchClass::StateDiffers
        );
    }

    #[test]
    fn mismatches_and_acceptable_classes() {
        let mismatches: Vec<_> = MatchClass::ALL
            .iter()
            .filter(|c| c.is_mismatch())
            .map(|c| c.as_str())
            .collect();
        assert_eq!(
            mismatches,
            [
                "amount_differs",
                "state_differs",
                "totals_differ",
                "changed_late",
                "report_only",
                "ledger_only"
            ]
        );
        assert!(!MatchClass::LedgerOnly.is_acceptable());
        assert!(!MatchClass::Queued.is_acceptable());
        assert!(!MatchClass::Matched.is_acceptable());
        assert!(MatchClass::ReportOnly.is_acceptable());
    }
}
