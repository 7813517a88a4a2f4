//! One driver per init system.

pub mod daemontools;
pub mod launchd;
pub mod openrc;
pub mod runit;
pub mod s6;
pub mod supervisord;
pub mod systemd;
pub mod sysv;
pub mod upstart;

/// A recorded output of a native status tool, for the parsers' tests.
#[cfg(test)]
pub fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!("{}/tests/fixtures/status/{name}", env!("CARGO_MANIFEST_DIR")))
        .unwrap_or_else(|e| panic!("fixture {name}: {e}"))
}
