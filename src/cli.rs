//! The command line: `herald [serve]`, `herald migrate`, `herald users [--json]`,
//! `herald audit [--since DATE|DURATION] [--limit N] [--json]`, `herald manifest --out FILE`.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use chrono::{DateTime, NaiveDate, Utc};
use clap::{Parser, Subcommand};
use serde::Serialize;

use crate::config::Settings;
use crate::startup::{Application, open_database};
use crate::store::audit::{self, Entry};
use crate::store::users::{self, User};

#[derive(Debug, Parser)]
#[command(
    name = "herald",
    version,
    about = "Microsoft Teams bot for push campaigns and broadcasts",
    long_about = "herald is a Microsoft Teams (and Skype) bot service. Admins chat with it to run \
                  push campaigns and broadcasts; it speaks the Bot Framework connector protocol \
                  itself.\n\nSettings come from appsettings.toml (or --config), then \
                  HERALD__SECTION__KEY variables, then MicrosoftAppId, MicrosoftAppPassword, \
                  MicrosoftAppType and MicrosoftAppTenantId. See appsettings.example.toml."
)]
pub struct Cli {
    /// Settings file [default: ./appsettings.toml when present, else built-in defaults]
    #[arg(long, global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the bot endpoint (POST /api/messages) until SIGINT or SIGTERM (the default command)
    Serve,
    /// Apply pending database migrations and exit (serve also applies them at start)
    Migrate,
    /// List the users who installed the bot: name, email or UPN, tenant, channel, state, since,
    /// last known presence (availability/activity) and when it was observed
    Users {
        /// Print one JSON array instead of a table, for scripts
        #[arg(long)]
        json: bool,
    },
    /// Print the audit log, newest first: when (UTC), tenant, who, what, outcome
    Audit {
        /// Only entries from then on: a date (2026-11-01), a time (2026-11-01T09:00:00Z) or a
        /// duration back from now (7d, 24h, 90m)
        #[arg(long, value_name = "DATE|DURATION", value_parser = parse_since)]
        since: Option<DateTime<Utc>>,
        /// At most this many entries (the latest)
        #[arg(long, value_name = "N", default_value_t = 100)]
        limit: u32,
        /// Print one JSON array instead of a table, for scripts
        #[arg(long)]
        json: bool,
    },
    /// Write the Teams app package (manifest.json, French localisation, icons) to upload as a
    /// custom app; filled from bot.app_id, server.public_url and [manifest]
    Manifest {
        /// Where to write the zip, e.g. app.zip
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let settings = Settings::load(cli.config.as_deref())?;
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => {
            let app = Application::build(settings).await?;
            app.run_until_stopped()
                .await
                .context("running the server")?;
        }
        Command::Migrate => {
            let db = open_database(&settings).await?;
            // `open_database` applied them; say what the database is at now.
            let pending = db.migrate()?;
            tracing::info!(newly_applied = pending.len(), "database is up to date");
            println!("database is up to date");
        }
        Command::Manifest { out } => {
            let package = crate::manifest::build(&settings)?;
            package.write_zip(&out)?;
            println!(
                "wrote {} (Teams manifest v{}, bot {}): upload it in Teams as a custom app",
                out.display(),
                crate::manifest::MANIFEST_VERSION,
                settings.bot.app_id.trim()
            );
            print!(
                "{}",
                crate::graph::permissions::notes(settings.bot.app_id.trim())
            );
        }
        Command::Audit { since, limit, json } => {
            let db = open_database(&settings).await?;
            let entries = db
                .run(move |conn| audit::latest(conn, since, i64::from(limit)))
                .await?;
            let mut out = std::io::stdout().lock();
            if json {
                print_audit_json(&mut out, &entries)?;
            } else {
                print_audit_table(&mut out, &entries)?;
            }
        }
        Command::Users { json } => {
            let db = open_database(&settings).await?;
            let list = db.run(users::list).await?;
            let mut out = std::io::stdout().lock();
            if json {
                print_json(&mut out, &list)?;
            } else {
                print_table(&mut out, &list)?;
            }
        }
    }
    Ok(())
}

/// One user as `herald users --json` prints it.
#[derive(Serialize)]
struct UserLine<'a> {
    id: &'a str,
    display_name: Option<&'a str>,
    email: Option<&'a str>,
    user_principal_name: Option<&'a str>,
    aad_object_id: Option<&'a str>,
    tenant_id: &'a str,
    channel_id: &'a str,
    installed: bool,
    since: String,
    not_installed_reason: Option<&'a str>,
    locale: Option<&'a str>,
    time_zone: Option<&'a str>,
    /// The last presence observed (Graph's availability and activity) and when; `null` when
    /// never observed.
    availability: Option<&'a str>,
    activity: Option<&'a str>,
    presence_observed_at: Option<String>,
}

