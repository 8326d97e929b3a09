//! A poll's answers (`choices: A | B | C`): each recipient's latest choice, and how many times
//! they changed it. Answering is also a read (see [`super::acks::read_by_action`]).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use super::super::schema::broadcast_answers as ans;
use super::super::{Conn, StoreError};
use super::acks::{Pressed, Pressing, action_read, pressing, reached, read_by_action};
use crate::run_on;

/// `user_id` chose `choice` (an index of the poll's choices): their latest choice counts, and
/// `changes` goes up by one when it differs from the one before. With a read if there was none,
/// in one transaction; nothing is written when the choice is not on the card.
pub fn record_answer(
    conn: &mut Conn<'_>,
    broadcast_id: &str,
    user_id: &str,
    choice: usize,
    now: DateTime<Utc>,
) -> Result<Pressed, StoreError> {
    let Pressing {
        bc,
        mut standing,
        read,
    } = match pressing(conn, broadcast_id, user_id)? {
        Ok(p) => p,
        Err(refused) => return Ok(refused),
    };
    let count = bc.choices().len();
    if count == 0 {
        return Ok(Pressed::NotAsked);
    }
    if choice >= count {
        return Ok(Pressed::NoSuchChoice(count));
    }
    if standing.chosen == Some(choice) {
        // The same choice again: nothing changes.
        return Ok(Pressed::Done(Box::new(bc), standing));
    }
    let stored = choice as i32;
    let had = standing.chosen.is_some();
    let change = |conn: &mut Conn<'_>| -> Result<(), StoreError> {
        let added = if had {
            0
        } else {
            run_on!(conn, |c| diesel::insert_into(ans::table)
                .values((
                    ans::broadcast_id.eq(broadcast_id),
                    ans::user_id.eq(user_id),
                    ans::choice.eq(stored),
                    ans::answered_at.eq(now.naive_utc()),
                    ans::changes.eq(0),
                ))
                .on_conflict_do_nothing()
                .execute(c))?
        };
        if added == 0 {
            // One statement: two presses at once cannot both count as a change.
            run_on!(conn, |c| diesel::update(
                ans::table
                    .filter(ans::broadcast_id.eq(broadcast_id))
                    .filter(ans::user_id.eq(user_id))
                    .filter(ans::choice.ne(stored))
            )
            .set((
                ans::choice.eq(stored),
                ans::answered_at.eq(now.naive_utc()),
                ans::changes.eq(ans::changes + 1),
            ))
            .execute(c))?;
        }
        Ok(())
    };
    if action_read(read.as_deref()) {
        // At most one statement writes (the insert, or else the update): no transaction.
        change(conn)?;
    } else {
        conn.write_transaction(|conn| {
            change(conn)?;
            read_by_action(conn, broadcast_id, user_id, read.as_deref(), now)
        })?;
    }
    standing.chosen = Some(choice);
    Ok(Pressed::Done(Box::new(bc), standing))
}

/// A poll's tally: how many chose each of its `choices` choices, how many answered, and how
/// many the broadcast reached.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tally {
    pub counts: Vec<i64>,
    pub answered: i64,
    pub reached: usize,
}

/// The tally of the broadcast's poll of `choices` choices (one grouped query).
pub fn tally(conn: &mut Conn<'_>, broadcast_id: &str, choices: usize) -> Result<Tally, StoreError> {
    let rows: Vec<(i32, i64)> = run_on!(conn, |c| ans::table
        .filter(ans::broadcast_id.eq(broadcast_id))
        .group_by(ans::choice)
        .select((ans::choice, diesel::dsl::count_star()))
        .load(c))?;
    let mut counts = vec![0; choices];
    for (choice, n) in rows {
        if let Some(slot) = usize::try_from(choice).ok().and_then(|i| counts.get_mut(i)) {
            *slot += n;
        }
    }
    Ok(Tally {
        answered: counts.iter().sum(),
        counts,
        reached: reached(conn, broadcast_id)?.len(),
    })
}

/// Each recipient's latest choice (an index of the choices), by user id: the report's column.
pub fn answers_by_user(
    conn: &mut Conn<'_>,
    broadcast_id: &str,
) -> Result<HashMap<String, i32>, StoreError> {
    let rows: Vec<(String, i32)> = run_on!(conn, |c| ans::table
        .filter(ans::broadcast_id.eq(broadcast_id))
        .select((ans::user_id, ans::choice))
        .load(c))?;
    Ok(rows.into_iter().collect())
}
