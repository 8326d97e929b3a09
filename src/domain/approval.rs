//! Four-eyes approval, the pure rules: who must approve in a tenant, who may, and what a
//! request's status may become. The first decision wins; nothing decides twice.

use std::collections::{BTreeMap, HashSet};

/// What `[approval]` says for one tenant (or for every tenant without its own entry).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TenantRule {
    pub required: bool,
    /// Entra object ids or UPNs, lower case.
    pub approvers: HashSet<String>,
}

/// Who must have a campaign or broadcast approved, and by whom: a global rule, and per tenant
/// a rule that replaces it (in part: an entry that leaves `required` or `approvers` out takes
/// the global one).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ApprovalPolicy {
    global: TenantRule,
    tenants: BTreeMap<String, (Option<bool>, Option<HashSet<String>>)>,
}

fn norm(s: &str) -> String {
    s.trim().to_lowercase()
}

fn set_of(items: &[String]) -> HashSet<String> {
    items
        .iter()
        .map(|i| norm(i))
        .filter(|i| !i.is_empty())
        .collect()
}

impl ApprovalPolicy {
    pub fn new(required: bool, approvers: &[String]) -> ApprovalPolicy {
        ApprovalPolicy {
            global: TenantRule {
                required,
                approvers: set_of(approvers),
            },
            tenants: BTreeMap::new(),
        }
    }

    /// Tenant `tenant`'s own rule: `None` keeps the global value.
    pub fn with_tenant(
        mut self,
        tenant: &str,
        required: Option<bool>,
        approvers: Option<&[String]>,
    ) -> ApprovalPolicy {
        self.tenants
            .insert(norm(tenant), (required, approvers.map(set_of)));
        self
    }

    /// The rule in force in `tenant`.
    pub fn rule(&self, tenant: &str) -> TenantRule {
        match self.tenants.get(&norm(tenant)) {
            None => self.global.clone(),
            Some((required, approvers)) => TenantRule {
                required: required.unwrap_or(self.global.required),
                approvers: approvers
                    .clone()
                    .unwrap_or_else(|| self.global.approvers.clone()),
            },
        }
    }

    /// Whether what an admin of `tenant` sends waits for an approver.
    pub fn required(&self, tenant: &str) -> bool {
        self.rule(tenant).required
    }

    /// Whether someone known by any of `identities` (object id, UPN) approves in `tenant`.
    pub fn is_approver(&self, tenant: &str, identities: &[&str]) -> bool {
        let rule = self.rule(tenant);
        identities
            .iter()
            .map(|i| norm(i))
            .any(|i| !i.is_empty() && rule.approvers.contains(&i))
    }
}

/// What waits for approval.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subject {
    Campaign,
    Broadcast,
}

impl Subject {
    pub const ALL: [Subject; 2] = [Subject::Campaign, Subject::Broadcast];

    pub fn as_str(self) -> &'static str {
        match self {
            Subject::Campaign => "campaign",
            Subject::Broadcast => "broadcast",
        }
    }
}

super::delivery::stored_name!(Subject, "approval subject");

/// Where an approval request stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestStatus {
    /// Waiting for the first approver's decision.
    Pending,
    Approved,
    Rejected,
    /// Replaced by a newer request (the campaign was edited again) or dropped (it was deleted).
    Superseded,
}

impl RequestStatus {
    pub const ALL: [RequestStatus; 4] = [
        RequestStatus::Pending,
        RequestStatus::Approved,
        RequestStatus::Rejected,
        RequestStatus::Superseded,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RequestStatus::Pending => "pending",
            RequestStatus::Approved => "approved",
            RequestStatus::Rejected => "rejected",
            RequestStatus::Superseded => "superseded",
        }
    }

    /// Only a pending request is decided, once: every other status is final.
    pub fn may_become(self, to: RequestStatus) -> bool {
        self == RequestStatus::Pending && to != RequestStatus::Pending
    }
}

super::delivery::stored_name!(RequestStatus, "approval status");

/// A rejection's reason: at most this many characters are kept.
pub const REASON_MAX: usize = 500;

/// The reason typed with a rejection, trimmed and cut to [`REASON_MAX`]; `None` when empty
/// (a rejection must say why).
pub fn reason(text: &str) -> Option<String> {
    let t = text.trim();
    (!t.is_empty()).then(|| t.chars().take(REASON_MAX).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn a_tenant_entry_replaces_only_what_it_gives() {
        let p = ApprovalPolicy::new(false, &v(&["Grace@Contoso.com", "obj-1"]))
            .with_tenant("T-Strict", Some(true), None)
            .with_tenant("t-own", Some(true), Some(&v(&["obj-9"])))
            .with_tenant("t-off", None, Some(&v(&[])));
        assert!(!p.required("t-other"));
        assert!(p.is_approver("t-other", &["grace@contoso.com"]));
        assert!(p.required("t-strict"));
        assert!(p.is_approver("T-STRICT", &["x", "OBJ-1"]));
        assert!(p.required("t-own"));
        assert!(p.is_approver("t-own", &["obj-9"]));
        assert!(!p.is_approver("t-own", &["obj-1"]), "replaced, not added");
        assert!(!p.required("t-off"));
        assert!(!p.is_approver("t-off", &["obj-1"]));
        assert!(!p.is_approver("t-other", &["", " "]));
    }

    #[test]
    fn only_a_pending_request_is_decided() {
        use RequestStatus::*;
        for from in RequestStatus::ALL {
            for to in RequestStatus::ALL {
                assert_eq!(
                    from.may_become(to),
                    from == Pending && to != Pending,
                    "{from} → {to}"
                );
            }
        }
        for s in RequestStatus::ALL {
            assert_eq!(RequestStatus::parse(s.as_str()), Some(s));
        }
        for s in Subject::ALL {
            assert_eq!(Subject::parse(s.as_str()), Some(s));
        }
    }

    #[test]
    fn a_reason_is_trimmed_cut_and_required() {
        assert_eq!(reason("  too early \n"), Some("too early".into()));
        assert_eq!(reason("   "), None);
        assert_eq!(
            reason(&"é".repeat(600)).unwrap().chars().count(),
            REASON_MAX
        );
    }
}
