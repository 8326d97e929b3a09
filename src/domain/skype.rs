//! Skype users belong to no tenant: an admin's list addresses them by the email of their
//! profile, or by their Skype id written `skype:<id>` (e.g. `skype:29:1abc…`, `skype:live:ada`).
//! The prefix is read in any case and kept as `skype:`; the id keeps its case, as the channel
//! gave it (it is compared exactly with the id stored at install).

/// The channel id of Skype activities and campaigns.
pub const CHANNEL: &str = "skype";

/// The prefix of a Skype member, as stored.
pub const PREFIX: &str = "skype:";

/// Longest id accepted after `skype:` (channel ids are far shorter).
const MAX_ID: usize = 256;

/// `word` as a list member `skype:<id>` (prefix in lower case, id as written), if it is one.
pub fn member(word: &str) -> Option<String> {
    let word = word.trim();
    let (prefix, id) = word.split_once(':')?;
    if !prefix.eq_ignore_ascii_case("skype") {
        return None;
    }
    let ok = !id.is_empty()
        && id.len() <= MAX_ID
        && id
            .chars()
            .all(|c| !c.is_whitespace() && !c.is_control() && c != ',' && c != ';');
    ok.then(|| format!("{PREFIX}{id}"))
}

/// The Skype id of a stored member, when it is a `skype:<id>` one.
pub fn id_of(member: &str) -> Option<&str> {
    member.strip_prefix(PREFIX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_prefix_is_read_in_any_case_and_the_id_keeps_its_case() {
        assert_eq!(member("Skype:29:1AbC").as_deref(), Some("skype:29:1AbC"));
        assert_eq!(
            member(" SKYPE:live:Ada.Lovelace ").as_deref(),
            Some("skype:live:Ada.Lovelace")
        );
        assert_eq!(id_of("skype:live:Ada"), Some("live:Ada"));
        assert_eq!(id_of("ada@contoso.com"), None);
        for not in [
            "skype:",
            "skype",
            "ada@contoso.com",
            "skypes:29:x",
            "group:x",
        ] {
            assert_eq!(member(not), None, "{not}");
        }
        assert_eq!(member(&format!("skype:{}", "x".repeat(300))), None);
    }
}
