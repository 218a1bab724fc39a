//! What can be done to a payment now: one [`ActionView`] per operation kind, decided by
//! the same validation `queue` and `preview` run (the full or remaining amount, no amount
//! given), so the app shows a button exactly when queueing it would succeed, and the
//! refusal it would meet when not.

use serde::Serialize;
use ts_rs::TS;

use super::queue::decide;
use super::{Ledger, PaymentLookup, find_payment, ledger_facts};
use crate::error::{ErrorView, Result};
use crate::model::OperationKind;

/// One operation kind on one payment: whether `queue` would take it now with no amount.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, TS)]
pub struct ActionView {
    pub kind: OperationKind,
    pub allowed: bool,
    /// What queueing it would reserve, for refund, capture and void: the refundable,
    /// capturable or voidable amount. `null` for cancel, expire and delete, and when
    /// refused.
    pub max_amount: Option<String>,
    /// The error `queue` would return for this request (as `--json` and the app receive
    /// it); `null` when allowed.
    pub refusal: Option<ErrorView>,
}

/// The order the views come in: the money operations first.
const ORDER: [OperationKind; 6] = [
    OperationKind::Refund,
    OperationKind::Capture,
    OperationKind::Void,
    OperationKind::Cancel,
    OperationKind::Expire,
    OperationKind::Delete,
];

impl Ledger {
    /// Every operation kind on the payment the lookup names, in the order refund, capture,
    /// void, cancel, expire, delete, all read in one transaction. A lookup that names no
    /// single payment is the `Err` that `queue` would return for it.
    pub fn payment_actions(&mut self, lookup: &PaymentLookup) -> Result<Vec<ActionView>> {
        self.store.read(|tx| {
            let payment = find_payment(tx, lookup)?;
            let facts = ledger_facts(tx, &payment)?;
            Ok(ORDER
                .iter()
                .map(|&kind| match decide(kind, None, &payment, &facts) {
                    Ok(reserved) => ActionView {
                        kind,
                        allowed: true,
                        max_amount: kind.is_external().then(|| reserved.to_string()),
                        refusal: None,
                    },
                    Err(error) => ActionView {
                        kind,
                        allowed: false,
                        max_amount: None,
                        refusal: Some(error.view()),
                    },
                })
                .collect())
        })
    }
}
