//! Broadcasts in the chat: `broadcast <list|all>` (typed or through the form), `broadcasts`,
//! `broadcast info|delete`, and what recipients do with their card: mark it read (button or
//! Teams read receipt) and reply, relayed 1:1 to the sender and back.

use chrono::{DateTime, NaiveDateTime, Utc};
use chrono_tz::Tz;
use serde_json::Value;

use super::admin::Caller;
use super::{Bot, BotError, Handled, texts_lifecycle};
use crate::botframework::Activity;
use crate::botframework::activity::Checked;
use crate::domain::Lang;
use crate::domain::broadcast::{
    self as domain, Audience, BroadcastText, CardContent, REPLY_MAX, RelayedAnswer, RelayedReply,
    action,
};
use crate::domain::commands::{Command, FieldError};
use crate::domain::problem::Problem;
use crate::domain::text::escape_markdown;
use crate::store::broadcasts::{self, Broadcast, Created, Read, direction, source};
use crate::store::users::{self, User};
use crate::store::{StoreError, folded, lists};

type Reply = Result<(String, String), BotError>;

/// The Teams event a read receipt arrives as.
pub const READ_RECEIPT_EVENT: &str = "application/vnd.microsoft.readReceipt";
/// Broadcasts `broadcasts` lists.
const LISTED: i64 = 20;
/// Unread recipients `broadcast info` names.
const UNREAD_SHOWN: usize = 30;
/// Not-installed list members named in an answer.
const NOT_INSTALLED_SHOWN: usize = 20;
/// How long after a broadcast a plain message from a recipient is taken as a reply to it.
const REPLY_WINDOW: chrono::TimeDelta = chrono::TimeDelta::days(30);

use super::texts::bold as q;

