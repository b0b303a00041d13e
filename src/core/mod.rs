//! The directory core: every account rule, enforced here and only here.
//! `model` is the data, `validate` the field rules, `access` who may do
//! what, `directory/` the operations (a file per job), `service` the async
//! door the faces use.

pub mod access;
pub mod audit;
pub mod console;
pub mod directory;
pub mod enrolment;
pub mod error;
pub mod password;
pub mod password_pool;
pub mod posix;
pub mod random;
pub mod reset;
pub mod second_factor;
pub mod service;
pub mod stamp;
pub mod throttle;
pub mod totp;
pub mod validate;

pub use access::Actor;
pub use directory::{
    AccountChange, AuthError, Directory, GroupEdit, LoginNames, MemberEdit, NewAccount, NewNode,
};
pub use error::{CoreError, CoreResult};
pub use service::Service;

#[cfg(test)]
mod tests;

#[cfg(test)]
mod second_factor_tests;
#[cfg(test)]
pub(crate) mod test_support;
