//! Broadcasts, the use cases: a message sent now to a list or everyone, followed, recalled,
//! read and answered. Each use case reads top to bottom: the store answers and records, the
//! pure `domain::broadcast` checks and renders, the outbox carries what must be sent. Results
//! are typed; the chat layer (`bot/`) turns them into sentences.
//!
//! - [`send`]: `broadcast <list|all>`;
//! - this file: `broadcasts` and `broadcast info` (reads and counts);
//! - [`recall`]: `broadcast delete`, and the admin's notice once every delete is done;
//! - [`read`]: **Mark as read** and Teams read receipts;
//! - [`relay`]: a recipient's reply to the sender, and the sender's answer back;
//! - [`hold`]: a broadcast recorded now and posted when released (the one release path);
//! - [`schedule`]: `send:` times, `broadcast edit` and the cancel of a held broadcast.

use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::audience::Reach;
use crate::domain::broadcast::parse_number;
use crate::domain::clock::Clock;
use crate::outbox::Outbox;
use crate::store::broadcasts::presses::PressWriter;
use crate::store::broadcasts::{self as store, Broadcast, Counts};
use crate::store::users::User;
use crate::store::{StoreError, folded};

pub mod ack;
pub mod cards;
pub mod hold;
pub mod poll;
pub mod read;
pub mod recall;
pub mod relay;
pub mod remind;
pub mod resend;
pub mod schedule;
pub mod send;

pub use recall::Recall;
pub use relay::Relayed;
pub use send::Sent;

/// What the broadcast use cases need: the outbox (and its database), the time, and whether
/// links in bodies are tracked.
#[derive(Clone)]
pub struct Broadcasts {
    outbox: Outbox,
    clock: Arc<dyn Clock>,
    track_links: bool,
    /// Groups and proactive installs.
    reach: Reach,
    /// Where presses of cards' actions are written together (without it, each on its own).
    presses: Option<PressWriter>,
}

/// Broadcasts `broadcasts` lists.
const LISTED: i64 = 20;

/// What `broadcast info` shows besides the broadcast itself.
#[derive(Debug, Clone)]
pub struct Info {
    pub counts: Counts,
    /// Recipients who have the card and have not read it, and the first of them by name.
    pub unread_total: usize,
    pub unread: Vec<String>,
    /// List members not installed when it went out.
    pub not_installed: Vec<String>,
    /// Every message of the broadcast (for its link clicks).
    pub messages: Vec<String>,
}

impl Broadcasts {
    pub fn new(outbox: Outbox, clock: Arc<dyn Clock>) -> Broadcasts {
        Broadcasts {
            outbox,
            clock,
            track_links: false,
            reach: Reach::default(),
            presses: None,
        }
    }

    /// Writes acknowledgements and answers through `writer` (see [`PressWriter`]).
    pub fn pressing_through(mut self, writer: Option<PressWriter>) -> Broadcasts {
        self.presses = writer;
        self
    }

    /// Resolves lists' groups and installs herald through `reach` (its Graph client).
    pub fn reaching(mut self, reach: Reach) -> Broadcasts {
        self.reach = reach;
        self
    }

    /// Tracks the links of the bodies sent from now on.
    pub fn tracking_links(mut self, on: bool) -> Broadcasts {
        self.track_links = on;
        self
    }

    fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// A tenant's broadcast by the number admins type (`3` or `#3`).
    pub async fn numbered(&self, tenant: &str, id: &str) -> Result<Option<Broadcast>, StoreError> {
        let Some(number) = parse_number(id) else {
            return Ok(None);
        };
        let tenant = tenant.to_string();
        self.outbox
            .db()
            .run(move |conn| store::find(conn, &tenant, number))
            .await
    }

    /// `broadcasts`: the tenant's latest broadcasts, newest first, with their counts.
    pub async fn list(&self, tenant: &str) -> Result<Vec<(Broadcast, Counts)>, StoreError> {
        let tenant = tenant.to_string();
        self.outbox
            .db()
            .run(move |conn| {
                let mut rows = Vec::new();
                for bc in store::recent(conn, &tenant, LISTED)? {
                    let counts = store::counts(conn, &bc)?;
                    rows.push((bc, counts));
                }
                Ok(rows)
            })
            .await
    }

    /// `broadcast info`: counts, who has not read it (the first `unread_shown`), who could not
    /// be reached.
    pub async fn info(&self, bc: &Broadcast, unread_shown: usize) -> Result<Info, StoreError> {
        let bc = bc.clone();
        self.outbox
            .db()
            .run(move |conn| {
                let (unread_total, unread) = store::unread(conn, &bc, unread_shown)?;
                Ok(Info {
                    counts: store::counts(conn, &bc)?,
                    unread_total,
                    unread,
                    not_installed: store::not_installed(conn, &bc.id)?,
                    messages: store::all_messages(conn, &bc.id)?,
                })
            })
            .await
    }

    /// Whether the broadcast's details were purged and only its report kept.
    pub async fn folded(&self, bc: &Broadcast) -> Result<bool, StoreError> {
        let id = bc.id.clone();
        Ok(self
            .outbox
            .db()
            .run(move |c| folded::folded_broadcast(c, &id))
            .await?
            .is_some())
    }
}

/// How a user is named to others: display name, else given name and surname, else email.
pub fn name_of(u: &User) -> String {
    let full = [u.given_name.as_deref(), u.surname.as_deref()]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    u.display_name
        .clone()
        .filter(|n| !n.trim().is_empty())
        .or_else(|| (!full.trim().is_empty()).then_some(full))
        .or_else(|| u.email.clone())
        .or_else(|| u.user_principal_name.clone())
        .unwrap_or_else(|| "herald user".into())
}