/// How a user is named to others: display name, else given name and surname, else email.
pub(super) fn name_of(u: &User) -> String {
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

fn lang_of(u: &User) -> Lang {
    Lang::from_locale(u.locale.as_deref())
}

fn errors_text(errors: &[FieldError], fr: bool) -> String {
    let head = if fr {
        "La diffusion n'a pas été envoyée :"
    } else {
        "The broadcast was not sent:"
    };
    super::texts::field_errors(if fr { Lang::Fr } else { Lang::En }, head, errors)
}

fn no_such_broadcast(id: &str, fr: bool) -> String {
    if fr {
        format!(
            "Il n'y a pas de diffusion {}. Tapez **diffusions** pour les voir.",
            q(id)
        )
    } else {
        format!(
            "There is no broadcast {}. Type **broadcasts** to see them.",
            q(id)
        )
    }
}

fn local_time(at: NaiveDateTime, tz: Tz) -> String {
    at.and_utc()
        .with_timezone(&tz)
        .format("%Y-%m-%d %H:%M %Z")
        .to_string()
}

fn emails_line(emails: &[String]) -> String {
    let mut shown: Vec<String> = emails
        .iter()
        .take(NOT_INSTALLED_SHOWN)
        .map(|e| escape_markdown(e))
        .collect();
    if emails.len() > NOT_INSTALLED_SHOWN {
        shown.push(format!("+{}", emails.len() - NOT_INSTALLED_SHOWN));
    }
    shown.join(", ")
}

impl Bot {
    fn zone(&self, caller: &Caller) -> Tz {
        caller
            .time_zone
            .as_deref()
            .and_then(|z| z.parse().ok())
            .unwrap_or(self.campaign_defaults.time_zone)
    }

    async fn user_of(&self, key: &users::ConversationRef) -> Result<Option<User>, StoreError> {
        let key = key.clone();
        self.db.run(move |conn| users::find(conn, &key)).await
    }

    async fn broadcast_numbered(
        &self,
        tenant: &str,
        id: &str,
    ) -> Result<Option<Broadcast>, StoreError> {
        let Some(number) = domain::parse_number(id) else {
            return Ok(None);
        };
        let tenant = tenant.to_string();
        self.db
            .run(move |conn| broadcasts::find(conn, &tenant, number))
            .await
    }

    /// The broadcast form, with the audience prefilled and each error shown.
    pub(super) async fn broadcast_form(
        &self,
        caller: &Caller,
        lang: Lang,
        values: &Value,
        errors: &[FieldError],
    ) -> Result<Value, BotError> {
        let tenant = caller.tenant.clone();
        let all = self.db.run(move |conn| lists::all(conn, &tenant)).await?;
        let names: Vec<String> = all.into_iter().map(|(l, _)| l.name).collect();
        Ok(super::forms::broadcast_form(lang, &names, values, errors))
    }

    /// A submitted broadcast form: sent, or shown again with its errors.
    pub(super) async fn broadcast_form_submit(
        &self,
        caller: &Caller,
        value: &Value,
        lang: Lang,
    ) -> Result<(super::Answer, String), BotError> {
        let field = |k: &str| {
            value
                .get(k)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string()
        };
        let (audience, subject, body) = (field("audience"), field("subject"), field("body"));
        let mut errors = Vec::new();
        if audience.trim().is_empty() {
            errors.push(FieldError {
                field: "audience",
                problem: Problem::new("field-choose-audience"),
                example: "all-staff",
            });
        }
        let text = match self.fit(domain::check_text(&subject, &body), lang) {
            Ok(t) => Some(t),
            Err(e) => {
                errors.extend(e);
                None
            }
        };
        match text {
            Some(text) if errors.is_empty() => {
                let (reply, outcome) = self
                    .send_broadcast(caller, Audience::parse(&audience), text, lang)
                    .await?;
                Ok((super::Answer::Text(reply), outcome))
            }
            _ => {
                // Shown again with what was typed.
                let card = self.broadcast_form(caller, lang, value, &errors).await?;
                Ok((super::Answer::Card(card), "refused: invalid fields".into()))
            }
        }
    }

    pub(super) async fn broadcast_command(
        &self,
        caller: &Caller,
        command: Command,
        lang: Lang,
    ) -> Reply {
        let fr = lang == Lang::Fr;
        match command {
            Command::Broadcast { target, rest } => match self.fit_text(&rest, lang) {
                Ok(text) => {
                    self.send_broadcast(caller, Audience::parse(&target), text, lang)
                        .await
                }
                Err(errors) => Ok((errors_text(&errors, fr), "refused: invalid fields".into())),
            },
            Command::Broadcasts => self.list_broadcasts(caller, fr).await,
            Command::BroadcastDelete { id } => {
                let Some(bc) = self.broadcast_numbered(&caller.tenant, &id).await? else {
                    return Ok((
                        no_such_broadcast(&id, fr),
                        "refused: unknown broadcast".into(),
                    ));
                };
                self.recall(caller, bc, fr).await
            }
            _ => Ok((
                super::texts::hint(lang),
                "refused: not a broadcast command".into(),
            )),
        }
    }

    async fn send_broadcast(
        &self,
        caller: &Caller,
        audience: Audience,
        text: BroadcastText,
        lang: Lang,
    ) -> Reply {
        let fr = lang == Lang::Fr;
        let Some(sender) = self.user_of(&caller.key).await? else {
            return Ok((
                if fr {
                    "Je ne vous connais pas encore : réinstallez herald, puis réessayez.".into()
                } else {
                    "I don't know you yet: reinstall herald, then try again.".into()
                },
                "refused: sender unknown".into(),
            ));
        };
        let (list_id, audience_name) = match &audience {
            Audience::All => (None, "all".to_string()),
            Audience::List(name) => {
                let (t, n) = (caller.tenant.clone(), name.clone());
                match self.db.run(move |conn| lists::find(conn, &t, &n)).await? {
                    Some(l) => (Some(l.id), l.name),
                    None => {
                        return Ok((
                            super::admin::no_such_list(name, fr),
                            "refused: unknown list".into(),
                        ));
                    }
                }
            }
        };
        let tracked = self.tracker.as_ref().is_some_and(|t| t.enabled());
        let (card_body, links) = if tracked {
            crate::domain::tracking::mark_links(&text.body)
        } else {
            (text.body.clone(), Vec::new())
        };
        let new = broadcasts::NewBroadcast {
            tenant_id: caller.tenant.clone(),
            subject: text.subject,
            body: text.body,
            links,
            list_id,
            audience: audience_name.clone(),
            sender_id: sender.id.clone(),
            sender_name: name_of(&sender),
        };
        let now = self.clock.now();
        let created = {
            let new = new.clone();
            self.db
                .run(move |conn| {
                    broadcasts::create(
                        conn,
                        &new,
                        &|lang, id, read| {
                            let content = CardContent {
                                broadcast_id: id,
                                subject: &new.subject,
                                body: &card_body,
                                sender: &new.sender_name,
                            };
                            domain::broadcast_card(lang, &content, read)
                        },
                        now,
                    )
                })
                .await?
        };
        let (bc, missing) = match created {
            Created::Sent(bc, missing) => (*bc, missing),
            Created::Nobody(missing) => {
                let text = match (fr, audience) {
                    (true, Audience::All) => {
                        "Personne n'a encore installé herald : la diffusion n'a pas été envoyée."
                            .to_string()
                    }
                    (false, Audience::All) => {
                        "Nobody has installed herald yet: the broadcast was not sent.".to_string()
                    }
                    (true, Audience::List(_)) => format!(
                        "Aucun membre de {} n'a installé herald : la diffusion n'a pas été envoyée.{}",
                        q(&audience_name),
                        if missing.is_empty() {
                            String::new()
                        } else {
                            format!("\n\nNon installés : {}", emails_line(&missing))
                        }
                    ),
                    (false, Audience::List(_)) => format!(
                        "No member of {} has installed herald: the broadcast was not sent.{}",
                        q(&audience_name),
                        if missing.is_empty() {
                            String::new()
                        } else {
                            format!("\n\nNot installed: {}", emails_line(&missing))
                        }
                    ),
                };
                return Ok((text, "refused: nobody to send to".into()));
            }
        };
        self.wake_engine();
        tracing::info!(
            broadcast = bc.number,
            recipients = bc.targeted,
            "broadcast sent"
        );
        let mut text = if fr {
            format!(
                "Diffusion **#{}** {} en route vers {} personne(s).",
                bc.number,
                q(&bc.subject),
                bc.targeted
            )
        } else {
            format!(
                "Broadcast **#{}** {} is on its way to {} people.",
                bc.number,
                q(&bc.subject),
                bc.targeted
            )
        };
        if !missing.is_empty() {
            text.push_str(&if fr {
                format!(
                    "\n\n{} membre(s) de {} n'ont pas installé herald : {}",
                    missing.len(),
                    q(&audience_name),
                    emails_line(&missing)
                )
            } else {
                format!(
                    "\n\n{} member(s) of {} have not installed herald: {}",
                    missing.len(),
                    q(&audience_name),
                    emails_line(&missing)
                )
            });
        }
        text.push_str(&if fr {
            format!(
                "\n\nTapez **diffusion info {}** pour suivre les lectures.",
                bc.number
            )
        } else {
            format!(
                "\n\nType **broadcast info {}** to follow who read it.",
                bc.number
            )
        });
        Ok((text, format!("ok: broadcast #{}", bc.number)))
    }

    async fn list_broadcasts(&self, caller: &Caller, fr: bool) -> Reply {
        let tenant = caller.tenant.clone();
        let tz = self.zone(caller);
        let rows = self
            .db
            .run(move |conn| {
                let mut rows = Vec::new();
                for bc in broadcasts::recent(conn, &tenant, LISTED)? {
                    let counts = broadcasts::counts(conn, &bc)?;
                    rows.push((bc, counts));
                }
                Ok(rows)
            })
            .await?;
        if rows.is_empty() {
            return Ok((
                if fr {
                    "Aucune diffusion pour l'instant.".into()
                } else {
                    "No broadcasts yet.".into()
                },
                "ok".into(),
            ));
        }
        let lines: Vec<String> = rows
            .iter()
            .map(|(bc, c)| {
                let recalled = match (bc.recalled(), fr) {
                    (false, _) => "",
                    (true, true) => " — rappelée",
                    (true, false) => " — recalled",
                };
                if fr {
                    format!(
                        "- **#{}** {} — {} — {} : {} destinataires, {} remis, {} lus{recalled}",
                        bc.number,
                        q(&bc.subject),
                        local_time(bc.created_at, tz),
                        escape_markdown(&bc.audience),
                        c.targeted,
                        c.delivered,
                        c.read()
                    )
                } else {
                    format!(
                        "- **#{}** {} — {} — {}: {} recipients, {} delivered, {} read{recalled}",
                        bc.number,
                        q(&bc.subject),
                        local_time(bc.created_at, tz),
                        escape_markdown(&bc.audience),
                        c.targeted,
                        c.delivered,
                        c.read()
                    )
                }
            })
            .collect();
        Ok((lines.join("\n"), "ok".into()))
    }

    /// `broadcast info <n>`: a report card.
    pub(super) async fn broadcast_info(
        &self,
        caller: &Caller,
        id: &str,
        lang: Lang,
    ) -> Result<(super::Answer, String), BotError> {
        let fr = lang == Lang::Fr;
        let Some(bc) = self.broadcast_numbered(&caller.tenant, id).await? else {
            return Ok((
                super::Answer::Text(no_such_broadcast(id, fr)),
                "refused: unknown broadcast".into(),
            ));
        };
        let (mut lines, counts) = self.broadcast_info_lines(caller, &bc, fr).await?;
        let title = lines.remove(0);
        let b2 = bc.id.clone();
        let all = self
            .db
            .run(move |conn| broadcasts::all_messages(conn, &b2))
            .await?;
        let clicks = self.engagement(all).await?;
        lines.insert(
            2,
            if fr {
                format!(
                    "Clics : {} personne(s), {} clic(s) en tout",
                    clicks.people, clicks.clicks
                )
            } else {
                format!("Clicks: {} people, {} in all", clicks.people, clicks.clicks)
            },
        );
        let card = self.report_card(
            lang,
            super::reports::ReportCard {
                title,
                progress: (!bc.recalled()).then_some((counts.delivered, counts.targeted)),
                facts: Vec::new(),
                lines,
                grant: Some((
                    crate::domain::tracking::ReportKind::Broadcast,
                    bc.id.clone(),
                    format!("broadcast-{}", bc.number),
                )),
            },
        );
        Ok((super::Answer::Card(card), "ok".into()))
    }

    async fn broadcast_info_lines(
        &self,
        caller: &Caller,
        bc: &Broadcast,
        fr: bool,
    ) -> Result<(Vec<String>, broadcasts::Counts), BotError> {
        let b2 = bc.clone();
        let (counts, (unread_total, unread), missing) = self
            .db
            .run(move |conn| {
                Ok((
                    broadcasts::counts(conn, &b2)?,
                    broadcasts::unread(conn, &b2, UNREAD_SHOWN)?,
                    broadcasts::not_installed(conn, &b2.id)?,
                ))
            })
            .await?;
        let tz = self.zone(caller);
        let mut lines = Vec::new();
        if fr {
            lines.push(format!("Diffusion **#{}** {}", bc.number, q(&bc.subject)));
            lines.push(format!(
                "Envoyée le {} par {} à {}.",
                local_time(bc.created_at, tz),
                escape_markdown(&bc.sender_name),
                escape_markdown(&bc.audience)
            ));
            lines.push(format!(
                "Destinataires : {} · remis : {} · en cours : {} · échecs : {} · non installés : {}",
                counts.targeted, counts.delivered, counts.pending, counts.failed, counts.not_installed
            ));
            lines.push(format!(
                "Lus : {} ({} par le bouton, {} par accusé de lecture) · réponses : {}",
                counts.read(),
                counts.read_button,
                counts.read_receipt,
                counts.repliers
            ));
        } else {
            lines.push(format!("Broadcast **#{}** {}", bc.number, q(&bc.subject)));
            lines.push(format!(
                "Sent {} by {} to {}.",
                local_time(bc.created_at, tz),
                escape_markdown(&bc.sender_name),
                escape_markdown(&bc.audience)
            ));
            lines.push(format!(
                "Recipients: {} · delivered: {} · pending: {} · failed: {} · not installed: {}",
                counts.targeted,
                counts.delivered,
                counts.pending,
                counts.failed,
                counts.not_installed
            ));
            lines.push(format!(
                "Read: {} ({} by button, {} by read receipt) · replied: {}",
                counts.read(),
                counts.read_button,
                counts.read_receipt,
                counts.repliers
            ));
        }
        if let Some(at) = bc.recalled_at {
            let r = &counts.recall;
            lines.push(if fr {
                format!(
                    "Rappelée le {} : supprimée de {} conversation(s), {} échec(s), {} en cours, {} jamais envoyée(s).",
                    local_time(at, tz),
                    r.removed,
                    r.failed,
                    r.pending,
                    r.not_sent
                )
            } else {
                format!(
                    "Recalled {}: removed from {} chat(s), {} failed, {} pending, {} never sent.",
                    local_time(at, tz),
                    r.removed,
                    r.failed,
                    r.pending,
                    r.not_sent
                )
            });
        } else if unread_total > 0 {
            let mut names: Vec<String> = unread.iter().map(|n| escape_markdown(n)).collect();
            if unread_total > unread.len() {
                names.push(format!("+{}", unread_total - unread.len()));
            }
            lines.push(if fr {
                format!("Pas encore lu ({unread_total}) : {}", names.join(", "))
            } else {
                format!("Not read yet ({unread_total}): {}", names.join(", "))
            });
        }
        if !missing.is_empty() {
            lines.push(if fr {
                format!("Non installés : {}", emails_line(&missing))
            } else {
                format!("Not installed: {}", emails_line(&missing))
            });
        }
        Ok((lines, counts))
    }

    /// `broadcast delete`: deletes the card from every chat through the engine; the sender
    /// hears how it went once every delete is done.
    async fn recall(&self, caller: &Caller, bc: Broadcast, fr: bool) -> Reply {
        if let Some(at) = bc.recalled_at {
            let tz = self.zone(caller);
            return Ok((
                if fr {
                    format!(
                        "La diffusion **#{}** a déjà été rappelée le {}.",
                        bc.number,
                        local_time(at, tz)
                    )
                } else {
                    format!(
                        "Broadcast **#{}** was already recalled on {}.",
                        bc.number,
                        local_time(at, tz)
                    )
                },
                "refused: already recalled".into(),
            ));
        }
        let id = bc.id.clone();
        if self
            .db
            .run(move |c| folded::folded_broadcast(c, &id))
            .await?
            .is_some()
        {
            let lang = if fr { Lang::Fr } else { Lang::En };
            let text = texts_lifecycle::recall_past_retention(lang, bc.number);
            return Ok((text, "refused: past retention".into()));
        }
        let (b2, by, now) = (bc.clone(), caller.actor.clone(), self.clock.now());
        let by_user = self.user_of(&caller.key).await?.map(|u| u.id);
        let started = self
            .db
            .run(move |conn| broadcasts::recall(conn, &b2, &by, by_user.as_deref(), now))
            .await?;
        let Some(started) = started else {
            return Ok((
                if fr {
                    format!("La diffusion **#{}** a déjà été rappelée.", bc.number)
                } else {
                    format!("Broadcast **#{}** was already recalled.", bc.number)
                },
                "refused: already recalled".into(),
            ));
        };
        // Cards this instance holds ready to send are dropped before they go out.
        self.outbox.withdraw(&started.cards);
        tracing::info!(
            broadcast = bc.number,
            deletes = started.deletes,
            stopped = started.stopped,
            "broadcast recalled"
        );
        let text = if fr {
            format!(
                "Rappel de la diffusion **#{}** {} : suppression dans {} conversation(s) en cours{}. \
                 Je vous préviens quand c'est fini ; les fils de réponses restent ouverts.",
                bc.number,
                q(&bc.subject),
                started.deletes,
                if started.stopped > 0 {
                    format!(", {} envoi(s) arrêté(s)", started.stopped)
                } else {
                    String::new()
                }
            )
        } else {
            format!(
                "Recalling broadcast **#{}** {}: deleting it from {} chat(s){}. \
                 I'll tell you when it's done; reply threads stay open.",
                bc.number,
                q(&bc.subject),
                started.deletes,
                if started.stopped > 0 {
                    format!(", {} send(s) stopped", started.stopped)
                } else {
                    String::new()
                }
            )
        };
        Ok((text, format!("ok: recall of #{}", bc.number)))
    }

    /// A Teams read receipt: marks every broadcast card it covers as read.
    pub(super) async fn read_receipt(
        &self,
        activity: &Activity,
        checked: &Checked,
    ) -> Result<Handled, BotError> {
        let Some(last_read) = activity
            .value
            .as_ref()
            .and_then(|v| v.get("lastReadMessageId"))
            .and_then(Value::as_str)
            .map(str::to_string)
        else {
            return Err(BotError::BadActivity(
                "a read receipt needs `value.lastReadMessageId`".into(),
            ));
        };
        let key = self.key_of(activity, checked);
        let Some(user) = self.user_of(&key).await? else {
            return Ok(Handled::Ignored);
        };
        let now = self.clock.now();
        let n = self
            .db
            .run(move |conn| {
                let campaigns = crate::store::reports::record_campaign_receipt(
                    conn, &user.id, &last_read, now,
                )?;
                Ok(broadcasts::record_receipt(conn, &user.id, &last_read, now)? + campaigns)
            })
            .await?;
        if n > 0 {
            tracing::debug!(reads = n, "read receipt recorded");
            self.wake_engine();
        }
        Ok(Handled::Processed)
    }

    fn key_of(&self, activity: &Activity, checked: &Checked) -> users::ConversationRef {
        users::ConversationRef {
            tenant_id: activity.tenant_id().unwrap_or_default().to_string(),
            channel_id: checked.channel_id.clone(),
            channel_user_id: checked.from.id.clone(),
            ..users::ConversationRef::default()
        }
    }

    /// A card button pressed by anyone: mark as read, reply, answer.
    pub(super) async fn card_action(
        &self,
        activity: &Activity,
        checked: &Checked,
        value: &Value,
        lang: Lang,
    ) -> Result<Handled, BotError> {
        let fr = lang == Lang::Fr;
        let key = self.key_of(activity, checked);
        let Some(user) = self.user_of(&key).await? else {
            self.reply(activity, checked, super::texts::hint(lang))
                .await;
            return Ok(Handled::Processed);
        };
        let get = |k: &str| value.get(k).and_then(Value::as_str).unwrap_or_default();
        let text = get(domain::TEXT_INPUT).trim().to_string();
        match value.get("herald").and_then(Value::as_str) {
            Some(action::READ) => {
                let (broadcast, user_id, now) = (
                    get("broadcast").to_string(),
                    user.id.clone(),
                    self.clock.now(),
                );
                let read = self
                    .db
                    .run(move |conn| {
                        broadcasts::record_read(conn, &broadcast, &user_id, source::BUTTON, now)
                    })
                    .await?;
                match read {
                    // The card itself changes to say it was read.
                    Read::New => {
                        self.wake_engine();
                    }
                    Read::Already => {}
                    Read::NotARecipient => {
                        self.reply(activity, checked, not_yours(fr)).await;
                    }
                    Read::Recalled => {
                        let text = if fr {
                            "Cette diffusion a été rappelée par son expéditeur."
                        } else {
                            "This broadcast was recalled by its sender."
                        };
                        self.reply(activity, checked, text.to_string()).await;
                    }
                }
            }
            Some(action::REPLY) => {
                let broadcast = get("broadcast").to_string();
                let answer = self.relay_reply(&user, &broadcast, &text, lang).await?;
                self.reply(activity, checked, answer).await;
            }
            Some(action::ANSWER) => {
                let answer = self.relay_answer(&user, get("thread"), &text, lang).await?;
                self.reply(activity, checked, answer).await;
            }
            _ => return Ok(Handled::Ignored),
        }
        Ok(Handled::Processed)
    }

    /// The broadcast a recipient's plain message answers, if any.
    pub(super) async fn reply_target(
        &self,
        activity: &Activity,
        checked: &Checked,
    ) -> Result<Option<(User, String)>, BotError> {
        let key = self.key_of(activity, checked);
        let Some(user) = self.user_of(&key).await? else {
            return Ok(None);
        };
        let (user_id, reply_to) = (user.id.clone(), activity.reply_to_id.clone());
        let since: DateTime<Utc> = self.clock.now() - REPLY_WINDOW;
        let target = self
            .db
            .run(move |conn| broadcasts::reply_target(conn, &user_id, reply_to.as_deref(), since))
            .await?;
        Ok(target.map(|t| (user, t)))
    }

    /// Relays a recipient's reply into the sender's chat; returns what the replier is told.
    pub(super) async fn relay_reply(
        &self,
        replier: &User,
        broadcast_id: &str,
        text: &str,
        lang: Lang,
    ) -> Result<String, BotError> {
        let fr = lang == Lang::Fr;
        if let Some(problem) = reply_problem(text, fr) {
            return Ok(problem);
        }
        let (id, replier_id) = (broadcast_id.to_string(), replier.id.clone());
        let found = self
            .db
            .run(move |conn| {
                let Some(bc) = broadcasts::get(conn, &id)? else {
                    return Ok(None);
                };
                // Only someone the broadcast was sent to replies to it.
                let sent: bool = broadcasts::was_sent_to(conn, &bc, &replier_id)?;
                let sender = users::get(conn, &bc.sender_id)?;
                Ok(sent
                    .then_some((bc, sender))
                    .and_then(|(bc, s)| s.map(|s| (bc, s))))
            })
            .await?;
        let Some((bc, sender)) = found else {
            return Ok(not_yours(fr));
        };
        let (now, tenant) = (self.clock.now(), bc.tenant_id.clone());
        let (b2, replier_id) = (bc.clone(), replier.id.clone());
        let replier_name = name_of(replier);
        let sender_lang = lang_of(&sender);
        let body = text.to_string();
        self.db
            .run(move |conn| {
                let thread = broadcasts::open_thread(conn, &b2, &replier_id, now)?;
                let payload = domain::reply_card(
                    sender_lang,
                    &RelayedReply {
                        thread_id: &thread.id,
                        replier: &escape_markdown(&replier_name),
                        number: b2.number,
                        subject: &b2.subject,
                        text: &body,
                    },
                );
                broadcasts::relay(
                    conn,
                    &tenant,
                    &thread,
                    direction::REPLY,
                    &body,
                    &payload,
                    now,
                )
            })
            .await?;
        self.wake_engine();
        let to = escape_markdown(&name_of(&sender));
        Ok(if fr {
            format!("Votre réponse à {} a été transmise à {to}.", q(&bc.subject))
        } else {
            format!("Your reply to {} was passed on to {to}.", q(&bc.subject))
        })
    }

    /// Relays the sender's answer into the recipient's chat; returns what the sender is told.
    async fn relay_answer(
        &self,
        sender: &User,
        thread_id: &str,
        text: &str,
        lang: Lang,
    ) -> Result<String, BotError> {
        let fr = lang == Lang::Fr;
        if let Some(problem) = reply_problem(text, fr) {
            return Ok(problem);
        }
        let id = thread_id.to_string();
        let found = self
            .db
            .run(move |conn| {
                let Some(thread) = broadcasts::thread(conn, &id)? else {
                    return Ok(None);
                };
                let bc = broadcasts::get(conn, &thread.broadcast_id)?;
                let recipient = users::get(conn, &thread.recipient_id)?;
                Ok(bc.zip(recipient).map(|(bc, r)| (thread, bc, r)))
            })
            .await?;
        let Some((thread, bc, recipient)) = found.filter(|(t, ..)| t.sender_id == sender.id) else {
            return Ok(not_yours(fr));
        };
        let now = self.clock.now();
        let payload = domain::answer_card(
            lang_of(&recipient),
            &RelayedAnswer {
                broadcast_id: &bc.id,
                sender: &escape_markdown(&name_of(sender)),
                subject: &bc.subject,
                text,
            },
        );
        let (tenant, body) = (bc.tenant_id.clone(), text.to_string());
        self.db
            .run(move |conn| {
                broadcasts::relay(
                    conn,
                    &tenant,
                    &thread,
                    direction::ANSWER,
                    &body,
                    &payload,
                    now,
                )
            })
            .await?;
        self.wake_engine();
        let to = escape_markdown(&name_of(&recipient));
        Ok(if fr {
            format!("Votre réponse a été transmise à {to}.")
        } else {
            format!("Your answer was passed on to {to}.")
        })
    }
}

fn not_yours(fr: bool) -> String {
    if fr {
        "Cette diffusion ne vous a pas été envoyée, ou n'existe plus.".into()
    } else {
        "That broadcast was not sent to you, or no longer exists.".into()
    }
}

fn reply_problem(text: &str, fr: bool) -> Option<String> {
    let n = text.chars().count();
    if text.trim().is_empty() {
        Some(if fr {
            "Votre réponse est vide : écrivez-la dans la case, puis envoyez.".into()
        } else {
            "Your reply is empty: write it in the box, then send.".into()
        })
    } else if n > REPLY_MAX {
        Some(if fr {
            format!("Votre réponse fait {n} caractères ; {REPLY_MAX} au plus.")
        } else {
            format!("Your reply is {n} characters long; at most {REPLY_MAX}.")
        })
    } else if crate::domain::size::relayed_text(text) > crate::domain::size::RELAYED_MAX {
        // Shown as written, `<`, `&` and line breaks grow: the card must still fit in Teams.
        Some(if fr {
            "Votre réponse est trop lourde une fois affichée (caractères < & * et retours à la \
             ligne comptent plus) : raccourcissez-la."
                .into()
        } else {
            "Your reply is too heavy once shown (< & * and line breaks count more): shorten it."
                .into()
        })
    } else {
        None
    }
}
