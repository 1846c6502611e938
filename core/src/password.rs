//! Password hashing: argon2id with at least OWASP's parameters. Hashing
//! takes tens of milliseconds of CPU, so it runs on the blocking pool.

use argon2::{
    Algorithm, Argon2, Params, PasswordHash, PasswordHasher, PasswordVerifier, Version,
    password_hash::{SaltString, rand_core::OsRng},
};

use crate::{Error, Result};

/// OWASP's minimum for argon2id: 19 MiB of memory, 2 passes, 1 lane.
pub const MEMORY_KIB: u32 = 19 * 1024;
pub const PASSES: u32 = 2;
pub const LANES: u32 = 1;

fn hasher() -> Argon2<'static> {
    let params = Params::new(MEMORY_KIB, PASSES, LANES, None).expect("valid argon2 parameters");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// What checking a password against a stored hash found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verified {
    /// It matches; when the stored hash used other parameters, here is a
    /// fresh hash to store instead.
    Match { rehashed: Option<String> },
    Mismatch,
}

/// Hashes a new password (PHC string format, salt included).
pub async fn hash(password: &str) -> Result<String> {
    let password = password.to_owned();
    blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        hasher().hash_password(password.as_bytes(), &salt).map(|hash| hash.to_string())
    })
    .await
}

/// Checks a password. `stored` is `None` for an unknown account: a dummy
/// hash is checked instead, so the answer takes as long either way and
/// timing says nothing about which accounts exist.
pub async fn verify(password: &str, stored: Option<&str>) -> Result<Verified> {
    let password = password.to_owned();
    let stored = stored.map(str::to_owned);
    blocking(move || {
        let Some(stored) = stored else {
            let _ = hasher().verify_password(password.as_bytes(), &PasswordHash::new(dummy_hash())?);
            return Ok(Verified::Mismatch);
        };
        let parsed = match PasswordHash::new(&stored) {
            Ok(parsed) => parsed,
            // A corrupt hash can never match; still spend the same time.
            Err(_) => {
                let _ = hasher().verify_password(password.as_bytes(), &PasswordHash::new(dummy_hash())?);
                return Ok(Verified::Mismatch);
            }
        };
        if hasher().verify_password(password.as_bytes(), &parsed).is_err() {
            return Ok(Verified::Mismatch);
        }
        let current = Params::try_from(&parsed).ok();
        let up_to_date = parsed.algorithm == Algorithm::Argon2id.ident()
            && current.is_some_and(|p| p.m_cost() >= MEMORY_KIB && p.t_cost() >= PASSES && p.p_cost() == LANES);
        let rehashed = if up_to_date {
            None
        } else {
            let salt = SaltString::generate(&mut OsRng);
            Some(hasher().hash_password(password.as_bytes(), &salt)?.to_string())
        };
        Ok(Verified::Match { rehashed })
    })
    .await
}

/// A valid hash of a random password, made once, with today's parameters.
fn dummy_hash() -> &'static str {
    use std::sync::LazyLock;
    static DUMMY: LazyLock<String> = LazyLock::new(|| {
        let salt = SaltString::generate(&mut OsRng);
        let random = uuid::Uuid::new_v4().to_string();
        hasher().hash_password(random.as_bytes(), &salt).expect("hashing a random password").to_string()
    });
    &DUMMY
}

async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> std::result::Result<T, argon2::password_hash::Error> + Send + 'static,
) -> Result<T> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|err| Error::NotStored(format!("password hashing task failed: {err}")))?
        .map_err(|err| Error::NotStored(format!("password hashing failed: {err}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_verify_and_old_parameters_are_upgraded() {
        let stored = hash("correct horse battery").await.unwrap();
        assert!(stored.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{stored}");
        assert_eq!(verify("correct horse battery", Some(&stored)).await.unwrap(), Verified::Match { rehashed: None });
        assert_eq!(verify("wrong", Some(&stored)).await.unwrap(), Verified::Mismatch);
        assert_eq!(verify("anything", None).await.unwrap(), Verified::Mismatch);
        assert_eq!(verify("anything", Some("not a hash")).await.unwrap(), Verified::Mismatch);

        // A hash made with weaker parameters is replaced at the next sign-in.
        let weak = Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::new(8 * 1024, 1, 1, None).unwrap())
            .hash_password(b"correct horse battery", &SaltString::generate(&mut OsRng))
            .unwrap()
            .to_string();
        match verify("correct horse battery", Some(&weak)).await.unwrap() {
            Verified::Match { rehashed: Some(new) } => assert!(new.contains("m=19456,t=2,p=1")),
            other => panic!("expected a rehash, got {other:?}"),
        }
    }
}
