//! Entra ID groups in lists: resolved through Graph to their enabled users, nested groups
//! included.

use super::Reach;
use crate::store::{Db, StoreError};

/// The identities (lower-case UPN or mail) of the enabled users in `list_id`'s groups.
pub async fn expand(
    _reach: &Reach,
    _db: &Db,
    _tenant: &str,
    _list_id: &str,
) -> Result<Vec<String>, StoreError> {
    // Filled in by issue 15 part 1.
    Ok(Vec::new())
}
