//! Password hashing with argon2id on a bounded blocking pool.
//!
//! Hashing is deliberately slow (tens of milliseconds of CPU and 19 MiB of
//! memory), so it never runs on the async executor: each hash takes a permit
//! from a semaphore sized to the machine's cores and runs on one of as many
//! dedicated hashing threads. Excess sign-ins queue for a permit instead of
//! starving the executor or exhausting memory. Dedicated threads (rather than
//! tokio's blocking pool, whose threads come and go) keep argon2's 19 MiB
//! block in a few long-lived allocator arenas: measured, the blocking pool
//! let resident memory grow past 1 GiB after a few hundred sign-ins and paid
//! thousands of page faults per hash.

use std::sync::{Arc, OnceLock};

use argon2::password_hash::phc::PasswordHash;
use argon2::{Algorithm, Argon2, Params, PasswordHasher as _, PasswordVerifier as _, Version};
use tokio::sync::Semaphore;

use crate::{Error, Result};

/// argon2id cost parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PasswordParams {
    /// Memory in KiB (OWASP: 19456).
    pub m_cost: u32,
    /// Iterations (OWASP: 2).
    pub t_cost: u32,
    /// Lanes (OWASP: 1).
    pub p_cost: u32,
}

impl Default for PasswordParams {
    /// OWASP's recommendation for argon2id: m = 19456 KiB, t = 2, p = 1.
    fn default() -> Self {
        PasswordParams {
            m_cost: 19_456,
            t_cost: 2,
            p_cost: 1,
        }
    }
}

impl PasswordParams {
    /// Cheap parameters for tests only (never for real passwords).
    pub fn insecure_fast_for_tests() -> Self {
        PasswordParams {
            m_cost: 256,
            t_cost: 1,
            p_cost: 1,
        }
    }

    fn argon2(&self) -> Result<Argon2<'static>> {
        let params = Params::new(self.m_cost, self.t_cost, self.p_cost, None)
            .map_err(|e| Error::config(format!("invalid argon2 parameters: {e}")))?;
        Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
    }
}

/// Hashes and verifies passwords off the executor, a bounded number at a time.
#[derive(Clone)]
pub struct PasswordHasher {
    params: PasswordParams,
    argon2: Argon2<'static>,
    permits: Arc<Semaphore>,
    pool: Arc<HashPool>,
    dummy: Arc<OnceLock<String>>,
}

impl std::fmt::Debug for PasswordHasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasswordHasher")
            .field("params", &self.params)
            .field("permits", &self.permits.available_permits())
            .finish()
    }
}

/// Outcome of checking a password against a stored hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verified {
    /// Wrong password (or no account: checked against a dummy hash).
    No,
    /// Right password.
    Yes {
        /// A new hash with the current parameters, when the stored one used others.
        rehash: Option<String>,
    },
}

impl PasswordHasher {
    /// A hasher with `params`, running at most `concurrency` hashes at once
    /// (default: the number of cores).
    pub fn new(params: PasswordParams, concurrency: Option<usize>) -> Result<Self> {
        let argon2 = params.argon2()?;
        let n = concurrency
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()))
            .max(1);
        Ok(PasswordHasher {
            params,
            argon2,
            permits: Arc::new(Semaphore::new(n)),
            pool: Arc::new(HashPool::new(n)?),
            dummy: Arc::new(OnceLock::new()),
        })
    }

    /// The parameters new hashes use.
    pub fn params(&self) -> PasswordParams {
        self.params
    }

    /// Hash `password` into a PHC string.
    pub async fn hash(&self, password: &str) -> Result<String> {
        let argon2 = self.argon2.clone();
        let password = password.to_owned();
        self.blocking(move || {
            argon2
                .hash_password(password.as_bytes())
                .map(|h| h.to_string())
                .map_err(|e| Error::internal(format!("argon2 hash failed: {e}")))
        })
        .await
    }

    /// Check `password` against `phc`. With `None` (no such account) it checks
    /// against a dummy hash so the caller spends the same time either way.
    pub async fn verify(&self, password: &str, phc: Option<&str>) -> Result<Verified> {
        let known = phc.is_some();
        let phc = match phc {
            Some(p) => p.to_owned(),
            None => self.dummy_hash().await?,
        };
        let argon2 = self.argon2.clone();
        let params = self.params;
        let password = password.to_owned();
        self.blocking(move || {
            let Ok(parsed) = PasswordHash::new(&phc) else {
                // A corrupt stored hash must not become a way in.
                return Err(Error::internal("stored password hash is not a PHC string"));
            };
            if argon2
                .verify_password(password.as_bytes(), &parsed)
                .is_err()
                || !known
            {
                return Ok(Verified::No);
            }
            let rehash = if needs_rehash(&parsed, params) {
                Some(
                    argon2
                        .hash_password(password.as_bytes())
                        .map_err(|e| Error::internal(format!("argon2 hash failed: {e}")))?
                        .to_string(),
                )
            } else {
                None
            };
            Ok(Verified::Yes { rehash })
        })
        .await
    }

    async fn dummy_hash(&self) -> Result<String> {
        if let Some(h) = self.dummy.get() {
            return Ok(h.clone());
        }
        let h = self
            .hash(&super::b64url(&super::random_bytes::<16>()))
            .await?;
        Ok(self.dummy.get_or_init(|| h).clone())
    }

    async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| Error::internal("password hasher closed"))?;
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.pool.run(Box::new(move || {
            let _ = tx.send(f());
        }))?;
        rx.await
            .map_err(|_| Error::internal("a password hashing thread stopped"))?
    }
}

