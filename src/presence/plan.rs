//! What to do with the stored presence subscriptions so that every installed user is covered
//! exactly once: keep, renew, remove, create. Pure: the keeper carries it out.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, TimeDelta, Utc};

use crate::graph::subscriptions::MAX_USERS_PER_SUBSCRIPTION;
use crate::store::presence_subs::Subscription;

/// The work of one round.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Plan {
    /// New subscriptions: tenant and users (at most 650).
    pub create: Vec<(String, Vec<String>)>,
    /// Subscriptions to delete and forget: expired, a user left, or replaced.
    pub remove: Vec<Subscription>,
    /// Subscriptions kept whose expiry is near.
    pub renew: Vec<Subscription>,
    /// Subscriptions kept as they are.
    pub kept: usize,
}

/// Plans a round at `now`: `members` are the installed users by tenant (see
/// `store::presence_subs::installed_by_tenant`); a kept subscription expiring within
/// `renew_before` is renewed.
///
/// A subscription's users cannot change (Graph renews the expiry only), so one whose users are
/// no longer all installed is replaced by a new one for those who still are; users not covered
/// yet get new subscriptions of up to 650. When a tenant would hold more than one subscription
/// beyond what its users need, all of its subscriptions are rebuilt in full chunks.
pub fn plan(
    stored: &[Subscription],
    members: &BTreeMap<String, Vec<String>>,
    now: DateTime<Utc>,
    renew_before: TimeDelta,
) -> Plan {
    let mut out = Plan::default();
    let mut by_tenant: BTreeMap<&str, Vec<&Subscription>> = BTreeMap::new();
    for s in stored {
        by_tenant.entry(s.tenant_id.as_str()).or_default().push(s);
    }
    let empty = Vec::new();
    let tenants: BTreeSet<&str> = by_tenant
        .keys()
        .copied()
        .chain(members.keys().map(String::as_str))
        .collect();
    for tenant in tenants {
        let users = members.get(tenant).unwrap_or(&empty);
        let wanted: BTreeSet<&str> = users.iter().map(String::as_str).collect();
        let mut covered: BTreeSet<&str> = BTreeSet::new();
        let mut kept: Vec<&Subscription> = Vec::new();
        let mut subs = by_tenant.remove(tenant).unwrap_or_default();
        subs.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        for s in subs {
            let whole = !s.users.is_empty()
                && s.expires_at > now
                && s.users.len() <= MAX_USERS_PER_SUBSCRIPTION
                && s.users
                    .iter()
                    .all(|u| wanted.contains(u.as_str()) && !covered.contains(u.as_str()));
            if whole {
                covered.extend(s.users.iter().map(String::as_str));
                kept.push(s);
            } else {
                out.remove.push(s.clone());
            }
        }
        let uncovered: Vec<String> = users
            .iter()
            .filter(|u| !covered.contains(u.as_str()))
            .cloned()
            .collect();
        let needed = users.len().div_ceil(MAX_USERS_PER_SUBSCRIPTION);
        let new = uncovered.len().div_ceil(MAX_USERS_PER_SUBSCRIPTION);
        if kept.len() + new > needed + 1 {
            // Too scattered: rebuild the tenant in full chunks.
            out.remove.extend(kept.drain(..).cloned());
            for chunk in users.chunks(MAX_USERS_PER_SUBSCRIPTION) {
                out.create.push((tenant.to_string(), chunk.to_vec()));
            }
        } else {
            for chunk in uncovered.chunks(MAX_USERS_PER_SUBSCRIPTION) {
                out.create.push((tenant.to_string(), chunk.to_vec()));
            }
        }
        for s in kept {
            if s.expires_at - now <= renew_before {
                out.renew.push(s.clone());
            } else {
                out.kept += 1;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        "2026-11-30T12:00:00Z".parse().unwrap()
    }

    fn users(range: std::ops::Range<usize>) -> Vec<String> {
        range.map(|i| format!("u{i:05}")).collect()
    }

    fn sub(id: &str, users: Vec<String>, expires_in: i64) -> Subscription {
        Subscription {
            id: id.into(),
            tenant_id: "t".into(),
            client_state: "s".into(),
            users,
            expires_at: now() + TimeDelta::minutes(expires_in),
            created_at: now(),
            renewed_at: now(),
        }
    }

    fn members(u: Vec<String>) -> BTreeMap<String, Vec<String>> {
        BTreeMap::from([("t".to_string(), u)])
    }

    const RENEW: TimeDelta = TimeDelta::minutes(15);

    #[test]
    fn users_come_in_chunks_of_650_and_a_new_one_gets_its_own() {
        let p = plan(&[], &members(users(0..1300)), now(), RENEW);
        assert_eq!(p.create.len(), 2);
        assert!(p.create.iter().all(|(_, u)| u.len() == 650));
        let stored = vec![sub("a", users(0..650), 50), sub("b", users(650..1300), 50)];
        let p = plan(&stored, &members(users(0..1301)), now(), RENEW);
        assert_eq!(p.create, vec![("t".to_string(), users(1300..1301))]);
        assert_eq!((p.kept, p.remove.len(), p.renew.len()), (2, 0, 0));
    }

    #[test]
    fn a_user_who_left_makes_their_chunk_be_replaced() {
        let stored = vec![sub("a", users(0..650), 50), sub("b", users(650..1300), 50)];
        let mut left = users(0..1300);
        left.remove(700);
        let p = plan(&stored, &members(left.clone()), now(), RENEW);
        assert_eq!(
            p.remove.iter().map(|s| s.id.as_str()).collect::<Vec<_>>(),
            ["b"]
        );
        assert_eq!(p.create, vec![("t".to_string(), left[650..].to_vec())]);
        assert_eq!(p.kept, 1);
    }

    #[test]
    fn near_expiry_is_renewed_expired_is_recreated_and_nobody_is_covered_twice() {
        let stored = vec![
            sub("a", users(0..10), 10),
            sub("b", users(10..20), -1),
            sub("c", users(0..10), 50),
        ];
        let p = plan(&stored, &members(users(0..20)), now(), RENEW);
        assert_eq!(
            p.renew.iter().map(|s| s.id.as_str()).collect::<Vec<_>>(),
            ["a"]
        );
        let mut removed: Vec<&str> = p.remove.iter().map(|s| s.id.as_str()).collect();
        removed.sort();
        assert_eq!(removed, ["b", "c"]);
        assert_eq!(p.create, vec![("t".to_string(), users(10..20))]);
    }

    #[test]
    fn scattered_tenants_are_rebuilt_and_empty_ones_dropped() {
        let stored: Vec<Subscription> = (0..5)
            .map(|i| sub(&format!("s{i}"), users(i..i + 1), 50))
            .collect();
        let p = plan(&stored, &members(users(0..5)), now(), RENEW);
        assert_eq!(p.remove.len(), 5);
        assert_eq!(p.create, vec![("t".to_string(), users(0..5))]);
        let p = plan(&stored, &BTreeMap::new(), now(), RENEW);
        assert_eq!((p.remove.len(), p.create.len()), (5, 0));
    }
}
