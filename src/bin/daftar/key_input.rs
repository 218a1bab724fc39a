//! Reading a key: from a hidden prompt on the terminal, or from the first line of stdin
//! with `--stdin`. Never from an argument (it would land in shell history and `ps`).

use std::io::BufRead;

use daftar::Error;
use daftar::secrets::SecretString;
use daftar::secrets::zeroize::Zeroize;

/// The secret as typed: the line without its line ending; validation is the core's.
pub fn read_secret(from_stdin: bool, prompt: &str) -> Result<SecretString, Error> {
    let mut line = if from_stdin {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line).map_err(|e| {
            Error::invalid(
                "key",
                "key.unreadable",
                format!("cannot read the key from stdin: {e}"),
            )
        })?;
        line
    } else {
        rpassword::prompt_password(prompt).map_err(|e| {
            Error::invalid(
                "key",
                "key.no_terminal",
                format!(
                    "cannot prompt for the key ({e}): run in a terminal, or pipe the key in with --stdin"
                ),
            )
        })?
    };
    let end = line.trim_end_matches(['\n', '\r']).len();
    // Copy into the wrapper and wipe the buffer, so no un-wiped copy is left behind.
    let secret = SecretString::from(&line[..end]);
    line.zeroize();
    Ok(secret)
}
