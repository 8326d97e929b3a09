//! Recording a self-repair: the recipient's 1:1 chat was gone (404 `ConversationNotFound`, or
//! 403 `BotNotInConversationRoster`) and the engine opened it again through the connector.

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use crate::run_on;
use crate::store::schema::{deliveries as d, users as u};
use crate::store::sql::PendingStatus;
use crate::store::{Conn, StoreError};

/// Counts a repair on delivery `id`, still leased by `owner` and pending, and records
/// `conversation_id` as the user's chat from now on (every later send goes there). `false`,
/// with nothing changed, when the lease is no longer `owner`'s.
pub fn record_repair(
    conn: &mut Conn<'_>,
    owner: &str,
    id: i64,
    user_id: &str,
    conversation_id: &str,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let now = now.naive_utc();
    conn.write_transaction(|conn| {
        let n = run_on!(conn, |c| diesel::update(
            d::table
                .filter(d::id.eq(id))
                .filter(d::leased_by.eq(owner))
                .filter(d::status.eq(PendingStatus))
        )
        .set((d::repairs.eq(d::repairs + 1), d::updated_at.eq(now)))
        .execute(c))?;
        if n == 0 {
            return Ok(false);
        }
        run_on!(conn, |c| diesel::update(u::table.find(user_id))
            .set((
                u::conversation_id.eq(conversation_id),
                u::updated_at.eq(now)
            ))
            .execute(c))?;
        Ok(true)
    })
}
