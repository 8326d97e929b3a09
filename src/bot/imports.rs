//! `list import <name>` in the chat: the file sent with the command (a Teams file attachment)
//! handed to [`crate::lists::import`], and its result said in the chat; every sentence comes
//! from the catalogue (`locales/*/imports.ftl`).

use serde_json::Value;

use super::caller::Caller;
use super::reply::{Outcome, Refusal, Reply};
use super::texts::bold as q;
use super::{Bot, BotError};
use crate::domain::Lang;
use crate::lists::import::{FetchError, Import, Imported, Refused, SentFile};
use crate::t;

/// The content type of a file a person sent the bot in Teams (`supportsFiles`).
pub const FILE_DOWNLOAD_INFO: &str = "application/vnd.microsoft.teams.file.download.info";

/// Invalid cells named in a reply; the rest are counted.
const NAMED_INVALID: usize = 20;

/// The first file among an activity's attachments: its name and pre-authenticated link.
pub(super) fn sent_file(attachments: &[Value]) -> Option<SentFile> {
    attachments.iter().find_map(|a| {
        if a.get("contentType")?.as_str()? != FILE_DOWNLOAD_INFO {
            return None;
        }
        let url = a.pointer("/content/downloadUrl")?.as_str()?.trim();
        if url.is_empty() {
            return None;
        }
        let name = a
            .get("name")
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .unwrap_or("file");
        Some(SentFile {
            name: name.to_string(),
            download_url: url.to_string(),
        })
    })
}

/// A cell as written, in a code span (where Markdown escapes would show): its backticks and
/// line breaks replaced, at most 60 characters.
fn code(cell: &str) -> String {
    let mut text: String = cell
        .chars()
        .map(|c| {
            if c == '`' {
                '\''
            } else if c.is_control() {
                ' '
            } else {
                c
            }
        })
        .take(60)
        .collect();
    if cell.chars().count() > 60 {
        text.push('…');
    }
    format!("`{text}`")
}

/// A size as people read it: `5 MiB`, `300 KiB`, `20 bytes` (`Mio`, `Kio`, `octets` in French).
fn size(lang: Lang, bytes: u64) -> String {
    const KIB: u64 = 1024;
    let (count, unit) = if bytes >= KIB * KIB && bytes.is_multiple_of(KIB * KIB) {
        (bytes / (KIB * KIB), "mib")
    } else if bytes >= KIB {
        (bytes / KIB, "kib")
    } else {
        (bytes, "bytes")
    };
    t!(lang, "import-size", count = count as i64, unit = unit)
}

impl Bot {
    /// `list import <name>` with the file the message carries.
    pub(super) async fn list_import(
        &self,
        caller: &Caller,
        name: &str,
        attachments: &[Value],
        lang: Lang,
    ) -> Result<Reply, BotError> {
        let file = sent_file(attachments);
        let file_name = file.as_ref().map(|f| q(&f.name)).unwrap_or_default();
        let import = Import {
            db: &self.db,
            files: &self.files,
        };
        let now = self.clock.now();
        let imported = import
            .run(&caller.tenant, &caller.actor, name, file, now)
            .await?;
        let (list, previous, roster) = match imported {
            Imported::Done {
                list,
                previous,
                roster,
            } => (list, previous, roster),
            Imported::Refused(why) => return Ok(refusal(lang, name, &file_name, &why)),
        };
        let accepted = roster.addresses.len();
        let head = match previous {
            None => t!(
                lang,
                "import-created",
                name = q(&list.name),
                file = file_name.as_str(),
                count = accepted
            ),
            Some(before) => t!(
                lang,
                "import-replaced",
                name = q(&list.name),
                file = file_name.as_str(),
                count = accepted,
                before = before
            ),
        };
        let counts = t!(
            lang,
            "import-counts",
            accepted = accepted,
            duplicates = roster.duplicates,
            invalid = roster.invalid.len()
        );
        let mut text = format!("{head}\n\n{counts}");
        if !roster.invalid.is_empty() {
            let named: Vec<String> = roster
                .invalid
                .iter()
                .take(NAMED_INVALID)
                .map(|cell| code(cell))
                .collect();
            text.push_str("\n\n");
            text.push_str(&t!(lang, "import-invalid", items = named.join(", ")));
            let more = roster.invalid.len().saturating_sub(NAMED_INVALID);
            if more > 0 {
                text.push(' ');
                text.push_str(&t!(lang, "import-invalid-more", count = more));
            }
        }
        Ok(Reply {
            answer: super::reply::Answer::Text(text),
            outcome: Outcome::Noted(format!(
                "list {} imported: {accepted} accepted, {} duplicates, {} invalid",
                list.name,
                roster.duplicates,
                roster.invalid.len()
            )),
        })
    }
}

