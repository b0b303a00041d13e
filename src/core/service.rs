//! The async door to the core. Store work and password hashing block, so
//! they run on two bounded pools of their own, never on the async workers:
//! a flood of binds fills the password pool (low-priority threads of its
//! own, `password_pool.rs`) and waits there, while searches keep flowing
//! through the store pool.

use std::sync::Arc;

use tokio::sync::Semaphore;

use crate::core::access::Actor;
use crate::core::audit::{with_face, Face};
use crate::core::directory::{AuthError, Directory};
use crate::core::error::{CoreError, CoreResult};
use crate::core::password::PreparedPassword;
use crate::core::password_pool::PasswordPool;
use crate::core::second_factor::Computer;
use crate::core::throttle::{Admission, Outcome, Throttle, ThrottleSettings};
use crate::model::{Account, AccountId};

/// At most `size` closures running at once on tokio's blocking threads; the
/// rest wait their turn without holding a thread.
#[derive(Clone)]
pub struct BlockingPool {
    permits: Arc<Semaphore>,
}

impl BlockingPool {
    pub fn new(size: usize) -> Self {
        BlockingPool {
            permits: Arc::new(Semaphore::new(size.max(1))),
        }
    }

    pub async fn run<T, F>(&self, work: F) -> CoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        let permit = self
            .permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| CoreError::ShuttingDown)?;
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            work()
        })
        .await
        .map_err(|_| CoreError::ShuttingDown)
    }
}

/// The directory core, shared by every face.
#[derive(Clone)]
pub struct Service {
    directory: Arc<Directory>,
    store_pool: BlockingPool,
    password_pool: PasswordPool,
    /// The face this handle serves, for the audit log.
    face: Face,
    /// Failed authentications, shared by every face.
    throttle: Arc<Throttle>,
}

impl Service {
    pub fn new(directory: Directory, store_threads: usize, password_threads: usize) -> Self {
        Service {
            directory: Arc::new(directory),
            store_pool: BlockingPool::new(store_threads),
            password_pool: PasswordPool::new(password_threads),
            face: Face::Cli,
            throttle: Arc::new(Throttle::default()),
        }
    }

    /// The same service with these settings for slowing failed
    /// authentications down.
    pub fn with_throttle(self, settings: ThrottleSettings) -> Service {
        Service {
            throttle: Arc::new(Throttle::new(settings)),
            ..self
        }
    }

    /// The same service, recording its changes as made through `face`.
    pub fn for_face(&self, face: Face) -> Service {
        Service {
            face,
            ..self.clone()
        }
    }

    pub fn directory(&self) -> &Arc<Directory> {
        &self.directory
    }

