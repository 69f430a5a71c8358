//! Format of the password hashes the spec may carry: argon2id in PHC string
//! form, or SHA512-crypt. Only the format is checked here; the daemons
//! verify passwords against the hash.

use argon2::password_hash::{self, PasswordHash};

/// Alphabet of SHA-crypt salts and hashes.
const CRYPT_ALPHABET: &str = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// Longest SHA-crypt salt; longer salts are cut by C libraries.
const MAX_SHA_CRYPT_SALT: usize = 16;

/// Length of a SHA512-crypt hash in the crypt alphabet.
const SHA512_CRYPT_HASH_LEN: usize = 86;

/// Rounds a SHA-crypt hash may name (the SHA-crypt specification's bounds).
const SHA_CRYPT_ROUNDS: std::ops::RangeInclusive<u64> = 1_000..=999_999_999;

/// Why a password hash cannot be used. Messages never quote the hash past
/// its scheme, because a value in the wrong format may be a plain password.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum HashError {
    #[error("the password hash does not start with \"$argon2id$\" or \"$6$\"")]
    NotAHash,
    #[error("the password hash uses scheme {0:?}, which mailroom does not verify")]
    UnsupportedScheme(String),
    #[error("the argon2id hash is not a valid PHC string: {0}")]
    Phc(password_hash::Error),
    #[error("the argon2id hash has version {0}, not 16 or 19")]
    Argon2Version(u32),
    #[error("the argon2id hash has invalid parameters: {0}")]
    Argon2Params(password_hash::Error),
    #[error("the argon2id hash has no salt or no hash output")]
    Argon2Incomplete,
    #[error("the SHA512-crypt hash is malformed: {0}")]
    ShaCrypt(&'static str),
}

/// Checks that `hash` is an argon2id PHC string or a SHA512-crypt string.
pub(crate) fn check_password_hash(hash: &str) -> Result<(), HashError> {
    if let Some(rest) = hash.strip_prefix("$6$") {
        return check_sha512_crypt(rest);
    }
    if hash.starts_with("$argon2id$") {
        return check_argon2id(hash);
    }
    Err(scheme_of(hash).map_or(HashError::NotAHash, HashError::UnsupportedScheme))
}

/// Returns `$id$` when `hash` starts like a crypt or PHC string.
fn scheme_of(hash: &str) -> Option<String> {
    const MAX_SCHEME_LEN: usize = 12;

    let rest = hash.strip_prefix('$')?;
    let (id, _) = rest.split_once('$')?;
    let plausible = !id.is_empty()
        && id.len() <= MAX_SCHEME_LEN
        && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    plausible.then(|| format!("${id}$"))
}

fn check_argon2id(hash: &str) -> Result<(), HashError> {
    let parsed = PasswordHash::new(hash).map_err(HashError::Phc)?;

    if let Some(version) = parsed.version {
        argon2::Version::try_from(version).map_err(|_| HashError::Argon2Version(version))?;
    }
    argon2::Params::try_from(&parsed).map_err(HashError::Argon2Params)?;
    if parsed.salt.is_none() || parsed.hash.is_none() {
        return Err(HashError::Argon2Incomplete);
    }
    Ok(())
}

/// Checks `[rounds=N$]SALT$HASH`, the part after `$6$`.
fn check_sha512_crypt(rest: &str) -> Result<(), HashError> {
    let mut fields: Vec<&str> = rest.split('$').collect();

    if let Some(rounds) = fields.first().and_then(|f| f.strip_prefix("rounds=")) {
        let rounds: u64 = rounds
            .parse()
            .map_err(|_| HashError::ShaCrypt("rounds is not a number"))?;
        if !SHA_CRYPT_ROUNDS.contains(&rounds) {
            return Err(HashError::ShaCrypt("rounds is outside 1000 to 999999999"));
        }
        fields.remove(0);
    }

    let [salt, output] = fields.as_slice() else {
        return Err(HashError::ShaCrypt("expected SALT$HASH after \"$6$\""));
    };
    let in_alphabet = |text: &str| text.chars().all(|c| CRYPT_ALPHABET.contains(c));
    if salt.is_empty() || salt.len() > MAX_SHA_CRYPT_SALT || !in_alphabet(salt) {
        return Err(HashError::ShaCrypt(
            "the salt is not 1 to 16 characters of [./0-9A-Za-z]",
        ));
    }
    if output.len() != SHA512_CRYPT_HASH_LEN || !in_alphabet(output) {
        return Err(HashError::ShaCrypt(
            "the hash is not 86 characters of [./0-9A-Za-z]",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// From the SHA-crypt specification's test vectors.
    const SHA512_VECTOR: &str = "$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1";

    /// From the SHA-crypt specification's test vectors, with explicit rounds.
    const SHA512_ROUNDS_VECTOR: &str = "$6$rounds=10000$saltstringsaltst$OW1/O6BYHV6BcXZu8QVeXbDWra3Oeqh0sbHbbMCVNSnCM/UrjmM0Dp8vOuZeHBy/YTBmSK6H9qs/y3RnOaw5v.";

    /// Printed by `echo -n password | argon2 saltsalt -id -e` (Debian argon2 0~20171227).
    const ARGON2ID: &str =
        "$argon2id$v=19$m=4096,t=3,p=1$c2FsdHNhbHQ$kJvQUZvNZLLzIw4lXL0nVb2HtJqyPrFaO3b7fbBoYo4";

    #[test]
    fn accepts_sha512_crypt() {
        assert_eq!(check_password_hash(SHA512_VECTOR), Ok(()));
        assert_eq!(check_password_hash(SHA512_ROUNDS_VECTOR), Ok(()));
    }

    #[test]
    fn accepts_argon2id() {
        assert_eq!(check_password_hash(ARGON2ID), Ok(()));
    }

    #[test]
    fn rejects_other_argon2_variants() {
        let argon2i = ARGON2ID.replacen("argon2id", "argon2i", 1);
        assert_eq!(
            check_password_hash(&argon2i),
            Err(HashError::UnsupportedScheme("$argon2i$".to_owned()))
        );
    }

    #[test]
    fn rejects_bcrypt_by_scheme() {
        let bcrypt = "$2y$10$abcdefghijklmnopqrstuu5x3u5GDszKnY3wLCQQuH0Y1jS5YRvO";
        assert_eq!(
            check_password_hash(bcrypt),
            Err(HashError::UnsupportedScheme("$2y$".to_owned()))
        );
    }

    #[test]
    fn rejects_plain_text_without_quoting_it() {
        let error = check_password_hash("hunter2").unwrap_err();
        assert_eq!(error, HashError::NotAHash);
        assert!(!error.to_string().contains("hunter2"));
    }

    #[test]
    fn rejects_truncated_sha512_crypt() {
        let truncated = &SHA512_VECTOR[..SHA512_VECTOR.len() - 1];
        assert!(matches!(
            check_password_hash(truncated),
            Err(HashError::ShaCrypt(_))
        ));
    }

    #[test]
    fn rejects_sha512_crypt_with_too_few_rounds() {
        let hash = SHA512_ROUNDS_VECTOR.replacen("rounds=10000", "rounds=999", 1);
        assert!(matches!(
            check_password_hash(&hash),
            Err(HashError::ShaCrypt(_))
        ));
    }

    #[test]
    fn rejects_argon2id_without_output() {
        let hash = "$argon2id$v=19$m=4096,t=3,p=1$c2FsdHNhbHQ";
        assert_eq!(check_password_hash(hash), Err(HashError::Argon2Incomplete));
    }
}
