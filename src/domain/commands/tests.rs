//! Commands and field lines, in English and French.

use super::*;
use crate::domain::presence::PresencePolicy;
use proptest::prelude::*;

#[test]
fn english_and_french_commands() {
    assert_eq!(Command::parse("help").unwrap(), Command::Help);
    assert_eq!(Command::parse("Aide").unwrap(), Command::Help);
    assert_eq!(Command::parse("listes").unwrap(), Command::Lists);
    assert_eq!(
        Command::parse("liste créer equipe a@x.fr, b@x.fr").unwrap(),
        Command::ListCreate {
            name: "equipe".into(),
            members: "a@x.fr, b@x.fr".into()
        }
    );
    assert_eq!(
        Command::parse("campagne rapport bienvenue").unwrap(),
        Command::CampaignReport {
            name: "bienvenue".into()
        }
    );
    assert_eq!(
        Command::parse("campaign test welcome ada@contoso.com").unwrap(),
        Command::CampaignTest {
            name: "welcome".into(),
            email: "ada@contoso.com".into()
        }
    );
    assert_eq!(
        Command::parse("diffusion supprimer 3").unwrap(),
        Command::BroadcastDelete { id: "3".into() }
    );
}

#[test]
fn bodies_follow_the_first_line() {
    let c =
        Command::parse("campaign create welcome\nlist: all-staff\nmessage:\nBonjour [FIRSTNAME]")
            .unwrap();
    assert_eq!(
        c,
        Command::CampaignCreate {
            name: "welcome".into(),
            fields: "list: all-staff\nmessage:\nBonjour [FIRSTNAME]".into()
        }
    );
    let c = Command::parse("list add team\na@x.com\nb@x.com").unwrap();
    assert_eq!(
        c,
        Command::ListAdd {
            name: "team".into(),
            members: "a@x.com\nb@x.com".into()
        }
    );
}

#[test]
fn mistakes_say_what_to_type() {
    assert!(
        matches!(Command::parse("launch rockets"), Err(CommandError::Unknown(w)) if w == "launch")
    );
    let e = Command::parse("campaign").unwrap_err().to_string();
    assert!(
        e.contains("an action") && e.contains("campaign info"),
        "{e}"
    );
    let e = Command::parse("campaign fly x").unwrap_err().to_string();
    assert!(e.contains("`fly`") && e.contains("create, edit"), "{e}");
    let e = Command::parse("campaign test welcome")
        .unwrap_err()
        .to_string();
    assert!(e.contains("an email"), "{e}");
    let e = Command::parse("list show").unwrap_err().to_string();
    assert!(e.contains("a name"), "{e}");
}

#[test]
fn field_lines_in_both_languages() {
    let (f, errors) = parse_fields(
        "liste: all-staff\ncanal: teams\ndébut: 2026-12-01 10:00\ndurée: 1h30m\n\
         horaires: Lun-Ven 09:00-18:00\nfuseau: Europe/Paris\nprésence: disponible\n\
         message:\nBonjour [FIRSTNAME],\nà bientôt.",
    );
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(f.list.as_deref(), Some("all-staff"));
    assert_eq!(f.channel, Some(Channel::Teams));
    assert_eq!(f.start.unwrap().to_string(), "2026-12-01 10:00:00");
    assert_eq!(f.duration.unwrap().minutes(), 90);
    assert_eq!(f.hours.unwrap().to_string(), "Mon-Fri 09:00-18:00");
    assert_eq!(f.time_zone.unwrap().name(), "Europe/Paris");
    assert_eq!(f.presence, Some(PresencePolicy::Available));
    assert_eq!(
        f.message.as_deref(),
        Some("Bonjour [FIRSTNAME],\nà bientôt.")
    );
}

#[test]
fn each_bad_field_is_named_with_an_example() {
    let (_, errors) = parse_fields(
        "channel: fax\nstart: tomorrow\nduration: 2x\nhours: Mon-Fri\ntimezone: Mars/Olympus\n\
         presence: sleepy\ncolour: red\nno colon here\nmessage:   ",
    );
    let fields: Vec<&str> = errors.iter().map(|e| e.field).collect();
    assert_eq!(
        fields,
        [
            "channel", "start", "duration", "hours", "timezone", "presence", "line", "line",
            "message"
        ]
    );
    for e in &errors {
        assert!(e.to_string().contains("for example"), "{e}");
    }
    // The catalogue's sentence gives the format (YYYY-MM-DD HH:MM).
    assert_eq!(errors[1].problem.id, "field-not-a-date-time");
}

