//! Deterministic demo data: the same `--seed` and `--payments` give the same payments
//! (session ids, order numbers, amounts, states, gateways, timestamps) on every machine and
//! every day. Timestamps are spread over the 30 days before [`SEED_EPOCH_MS`] rather than
//! "now", so they do not change from run to run.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::clock::{EpochMs, IdSpace, reference_number, session_id};
use crate::gateway::{CREDIMAX, KNET, MPGS, QUEUED_PG, REFUSE_PG, REJECT_PG};
use crate::model::{ChildState, Destination, OperationKind, PaymentState};
use crate::money::{Currency, Minor};
use crate::store::{ChildRow, Db, PaymentRow, StoreError, child_identity};

/// 2026-01-01T00:00:00Z: seeded payments are created in the 30 days before it.
pub const SEED_EPOCH_MS: EpochMs = 1_767_225_600_000;
const DAY_MS: EpochMs = 24 * 60 * 60 * 1000;
/// The most payments a seed may ask for (keeps a typo from filling the disk).
pub const MAX_SEEDED_PAYMENTS: u32 = 1_000_000;

const FIRST_NAMES: &[&str] = &[
    "Fatima", "Ahmad", "Noura", "Yousef", "Mariam", "Khalid", "Dana", "Omar", "Huda", "Salem",
];
const LAST_NAMES: &[&str] = &[
    "Al-Sabah",
    "Al-Mutairi",
    "Al-Ajmi",
    "Haddad",
    "Al-Rashidi",
    "Karam",
    "Al-Enezi",
];

/// What to seed.
#[derive(Debug, Clone, Copy)]
pub struct SeedPlan {
    pub seed: u64,
    pub payments: u32,
    /// Include the gateways that refuse or reject refunds and foreign-currency payments.
    pub varied_gateways: bool,
}

fn weighted<'a, T>(rng: &mut ChaCha8Rng, table: &'a [(T, u32)]) -> &'a T {
    let total: u32 = table.iter().map(|(_, w)| w).sum();
    let mut pick = rng.random_range(0..total);
    for (item, weight) in table {
        if pick < *weight {
            return item;
        }
        pick -= weight;
    }
    &table[table.len() - 1].0
}

