//! `database.url` as it may be shown or logged: where the database is, never a secret.
//!
//! libpq takes secrets in more places than the userinfo (`?password=`, `?sslpassword=`, and
//! whatever a future version adds), so every query value is hidden except those of a short
//! list of settings known to hold none.

/// Query parameters whose values are shown: where and how to connect, never a secret.
const SHOWN: [&str; 17] = [
    "host",
    "hostaddr",
    "port",
    "dbname",
    "user",
    "sslmode",
    "sslrootcert",
    "sslcrl",
    "connect_timeout",
    "application_name",
    "target_session_attrs",
    "load_balance_hosts",
    "keepalives",
    "keepalives_idle",
    "keepalives_interval",
    "keepalives_count",
    "gssencmode",
];

const HIDDEN: &str = "***";

/// `url` with its password and every query value not in [`SHOWN`] replaced by `***`, and its
/// fragment dropped. A URL that cannot be read is shown as its scheme only.
pub fn redacted(url: &str) -> String {
    let Ok(mut parsed) = url::Url::parse(url.trim()) else {
        let scheme = url.split_once("://").map_or("database", |(s, _)| s);
        let scheme = if scheme.chars().all(|c| c.is_ascii_alphanumeric()) {
            scheme
        } else {
            "database"
        };
        return format!("{scheme}://(unparsable)");
    };
    if parsed.password().is_some() {
        let _ = parsed.set_password(Some(HIDDEN));
    }
    parsed.set_fragment(None);
    if parsed.query().is_some() {
        let pairs: Vec<(String, String)> = parsed
            .query_pairs()
            .map(|(k, v)| {
                let shown = SHOWN.contains(&k.to_ascii_lowercase().as_str());
                let value = if shown { v.into_owned() } else { HIDDEN.into() };
                (k.into_owned(), value)
            })
            .collect();
        parsed.query_pairs_mut().clear().extend_pairs(pairs);
    }
    parsed.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_hidden_in_every_part() {
        let url = "postgres://herald:pa55@db.example.com:5432/herald?sslmode=require\
                   &password=qu3ry&sslpassword=k3y&passfile=%2Fhome%2Fp&PASSWORD=up\
                   &options=-c%20x%3Dy&application_name=herald#fr4g";
        let shown = redacted(url);
        for secret in [
            "pa55", "qu3ry", "k3y", "/home/p", "%2Fhome", "up&", "fr4g", "x%3Dy",
        ] {
            assert!(!shown.contains(secret), "{secret} in {shown}");
        }
        for kept in [
            "db.example.com:5432/herald",
            "herald:***@",
            "sslmode=require",
            "application_name=herald",
            "password=***",
            "sslpassword=***",
            "passfile=***",
            "options=***",
        ] {
            assert!(shown.contains(kept), "{kept} missing from {shown}");
        }
    }

    #[test]
    fn a_url_without_secrets_is_shown_as_it_is() {
        assert_eq!(
            redacted("postgres://u@h:5432/db?connect_timeout=5"),
            "postgres://u@h:5432/db?connect_timeout=5"
        );
        assert_eq!(redacted("postgres://u@h/db"), "postgres://u@h/db");
    }

    #[test]
    fn an_unreadable_url_shows_nothing_of_itself() {
        let shown = redacted("postgres://u:s3cret@[bad/db?password=x");
        assert_eq!(shown, "postgres://(unparsable)");
        assert_eq!(redacted("::s3cret"), "database://(unparsable)");
    }
}
