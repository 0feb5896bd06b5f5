//! What the HTTPS transport is configured with: the base URL (from the forms a user writes
//! a host in), the credentials (token or ticket login), TLS trust, timeouts, proxies and
//! retries. Secrets never show in `Debug`.

use std::path::PathBuf;
use std::time::Duration;

use super::RENEW_AFTER;
use crate::tls::Fingerprint;

/// How the client authenticates.
#[derive(Clone)]
pub enum HttpsAuth {
    /// An API token; the `Authorization` header is `id_part` followed by `secret`.
    Token {
        /// `PVEAPIToken=user@realm!id=` (prefix, token id and separator).
        id_part: String,
        /// The token's secret (never printed).
        secret: String,
    },
    /// Ticket login with a password (and a one-time password when TFA is on).
    Password {
        /// `user@realm`.
        user: String,
        /// The password.
        password: String,
        /// The one-time password for TFA.
        otp: Option<String>,
        /// `totp`, `recovery`, `yubico`, ...
        otptype: String,
        /// The cookie name (`PVEAuthCookie`, `PBSAuthCookie`, ...).
        cookie: String,
    },
    /// No credentials of its own: each request carries its caller's (a validating proxy
    /// passing its clients' tickets and tokens through, see `raw_as`).
    PassThrough,
}

impl HttpsAuth {
    /// Token auth for `user@realm!name` with the service's header prefix and separator
    /// (`PVEAPIToken=` and `=` for PVE; `PBSAPIToken=` and `:` for PBS).
    pub fn token(prefix: &str, user: &str, name: &str, separator: &str, secret: &str) -> Self {
        HttpsAuth::Token {
            id_part: format!("{prefix}{user}!{name}{separator}"),
            secret: secret.to_string(),
        }
    }
}

impl std::fmt::Debug for HttpsAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HttpsAuth::Token { id_part, .. } => write!(f, "Token({id_part}<redacted>)"),
            HttpsAuth::Password { user, otp, .. } => f
                .debug_struct("Password")
                .field("user", user)
                .field("password", &"<redacted>")
                .field("otp", &otp.as_ref().map(|_| "<redacted>"))
                .finish(),
            HttpsAuth::PassThrough => f.write_str("PassThrough"),
        }
    }
}

/// What the HTTPS transport needs.
#[derive(Debug, Clone)]
pub struct HttpsConfig {
    /// `https://host:port` (see [`base_url`]).
    pub base_url: String,
    /// A reverse proxy's prefix in front of `/api2/json`, usually empty.
    pub path_prefix: String,
    /// Credentials.
    pub auth: HttpsAuth,
    /// Verify the certificate (against `ca_bundle` or the system's roots).
    pub verify_ssl: bool,
    /// A PEM file: a CA bundle, or a client certificate with its key.
    pub cert: Option<PathBuf>,
    /// Trust exactly this certificate (SHA-256), verification stays on.
    pub fingerprint: Option<Fingerprint>,
    /// Total time for one request (`None`: no limit).
    pub timeout: Option<Duration>,
    /// Time to connect.
    pub connect_timeout: Option<Duration>,
    /// Proxies by scheme (`https` -> `http://proxy:3128`, or `all`).
    pub proxies: Vec<(String, String)>,
    /// Retries of reads on 502/503/504, timeouts and connection errors.
    pub max_retries: u32,
    /// First retry delay (doubles, capped at 30 s).
    pub retry_backoff: Duration,
    /// Renew the ticket after this long.
    pub renew_after: Duration,
}

impl HttpsConfig {
    /// Defaults for `base_url` and `auth`: verification on, 5 s timeout, no retries.
    pub fn new(base_url: String, auth: HttpsAuth) -> HttpsConfig {
        HttpsConfig {
            base_url,
            path_prefix: String::new(),
            auth,
            verify_ssl: true,
            cert: None,
            fingerprint: None,
            timeout: Some(Duration::from_secs(5)),
            connect_timeout: None,
            proxies: Vec::new(),
            max_retries: 0,
            retry_backoff: Duration::from_millis(500),
            renew_after: RENEW_AFTER,
        }
    }
}

