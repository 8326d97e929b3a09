//! Inbound activity ids already handled: the Bot Framework redelivers an activity it believes
//! was lost, and each must take effect once.

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use super::schema::inbound_activities as t;
use super::{Conn, StoreError};
use crate::run_on;

/// Identifies one inbound activity.
#[derive(Debug, Clone)]
pub struct ActivityKey {
    pub channel_id: String,
    pub conversation_id: String,
    pub activity_id: String,
}

/// Records the activity as handled. Returns false when it already was (a redelivery).
pub fn claim(
    conn: &mut Conn<'_>,
    key: &ActivityKey,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let inserted = run_on!(conn, |c| diesel::insert_into(t::table)
        .values((
            t::channel_id.eq(&key.channel_id),
            t::conversation_id.eq(&key.conversation_id),
            t::activity_id.eq(&key.activity_id),
            t::received_at.eq(now.naive_utc()),
        ))
        .on_conflict_do_nothing()
        .execute(c))?;
    Ok(inserted == 1)
}

/// Forgets a claim whose handling failed, so that the redelivery is handled.
pub fn release(conn: &mut Conn<'_>, key: &ActivityKey) -> Result<(), StoreError> {
    run_on!(conn, |c| diesel::delete(
        t::table
            .filter(t::channel_id.eq(&key.channel_id))
            .filter(t::conversation_id.eq(&key.conversation_id))
            .filter(t::activity_id.eq(&key.activity_id))
    )
    .execute(c))?;
    Ok(())
}

/// Drops claims older than `before`; redeliveries come within minutes, not days.
pub fn prune(conn: &mut Conn<'_>, before: DateTime<Utc>) -> Result<usize, StoreError> {
    Ok(run_on!(conn, |c| diesel::delete(
        t::table.filter(t::received_at.lt(before.naive_utc()))
    )
    .execute(c))?)
}