fn since(u: &User) -> String {
    u.installed_changed_at
        .and_utc()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn observed(u: &User) -> Option<String> {
    u.presence_observed_at.map(|t| {
        t.and_utc()
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    })
}

/// The users as `herald users --json` prints them.
pub fn users_json(list: &[User]) -> anyhow::Result<String> {
    let mut out = Vec::new();
    print_json(&mut out, list)?;
    Ok(String::from_utf8(out)?)
}

/// The users as `herald users` prints them.
pub fn users_table(list: &[User]) -> anyhow::Result<String> {
    let mut out = Vec::new();
    print_table(&mut out, list)?;
    Ok(String::from_utf8(out)?)
}

fn print_json(out: &mut impl Write, list: &[User]) -> anyhow::Result<()> {
    let lines: Vec<UserLine<'_>> = list
        .iter()
        .map(|u| UserLine {
            id: &u.id,
            display_name: u.display_name.as_deref(),
            email: u.email.as_deref(),
            user_principal_name: u.user_principal_name.as_deref(),
            aad_object_id: u.aad_object_id.as_deref(),
            tenant_id: &u.tenant_id,
            channel_id: &u.channel_id,
            installed: u.installed,
            since: since(u),
            not_installed_reason: u.not_installed_reason.as_deref(),
            locale: u.locale.as_deref(),
            time_zone: u.time_zone.as_deref(),
            availability: u.presence_availability.as_deref(),
            activity: u.presence_activity.as_deref(),
            presence_observed_at: observed(u),
        })
        .collect();
    serde_json::to_writer_pretty(&mut *out, &lines)?;
    writeln!(out)?;
    Ok(())
}

fn print_table(out: &mut impl Write, list: &[User]) -> anyhow::Result<()> {
    if list.is_empty() {
        writeln!(out, "no users yet: nobody has installed the bot")?;
        return Ok(());
    }
    let rows: Vec<[String; 7]> = list
        .iter()
        .map(|u| {
            [
                u.display_name.clone().unwrap_or_else(|| "-".into()),
                u.email
                    .clone()
                    .or_else(|| u.user_principal_name.clone())
                    .unwrap_or_else(|| "-".into()),
                if u.tenant_id.is_empty() {
                    "-".into()
                } else {
                    u.tenant_id.clone()
                },
                u.channel_id.clone(),
                if u.installed {
                    "installed".into()
                } else {
                    format!(
                        "not installed ({})",
                        u.not_installed_reason.as_deref().unwrap_or("unknown")
                    )
                },
                since(u),
                presence_cell(u),
            ]
        })
        .collect();
    let header = [
        "NAME",
        "EMAIL/UPN",
        "TENANT",
        "CHANNEL",
        "STATE",
        "SINCE",
        "PRESENCE (OBSERVED)",
    ];
    let mut widths = header.map(|h| h.chars().count());
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: &[String]| {
        cells
            .iter()
            .zip(widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect::<Vec<_>>()
            .join("  ")
            .trim_end()
            .to_string()
    };
    writeln!(out, "{}", line(&header.map(String::from)))?;
    for row in &rows {
        writeln!(out, "{}", line(row))?;
    }
    let installed = list.iter().filter(|u| u.installed).count();
    writeln!(out, "\n{installed}/{} installed", list.len())?;
    Ok(())
}

/// `Available/InACall (2026-11-30T14:00:00Z)`, or `-` when never observed.
fn presence_cell(u: &User) -> String {
    match (&u.presence_availability, observed(u)) {
        (Some(a), Some(at)) => match u.presence_activity.as_deref() {
            Some(act) if !act.is_empty() && act != a => format!("{a}/{act} ({at})"),
            _ => format!("{a} ({at})"),
        },
        _ => "-".into(),
    }
}

/// `--since`: a date (midnight UTC), an RFC 3339 time, or a duration back from now.
fn parse_since(text: &str) -> Result<DateTime<Utc>, String> {
    let text = text.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Ok(t.with_timezone(&Utc));
    }
    if let Ok(d) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return Ok(d.and_time(chrono::NaiveTime::MIN).and_utc());
    }
    humantime_serde::re::humantime::parse_duration(text)
        .ok()
        .and_then(|d| chrono::TimeDelta::from_std(d).ok())
        .and_then(|d| Utc::now().checked_sub_signed(d))
        .ok_or_else(|| {
            format!("`{text}` is neither a date (2026-11-01), a time (2026-11-01T09:00:00Z) nor a duration (7d, 24h)")
        })
}

fn at(e: &Entry) -> String {
    e.at.and_utc()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// One audit entry as `herald audit --json` prints it.
#[derive(Serialize)]
struct AuditLine<'a> {
    at: String,
    tenant_id: &'a str,
    actor: &'a str,
    action: &'a str,
    outcome: &'a str,
}

fn print_audit_json(out: &mut impl Write, entries: &[Entry]) -> anyhow::Result<()> {
    let lines: Vec<AuditLine<'_>> = entries
        .iter()
        .map(|e| AuditLine {
            at: at(e),
            tenant_id: &e.tenant_id,
            actor: &e.actor,
            action: &e.action,
            outcome: &e.outcome,
        })
        .collect();
    serde_json::to_writer_pretty(&mut *out, &lines)?;
    writeln!(out)?;
    Ok(())
}

fn print_audit_table(out: &mut impl Write, entries: &[Entry]) -> anyhow::Result<()> {
    if entries.is_empty() {
        writeln!(out, "no audit entries")?;
        return Ok(());
    }
    for e in entries {
        writeln!(
            out,
            "{}  {}  {}  {}  {}",
            at(e),
            e.tenant_id,
            e.actor,
            printable(&e.action),
            printable(&e.outcome)
        )?;
    }
    Ok(())
}

/// `text` with every control character (line breaks, and the escape sequences a chat user could
/// type to act on the operator's terminal) shown as a space.
fn printable(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn audit_text_reaches_the_terminal_without_control_characters() {
        let typed = "list show x\u{1b}]52;c;ZXZpbA==\u{7}\r\nrm -rf";
        let shown = super::printable(typed);
        assert!(!shown.chars().any(char::is_control), "{shown:?}");
        assert_eq!(shown, "list show x ]52;c;ZXZpbA==   rm -rf");
    }
}
