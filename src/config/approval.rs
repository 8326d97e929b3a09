//! `[approval]`: four-eyes approval of what admins send. With `required = true`, a campaign
//! created or edited and a broadcast sent by an admin wait until one of `approvers` approves
//! them. A tenant may have its own rule under `[approval.tenants."<tenant id>"]`; what it leaves
//! out is taken from `[approval]`.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::domain::approval::ApprovalPolicy;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ApprovalSettings {
    /// Campaigns and broadcasts wait for an approver's decision before anything goes.
    pub required: bool,
    /// Who approves: Entra object ids or UPNs, matched against the users herald knows.
    pub approvers: Vec<String>,
    /// Per tenant (by tenant id): `required` and/or `approvers` replacing the ones above.
    pub tenants: BTreeMap<String, TenantApproval>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TenantApproval {
    pub required: Option<bool>,
    pub approvers: Option<Vec<String>>,
}

impl ApprovalSettings {
    /// The rules the bot applies.
    pub fn policy(&self) -> ApprovalPolicy {
        self.tenants.iter().fold(
            ApprovalPolicy::new(self.required, &self.approvers),
            |policy, (tenant, t)| policy.with_tenant(tenant, t.required, t.approvers.as_deref()),
        )
    }

    /// Approval required where nobody approves is refused at start-up, with the key named.
    pub(super) fn check(&self) -> Result<(), (&'static str, String)> {
        let named = |list: &[String]| list.iter().any(|a| !a.trim().is_empty());
        if self.required && !named(&self.approvers) {
            return Err((
                "approval.approvers",
                "required = true needs at least one approver (an Entra object id or UPN), \
                 e.g. approvers = [\"grace@contoso.com\"]"
                    .into(),
            ));
        }
        for (tenant, t) in &self.tenants {
            let approvers = t.approvers.as_deref().unwrap_or(&self.approvers);
            if t.required.unwrap_or(self.required) && !named(approvers) {
                return Err((
                    "approval.tenants",
                    format!(
                        "approval is required in tenant \"{tenant}\" but nobody approves \
                         there: give its approvers (Entra object ids or UPNs)"
                    ),
                ));
            }
        }
        Ok(())
    }
}
