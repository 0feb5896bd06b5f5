//! The HTTP side of authentication: the `Authorization: PVEAPIToken=...` header and the
//! ticket cookie. What a ticket or token may do is decided by the mock
//! ([`crate::mock::access`]); this module only reads the headers.

/// A parsed `Authorization: PVEAPIToken=user@realm!id=secret` header.
#[derive(PartialEq, Eq)]
pub struct ApiToken {
    /// `user@realm`.
    pub user: String,
    /// The token id.
    pub id: String,
    /// The secret.
    pub secret: String,
}

impl std::fmt::Debug for ApiToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ApiToken({}!{}, <redacted>)", self.user, self.id)
    }
}

/// Parses a `PVEAPIToken=` authorization header.
pub fn parse_token_header(value: &str) -> Option<ApiToken> {
    let rest = value.trim().strip_prefix("PVEAPIToken=")?;
    let (full_id, secret) = rest.split_once('=')?;
    let (user, id) = full_id.split_once('!')?;
    if user.is_empty() || id.is_empty() || secret.is_empty() {
        return None;
    }
    Some(ApiToken {
        user: user.to_string(),
        id: id.to_string(),
        secret: secret.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_header() {
        let t = parse_token_header("PVEAPIToken=root@pam!ci=1234-abcd").unwrap();
        assert_eq!(
            (t.user.as_str(), t.id.as_str(), t.secret.as_str()),
            ("root@pam", "ci", "1234-abcd")
        );
        assert!(!format!("{t:?}").contains("1234"));
        assert!(parse_token_header("Bearer x").is_none());
        assert!(parse_token_header("PVEAPIToken=root@pam=x").is_none());
    }
}
