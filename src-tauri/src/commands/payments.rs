//! `list_payments`, `show_payment`, `payment_actions`, `add_payment`.

use daftar::ledger::{
    ActionView, PaymentDetail, PaymentInput, PaymentLookup, PaymentPage, PaymentQuery,
};
use tauri::State;

use super::{Reply, Req};
use crate::state::{Shared, with_ledger};

#[tauri::command]
pub async fn list_payments(
    state: State<'_, Shared>,
    request: Req<PaymentQuery>,
) -> Reply<PaymentPage> {
    let request = request.get()?;
    with_ledger(&state, move |l| l.list_payments(&request)).await
}

#[tauri::command]
pub async fn show_payment(
    state: State<'_, Shared>,
    request: Req<PaymentLookup>,
) -> Reply<PaymentDetail> {
    let request = request.get()?;
    with_ledger(&state, move |l| l.show_payment(&request)).await
}

/// What the merchant may do with the payment now: one entry per kind, each with its
/// limit or the refusal queueing it would meet.
#[tauri::command]
pub async fn payment_actions(
    state: State<'_, Shared>,
    request: Req<PaymentLookup>,
) -> Reply<Vec<ActionView>> {
    let request = request.get()?;
    with_ledger(&state, move |l| l.payment_actions(&request)).await
}

#[tauri::command]
pub async fn add_payment(
    state: State<'_, Shared>,
    request: Req<PaymentInput>,
) -> Reply<PaymentDetail> {
    let request = request.get()?;
    with_ledger(&state, move |l| l.add_payment(&request)).await
}
