//! What recipients did with a broadcast or campaign beyond reading it, as reports read it:
//! reactions, the first reminder they got, acknowledgements and poll answers. Each is one
//! set-based query for a page or chunk of the report (a thousand recipients are five queries,
//! not five per person).

use std::collections::HashMap;

use chrono::NaiveDateTime;

use super::{Conn, StoreError};

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
    /// What the people `users` did with the campaign or broadcast `subject` (nothing for
    /// `None`): a page or a chunk of a report reads only its own people's part.
    pub fn load(
        conn: &mut Conn<'_>,
        subject: Option<Subject<'_>>,
        users: &[String],
    ) -> Result<Engaged, StoreError> {
        let users = Some(users);
        match subject {
            None => Ok(Engaged::default()),
            Some(Subject::Campaign(id)) => Ok(Engaged {
                reactions: super::reactions::by_user_among(conn, id, users)?,
                ..Engaged::default()
            }),
            Some(Subject::Broadcast(id)) => {
                let choices = super::broadcasts::get(conn, id)?
                    .map(|b| b.choices())
                    .unwrap_or_default();
                let answers = super::broadcasts::answers::answers_among(conn, id, users)?
                    .into_iter()
                    .filter_map(|(user, i)| {
                        let text = usize::try_from(i).ok().and_then(|i| choices.get(i))?;
                        Some((user, text.clone()))
                    })
                    .collect();
                Ok(Engaged {
                    reactions: super::reactions::by_user_among(conn, id, users)?,
                    reminded: super::broadcasts::remind::first_reminders_among(conn, id, users)?,
                    acked: super::broadcasts::acks::acked_at_among(conn, id, users)?,
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
        Some(Subject::Campaign(id) | Subject::Broadcast(id)) => super::reactions::counts(conn, id),
        None => Ok(Vec::new()),
    }
}
