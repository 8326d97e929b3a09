#![no_main]
//! The body of `POST /api/messages` once its token is verified: JSON, the token's
//! activity-bound claims, the fields its type needs; then the parts of a turn that only read
//! the activity (tenant, locale, time zone, the command typed, a submitted form, a read receipt).

use herald::bot::forms::submitted_fields;
use herald::botframework::auth::VerifiedToken;
use herald::botframework::{Activity, ServiceUrl};
use herald::domain::Lang;
use herald::domain::broadcast::receipt_covers;
use herald::domain::commands::{Command, parse_fields};
use herald::routes::parse_activity;
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

/// The `serviceurl` claim of the channel token the body is checked against.
const CLAIMED: &str = "https://smba.trafficmanager.net/emea/";

fuzz_target!(|body: &[u8]| {
    let channel = VerifiedToken::Channel {
        service_url: CLAIMED.to_string(),
        endorsements: Some(vec!["msteams".to_string()]),
    };
    for verified in [None, Some(&channel), Some(&VerifiedToken::Emulator)] {
        let Ok((activity, checked)) = parse_activity(body, verified) else {
            continue;
        };

        // Whatever the body says, herald only calls the address the token names.
        if matches!(verified, Some(VerifiedToken::Channel { .. })) {
            assert!(
                checked.service_url.same_as(CLAIMED),
                "{} is not {CLAIMED}",
                checked.service_url
            );
            assert!(checked.channel_id.eq_ignore_ascii_case("msteams"));
        }
        // Only https, or http on loopback, and the address reads back as itself.
        let url = checked.service_url.as_str();
        assert!(
            url.starts_with("https://") || url.starts_with("http://"),
            "{url}"
        );
        assert_eq!(ServiceUrl::parse(url).as_ref(), Ok(&checked.service_url));
        // The addressing fields a turn relies on are there.
        assert!(!checked.channel_id.trim().is_empty());
        assert!(!checked.from.id.trim().is_empty());
        assert!(!checked.recipient.id.trim().is_empty());
        assert!(!checked.conversation.id.trim().is_empty());

        // An activity written back (replies, stored references) reads back the same.
        let written = serde_json::to_value(&activity).expect("an activity serialises");
        let again: Activity = serde_json::from_value(written.clone()).expect("and reads back");
        assert_eq!(serde_json::to_value(&again).expect("again"), written);

        // What a turn reads from the activity before touching the database.
        let _ = activity.tenant_id();
        let _ = activity.time_zone();
        let _ = Lang::from_locale(activity.user_locale());
        let text = activity.text.as_deref().unwrap_or("").trim();
        let _ = Command::parse(text);
        if let Some(value) = &activity.value {
            let _ = parse_fields(&submitted_fields(value));
            if let Some(last) = value.get("lastReadMessageId").and_then(Value::as_str) {
                assert!(receipt_covers(last, last));
                let _ = receipt_covers("1616564946331", last);
            }
        }
    }
});