/// Inserts the seeded payments (and their earlier children) into an empty store.
pub fn seed_payments(db: &Db<'_>, plan: SeedPlan) -> Result<(), StoreError> {
    use PaymentState as S;
    let mut rng = ChaCha8Rng::seed_from_u64(plan.seed);
    let states: &[(PaymentState, u32)] = &[
        (S::Paid, 34),
        (S::Authorized, 14),
        (S::Created, 7),
        (S::Pending, 7),
        (S::Attempted, 6),
        (S::Failed, 6),
        (S::Canceled, 5),
        (S::Expired, 5),
        (S::Cod, 4),
        (S::Cash, 4),
        (S::Invalided, 2),
        (S::Refunded, 3),
        (S::Voided, 2),
    ];
    let currencies = &[(Currency::KWD, 80), (Currency::SAR, 12), (Currency::JPY, 8)];
    let paid_gateways: &[(&str, u32)] = if plan.varied_gateways {
        &[
            (KNET, 30),
            (MPGS, 25),
            (CREDIMAX, 10),
            (QUEUED_PG, 15),
            (REJECT_PG, 8),
            (REFUSE_PG, 12),
        ]
    } else {
        &[(KNET, 40), (MPGS, 30), (CREDIMAX, 10), (QUEUED_PG, 20)]
    };
    let auth_gateways: &[(&str, u32)] = &[(MPGS, 70), (CREDIMAX, 30)];
    let other_gateways: &[(&str, u32)] = &[(KNET, 60), (MPGS, 40)];

    for i in 0..plan.payments {
        // The first payments walk through every state, so even a small seed shows them all.
        let state = match S::ALL.get(i as usize) {
            Some(&s) => s,
            None => *weighted(&mut rng, states),
        };
        let currency = *weighted(&mut rng, currencies);
        let amount: Minor = match currency.decimals() {
            3 => rng.random_range(1_000..=500_000),
            2 => rng.random_range(1_000..=200_000),
            _ => rng.random_range(100..=50_000),
        };
        let pg_code = *match state {
            S::Paid | S::Refunded => weighted(&mut rng, paid_gateways),
            S::Authorized | S::Voided => weighted(&mut rng, auth_gateways),
            _ => weighted(&mut rng, other_gateways),
        };
        let mut pg_codes = vec![pg_code.to_owned()];
        if rng.random_bool(0.3) {
            let other = if pg_code == KNET { MPGS } else { KNET };
            pg_codes.push(other.to_owned());
        }
        let created_at_ms = SEED_EPOCH_MS - rng.random_range(60_000..30 * DAY_MS);
        let modified_at_ms = created_at_ms + rng.random_range(0..2 * 60 * 60 * 1000);
        let foreign_currency = plan.varied_gateways && state == S::Paid && rng.random_bool(0.03);
        let gateway_state =
            (matches!(state, S::Pending | S::Attempted) && rng.random_bool(0.4)).then_some(S::Paid);
        let first = FIRST_NAMES[rng.random_range(0..FIRST_NAMES.len())];
        let last = LAST_NAMES[rng.random_range(0..LAST_NAMES.len())];
        let payment = PaymentRow {
            session_id: session_id(plan.seed, IdSpace::Payment, u64::from(i)),
            order_no: Some(format!("ORD-{:06}", i + 1)),
            amount,
            currency,
            state,
            pg_code: pg_code.to_owned(),
            pg_codes,
            payment_kind: if rng.random_bool(0.7) {
                "e_commerce"
            } else {
                "payment_request"
            }
            .to_owned(),
            reference_number: reference_number(plan.seed, (1 << 41) | u64::from(i)),
            customer_email: Some(format!("customer{:04}@example.com", i + 1)),
            customer_first_name: Some(first.to_owned()),
            customer_last_name: Some(last.to_owned()),
            foreign_currency,
            gateway_state,
            deleted: false,
            inquiry_count: 0,
            last_inquiry_at_ms: None,
            created_at_ms,
            modified_at_ms,
        };
        db.insert_payment(&payment)?;

        // Some history, so an import has children to find.
        let earlier = match state {
            S::Paid if rng.random_bool(0.2) => {
                let settled = match pg_code {
                    REJECT_PG => ChildState::RefundRejected,
                    _ => ChildState::Refunded,
                };
                Some((OperationKind::Refund, (amount * 3 / 10).max(1), settled))
            }
            S::Authorized if rng.random_bool(0.2) => Some((
                OperationKind::Capture,
                (amount / 2).max(1),
                ChildState::Paid,
            )),
            S::Refunded => Some((OperationKind::Refund, amount, ChildState::Refunded)),
            S::Voided => Some((OperationKind::Void, amount, ChildState::Voided)),
            _ => None,
        };
        if let Some((operation, child_amount, child_state)) = earlier {
            let n = db.next_child_number()?;
            let (child_session_id, reference) = child_identity(plan.seed, n);
            let at = modified_at_ms + rng.random_range(60_000..DAY_MS);
            db.insert_child(
                n,
                &ChildRow {
                    session_id: child_session_id,
                    parent_session_id: payment.session_id.clone(),
                    operation,
                    amount: child_amount,
                    currency,
                    state: child_state,
                    pg_code: pg_code.to_owned(),
                    destination: (operation == OperationKind::Refund).then_some(Destination::Pg),
                    reference_number: reference,
                    settle_at_ms: None,
                    settles_to: None,
                    created_at_ms: at,
                    modified_at_ms: at,
                },
            )?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    fn seeded(seed: u64, payments: u32) -> (Vec<PaymentRow>, Vec<ChildRow>) {
        let mut store = Store::open(None).unwrap();
        store
            .write(|db| {
                seed_payments(
                    db,
                    SeedPlan {
                        seed,
                        payments,
                        varied_gateways: true,
                    },
                )
            })
            .unwrap();
        (
            store.db().all_payments().unwrap(),
            store.db().all_children().unwrap(),
        )
    }

    #[test]
    fn same_seed_same_data_and_every_state() {
        let (a, ac) = seeded(42, 200);
        let (b, bc) = seeded(42, 200);
        assert_eq!(a, b);
        assert_eq!(ac, bc);
        assert_eq!(a.len(), 200);
        for state in PaymentState::ALL {
            assert!(a.iter().any(|p| p.state == *state), "no {state}");
        }
        let (c, _) = seeded(43, 200);
        assert_ne!(a, c);
        let currencies: std::collections::HashSet<_> = a.iter().map(|p| p.currency).collect();
        assert_eq!(currencies.len(), 3);
        assert!(a.iter().any(|p| p.pg_code == REFUSE_PG));
        assert!(
            a.iter()
                .any(|p| p.order_no.as_deref() == Some("ORD-000123"))
        );
    }
}
