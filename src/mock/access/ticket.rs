//! Tickets as PVE issues them: `PVE:user@realm:HEXTIME::signature` (`PBS:`, `PMG:`,
//! `PDM:` for the other products), valid for two hours,
//! renewed by posting the current ticket as the password, each with the CSRF token that
//! writes over HTTP must send back. Signed with a key of the store (HMAC-SHA256).

use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

type HmacSha256 = Hmac<Sha256>;

/// How long a ticket is valid (PVE: two hours).
pub const TICKET_LIFETIME: u64 = 7200;

/// SHA-256 hex of a secret (what the store keeps instead of the secret).
pub fn secret_hash(secret: &str) -> String {
    Sha256::digest(secret.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The server's signing key: random per server start, so a restart ends every session
/// (as PVE's key rotation eventually does).
#[derive(Clone)]
pub struct Signer {
    key: [u8; 32],
    /// `PVE`, `PBS`, `PMG`, `PDM`.
    prefix: &'static str,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Signer(<redacted>)")
    }
}

/// Why a ticket was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TicketError {
    /// Not a ticket, wrong signature, or expired: PVE's `invalid PVE ticket`.
    Invalid,
}

impl Signer {
    /// A signer with a fresh random key, for tickets starting with `prefix` (`PVE`).
    pub fn random(prefix: &'static str) -> Signer {
        let mut key = [0u8; 32];
        rand::fill(&mut key);
        Signer { key, prefix }
    }

    fn sign(&self, data: &str) -> String {
        let mut mac = HmacSha256::new_from_slice(&self.key).expect("HMAC takes any key length");
        mac.update(data.as_bytes());
        base64::engine::general_purpose::STANDARD_NO_PAD.encode(mac.finalize().into_bytes())
    }

    fn verify(&self, data: &str, signature: &str) -> bool {
        let Ok(sig) = base64::engine::general_purpose::STANDARD_NO_PAD.decode(signature) else {
            return false;
        };
        let mut mac = HmacSha256::new_from_slice(&self.key).expect("HMAC takes any key length");
        mac.update(data.as_bytes());
        mac.verify_slice(&sig).is_ok()
    }

    /// A ticket for `user` issued at `time`: `PVE:user:HEXTIME::signature`.
    pub fn ticket(&self, user: &str, time: u64) -> String {
        let data = format!("{}:{user}:{time:08X}", self.prefix);
        let sig = self.sign(&data);
        format!("{data}::{sig}")
    }

    /// The CSRF token that goes with a ticket: `HEXTIME:signature`.
    pub fn csrf(&self, user: &str, time: u64) -> String {
        let sig = self.sign(&format!("{time:08X}:{user}"));
        format!("{time:08X}:{sig}")
    }

    /// Checks a ticket; returns (user, issue time) when it is ours and not expired.
    pub fn check_ticket(
        &self,
        ticket: &str,
        now: u64,
        not_before: u64,
    ) -> Result<(String, u64), TicketError> {
        let (data, sig) = ticket.split_once("::").ok_or(TicketError::Invalid)?;
        if !self.verify(data, sig) {
            return Err(TicketError::Invalid);
        }
        let mut parts = data.splitn(3, ':');
        let (Some(prefix), Some(user), Some(hex)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(TicketError::Invalid);
        };
        if prefix != self.prefix {
            return Err(TicketError::Invalid);
        }
        let time = u64::from_str_radix(hex, 16).map_err(|_| TicketError::Invalid)?;
        if time + TICKET_LIFETIME < now || time > now + 300 || time < not_before {
            return Err(TicketError::Invalid);
        }
        Ok((user.to_string(), time))
    }

    /// Checks the CSRF header against the ticket's user and time.
    pub fn check_csrf(&self, token: &str, user: &str, time: u64) -> bool {
        match token.split_once(':') {
            Some((hex, sig)) => {
                u64::from_str_radix(hex, 16) == Ok(time)
                    && self.verify(&format!("{hex}:{user}"), sig)
            }
            None => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tickets_and_csrf() {
        let s = Signer::random("PVE");
        let t = s.ticket("root@pam", 1000);
        assert!(t.starts_with("PVE:root@pam:000003E8::"));
        assert_eq!(s.check_ticket(&t, 1000, 0), Ok(("root@pam".into(), 1000)));
        assert_eq!(
            s.check_ticket(&t, 1000 + TICKET_LIFETIME + 1, 0),
            Err(TicketError::Invalid)
        );
        assert_eq!(
            s.check_ticket(&t, 1000, 1001),
            Err(TicketError::Invalid),
            "expired by epoch"
        );
        let forged = t.replace("root@pam", "admin@pve");
        assert_eq!(s.check_ticket(&forged, 1000, 0), Err(TicketError::Invalid));
        assert_eq!(
            Signer::random("PVE").check_ticket(&t, 1000, 0),
            Err(TicketError::Invalid)
        );
        let csrf = s.csrf("root@pam", 1000);
        assert!(s.check_csrf(&csrf, "root@pam", 1000));
        assert!(!s.check_csrf(&csrf, "other@pam", 1000));
        assert!(!s.check_csrf("garbage", "root@pam", 1000));
    }
}
