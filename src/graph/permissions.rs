//! The Microsoft Graph application permissions herald asks of the bot's Entra app (the app the
//! package's `webApplicationInfo` names), and what each one is for. An admin of each tenant
//! grants them once (admin consent); a feature whose permission is missing is refused by Graph
//! and herald says so in the chat.

/// One application permission and the features that need it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Permission {
    pub name: &'static str,
    pub needed_for: &'static str,
}

/// Every Graph application permission herald may use. None is needed unless `[graph] enabled`.
pub const PERMISSIONS: &[Permission] = &[
    Permission {
        name: "Presence.Read.All",
        needed_for: "campaigns with a presence policy (send only to available people)",
    },
    Permission {
        name: "GroupMember.Read.All",
        needed_for: "Entra ID groups in lists (group:<id or mail>), nested and dynamic groups",
    },
    Permission {
        name: "User.Read.All",
        needed_for: "groups (which members are enabled accounts) and proactive install \
                     (finding a recipient's account by mail or UPN)",
    },
    Permission {
        name: "TeamsAppInstallation.ReadWriteSelfForUser.All",
        needed_for: "proactive install (install: yes, graph.proactive_install)",
    },
    Permission {
        name: "MailboxSettings.Read",
        needed_for: "time: local (each person's own time zone): the zone of people whose \
                     Teams client never told theirs, from their mailbox settings",
    },
    Permission {
        name: "AppCatalog.Read.All",
        needed_for: "proactive install: finding herald in the tenant's app catalog",
    },
];

/// The operator's notes printed beside the package: which permissions to grant the app
/// `app_id`, and where each tenant's admin consents.
pub fn notes(app_id: &str) -> String {
    let mut out = format!(
        "Microsoft Graph application permissions for the Entra app {app_id} \
         (webApplicationInfo.id), used only with [graph] enabled = true:\n"
    );
    let width = PERMISSIONS.iter().map(|p| p.name.len()).max().unwrap_or(0);
    for p in PERMISSIONS {
        out.push_str(&format!("  {:width$}  {}\n", p.name, p.needed_for));
    }
    out.push_str(&format!(
        "Grant them under App registrations > API permissions > Microsoft Graph > Application \
         permissions, then have each tenant's admin consent at\n  \
         https://login.microsoftonline.com/<tenant id>/adminconsent?client_id={app_id}\n"
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_notes_name_every_permission_and_the_consent_address() {
        let notes = notes("11111111-2222-3333-4444-555555555555");
        for p in PERMISSIONS {
            assert!(notes.contains(p.name), "{notes}");
        }
        assert!(notes.contains("adminconsent?client_id=11111111-2222-3333-4444-555555555555"));
    }
}
