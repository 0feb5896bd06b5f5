//! The real transports: HTTPS to a PVE node ([`https`]), and the pvesh-based ones
//! ([`pvesh`]: `local` subprocess, `openssh` through the system `ssh`, `ssh_paramiko`
//! through russh in [`ssh`]). All of them are async and run on [`crate::runtime`].

pub mod https;
pub mod plain;
pub mod pvesh;
pub mod ssh;

use std::time::Duration;

/// The delay before retry number `attempt` (1-based): `backoff * 2^(attempt-1)`, capped
/// at 30 seconds.
pub fn retry_delay(backoff: Duration, attempt: u32) -> Duration {
    let factor = 2f64.powi(attempt.saturating_sub(1).min(30) as i32);
    Duration::from_secs_f64((backoff.as_secs_f64() * factor).min(30.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_caps() {
        let b = Duration::from_millis(500);
        assert_eq!(retry_delay(b, 1), Duration::from_millis(500));
        assert_eq!(retry_delay(b, 2), Duration::from_secs(1));
        assert_eq!(retry_delay(b, 3), Duration::from_secs(2));
        assert_eq!(retry_delay(b, 20), Duration::from_secs(30));
        assert_eq!(retry_delay(b, u32::MAX), Duration::from_secs(30));
    }
}
