//! `profiles`, `add_profile`, `set_profile`, `remove_profile`, `set_key`, `remove_key`,
//! `test_connection`.
//! The secret of `set_key` goes from the request to the keyring inside a `SecretString`;
//! no reply carries it (`ProfileDetail` says only `key_stored`).

use daftar::ledger::{ConnectionCheck, ProfileChange, ProfileChanged, ProfileDetail, ProfileView};
use daftar::secrets::Credential;
use tauri::State;

use super::{Reply, Req};
use crate::contract::{KeySecret, NewProfile, ProfileRef, SetKeyRequest};
use crate::state::{Shared, with_ledger};

/// Every profile with whether its key is stored (the keyring is asked for each).
#[tauri::command]
pub async fn profiles(state: State<'_, Shared>) -> Reply<Vec<ProfileDetail>> {
    with_ledger(&state, |l| {
        l.profiles()?
            .iter()
            .map(|p| l.profile_show(&p.name))
            .collect()
    })
    .await
}

#[tauri::command]
pub async fn add_profile(
    state: State<'_, Shared>,
    request: Req<NewProfile>,
) -> Reply<ProfileDetail> {
    let request = request.get()?;
    with_ledger(&state, move |l| {
        l.add_profile(&request.name, &request.base_url, &request.currency)?;
        l.profile_show(&request.name)
    })
    .await
}

#[tauri::command]
pub async fn set_profile(
    state: State<'_, Shared>,
    request: Req<ProfileChange>,
) -> Reply<ProfileChanged> {
    let request = request.get()?;
    let changed = with_ledger(&state, move |l| l.set_profile(&request)).await?;
    state.wake_sync();
    Ok(changed)
}

#[tauri::command]
pub async fn remove_profile(
    state: State<'_, Shared>,
    request: Req<ProfileRef>,
) -> Reply<ProfileView> {
    let request = request.get()?;
    with_ledger(&state, move |l| l.remove_profile(&request.name)).await
}

#[tauri::command]
pub async fn set_key(
    state: State<'_, Shared>,
    request: Req<SetKeyRequest>,
) -> Reply<ProfileDetail> {
    let request = request.get()?;
    let SetKeyRequest {
        profile,
        basic_user,
        secret: KeySecret(secret),
    } = request;
    let credential = match basic_user {
        Some(user) => Credential::Basic {
            user,
            password: secret,
        },
        None => Credential::ApiKey(secret),
    };
    let detail = with_ledger(&state, move |l| l.set_key(&profile, credential)).await?;
    state.wake_sync();
    Ok(detail)
}

#[tauri::command]
pub async fn remove_key(
    state: State<'_, Shared>,
    request: Req<ProfileRef>,
) -> Reply<ProfileDetail> {
    let request = request.get()?;
    with_ledger(&state, move |l| l.remove_key(&request.name)).await
}

/// One read at Ottu with the stored key: the ledger is held only to read the profile and
/// its key; the request runs without it.
#[tauri::command]
pub async fn test_connection(
    state: State<'_, Shared>,
    request: Req<ProfileRef>,
) -> Reply<ConnectionCheck> {
    let request = request.get()?;
    let job = with_ledger(&state, move |l| l.connection_check(&request.name)).await?;
    Ok(job.run_async().await)
}
