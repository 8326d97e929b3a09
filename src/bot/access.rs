//! Who may do what: allowed tenants and admins, from `bot.allowed_tenants` and `bot.admins`.

use std::collections::HashSet;

use crate::config::{AppType, BotSettings};

#[derive(Debug, Clone, Default)]
pub struct Access {
    allowed_tenants: HashSet<String>,
    global_admins: HashSet<String>,
    tenant_admins: HashSet<(String, String)>,
}

impl Access {
    /// A single-tenant bot with no `allowed_tenants` serves its home tenant only: Azure issues
    /// its tokens for that tenant alone, and nobody else should be able to sideload it and make
    /// themselves admins of their own tenant.
    pub fn from_settings(bot: &BotSettings) -> Access {
        let norm = |s: &str| s.trim().to_lowercase();
        let mut allowed_tenants: HashSet<String> = bot
            .allowed_tenants
            .iter()
            .map(|t| norm(t))
            .filter(|t| !t.is_empty())
            .collect();
        if allowed_tenants.is_empty() && bot.app_type == AppType::SingleTenant {
            allowed_tenants.extend(Some(norm(&bot.tenant_id)).filter(|t| !t.is_empty()));
        }
        let mut access = Access {
            allowed_tenants,
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

    /// Whether someone known by any of `identities` (their Entra object id, as Teams vouches
    /// for it, and the UPN of their directory profile; never a profile's unverified `email`) is
    /// an admin in `tenant`.
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
    fn a_single_tenant_bot_serves_its_home_tenant_unless_told_otherwise() {
        let mut bot = BotSettings {
            app_type: AppType::SingleTenant,
            tenant_id: "Home-Tenant".into(),
            ..BotSettings::default()
        };
        let a = Access::from_settings(&bot);
        assert!(a.tenant_allowed("home-tenant"));
        assert!(!a.tenant_allowed("other-tenant"));
        bot.allowed_tenants = vec!["partner".into()];
        let a = Access::from_settings(&bot);
        assert!(a.tenant_allowed("partner"));
        assert!(!a.tenant_allowed("home-tenant"), "an explicit list wins");
        bot.app_type = AppType::MultiTenant;
        bot.allowed_tenants.clear();
        assert!(Access::from_settings(&bot).tenant_allowed("anyone"));
    }

    #[test]
    fn tenants_are_all_allowed_unless_listed() {
        assert!(access(&[], &[]).tenant_allowed("anything"));
        let a = access(&[], &["Contoso-Id"]);
        assert!(a.tenant_allowed("contoso-id"));
        assert!(!a.tenant_allowed("fabrikam-id"));
    }
}
