//! Checksums of uploads as PVE verifies them (`checksum-algorithm`), computed while the
//! file streams through.

use sha2::Digest;

/// A running digest of one of the algorithms the mock verifies (the SHA-2 family).
pub enum Hasher {
    /// sha224
    Sha224(sha2::Sha224),
    /// sha256
    Sha256(sha2::Sha256),
    /// sha384
    Sha384(sha2::Sha384),
    /// sha512
    Sha512(sha2::Sha512),
}

impl Hasher {
    /// A hasher for `algorithm`, or `None` for one the mock does not verify (md5, sha1).
    pub fn new(algorithm: &str) -> Option<Hasher> {
        Some(match algorithm {
            "sha224" => Hasher::Sha224(sha2::Sha224::new()),
            "sha256" => Hasher::Sha256(sha2::Sha256::new()),
            "sha384" => Hasher::Sha384(sha2::Sha384::new()),
            "sha512" => Hasher::Sha512(sha2::Sha512::new()),
            _ => return None,
        })
    }

    /// Feeds bytes.
    pub fn update(&mut self, bytes: &[u8]) {
        match self {
            Hasher::Sha224(h) => h.update(bytes),
            Hasher::Sha256(h) => h.update(bytes),
            Hasher::Sha384(h) => h.update(bytes),
            Hasher::Sha512(h) => h.update(bytes),
        }
    }

    /// The digest in lower-case hex.
    pub fn hex(self) -> String {
        let bytes: Vec<u8> = match self {
            Hasher::Sha224(h) => h.finalize().to_vec(),
            Hasher::Sha256(h) => h.finalize().to_vec(),
            Hasher::Sha384(h) => h.finalize().to_vec(),
            Hasher::Sha512(h) => h.finalize().to_vec(),
        };
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn sha256_of_abc() {
        let mut h = super::Hasher::new("sha256").unwrap();
        h.update(b"a");
        h.update(b"bc");
        assert_eq!(
            h.hex(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert!(super::Hasher::new("md5").is_none());
    }
}
