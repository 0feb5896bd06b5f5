//! The HTTP side of authentication: the `Authorization: PVEAPIToken=...` header (PBS's and
//! PDM's `PBSAPIToken=user@realm!name:secret`, `PDMAPIToken=...`) and the ticket cookie.
//! What a ticket or token may do is decided by the mock ([`crate::mock::access`]); this
//! module only reads the headers.

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

/// The token of an `Authorization: Bearer <token>` header (the admin and proxy tokens).
pub fn bearer(headers: &axum::http::HeaderMap) -> Option<&str> {
    headers
        .get(axum::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .trim()
        .strip_prefix("Bearer ")
        .map(str::trim)
}

/// Whether a presented secret is the expected one, compared in constant time.
pub fn same_secret(given: &str, expected: &str) -> bool {
    bool::from(subtle::ConstantTimeEq::ct_eq(
        given.as_bytes(),
        expected.as_bytes(),
    ))
}

/// Parses a `PVEAPIToken=` authorization header.
pub fn parse_token_header(value: &str) -> Option<ApiToken> {
    parse_token_header_of(crate::schema::Product::Pve, value)
}

/// Parses the API token header of `product` (`PBSAPIToken=user@realm!name:secret`; PBS and
/// PDM also take a space instead of the first `=`). PMG has no tokens: `None`.
pub fn parse_token_header_of(product: crate::schema::Product, value: &str) -> Option<ApiToken> {
    let (scheme, separator) = product.token_scheme()?;
    let rest = value.trim().strip_prefix(scheme)?;
    let rest = rest
        .strip_prefix('=')
        .or_else(|| product.is_rust().then(|| rest.strip_prefix(' ')).flatten())?;
    let (full_id, secret) = rest.split_once(separator)?;
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
        use crate::schema::Product;
        let t = parse_token_header("PVEAPIToken=root@pam!ci=1234-abcd").unwrap();
        assert_eq!(
            (t.user.as_str(), t.id.as_str(), t.secret.as_str()),
            ("root@pam", "ci", "1234-abcd")
        );
        assert!(!format!("{t:?}").contains("1234"));
        assert!(parse_token_header("Bearer x").is_none());
        assert!(parse_token_header("PVEAPIToken=root@pam=x").is_none());
        let t = parse_token_header_of(Product::Pbs, "PBSAPIToken=root@pam!ci:1234-abcd").unwrap();
        assert_eq!((t.id.as_str(), t.secret.as_str()), ("ci", "1234-abcd"));
        assert!(parse_token_header_of(Product::Pbs, "PBSAPIToken root@pam!ci:s").is_some());
        assert!(parse_token_header_of(Product::Pbs, "PVEAPIToken=root@pam!ci=s").is_none());
        assert!(parse_token_header_of(Product::Pdm, "PDMAPIToken=root@pam!ci:s").is_some());
        assert!(parse_token_header_of(Product::Pmg, "PMGAPIToken=root@pam!ci=s").is_none());
    }
}
