//! Broadcasts in the chat, for admins: `broadcast <list|all>` (typed or through the form),
//! `broadcasts`, `broadcast info|delete`. Each turns the command into a call of
//! `crate::broadcasts` and its result into a reply worded from the catalogue. What recipients do
//! with their card (read, reply) is in [`recipients`].

use chrono::NaiveDateTime;
use chrono_tz::Tz;
use serde_json::Value;

use super::caller::Caller;
use super::reply::{Outcome, Refusal, Reply};
use super::texts::bold as q;
use super::{Bot, BotError};
use crate::broadcasts::{Broadcasts, Recall, Sent, name_of};
use crate::domain::Lang;
use crate::domain::broadcast::{self as domain, Audience, BroadcastText};
use crate::domain::commands::{Command, FieldError};
use crate::domain::engagement::{self, BroadcastOptions};
use crate::domain::problem::Problem;
use crate::domain::text::escape_markdown;
use crate::store::broadcasts::{Broadcast, NewBroadcast};
use crate::store::users::{self, User};
use crate::store::{StoreError, lists};
use crate::t;

mod ack;
mod follow;
mod invoke;
mod poll;
mod progress;
pub(in crate::bot) mod quiet;
mod recipients;
mod remind;
mod resend;
mod schedule;

pub use recipients::READ_RECEIPT_EVENT;

/// Unread recipients `broadcast info` names.
const UNREAD_SHOWN: usize = 30;
/// Not-installed list members named in an answer.
const NOT_INSTALLED_SHOWN: usize = 20;

type Result<T> = std::result::Result<T, BotError>;

