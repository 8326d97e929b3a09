//! What an admin types as a list's members: addresses, Skype users written `skype:<id>`, and
//! Entra ID groups written `group:<object id>` or `group:<group mail>` (French `groupe:`), in
//! any mix.

use crate::audience::Reach;
use crate::audience::groups::{self, Lookup, Why};
use crate::domain::commands::parse_emails;
use crate::domain::skype;
use crate::graph::groups::is_object_id;
use crate::store::groups::NewGroup;

/// The words of a members text, sorted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Typed {
    /// Addresses, lower case, and Skype users (`skype:<id>`, the id as typed), each once.
    pub emails: Vec<String>,
    /// Groups as written after `group:` (lower case), each once.
    pub groups: Vec<String>,
    /// Words that are neither.
    pub ignored: Vec<String>,
}

/// Sorts the words of `text` (separated by spaces, `,` or `;`).
pub fn split(text: &str) -> Typed {
    let mut typed = Typed::default();
    let mut rest = Vec::new();
    for word in text.split(|c: char| c.is_whitespace() || c == ',' || c == ';') {
        let word = word.trim();
        if word.is_empty() {
            continue;
        }
        match group_key(word) {
            Some(key) if !key.is_empty() => {
                let key = key.to_lowercase();
                if !typed.groups.contains(&key) {
                    typed.groups.push(key);
                }
            }
            Some(_) => typed.ignored.push(word.to_string()),
            None => rest.push(word),
        }
    }
    let (skype, rest): (Vec<_>, Vec<_>) =
        rest.into_iter().partition(|w| skype::member(w).is_some());
    let (good, ignored) = parse_emails(&rest.join(" "));
    typed.emails = good.iter().map(|e| e.as_str().to_string()).collect();
    for member in skype.into_iter().filter_map(skype::member) {
        if !typed.emails.contains(&member) {
            typed.emails.push(member);
        }
    }
    typed.ignored.extend(ignored);
    typed
}

/// What follows `group:` or `groupe:` (any case), if `word` starts so.
fn group_key(word: &str) -> Option<&str> {
    let (prefix, key) = word.split_once(':')?;
    matches!(prefix.to_lowercase().as_str(), "group" | "groupe").then(|| key.trim())
}

/// Why the groups typed cannot be added; nothing is changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GroupProblem {
    /// Graph is off: groups cannot be used. The groups typed.
    GraphOff(Vec<String>),
    /// Neither an object id nor a mail (as typed, with `group:`).
    Malformed(Vec<String>),
    /// Graph knows no such groups (as typed, with `group:`).
    Unknown(Vec<String>),
    /// Graph could not answer for this group.
    Failed(String, Why),
}

/// Looks each group of `keys` up in Graph: all found, or the first problem.
pub async fn find_groups(
    reach: &Reach,
    tenant: &str,
    keys: &[String],
) -> Result<Vec<NewGroup>, GroupProblem> {
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    let label = |k: &String| format!("group:{k}");
    if reach.graph.is_none() {
        return Err(GroupProblem::GraphOff(keys.iter().map(label).collect()));
    }
    let malformed: Vec<String> = keys
        .iter()
        .filter(|k| !k.contains('@') && !is_object_id(k))
        .map(label)
        .collect();
    if !malformed.is_empty() {
        return Err(GroupProblem::Malformed(malformed));
    }
    let mut found: Vec<NewGroup> = Vec::new();
    let mut unknown = Vec::new();
    for key in keys {
        match groups::lookup(reach, tenant, key).await {
            Lookup::Found(group) => {
                // The same group typed by id and by mail counts once.
                if !found.iter().any(|g| g.group_id == group.group_id) {
                    found.push(group);
                }
            }
            Lookup::Unknown => unknown.push(label(key)),
            Lookup::GraphOff => return Err(GroupProblem::GraphOff(vec![label(key)])),
            Lookup::Failed(why) => return Err(GroupProblem::Failed(label(key), why)),
        }
    }
    if unknown.is_empty() {
        Ok(found)
    } else {
        Err(GroupProblem::Unknown(unknown))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_and_addresses_mix_in_either_language() {
        let typed = split(
            "group:Sales@Contoso.com, ada@contoso.com;GROUPE:0b1c2d3e-0000-4000-8000-00000000abcd \
             bob@contoso.com group:sales@contoso.com nonsense group:",
        );
        assert_eq!(
            typed.groups,
            ["sales@contoso.com", "0b1c2d3e-0000-4000-8000-00000000abcd"]
        );
        assert_eq!(typed.emails, ["ada@contoso.com", "bob@contoso.com"]);
        assert_eq!(typed.ignored, ["group:", "nonsense"]);
    }

    #[test]
    fn skype_users_are_members_by_their_id_as_typed() {
        let typed = split("Skype:29:1AbC ada@contoso.com skype:live:ada skype:29:1AbC skype:");
        assert_eq!(
            typed.emails,
            ["ada@contoso.com", "skype:29:1AbC", "skype:live:ada"]
        );
        assert_eq!(typed.ignored, ["skype:"]);
    }

    #[tokio::test]
    async fn groups_without_graph_are_refused_naming_them() {
        let reach = Reach::default();
        let keys = vec!["sales@contoso.com".to_string()];
        assert_eq!(
            find_groups(&reach, "t", &keys).await,
            Err(GroupProblem::GraphOff(vec![
                "group:sales@contoso.com".into()
            ]))
        );
        assert_eq!(find_groups(&reach, "t", &[]).await, Ok(Vec::new()));
    }
}
