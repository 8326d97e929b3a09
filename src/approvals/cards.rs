//! The approver's card, worded from the catalogue in the approver's language: the content as
//! recipients will see it, the audience and its size, the timing, and **Approve** / **Reject**
//! (with a reason); and the card that replaces it once decided.

use serde_json::{Value, json};

use crate::broadcasts::cards::broadcast_card;
use crate::domain::Lang;
use crate::domain::broadcast::{CardContent, CardState};
use crate::domain::cards::{adaptive_card, card_activity};
use crate::domain::text::escape_markdown;
use crate::store::approvals::Approval;
use crate::t;

/// `data.herald` of the card's actions.
pub const ACTION: &str = "approval";
pub const APPROVE: &str = "approve";
pub const REJECT: &str = "reject";
/// The id of the reason box (its value comes with the action's data).
pub const REASON: &str = "reason";

/// What the approver is asked to decide on.
pub enum Preview<'a> {
    /// A campaign's message, personalised with the approver's own names.
    Campaign {
        name: &'a str,
        message: &'a str,
        /// Start, window, hours and zone, as `campaign info` words them.
        timing: String,
    },
    /// A broadcast's card as its recipients will get it, and when it is to go (`None`: as soon
    /// as it is approved; else the local time and zone, as `broadcasts` shows them).
    Broadcast(CardContent<'a>, Option<String>),
}

/// The audience: its name, how many will get it, how many members have not installed herald.
pub struct AudienceSize<'a> {
    pub name: &'a str,
    pub reached: usize,
    pub not_installed: usize,
}

/// The message activity an approver gets for request `approval` by `author`.
pub fn request_activity(
    lang: Lang,
    approval: &Approval,
    author: &str,
    preview: &Preview<'_>,
    audience: &AudienceSize<'_>,
) -> Value {
    let author = escape_markdown(author);
    let (head, shown, timing) = match preview {
        Preview::Campaign {
            name,
            message,
            timing,
        } => (
            t!(
                lang,
                "approval-card-head-campaign",
                author = author.as_str(),
                name = escape_markdown(name)
            ),
            vec![json!({"type": "TextBlock", "text": message, "wrap": true})],
            timing.clone(),
        ),
        Preview::Broadcast(content, at) => {
            let activity = broadcast_card(lang, content, &CardState::read(false));
            let mut shown: Vec<Value> = activity["attachments"][0]["content"]["body"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .into_iter()
                // A poll's buttons answer a broadcast that does not exist yet: listed instead.
                .filter(|e| e["type"] != "ActionSet")
                .collect();
            if !content.choices.is_empty() {
                let choices = content.choices.join(" | ");
                shown.push(json!({"type": "TextBlock", "wrap": true, "isSubtle": true,
                    "text": t!(lang, "approval-card-choices", choices = choices)}));
            }
            if content.ack {
                shown.push(json!({"type": "TextBlock", "wrap": true, "isSubtle": true,
                    "text": t!(lang, "approval-card-ack")}));
            }
            (
                t!(
                    lang,
                    "approval-card-head-broadcast",
                    author = author.as_str(),
                    subject = escape_markdown(content.subject)
                ),
                shown,
                match at {
                    Some(at) => t!(lang, "approval-card-timing-at", at = at.as_str()),
                    None => t!(lang, "approval-card-timing-now"),
                },
            )
        }
    };
    let audience_line = t!(
        lang,
        "approval-card-audience-size",
        audience = escape_markdown(audience.name),
        count = audience.reached,
        missing = audience.not_installed,
    );
    let body = vec![
        json!({"type": "TextBlock", "text": head, "weight": "Bolder", "size": "Medium", "wrap": true}),
        json!({"type": "TextBlock", "text": t!(lang, "approval-card-as-seen"), "isSubtle": true, "wrap": true}),
        json!({"type": "Container", "style": "emphasis", "items": shown}),
        json!({"type": "FactSet", "facts": [
            {"title": t!(lang, "approval-card-audience"), "value": audience_line},
            {"title": t!(lang, "approval-card-timing"), "value": timing},
        ]}),
        json!({"type": "Input.Text", "id": REASON, "isMultiline": true,
            "label": t!(lang, "approval-card-reason-label"),
            "placeholder": t!(lang, "approval-card-reason-placeholder")}),
    ];
    let action = |title: String, decision: &str, style: &str| {
        json!({"type": "Action.Execute", "title": title, "verb": decision, "style": style,
            "data": {"herald": ACTION, "approval": approval.id, "decision": decision}})
    };
    let actions = vec![
        action(t!(lang, "approval-card-approve"), APPROVE, "positive"),
        action(t!(lang, "approval-card-reject"), REJECT, "destructive"),
    ];
    let summary = t!(
        lang,
        "approval-card-summary",
        title = approval.title.as_str()
    );
    card_activity(&summary, adaptive_card("1.5", body, actions))
}

/// The card that replaces an approver's once the request is decided (by them or another):
/// who decided, when (`at`, in the reader's zone), and why when rejected.
pub fn decided_card(lang: Lang, approval: &Approval, at: &str) -> Value {
    use crate::domain::approval::RequestStatus as S;
    let by = escape_markdown(approval.decided_by_name.as_deref().unwrap_or("?"));
    let title = escape_markdown(&approval.title);
    let (text, color) = match approval.status.0 {
        S::Approved => (
            t!(
                lang,
                "approval-decided-approved",
                title = title,
                by = by,
                at = at
            ),
            "Good",
        ),
        S::Rejected => (
            t!(
                lang,
                "approval-decided-rejected",
                title = title,
                by = by,
                at = at,
                reason = escape_markdown(approval.reason.as_deref().unwrap_or_default())
            ),
            "Attention",
        ),
        S::Superseded | S::Pending => (t!(lang, "approval-superseded", title = title), "Default"),
    };
    adaptive_card(
        "1.5",
        vec![json!({"type": "TextBlock", "text": text, "color": color, "wrap": true})],
        Vec::new(),
    )
}
