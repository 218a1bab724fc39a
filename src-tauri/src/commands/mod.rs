//! Every command of the IPC contract (ARCHITECTURE.md "The desktop shell"): each parses
//! its one `request`, calls the core facade off the main thread and returns the view, or
//! the core's `ErrorView` unchanged. No business rule lives here.

pub mod app;
pub mod demo;
pub mod import;
pub mod month_end;
pub mod payments;
pub mod profiles;
pub mod queue;
pub mod sync;

/// What every command returns: the view, or the error as the UI reads it.
pub type Reply<T> = Result<T, daftar::ErrorView>;

/// A command's one `request`, read by the shell itself: a request that does not have the
/// command's shape is the `ErrorView` `app.bad_request` (the window's code has a bug),
/// not Tauri's plain-text rejection. `get` gives the request or that error.
pub struct Req<T>(Result<T, daftar::ErrorView>);

impl<T> Req<T> {
    pub fn get(self) -> Reply<T> {
        self.0
    }
}

impl<'de, R: tauri::Runtime, T: serde::Deserialize<'de>> tauri::ipc::CommandArg<'de, R> for Req<T> {
    fn from_command(
        command: tauri::ipc::CommandItem<'de, R>,
    ) -> Result<Self, tauri::ipc::InvokeError> {
        let name = command.name;
        Ok(Req(T::deserialize(command).map_err(|error| {
            daftar::Error::Unavailable {
                code: "app.bad_request",
                message: format!("the request to {name} could not be read: {error}"),
            }
            .view()
        })))
    }
}