fn no_such_broadcast(lang: Lang, id: &str) -> Reply {
    Reply::refused(
        t!(lang, "broadcast-unknown", id = q(id)),
        Refusal::UnknownBroadcast,
    )
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
    /// The broadcast use cases, on this bot's outbox and clock.
    pub(super) fn broadcasts(&self) -> Broadcasts {
        let tracked = self.tracker.as_ref().is_some_and(|t| t.enabled());
        Broadcasts::new(self.outbox.clone(), self.clock.clone())
            .tracking_links(tracked)
            .reaching(self.reach.clone())
            .pressing_through(self.presses.clone())
    }

    fn zone(&self, caller: &Caller) -> Tz {
        caller
            .time_zone
            .as_deref()
            .and_then(|z| z.parse().ok())
            .unwrap_or(self.campaign_defaults.time_zone)
    }

    async fn user_of(
        &self,
        key: &users::ConversationRef,
    ) -> std::result::Result<Option<User>, StoreError> {
        let key = key.clone();
        self.db.run(move |conn| users::find(conn, &key)).await
    }

    /// The broadcast form, with the audience prefilled and each error shown.
    pub(super) async fn broadcast_form(
        &self,
        caller: &Caller,
        lang: Lang,
        values: &Value,
        errors: &[FieldError],
    ) -> Result<Value> {
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
    ) -> Result<Reply> {
        let field = |k: &str| {
            value
                .get(k)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string()
        };
        let (audience, subject, body) = (field("audience"), field("subject"), field("body"));
        let mut errors = Vec::new();
        let mut options = BroadcastOptions {
            install: Some(
                crate::domain::commands::parse_yes_no(&field("install")).unwrap_or(false),
            ),
            ..BroadcastOptions::default()
        };
        match engagement::parse_remind(&field("remind")) {
            Ok(after) => options.remind_after = after,
            Err(e) => errors.push(e),
        }
        options.ack = crate::domain::commands::parse_yes_no(&field("ack")).unwrap_or(false);
        match engagement::parse_choices(&field("choices")) {
            Ok(choices) => options.choices = choices,
            Err(e) => errors.push(e),
        }
        // `send` (and its zone), when given: checked here so an error shows under its input.
        if !field("timezone").trim().is_empty() {
            match crate::domain::schedule::parse_zone(&field("timezone")) {
                Ok(zone) => options.time_zone = Some(zone),
                Err(e) => errors.push(e),
            }
        }
        if !field("send").trim().is_empty() {
            match crate::domain::schedule::parse_send(&field("send")) {
                Ok(at) => options.send = Some(at),
                Err(e) => errors.push(e),
            }
        }
        if let Err(e) = self.send_moment(caller, &options) {
            errors.push(e);
        }
        errors.extend(self.install_unavailable(options.install == Some(true)));
        if audience.trim().is_empty() {
            errors.push(FieldError {
                field: "audience",
                problem: Problem::new("field-choose-audience"),
                example: "all-staff",
            });
        }
        let text = match self.fit(domain::check_text(&subject, &body), &options) {
            Ok(t) => Some(t),
            Err(e) => {
                errors.extend(e);
                None
            }
        };
        match text {
            Some(text) if errors.is_empty() => {
                self.send_broadcast(caller, Audience::parse(&audience), text, options, lang)
                    .await
            }
            _ => {
                // Shown again with what was typed.
                let card = self.broadcast_form(caller, lang, value, &errors).await?;
                Ok(Reply::card(card, Outcome::Refused(Refusal::InvalidFields)))
            }
        }
    }

    pub(super) async fn broadcast_command(
        &self,
        caller: &Caller,
        command: Command,
        lang: Lang,
    ) -> Result<Reply> {
        match command {
            Command::Broadcast { target, rest } => match self.options_and_text(&rest) {
                Ok((options, text)) => {
                    self.send_broadcast(caller, Audience::parse(&target), text, options, lang)
                        .await
                }
                Err(errors) => {
                    let head = t!(lang, "broadcast-not-sent-head");
                    let text = super::texts::field_errors(lang, &head, &errors);
                    Ok(Reply::refused(text, Refusal::InvalidFields))
                }
            },
            Command::Broadcasts => self.list_broadcasts(caller, lang).await,
            Command::BroadcastDelete { id } => {
                match self.broadcasts().numbered(&caller.tenant, &id).await? {
                    Some(bc) => self.recall(caller, bc, lang).await,
                    None => Ok(no_such_broadcast(lang, &id)),
                }
            }
            _ => Ok(Reply::refused(
                super::texts::hint(lang),
                Refusal::NotABroadcastCommand,
            )),
        }
    }

    /// A typed broadcast's option lines (`install:`, `remind:`, `ack:`, `choices:`), then its
    /// subject and body.
    fn options_and_text(
        &self,
        rest: &str,
    ) -> std::result::Result<(BroadcastOptions, BroadcastText), Vec<FieldError>> {
        let (options, mut errors, rest) = engagement::take_option_lines(rest);
        errors.extend(self.install_unavailable(options.install == Some(true)));
        match self.fit_text(&rest, &options) {
            Ok(text) if errors.is_empty() => Ok((options, text)),
            Ok(_) => Err(errors),
            Err(e) => {
                errors.extend(e);
                Err(errors)
            }
        }
    }

    /// `install: yes` without Graph: refused, saying why.
    fn install_unavailable(&self, install: bool) -> Option<FieldError> {
        (install && self.reach.graph.is_none()).then(|| FieldError {
            field: "install",
            problem: Problem::new("install-needs-graph"),
            example: "install: no",
        })
    }

    async fn send_broadcast(
        &self,
        caller: &Caller,
        audience: Audience,
        text: BroadcastText,
        options: BroadcastOptions,
        lang: Lang,
    ) -> Result<Reply> {
        let when = match self.send_moment(caller, &options) {
            Ok(when) => when,
            Err(e) => {
                let head = t!(lang, "broadcast-not-sent-head");
                let text = super::texts::field_errors(lang, &head, &[e]);
                return Ok(Reply::refused(text, Refusal::InvalidFields));
            }
        };
        let Some(sender) = self.user_of(&caller.key).await? else {
            return Ok(Reply::refused(
                t!(lang, "broadcast-sender-unknown"),
                Refusal::SenderUnknown,
            ));
        };
        let (list_id, audience_name) = match &audience {
            Audience::All => (None, "all".to_string()),
            Audience::List(name) => {
                let (t, n) = (caller.tenant.clone(), name.clone());
                match self.db.run(move |conn| lists::find(conn, &t, &n)).await? {
                    Some(l) => (Some(l.id), l.name),
                    None => {
                        return Ok(Reply::refused(
                            t!(lang, "broadcast-unknown-list", name = q(name)),
                            Refusal::UnknownList,
                        ));
                    }
                }
            }
        };
        let new = NewBroadcast {
            tenant_id: caller.tenant.clone(),
            subject: text.subject,
            body: text.body,
            links: Vec::new(),
            list_id,
            audience: audience_name.clone(),
            sender_id: sender.id.clone(),
            sender_name: name_of(&sender),
            install: options.install == Some(true) || self.reach.always_install,
            remind_after: options.remind_after,
            ack: options.ack,
            choices: options.choices,
        };
        if self.approval_required(caller) {
            return self.hold_broadcast(caller, &sender, new, when, lang).await;
        }
        if let Some(when) = when {
            return self.schedule_broadcast(caller, new, when, lang).await;
        }
        let (bc, missing) = match self.broadcasts().send(new).await? {
            Sent::Sent(bc, missing) => (*bc, missing),
            Sent::Unresolved(groups) => {
                let text = super::lists::unresolved_groups(lang, &groups);
                return Ok(Reply::refused(
                    text,
                    Refusal::BadCommand("group not resolved".into()),
                ));
            }
            Sent::Nobody(missing) => {
                let mut text = match audience {
                    Audience::All => t!(lang, "broadcast-nobody-all"),
                    Audience::List(_) => {
                        t!(lang, "broadcast-nobody-list", list = q(&audience_name))
                    }
                };
                if matches!(audience, Audience::List(_)) && !missing.is_empty() {
                    text.push_str("\n\n");
                    let emails = emails_line(&missing);
                    text.push_str(&t!(lang, "broadcast-not-installed", emails = emails));
                }
                return Ok(Reply::refused(text, Refusal::NobodyToSendTo));
            }
        };
        let mut paragraphs = vec![t!(
            lang,
            "broadcast-sent",
            number = bc.number,
            subject = q(&bc.subject),
            count = bc.targeted,
        )];
        if !missing.is_empty() {
            paragraphs.push(t!(
                lang,
                "broadcast-sent-not-installed",
                count = missing.len(),
                list = q(&audience_name),
                emails = emails_line(&missing),
            ));
        }
        if bc.install || bc.herald_installed > 0 {
            let id = bc.id.clone();
            let reasons = self
                .db
                .run(move |conn| crate::store::broadcasts::not_installed_with_reasons(conn, &id))
                .await?;
            let reasons =
                crate::store::figures::by_reason(reasons.into_iter().filter_map(|(_, r)| r));
            paragraphs.extend(follow::install_lines(lang, bc.herald_installed, &reasons));
        }
        paragraphs.push(t!(lang, "broadcast-sent-follow", number = bc.number));
        let answer = self.progress_answer(&bc, &sender.id, paragraphs, lang, self.zone(caller));
        Ok(Reply {
            answer,
            outcome: Outcome::Noted(format!("broadcast #{}", bc.number)),
        })
    }

    /// `broadcast delete`: deletes the card from every chat through the engine; the sender
    /// hears how it went once every delete is done.
    async fn recall(&self, caller: &Caller, bc: Broadcast, lang: Lang) -> Result<Reply> {
        if let Some(cancelled) = self.cancel_if_held(caller, &bc, lang).await? {
            return Ok(cancelled);
        }
        let by_user = self.user_of(&caller.key).await?.map(|u| u.id);
        let recall = self
            .broadcasts()
            .recall(&bc, &caller.actor, by_user)
            .await?;
        let number = bc.number;
        Ok(match recall {
            Recall::AlreadyRecalled(Some(at)) => Reply::refused(
                t!(
                    lang,
                    "broadcast-already-recalled-on",
                    number = number,
                    at = local_time(at, self.zone(caller)),
                ),
                Refusal::AlreadyRecalled,
            ),
            Recall::AlreadyRecalled(None) => Reply::refused(
                t!(lang, "broadcast-already-recalled", number = number),
                Refusal::AlreadyRecalled,
            ),
            Recall::PastRetention => Reply::refused(
                t!(lang, "broadcast-recall-past-retention", number = number),
                Refusal::PastRetention,
            ),
            Recall::Started { deletes, stopped } => {
                let stopped = if stopped > 0 {
                    t!(lang, "broadcast-recalling-stopped", count = stopped)
                } else {
                    String::new()
                };
                let text = t!(
                    lang,
                    "broadcast-recalling",
                    number = number,
                    subject = q(&bc.subject),
                    deletes = deletes,
                    stopped = stopped,
                );
                Reply {
                    answer: super::reply::Answer::Text(text),
                    outcome: Outcome::Noted(format!("recall of #{number}")),
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_meet_nouns_in_the_right_form_in_both_languages() {
        let sent = |lang, count: i64| {
            t!(
                lang,
                "broadcast-sent",
                number = 1,
                subject = "**S**",
                count = count
            )
        };
        assert!(sent(Lang::En, 1).ends_with("is on its way to 1 person."));
        assert!(sent(Lang::En, 18).ends_with("is on its way to 18 people."));
        assert!(sent(Lang::Fr, 1).ends_with("en route vers 1 personne."));
        assert!(sent(Lang::Fr, 2).ends_with("en route vers 2 personnes."));
        let missing = |lang, count: i64| {
            t!(
                lang,
                "broadcast-sent-not-installed",
                count = count,
                list = "**staff**",
                emails = "a"
            )
        };
        assert_eq!(
            missing(Lang::En, 1),
            "1 member of **staff** has not installed herald: a"
        );
        assert_eq!(
            missing(Lang::Fr, 2),
            "2 membres de **staff** n'ont pas installé herald : a"
        );
        let clicks = t!(Lang::Fr, "broadcast-info-clicks", people = 1, clicks = 2);
        assert_eq!(clicks, "Clics : 1 personne, 2 clics en tout");
        let too_long = crate::domain::broadcast::check_reply(&"x".repeat(4001)).unwrap_err();
        assert_eq!(
            crate::texts::problem(Lang::En, &too_long),
            "Your reply is 4001 characters long; at most 4000."
        );
    }
}
