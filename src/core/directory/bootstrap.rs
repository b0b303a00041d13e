//! The first start of an empty store: the super admin `admin`.

use jiff::Timestamp;
use uuid::Uuid;

use crate::core::error::CoreResult;
use crate::model::Visibility;
use crate::model::{AccountType, AdminLevel, Attributes, AuthMethod, Status};
use crate::store::NewAccountRow;

use super::Directory;

/// The name of the super admin made on the first start of an empty store.
pub const BOOTSTRAP_ADMIN: &str = "admin";

impl Directory {
    /// On an empty store, creates the super admin `admin` with a random
    /// password and returns that password (to be shown once). Otherwise None.
    pub fn bootstrap(&self) -> CoreResult<Option<String>> {
        if self.store.count_accounts(Visibility::All, true)? > 0 {
            return Ok(None);
        }
        let password = self.generate_password();
        let prepared = self.prepare_password(&password)?;
        let row = NewAccountRow {
            uuid: Uuid::new_v4(),
            user_name: BOOTSTRAP_ADMIN.to_owned(),
            login_name: None,
            password_hash: Some(prepared.0),
            given_name: String::new(),
            family_name: "Administrator".to_owned(),
            email: None,
            mobile: None,
            time_zone: self.default_time_zone.clone(),
            account_type: AccountType::Administrator,
            auth_method: AuthMethod::Password,
            restricted_to: None,
            manager: None,
            admin_level: AdminLevel::SuperAdmin,
            admin_entity: None,
            roles: Vec::new(),
            status: Status::Active,
            external_id: None,
            attributes: Attributes::default(),
            now: Timestamp::now(),
        };
        self.store.insert_account(&row)?;
        Ok(Some(password))
    }
}
