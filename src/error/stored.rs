//! What the ledger stores about a failure (a profile's pause, an operation's last error,
//! an event's reason): a code and the values its message is made from, rendered into
//! English here when read. See migration 0004.
