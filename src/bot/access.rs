//! Who may do what: allowed tenants and admins, from `bot.allowed_tenants` and `bot.admins`.

use std::collections::HashSet;

use crate::config::BotSettings;

#[derive(Debug, Clone, Default)]
pub struct Access {
    allowed_tenants: HashSet<String>,
    global_admins: HashSet<String>,
    tenant_admins: HashSet<(String, String)>,
}

impl Access {
    pub fn from_settings(bot: &BotSettings) -> Access {
        let norm = |s: &str| s.trim().to_lowercase();
        let mut access = Access {
            allowed_tenants: bot
                .allowed_tenants
                .iter()
                .map(|t| norm(t))
                .filter(|t| !t.is_empty())
                .collect(),
            ..Access::default()
        };
        for entry in &bot.admins {
            match entry.split_once('/') {
                Some((tenant, who)) => {
                    access.tenant_admins.insert((norm(tenant), norm(who)));
                }
                None if !entry.trim().is_empty() => {
                    access.global_admins.insert(norm(entry));
                }
                None => {}
            }
        }
        access
    }

    /// Whether some admin is named by UPN: only then is the caller's stored profile needed to
    /// tell (the object id comes with every activity).
    pub fn names_admins_by_upn(&self) -> bool {
        self.global_admins.iter().any(|a| a.contains('@'))
            || self.tenant_admins.iter().any(|(_, a)| a.contains('@'))
    }

    /// Activities from other tenants are ignored when a list is configured.
    pub fn tenant_allowed(&self, tenant: &str) -> bool {
        self.allowed_tenants.is_empty()
            || self.allowed_tenants.contains(&tenant.trim().to_lowercase())
    }

    /// Whether someone known by any of `identities` (object id, UPN, email) is an admin in
    /// `tenant`.
    pub fn is_admin(&self, tenant: &str, identities: &[&str]) -> bool {
        let tenant = tenant.trim().to_lowercase();
        identities
            .iter()
            .map(|i| i.trim().to_lowercase())
            .filter(|i| !i.is_empty())
            .any(|i| {
                self.global_admins.contains(&i) || self.tenant_admins.contains(&(tenant.clone(), i))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn access(admins: &[&str], tenants: &[&str]) -> Access {
        let bot = BotSettings {
            admins: admins.iter().map(|s| s.to_string()).collect(),
            allowed_tenants: tenants.iter().map(|s| s.to_string()).collect(),
            ..BotSettings::default()
        };
        Access::from_settings(&bot)
    }

    #[test]
    fn global_and_per_tenant_admins() {
        let a = access(&["Ada@Contoso.com", "obj-1", "t2/grace@fabrikam.com"], &[]);
        assert!(a.is_admin("t1", &["ada@contoso.com"]));
        assert!(a.is_admin("t9", &["OBJ-1"]));
        assert!(a.is_admin("T2", &["x", "grace@fabrikam.com"]));
        assert!(
            !a.is_admin("t1", &["grace@fabrikam.com"]),
            "another tenant's admin"
        );
        assert!(!a.is_admin("t1", &["", "someone"]));
        assert!(a.names_admins_by_upn());
        assert!(!access(&["obj-1", "t2/obj-2"], &[]).names_admins_by_upn());
    }

    #[test]
    fn tenants_are_all_allowed_unless_listed() {
        assert!(access(&[], &[]).tenant_allowed("anything"));
        let a = access(&[], &["Contoso-Id"]);
        assert!(a.tenant_allowed("contoso-id"));
        assert!(!a.tenant_allowed("fabrikam-id"));
    }
}