#[test]
fn a_start_beyond_year_9999_is_refused() {
    // Found while writing the `admin` fuzz target: chrono reads signed years up to 262142,
    // and `campaign create` then panicked checking the window past its calendar's end.
    for start in [
        "+262142-12-31 23:59",
        "-262143-01-01 00:00",
        "+10000-01-01 00:00",
    ] {
        let (f, errors) = parse_fields(&format!("start: {start}\nduration: 366d"));
        assert!(f.start.is_none(), "{start}");
        assert_eq!(errors.len(), 1, "{start}");
        assert_eq!(errors[0].problem.id, "field-not-a-date-time");
    }
    let (f, _) = parse_fields("start: 9999-12-31 23:59");
    assert!(f.start.is_some());
}

#[test]
fn emails_are_split_every_way_and_checked() {
    let (good, bad) = parse_emails(
        "Ada@Contoso.com, grace@contoso.com;\nnot-an-email ada@contoso.com <linus@example.org>",
    );
    assert_eq!(
        good.iter().map(Email::as_str).collect::<Vec<_>>(),
        ["ada@contoso.com", "grace@contoso.com", "linus@example.org"]
    );
    assert_eq!(bad, ["not-an-email"]);
    assert!(Email::parse("a@b").is_none());
    assert!(Email::parse("@b.com").is_none());
}

/// Every verb, English and French.
const VERBS: &str = "help aide ? lists listes list liste campaigns campagnes campaign \
                     campagne broadcasts diffusions broadcast diffusion";

const SEPARATORS: [&str; 7] = [" ", ",", ";", "\n", ", ", ";\r\n", "\t"];

proptest! {
    /// `CAMPAIGN info x` is `campaign info x`, whatever follows the verb.
    #[test]
    fn the_verb_is_case_insensitive(
        verb in prop::sample::select(VERBS.split_whitespace().collect::<Vec<_>>()),
        rest in "(?s).{0,80}",
    ) {
        let shouted = format!("{} {rest}", verb.to_ascii_uppercase());
        let typed = format!("{verb} {rest}");
        prop_assert_eq!(Command::parse(&shouted), Command::parse(&typed));
    }

    /// Addresses pasted with any separators come back once each, in order, in lower case.
    #[test]
    fn emails_separated_any_way_read_back(
        emails in prop::collection::vec(
            "[A-Za-z0-9._%+-]{1,12}@[A-Za-z0-9-]{1,12}\\.[A-Za-z]{2,6}",
            1..8,
        ),
        separators in prop::collection::vec(prop::sample::select(&SEPARATORS[..]), 8),
    ) {
        let text: String = emails
            .iter()
            .zip(&separators)
            .map(|(e, sep)| format!("{e}{sep}"))
            .collect();
        let mut expected: Vec<String> = Vec::new();
        for e in &emails {
            let e = e.to_lowercase();
            if !expected.contains(&e) {
                expected.push(e);
            }
        }
        let (good, bad) = parse_emails(&text);
        prop_assert!(bad.is_empty(), "{:?}", bad);
        prop_assert_eq!(good.iter().map(Email::as_str).collect::<Vec<_>>(), expected);
    }
}

#[test]
fn stop_and_run_reports_in_english_and_french() {
    assert_eq!(
        Command::parse("campaign stop weekly").unwrap(),
        Command::CampaignStop {
            name: "weekly".into()
        }
    );
    assert_eq!(
        Command::parse("campagne arrêter hebdo").unwrap(),
        Command::CampaignStop {
            name: "hebdo".into()
        }
    );
    assert_eq!(
        Command::parse("campagne rapport hebdo 3").unwrap(),
        Command::CampaignRunReport {
            name: "hebdo".into(),
            run: "3".into()
        }
    );
    let (f, e) = parse_fields("répéter: 0 9 * * MON\nrepeat: mensuel");
    assert!(e.is_empty(), "{e:?}");
    assert_eq!(
        f.repeat,
        Some(crate::domain::repeat::Repeat::Every(
            crate::domain::repeat::Recurrence::Monthly
        ))
    );
    let (_, e) = parse_fields("repeat: 0 9 * *");
    assert_eq!(e[0].field, "repeat");
    assert_eq!(e[0].problem.id, "repeat-not-five-fields");
}
