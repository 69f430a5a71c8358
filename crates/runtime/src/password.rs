//! Password hashes from the spec: argon2id (PHC string) and SHA512-crypt.

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;

/// Checks `password` against a `$argon2id$` or `$6$` hash. An unparsable or
/// unsupported hash never matches.
pub fn verify_password(hash: &str, password: &str) -> bool {
    if hash.starts_with("$6$") {
        return sha_crypt::sha512_check(password, hash).is_ok();
    }
    match PasswordHash::new(hash) {
        Ok(parsed) if parsed.algorithm.as_str() == "argon2id" => {
            Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok()
        }
        _ => false,
    }
}

/// Hashes `password` with argon2id and a random salt, in PHC string form.
pub fn hash_password(password: &str) -> String {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .expect("argon2 with default parameters accepts any password and a generated salt")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argon2id_round_trip() {
        let hash = hash_password("correct horse");
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password(&hash, "correct horse"));
        assert!(!verify_password(&hash, "wrong horse"));
    }

    #[test]
    fn sha512_crypt_known_answer() {
        // From the SHA-crypt specification's test vectors (rounds=5000 default).
        let hash = "$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1";
        assert!(verify_password(hash, "Hello world!"));
        assert!(!verify_password(hash, "Hello world"));
    }

    #[test]
    fn garbage_hash_never_matches() {
        assert!(!verify_password("plaintext", "plaintext"));
        assert!(!verify_password("$argon2i$v=19$m=16,t=2,p=1$c2FsdHNhbHQ$abc", "x"));
    }
}