type Job = Box<dyn FnOnce() + Send + 'static>;

/// A fixed set of threads that run hashing jobs; they exit when the pool is dropped.
struct HashPool {
    jobs: std::sync::Mutex<std::sync::mpsc::Sender<Job>>,
}

impl HashPool {
    fn new(threads: usize) -> Result<Self> {
        let (tx, rx) = std::sync::mpsc::channel::<Job>();
        let rx = Arc::new(std::sync::Mutex::new(rx));
        for i in 0..threads {
            let rx = rx.clone();
            std::thread::Builder::new()
                .name(format!("tessera-argon2-{i}"))
                .spawn(move || {
                    loop {
                        let job = match rx.lock() {
                            Ok(r) => r.recv(),
                            Err(_) => return,
                        };
                        match job {
                            Ok(job) => job(),
                            Err(_) => return,
                        }
                    }
                })
                .map_err(|e| Error::internal(format!("cannot start a hashing thread: {e}")))?;
        }
        Ok(HashPool {
            jobs: std::sync::Mutex::new(tx),
        })
    }

    fn run(&self, job: Job) -> Result<()> {
        self.jobs
            .lock()
            .map_err(|_| Error::internal("password hashing pool poisoned"))?
            .send(job)
            .map_err(|_| Error::internal("password hashing pool stopped"))
    }
}

fn needs_rehash(hash: &PasswordHash, params: PasswordParams) -> bool {
    if hash.algorithm.as_str() != "argon2id" {
        return true;
    }
    match Params::try_from(hash) {
        Ok(p) => {
            p.m_cost() != params.m_cost
                || p.t_cost() != params.t_cost
                || p.p_cost() != params.p_cost
        }
        Err(_) => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hash_verify_and_rehash_on_new_params() {
        let fast = PasswordHasher::new(PasswordParams::insecure_fast_for_tests(), None).unwrap();
        let phc = fast.hash("correct horse").await.unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=256,t=1,p=1$"));
        assert_eq!(
            fast.verify("correct horse", Some(&phc)).await.unwrap(),
            Verified::Yes { rehash: None }
        );
        assert_eq!(
            fast.verify("wrong", Some(&phc)).await.unwrap(),
            Verified::No
        );

        let stronger = PasswordHasher::new(
            PasswordParams {
                m_cost: 512,
                ..PasswordParams::insecure_fast_for_tests()
            },
            Some(1),
        )
        .unwrap();
        match stronger.verify("correct horse", Some(&phc)).await.unwrap() {
            Verified::Yes { rehash: Some(new) } => assert!(new.contains("m=512")),
            other => panic!("expected a rehash, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn unknown_account_is_never_verified() {
        let h = PasswordHasher::new(PasswordParams::insecure_fast_for_tests(), None).unwrap();
        assert_eq!(h.verify("anything", None).await.unwrap(), Verified::No);
        assert!(h.verify("x", Some("not a hash")).await.is_err());
    }

    #[test]
    fn invalid_params_are_a_config_error() {
        let p = PasswordParams {
            m_cost: 1,
            t_cost: 0,
            p_cost: 0,
        };
        assert_eq!(
            PasswordHasher::new(p, None).unwrap_err().code(),
            "config_error"
        );
    }
}
