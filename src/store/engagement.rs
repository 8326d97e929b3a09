//! What recipients did with a broadcast or campaign beyond reading it, as reports read it:
//! reactions, the first reminder they got, acknowledgements and poll answers. Each is one
//! set-based query for the whole report (a 100,000-recipient broadcast is five queries, not
//! five per person).

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::broadcasts::Role;
use super::schema::{
    broadcast_acks as a, broadcast_answers as an, broadcast_messages as bm, deliveries as d,
    message_reactions as mr,
};
use super::{Conn, StoreError};
use crate::domain::delivery::{DeliveryStatus, Operation};
use crate::run_on;

/// When each person got their first delivered reminder of the broadcast.
pub fn first_reminders(
    conn: &mut Conn<'_>,
    broadcast_id: &str,
) -> Result<HashMap<String, NaiveDateTime>, StoreError> {
    let rows: Vec<(String, Option<NaiveDateTime>)> = run_on!(conn, |c| d::table
        .inner_join(bm::table.on(bm::message_id.eq(d::message_id)))
        .filter(bm::broadcast_id.eq(broadcast_id))
        .filter(bm::role.eq(Role::Reminder.as_str()))
        .filter(d::operation.eq(Operation::Send.as_str()))
        .filter(d::status.eq(DeliveryStatus::Delivered.as_str()))
        .group_by(d::user_id)
        .select((d::user_id, diesel::dsl::min(d::completed_at)))
        .load(c))?;
    Ok(rows
        .into_iter()
        .filter_map(|(user, at)| at.map(|at| (user, at)))
        .collect())
}

/// When each person acknowledged the broadcast (`ack: yes`).
pub fn acked_at_by_user(
    conn: &mut Conn<'_>,
    broadcast_id: &str,
) -> Result<HashMap<String, NaiveDateTime>, StoreError> {
    let rows: Vec<(String, NaiveDateTime)> = run_on!(conn, |c| a::table
        .filter(a::broadcast_id.eq(broadcast_id))
        .select((a::user_id, a::acked_at))
        .load(c))?;
    Ok(rows.into_iter().collect())
}

/// Each person's latest poll answer: an index into [`super::broadcasts::Broadcast::choices`].
pub fn answers_by_user(
    conn: &mut Conn<'_>,
    broadcast_id: &str,
) -> Result<HashMap<String, i32>, StoreError> {
    let rows: Vec<(String, i32)> = run_on!(conn, |c| an::table
        .filter(an::broadcast_id.eq(broadcast_id))
        .select((an::user_id, an::choice))
        .load(c))?;
    Ok(rows.into_iter().collect())
}

/// People per reaction type on a campaign or broadcast, most first (then by name).
pub fn reaction_counts(
    conn: &mut Conn<'_>,
    subject_id: &str,
) -> Result<Vec<(String, i64)>, StoreError> {
    let mut rows: Vec<(String, i64)> = run_on!(conn, |c| mr::table
        .filter(mr::subject_id.eq(subject_id))
        .group_by(mr::reaction)
        .select((mr::reaction, diesel::dsl::count_star()))
        .load(c))?;
    rows.sort_by(|x, y| y.1.cmp(&x.1).then_with(|| x.0.cmp(&y.0)));
    Ok(rows)
}

/// Each person's reaction types on a campaign or broadcast, sorted.
pub fn reactions_by_user(
    conn: &mut Conn<'_>,
    subject_id: &str,
) -> Result<HashMap<String, Vec<String>>, StoreError> {
    let rows: Vec<(String, String)> = run_on!(conn, |c| mr::table
        .filter(mr::subject_id.eq(subject_id))
        .select((mr::user_id, mr::reaction))
        .load(c))?;
    let mut by_user: HashMap<String, Vec<String>> = HashMap::new();
    for (user, reaction) in rows {
        by_user.entry(user).or_default().push(reaction);
    }
    for types in by_user.values_mut() {
        types.sort();
    }
    Ok(by_user)
}

/// What a report is of: reactions are filed under its id, the rest only exists for broadcasts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subject<'a> {
    Campaign(&'a str),
    Broadcast(&'a str),
}

/// What one recipient did beyond reading, as the CSV shows it.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct RecipientEngagement {
    /// Their reaction types, sorted.
    pub reactions: Vec<String>,
    /// Broadcasts only: their first delivered reminder.
    pub reminded_at: Option<NaiveDateTime>,
    /// Broadcasts only: when they acknowledged.
    pub acknowledged_at: Option<NaiveDateTime>,
    /// Broadcasts only: the text of their latest poll answer.
    pub answer: Option<String>,
}

/// The engagement of a whole report, loaded once, handed out per recipient.
#[derive(Debug, Default)]
pub struct Engaged {
    reactions: HashMap<String, Vec<String>>,
    reminded: HashMap<String, NaiveDateTime>,
    acked: HashMap<String, NaiveDateTime>,
    answers: HashMap<String, String>,
}

impl Engaged {
    /// Everything recorded for the campaign or broadcast `subject` (nothing for `None`).
    pub fn load(conn: &mut Conn<'_>, subject: Option<Subject<'_>>) -> Result<Engaged, StoreError> {
        match subject {
            None => Ok(Engaged::default()),
            Some(Subject::Campaign(id)) => Ok(Engaged {
                reactions: reactions_by_user(conn, id)?,
                ..Engaged::default()
            }),
            Some(Subject::Broadcast(id)) => {
                let choices = super::broadcasts::get(conn, id)?
                    .map(|b| b.choices())
                    .unwrap_or_default();
                let answers = answers_by_user(conn, id)?
                    .into_iter()
                    .filter_map(|(user, i)| {
                        let text = usize::try_from(i).ok().and_then(|i| choices.get(i))?;
                        Some((user, text.clone()))
                    })
                    .collect();
                Ok(Engaged {
                    reactions: reactions_by_user(conn, id)?,
                    reminded: first_reminders(conn, id)?,
                    acked: acked_at_by_user(conn, id)?,
                    answers,
                })
            }
        }
    }

    /// `user`'s part.
    pub fn of(&self, user: &str) -> RecipientEngagement {
        RecipientEngagement {
            reactions: self.reactions.get(user).cloned().unwrap_or_default(),
            reminded_at: self.reminded.get(user).copied(),
            acknowledged_at: self.acked.get(user).copied(),
            answer: self.answers.get(user).cloned(),
        }
    }
}

/// People per reaction type on the subject of a report, for the chart's legend.
pub fn report_reactions(
    conn: &mut Conn<'_>,
    subject: Option<Subject<'_>>,
) -> Result<Vec<(String, i64)>, StoreError> {
    match subject {
        Some(Subject::Campaign(id) | Subject::Broadcast(id)) => reaction_counts(conn, id),
        None => Ok(Vec::new()),
    }
}