    /// Runs a core call on the store pool.
    pub async fn run<T, F>(&self, call: F) -> CoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Directory) -> CoreResult<T> + Send + 'static,
    {
        let directory = self.directory.clone();
        let face = self.face;
        self.store_pool
            .run(move || with_face(face, || call(&directory)))
            .await?
    }

    /// Runs a core call as `actor` on the store pool: what every face does
    /// for a request once it knows who is asking.
    pub async fn run_as<T, F>(&self, actor: &Actor, call: F) -> CoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Directory, &Actor) -> CoreResult<T> + Send + 'static,
    {
        let actor = actor.clone();
        self.run(move |d| call(d, &actor)).await
    }

    /// Checks the policy and hashes on the password pool.
    pub async fn prepare_password(&self, password: String) -> CoreResult<PreparedPassword> {
        let directory = self.directory.clone();
        self.password_pool
            .run(move || directory.prepare_password(&password))
            .await?
    }

    /// An authentication (password, or password and code) from `computer`,
    /// each step on its own pool: lookups on the store pool, argon2 on the
    /// password pool.
    pub async fn authenticate(
        &self,
        user_name: String,
        credential: String,
        computer: Computer,
    ) -> Result<Account, AuthError> {
        let address = match &computer {
            Computer::Address(ip) => Some(*ip),
            _ => None,
        };
        // Counted from now: parallel attempts queue behind each other.
        // Earlier failures for this account make this one wait, on a
        // timer: no pool thread is held meanwhile.
        let admission = self.throttle.admit(&user_name, address).await;
        if !admission.wait.is_zero() {
            tokio::time::sleep(admission.wait).await;
        }
        let name = user_name.clone();
        let result = self.check(user_name, credential, computer).await;
        let outcome = match &result {
            Ok(_) => Outcome::Succeeded,
            // A code sent or asked for follows a right password.
            Err(AuthError::CodeSent { .. } | AuthError::SecondFactorRequired(_)) => {
                Outcome::Neither
            }
            // The server could not check it: not the client's failure.
            Err(AuthError::Core(
                CoreError::ShuttingDown | CoreError::Store(_) | CoreError::Hashing(_),
            )) => Outcome::Neither,
            Err(_) => Outcome::Failed,
        };
        self.settle(admission, outcome, name, address).await;
        result
    }

    /// Ends a throttled attempt: audits the failure from which waits
    /// begin, and serves the wait a failure from a busy address owes
    /// before it is answered.
    async fn settle(
        &self,
        admission: Admission,
        outcome: Outcome,
        name: String,
        address: Option<std::net::IpAddr>,
    ) {
        let verdict = admission.finish(outcome);
        if verdict.throttling_began {
            let directory = self.directory.clone();
            let face = self.face;
            let from = address.map_or_else(|| "(unknown)".into(), |a| a.to_string());
            let _ = self
                .store_pool
                .run(move || {
                    with_face(face, || directory.record_throttle(&name, &from));
                })
                .await;
        }
        if !verdict.hold.is_zero() {
            tokio::time::sleep(verdict.hold).await;
        }
    }

    async fn check(
        &self,
        user_name: String,
        credential: String,
        computer: Computer,
    ) -> Result<Account, AuthError> {
        let attempt = self
            .run(move |d| d.begin_authentication(&user_name))
            .await?;
        let directory = self.directory.clone();
        let (attempt, verdict) = self
            .password_pool
            .run(move || {
                let verdict = directory.check_credential(&attempt, &credential);
                (attempt, verdict)
            })
            .await?;
        let directory = self.directory.clone();
        let face = self.face;
        self.store_pool
            .run(move || {
                with_face(face, || {
                    directory.finish_authentication(attempt, verdict, &computer)
                })
            })
            .await?
    }

    /// Changes a password, one's own or that of an account `actor`
    /// manages: the one order every face follows. First the right (so a
    /// refused request learns nothing about the account, not even whether
    /// an old password is right); then the old password, when one is given,
    /// checked as an authentication of the target is (throttled per account
    /// and address, and a wrong one audited), asking no second factor and
    /// sending no code; then the policy and the hash; then the write. A
    /// right old password is not rewarded with a new record of failures
    /// cleared: only a successful authentication does that.
    pub async fn change_password(
        &self,
        actor: &Actor,
        target: String,
        old: Option<String>,
        new: String,
        from: Option<std::net::IpAddr>,
    ) -> Result<AccountId, AuthError> {
        let named = target.clone();
        let id = self
            .run_as(actor, move |d, a| d.check_may_set_password(a, &named))
            .await?;
        if let Some(old) = old {
            self.check_current_password(actor, target, old, from)
                .await?;
        }
        let prepared = self.prepare_password(new).await?;
        self.run_as(actor, move |d, a| d.set_password(a, id, prepared))
            .await?;
        Ok(id)
    }

    /// Stores a new authenticator secret for `actor`'s own account once
    /// `code` proves the app holds it; like a new password, it asks for the
    /// current password first (throttled and audited).
    pub async fn enrol_own_totp(
        &self,
        actor: &Actor,
        secret: Vec<u8>,
        code: String,
        current: String,
        from: Option<std::net::IpAddr>,
    ) -> Result<(), AuthError> {
        let me = actor.account().ok_or(CoreError::Forbidden(
            "only an account enrols its own app".into(),
        ))?;
        let (id, name) = (me.id, me.user_name.clone());
        self.check_current_password(actor, name, current, from)
            .await?;
        self.run_as(actor, move |d, a| {
            d.confirm_totp_enrolment(a, id, secret, &code)
        })
        .await?;
        Ok(())
    }

    /// Whether `password` is the current password of the account named
    /// `target`, checked as an authentication of it is: throttled per
    /// account and address, a wrong one audited; no second factor is asked
    /// and no code sent. The caller has checked the right to ask.
    async fn check_current_password(
        &self,
        actor: &Actor,
        target: String,
        password: String,
        from: Option<std::net::IpAddr>,
    ) -> Result<(), AuthError> {
        let admission = self.throttle.admit(&target, from).await;
        if !admission.wait.is_zero() {
            tokio::time::sleep(admission.wait).await;
        }
        let named = target.clone();
        let attempt = self.run(move |d| d.begin_authentication(&named)).await?;
        let directory = self.directory.clone();
        let right = self
            .password_pool
            .run(move || directory.password_matches(&attempt, &password))
            .await?;
        if right {
            self.settle(admission, Outcome::Neither, target, from).await;
            return Ok(());
        }
        let directory = self.directory.clone();
        let face = self.face;
        let actor = actor.clone();
        let named = target.clone();
        let address = from.map_or_else(|| "(unknown)".into(), |a| a.to_string());
        let _ = self
            .store_pool
            .run(move || {
                with_face(face, || {
                    directory.record_wrong_old_password(&actor, &named, &address)
                })
            })
            .await;
        self.settle(admission, Outcome::Failed, target, from).await;
        Err(AuthError::InvalidCredentials)
    }
}
