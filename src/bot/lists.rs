//! List commands in the chat: `lists`, `list create|add|remove|show|delete`. Each turns a
//! command into a call of a use case of [`crate::lists`] and its typed result into a reply;
//! every sentence comes from the catalogue (`locales/*/lists.ftl`).

use super::caller::Caller;
use super::listing::why_text;
use super::reply::{Refusal, Reply};
use super::texts::bold as q;
use super::{Bot, BotError};
use crate::audience::groups::Unresolved;
use crate::domain::Lang;
use crate::domain::commands::Command;
use crate::domain::text::escape_markdown;
use crate::lists::{Change, Changed, Created, Deleted, GroupProblem, Lists, Shown};
use crate::t;

impl Bot {
    fn lists(&self) -> Lists<'_> {
        Lists { db: &self.db }
    }

    /// A list command: `lists`, `list create|add|remove|show|delete`.
    pub(super) async fn list_command(
        &self,
        caller: &Caller,
        command: Command,
        lang: Lang,
    ) -> Result<Reply, BotError> {
        let tenant = &caller.tenant;
        let now = self.clock.now();
        let unknown = |name: &str| Reply::refused(no_such_list(lang, name), Refusal::UnknownList);
        Ok(match command {
            Command::Lists => {
                let all = self.lists().all(tenant).await?;
                if all.is_empty() {
                    return Ok(Reply::done(t!(lang, "lists-none")));
                }
                let lines: Vec<String> = all
                    .iter()
                    .map(|(l, n, g)| match g {
                        0 => t!(lang, "lists-line", name = q(&l.name), count = *n),
                        g => t!(
                            lang,
                            "lists-line-groups",
                            name = q(&l.name),
                            count = *n,
                            groups = *g
                        ),
                    })
                    .collect();
                Reply::done(lines.join("\n"))
            }
            Command::ListCreate { name, members } => {
                match self
                    .lists()
                    .create(&self.reach, tenant, &caller.actor, &name, &members, now)
                    .await?
                {
                    Created::Done {
                        members,
                        groups,
                        ignored,
                    } => {
                        let text = match groups {
                            0 => t!(lang, "list-created", name = q(&name), count = members),
                            g => t!(
                                lang,
                                "list-created-groups",
                                name = q(&name),
                                count = members,
                                groups = g
                            ),
                        };
                        Reply::done(format!("{text}{}", ignored_text(lang, &ignored)))
                    }
                    Created::Groups(problem) => group_problem(lang, &problem),
                    Created::NameTaken => Reply::refused(
                        t!(lang, "list-name-taken", name = q(&name)),
                        Refusal::DuplicateName,
                    ),
                }
            }
            Command::ListAdd { name, members } => {
                self.change_members(tenant, &name, Change::Add, &members, lang)
                    .await?
            }
            Command::ListRemove { name, members } => {
                self.change_members(tenant, &name, Change::Remove, &members, lang)
                    .await?
            }
            Command::ListShow { name, page } => {
                match self
                    .lists()
                    .show(&self.reach, tenant, &name, page == 1)
                    .await?
                {
                    Shown::Members(list, members, groups) => Reply::done(
                        super::listing::members_page(&list.name, &members, &groups, page, lang),
                    ),
                    Shown::UnknownList => unknown(&name),
                }
            }
            Command::ListDelete { name } => match self.lists().delete(tenant, &name).await? {
                Deleted::Done(list) => Reply::done(t!(lang, "list-deleted", name = q(&list.name))),
                Deleted::InUse(list, campaigns) => Reply::refused(
                    super::texts_lifecycle::list_in_use(lang, &list.name, &campaigns),
                    Refusal::ListInUse,
                ),
                Deleted::UnknownList => unknown(&name),
            },
            _ => Reply::refused(
                super::texts::hint(lang),
                Refusal::BadCommand("not a list command".into()),
            ),
        })
    }

    async fn change_members(
        &self,
        tenant: &str,
        name: &str,
        change: Change,
        members: &str,
        lang: Lang,
    ) -> Result<Reply, BotError> {
        let now = self.clock.now();
        Ok(
            match self
                .lists()
                .change(&self.reach, tenant, name, change, members, now)
                .await?
            {
                Changed::Done {
                    list,
                    changed,
                    total,
                    ignored,
                } => {
                    let (name, total) = (q(&list.name), total.to_string());
                    let text = match change {
                        Change::Add => t!(
                            lang,
                            "list-added",
                            count = changed,
                            name = name,
                            total = total
                        ),
                        Change::Remove => {
                            t!(
                                lang,
                                "list-removed",
                                count = changed,
                                name = name,
                                total = total
                            )
                        }
                    };
                    Reply::done(format!("{text}{}", ignored_text(lang, &ignored)))
                }
                Changed::UnknownList => {
                    Reply::refused(no_such_list(lang, name), Refusal::UnknownList)
                }
                Changed::Groups(problem) => group_problem(lang, &problem),
            },
        )
    }
}

