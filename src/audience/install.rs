//! Proactive install: herald installs itself for recipients who lack it, through Graph.

use super::Reach;
use crate::store::{Db, StoreError};

/// Installs herald for the members of `list_id` (or the tenant) who lack it; answers those
/// Graph refused, with its reason.
pub async fn install_missing(
    _reach: &Reach,
    _db: &Db,
    _tenant: &str,
    _list_id: Option<&str>,
    _channel: &str,
    _extra: &[String],
) -> Result<Vec<(String, String)>, StoreError> {
    // Filled in by issue 15 part 3.
    Ok(Vec::new())
}