/// The base URL for `host` (`name`, `name:port`, IPv4, bare or bracketed IPv6, or a full
/// `https://...` URL, whose path becomes part of the prefix) and the default `port`.
pub fn base_url(host: &str, port: Option<u16>, default_port: u16) -> Result<String, String> {
    let host = host.trim();
    if host.is_empty() {
        return Err("host: expected a host name, an IP address or an https:// URL".into());
    }
    if host.contains("://") {
        let url =
            reqwest::Url::parse(host).map_err(|e| format!("host: invalid URL '{host}': {e}"))?;
        if url.scheme() != "https" && url.scheme() != "http" {
            return Err(format!(
                "host: expected an https:// URL, got scheme '{}'",
                url.scheme()
            ));
        }
        let Some(h) = url.host_str() else {
            return Err(format!("host: URL '{host}' has no host"));
        };
        let p = url.port().or(port).unwrap_or(default_port);
        let path = url.path().trim_end_matches('/');
        return Ok(format!("{}://{}:{}{}", url.scheme(), h, p, path));
    }
    let (name, explicit_port) = if let Some(rest) = host.strip_prefix('[') {
        let (addr, after) = rest
            .split_once(']')
            .ok_or_else(|| format!("host: '{host}' lacks the closing ']'"))?;
        let port = match after.strip_prefix(':') {
            Some(p) => Some(p),
            None if after.is_empty() => None,
            None => return Err(format!("host: unexpected '{after}' after ']' in '{host}'")),
        };
        (format!("[{addr}]"), port)
    } else if host.matches(':').count() > 1 {
        // A bare IPv6 address (no port possible).
        (format!("[{host}]"), None)
    } else if let Some((n, p)) = host.split_once(':') {
        (n.to_string(), Some(p))
    } else {
        (host.to_string(), None)
    };
    let port = match explicit_port {
        Some(p) => p
            .parse::<u16>()
            .ok()
            .filter(|p| *p > 0)
            .ok_or_else(|| format!("host: invalid port '{p}' in '{host}'"))?,
        None => port.unwrap_or(default_port),
    };
    let url = format!("https://{name}:{port}");
    reqwest::Url::parse(&url).map_err(|e| format!("host: invalid host '{host}': {e}"))?;
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls() {
        let u = |h: &str| base_url(h, None, 8006).unwrap();
        assert_eq!(u("pve1"), "https://pve1:8006");
        assert_eq!(u("pve1:443"), "https://pve1:443");
        assert_eq!(u("10.0.0.1"), "https://10.0.0.1:8006");
        assert_eq!(u("::1"), "https://[::1]:8006");
        assert_eq!(u("[fe80::1]:9000"), "https://[fe80::1]:9000");
        assert_eq!(u("[::1]"), "https://[::1]:8006");
        assert_eq!(u("https://pve.example/px/"), "https://pve.example:8006/px");
        assert_eq!(u("https://pve.example:8443"), "https://pve.example:8443");
        assert_eq!(
            base_url("pve1", Some(9006), 8006).unwrap(),
            "https://pve1:9006"
        );
        assert!(base_url("pve1:0", None, 8006)
            .unwrap_err()
            .contains("invalid port"));
        assert!(base_url("pve1:x", None, 8006).unwrap_err().contains("'x'"));
        assert!(base_url("ftp://x", None, 8006)
            .unwrap_err()
            .contains("scheme"));
        assert!(base_url("", None, 8006).is_err());
        assert!(base_url("[::1", None, 8006).unwrap_err().contains("']'"));
    }

    #[test]
    fn secrets_stay_out_of_debug() {
        let t = HttpsAuth::token("PVEAPIToken=", "root@pam", "ci", "=", "s3cr3t-uuid");
        let text = format!("{t:?}");
        assert!(!text.contains("s3cr3t"), "{text}");
        assert!(text.contains("root@pam!ci"), "{text}");
        let p = HttpsAuth::Password {
            user: "root@pam".into(),
            password: "hunter2".into(),
            otp: Some("123456".into()),
            otptype: "totp".into(),
            cookie: "PVEAuthCookie".into(),
        };
        let text = format!("{p:?}");
        assert!(
            !text.contains("hunter2") && !text.contains("123456"),
            "{text}"
        );
    }
}