/// `Ignored (not emails, groups or Skype ids): …` after an answer, when something typed was not an address.
fn ignored_text(lang: Lang, ignored: &[String]) -> String {
    if ignored.is_empty() {
        return String::new();
    }
    let items: Vec<String> = ignored.iter().map(|b| escape_markdown(b)).collect();
    format!("\n\n{}", t!(lang, "list-ignored", items = items.join(", ")))
}

/// Why the groups typed were refused (nothing was changed).
fn group_problem(lang: Lang, problem: &GroupProblem) -> Reply {
    let names = |groups: &[String]| groups.iter().map(|g| q(g)).collect::<Vec<_>>().join(", ");
    let (text, reason) = match problem {
        GroupProblem::GraphOff(groups) => (
            t!(lang, "group-graph-off", groups = names(groups)),
            "groups need graph",
        ),
        GroupProblem::Malformed(groups) => (
            t!(lang, "group-malformed", groups = names(groups)),
            "not a group",
        ),
        GroupProblem::Unknown(groups) => (
            t!(lang, "group-unknown", groups = names(groups)),
            "unknown group",
        ),
        GroupProblem::Failed(group, why) => (
            t!(
                lang,
                "group-lookup-failed",
                group = q(group),
                why = why_text(lang, why)
            ),
            "group lookup failed",
        ),
    };
    Reply::refused(text, Refusal::BadCommand(reason.into()))
}

/// Why a broadcast was not sent: each group of its list not resolved, with why.
pub(super) fn unresolved_groups(lang: Lang, groups: &[Unresolved]) -> String {
    let mut text = t!(lang, "broadcast-groups-unresolved");
    for u in groups {
        text.push('\n');
        text.push_str(&t!(
            lang,
            "group-unresolved-line",
            group = escape_markdown(&u.group),
            why = why_text(lang, &u.why)
        ));
    }
    text
}

pub(super) fn no_such_list(lang: Lang, name: &str) -> String {
    t!(lang, "list-unknown", name = q(name))
}

#[cfg(test)]
mod tests {
    use crate::domain::Lang;
    use crate::t;

    #[test]
    fn list_counts_agree_with_their_number_in_both_languages() {
        let created = |lang, n: usize| t!(lang, "list-created", name = "**x**", count = n);
        assert_eq!(created(Lang::En, 1), "List **x** created with 1 member.");
        assert_eq!(created(Lang::En, 2), "List **x** created with 2 members.");
        assert_eq!(created(Lang::Fr, 1), "Liste **x** créée avec 1 membre.");
        assert_eq!(created(Lang::Fr, 3), "Liste **x** créée avec 3 membres.");
        assert_eq!(
            t!(Lang::En, "lists-line", name = "**team**", count = 2),
            "- **team** (2 members)"
        );
        assert_eq!(
            t!(
                Lang::Fr,
                "list-added",
                count = 1,
                name = "**x**",
                total = "4"
            ),
            "1 ajouté à **x** (maintenant 4)."
        );
        assert_eq!(
            t!(
                Lang::En,
                "list-removed",
                count = 2,
                name = "**x**",
                total = "0"
            ),
            "2 removed from **x** (now 0)."
        );
    }
}
