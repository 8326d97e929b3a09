//! Messages Teams would refuse for their size are refused when they are written, with the
//! field named and the limit said (the weighing itself is `domain::size`).

use super::{Bot, texts};
use crate::domain::broadcast::BroadcastText;
use crate::domain::commands::{CampaignFields, FieldError, parse_fields};
use crate::domain::engagement::BroadcastOptions;
use crate::domain::size;

impl Bot {
    /// Where tracked links point, when links are tracked.
    fn link_base(&self) -> Option<&str> {
        self.tracker
            .as_ref()
            .and_then(|t| t.public_url.as_ref())
            .map(url::Url::as_str)
    }

    /// Campaign field lines, read; a message too heavy for Teams is one more field error.
    pub(super) fn parse_sized(&self, lines: &str) -> (CampaignFields, Vec<FieldError>) {
        let (fields, mut errors) = parse_fields(lines);
        if let Some(message) = &fields.message {
            let weight = size::campaign_message(message, self.link_base());
            if weight > size::LIMIT {
                errors.push(FieldError {
                    field: "message",
                    problem: texts::too_heavy(weight, size::LIMIT),
                    example: "message: Bonjour [FIRSTNAME] [LASTNAME], …",
                });
            }
        }
        (fields, errors)
    }

    /// `broadcast <list|all>`'s lines, read as `domain::broadcast::parse_text` does, refused
    /// when the card would be too heavy.
    pub(super) fn fit_text(
        &self,
        rest: &str,
        options: &BroadcastOptions,
    ) -> Result<BroadcastText, Vec<FieldError>> {
        self.fit(crate::domain::broadcast::parse_text(rest), options)
    }

    /// A broadcast's subject and body as checked, refused when the card (with the buttons
    /// `options` add) would be too heavy.
    pub(super) fn fit(
        &self,
        text: Result<BroadcastText, Vec<FieldError>>,
        options: &BroadcastOptions,
    ) -> Result<BroadcastText, Vec<FieldError>> {
        let text = text?;
        let weight = crate::domain::broadcast::weight(
            &text.subject,
            &text.body,
            options,
            self.link_base(),
            &crate::broadcasts::cards::every_card,
        );
        if weight > size::LIMIT {
            return Err(vec![FieldError {
                field: "body",
                problem: texts::too_heavy(weight, size::LIMIT),
                example: "a line under the subject: Please work from home.",
            }]);
        }
        Ok(text)
    }
}
