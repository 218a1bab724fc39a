//! Who the audit trail names for a change: `<adapter>:<OS account>` (`cli:amal`,
//! `app:amal`). The account comes from the OS (the effective uid's passwd entry, or
//! `GetUserNameW`), not from `USER`, which cron, systemd units and `env -i` leave unset and
//! anyone can set to another name.

/// The actor for changes made through `adapter` (`"cli"`, `"app"`) by this process's
/// account: `cli:amal`.
pub fn actor(adapter: &str) -> String {
    format!("{adapter}:{}", os_account())
}

/// The name of the account the process runs as (the effective uid's passwd entry, as
/// `id -un` prints it); `uid-<n>` when the account database has no entry for it (a
/// container run with an arbitrary uid).
#[cfg(unix)]
pub fn os_account() -> String {
    // SAFETY: geteuid has no preconditions and cannot fail.
    let uid = unsafe { libc::geteuid() };
    let mut buffer = vec![0u8; 1024];
    loop {
        // SAFETY: an all-zero passwd is valid (null pointers, zero ids); getpwuid_r writes
        // only into `entry` and `buffer` (of the length given), and sets `found` to
        // `&entry` or null. The name it points to lives in `buffer`, read before it drops.
        let mut entry: libc::passwd = unsafe { std::mem::zeroed() };
        let mut found: *mut libc::passwd = std::ptr::null_mut();
        let rc = unsafe {
            libc::getpwuid_r(
                uid,
                &mut entry,
                buffer.as_mut_ptr().cast(),
                buffer.len(),
                &mut found,
            )
        };
        // A larger entry than the buffer (ERANGE): grow it, up to a bound no real entry nears.
        if rc == libc::ERANGE && buffer.len() < 1 << 20 {
            buffer.resize(buffer.len() * 2, 0);
            continue;
        }
        if rc != 0 || found.is_null() || entry.pw_name.is_null() {
            return format!("uid-{uid}");
        }
        // SAFETY: pw_name is a NUL-terminated string inside `buffer`, still alive here.
        let name = unsafe { std::ffi::CStr::from_ptr(entry.pw_name) };
        return name.to_string_lossy().into_owned();
    }
}

/// Windows: the account the process runs as, from the OS (GetUserNameW), not `USERNAME`.
#[cfg(windows)]
pub fn os_account() -> String {
    use windows_sys::Win32::System::WindowsProgramming::GetUserNameW;
    // UNLEN (256) + 1: the longest Windows user name and its NUL.
    let mut buffer = [0u16; 257];
    let mut len = buffer.len() as u32;
    // SAFETY: `buffer` is writable for `len` UTF-16 units; GetUserNameW writes at most that
    // many (with the NUL) and sets `len` to the count written, NUL included.
    let ok = unsafe { GetUserNameW(buffer.as_mut_ptr(), &mut len) };
    if ok == 0 || len == 0 {
        return "unknown".to_string();
    }
    String::from_utf16_lossy(&buffer[..len as usize - 1])
}

#[cfg(not(any(unix, windows)))]
pub fn os_account() -> String {
    "unknown".to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_actor_names_the_adapter_and_an_account() {
        let actor = actor("app");
        let account = actor.strip_prefix("app:").unwrap();
        assert!(!account.is_empty());
        assert_eq!(account, os_account());
    }
}
