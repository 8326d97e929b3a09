//! A poll's answers (`choices: A | B | C`): each recipient's latest choice, and how many times
//! they changed it. Answering is also a read (see [`super::acks::read_by_action`]).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use super::super::schema::broadcast_answers as ans;
use super::super::{Conn, StoreError};
use super::acks::{Pressed, Pressing, pressing, reached};
use super::presses::{Change, Decided, What};
use crate::run_on;

/// `user_id` chose `choice` (an index of the poll's choices): refused (a choice not on the
/// card), the same choice again (nothing to write), or the answer to write, with a read if
/// there was none (see [`super::presses`]). Their latest choice counts.
pub fn decide_answer(
    conn: &mut Conn<'_>,
    broadcast_id: &str,
    user_id: &str,
    choice: usize,
    now: DateTime<Utc>,
) -> Result<Decided, StoreError> {
    let Pressing {
        bc,
        mut standing,
        read,
    } = match pressing(conn, broadcast_id, user_id)? {
        Ok(p) => p,
        Err(refused) => return Ok(Decided::Done(refused)),
    };
    let count = bc.choices().len();
    if count == 0 {
        return Ok(Decided::Done(Pressed::NotAsked));
    }
    let Some(stored) = (choice < count)
        .then(|| i32::try_from(choice).ok())
        .flatten()
    else {
        return Ok(Decided::Done(Pressed::NoSuchChoice(count)));
    };
    if standing.chosen == Some(choice) {
        // The same choice again: nothing changes.
        return Ok(Decided::Done(Pressed::Done(Box::new(bc), standing)));
    }
    let had = standing.chosen.is_some();
    standing.chosen = Some(choice);
    let change = Change {
        broadcast_id: broadcast_id.to_string(),
        user_id: user_id.to_string(),
        now,
        read,
        what: What::Answer {
            choice: stored,
            had,
        },
    };
    Ok(Decided::Write(Box::new(bc), standing, change))
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
    answers_among(conn, broadcast_id, None)
}

/// [`answers_by_user`] for the people `users` only (everyone for `None`).
pub fn answers_among(
    conn: &mut Conn<'_>,
    broadcast_id: &str,
    users: Option<&[String]>,
) -> Result<HashMap<String, i32>, StoreError> {
    let rows: Vec<(String, i32)> = run_on!(conn, |c| {
        let mut q = ans::table
            .filter(ans::broadcast_id.eq(broadcast_id))
            .select((ans::user_id, ans::choice))
            .into_boxed();
        if let Some(users) = users {
            q = q.filter(ans::user_id.eq_any(users));
        }
        q.load(c)
    })?;
    Ok(rows.into_iter().collect())
}