/// Why nothing was imported, said in the chat; audited as a refusal, or an error when the
/// file host failed.
fn refusal(lang: Lang, name: &str, file: &str, why: &Refused) -> Reply {
    let refused = |text: String, reason: &str| {
        Reply::refused(
            format!("{text} {}", t!(lang, "import-nothing-changed")),
            Refusal::BadCommand(format!("list import: {reason}")),
        )
    };
    match why {
        Refused::NoFile => refused(t!(lang, "import-no-file", name = q(name)), "no file"),
        Refused::Fetch(FetchError::HostNotAllowed(host)) => refused(
            t!(lang, "import-host-not-allowed", host = q(host)),
            "file host not allowed",
        ),
        Refused::Fetch(FetchError::BadUrl(_)) => {
            refused(t!(lang, "import-bad-url"), "bad download URL")
        }
        Refused::Fetch(FetchError::TooLarge { limit }) => refused(
            t!(
                lang,
                "import-too-large",
                file = file,
                limit = size(lang, *limit)
            ),
            "file too large",
        ),
        Refused::Fetch(e @ (FetchError::Status(_) | FetchError::Unreachable(_))) => {
            let reason = match e {
                FetchError::Status(code) => format!("HTTP {code}"),
                _ => "unreachable".to_string(),
            };
            Reply {
                answer: super::reply::Answer::Text(format!(
                    "{} {}",
                    t!(
                        lang,
                        "import-download-failed",
                        file = file,
                        reason = reason.as_str()
                    ),
                    t!(lang, "import-nothing-changed")
                )),
                outcome: Outcome::Error(format!("list import: download failed ({e})")),
            }
        }
        Refused::NotATable => refused(t!(lang, "import-not-a-table", file = file), "not a table"),
        Refused::BadWorkbook => refused(
            t!(lang, "import-bad-workbook", file = file),
            "unreadable workbook",
        ),
        Refused::Empty => refused(t!(lang, "import-empty", file = file), "empty file"),
        Refused::NoAddressColumn => refused(
            t!(lang, "import-no-address-column", file = file),
            "no address column",
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_file_is_found_among_the_attachments() {
        let attachments = [
            json!({"contentType": "text/html", "content": "<p>list import x</p>"}),
            json!({
                "contentType": FILE_DOWNLOAD_INFO,
                "contentUrl": "https://contoso-my.sharepoint.com/personal/ada/Documents/staff.csv",
                "name": "staff.csv",
                "content": {
                    "downloadUrl": "https://contoso-my.sharepoint.com/download.aspx?tempauth=x",
                    "uniqueId": "1150D938-8870-4044-9F2C-5BBDEBA70C9D",
                    "fileType": "csv",
                }
            }),
        ];
        assert_eq!(
            sent_file(&attachments),
            Some(SentFile {
                name: "staff.csv".into(),
                download_url: "https://contoso-my.sharepoint.com/download.aspx?tempauth=x".into(),
            })
        );
        assert_eq!(sent_file(&attachments[..1]), None);
    }

    #[test]
    fn sizes_read_in_each_language() {
        assert_eq!(size(Lang::En, 5 * 1024 * 1024), "5 MiB");
        assert_eq!(size(Lang::Fr, 5 * 1024 * 1024), "5 Mio");
        assert_eq!(size(Lang::En, 300 * 1024), "300 KiB");
        assert_eq!(size(Lang::Fr, 20), "20 octets");
    }
}
