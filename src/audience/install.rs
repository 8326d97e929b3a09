//! Proactive install: herald installs itself for recipients who lack it, through Graph, before
//! the send's transaction. Each missing member is looked up in the directory, the app installed
//! in their personal scope (409, already installed, is as good), the 1:1 chat read back, and
//! the user recorded as installed by herald, reachable like anyone who installed it. A few
//! installs run at once; Graph's throttling is waited out (see `graph::install`). Whoever Graph
//! refuses is answered with its reason, in words a report shows.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use futures_util::StreamExt;

use super::Reach;
use crate::botframework::ServiceUrl;
use crate::botframework::cloud::Cloud;
use crate::graph::GraphClient;
use crate::graph::install::{InstallError, reason};
use crate::store::installs::{self, HeraldInstall};
use crate::store::users::Profile;
use crate::store::{Db, StoreError, lists};

/// Installs in flight at once, per send: well within Graph's per-app limits, which the
/// client's throttling handling then keeps to.
const CONCURRENCY: usize = 4;

/// Proactive install only exists in Teams.
const TEAMS: &str = "msteams";

/// Each tenant's catalog id of herald's app, once looked up.
#[derive(Debug, Clone, Default)]
pub struct CatalogCache(Arc<Mutex<HashMap<String, String>>>);

impl CatalogCache {
    fn get(&self, tenant: &str) -> Option<String> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(tenant)
            .cloned()
    }

    fn put(&self, tenant: &str, app_id: &str) {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(tenant.to_string(), app_id.to_string());
    }
}

/// What installing came to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Installs {
    /// Members herald installed the app for (or found it already installed for).
    pub installed: usize,
    /// Members it could not install it for, with the reason.
    pub refused: Vec<(String, String)>,
}

/// Where Teams reaches users of a tenant herald has not heard from yet, by cloud.
pub fn default_service_url(cloud: Cloud) -> &'static str {
    match cloud {
        Cloud::Public => "https://smba.trafficmanager.net/teams/",
        Cloud::Gcc => "https://smba.infra.gcc.teams.microsoft.com/teams/",
        Cloud::GccHigh => "https://smba.infra.gov.teams.microsoft.us/teams/",
        Cloud::Dod => "https://smba.infra.dod.teams.microsoft.us/teams/",
    }
}

/// Installs herald for the members of `list_id` (with the `extra` identities its groups add)
/// who lack it on Teams; answers how many it installed and those Graph refused, with its
/// reason. Without Graph, or for a send to everyone installed (no list), nobody is installed.
pub async fn install_missing(
    reach: &Reach,
    db: &Db,
    tenant: &str,
    list_id: Option<&str>,
    channel: &str,
    extra: &[String],
) -> Result<Installs, StoreError> {
    let (Some(graph), Some(list_id)) = (reach.graph.clone(), list_id) else {
        return Ok(Installs::default());
    };
    if channel != TEAMS {
        return Ok(Installs::default());
    }
    let (t, l, x) = (tenant.to_string(), list_id.to_string(), extra.to_vec());
    let (missing, contact) = db
        .run(move |conn| {
            let (_, mut missing) = lists::resolve(conn, &t, &l, TEAMS, &x)?;
            // Skype users (`skype:<id>`) are not in the directory: nothing to install for them.
            missing.retain(|m| crate::domain::skype::id_of(m).is_none());
            Ok((missing, installs::tenant_contact(conn, &t, TEAMS)?))
        })
        .await?;
    if missing.is_empty() {
        return Ok(Installs::default());
    }
    let refuse_all = |why: String| Installs {
        installed: 0,
        refused: missing.iter().map(|m| (m.clone(), why.clone())).collect(),
    };
    let (service_url, bot_id) =
        contact.unwrap_or_else(|| (reach.default_service_url.clone(), reach.bot_id.clone()));
    let allowed = ServiceUrl::parse(&service_url)
        .ok()
        .is_some_and(|u| reach.service_urls.check(&u).is_ok());
    if !allowed {
        tracing::warn!(tenant, %service_url, "proactive install: service URL not allowed");
        return Ok(refuse_all("service_url".into()));
    }
    let app_id = match app_id(reach, &graph, tenant).await {
        Ok(Some(id)) => id,
        Ok(None) => {
            return Ok(refuse_all("not_in_catalog".into()));
        }
        Err(e) => {
            tracing::warn!(tenant, error = %e, "proactive install: app catalog lookup failed");
            return Ok(refuse_all(reason(&e)));
        }
    };
    let done: Vec<(String, Result<HeraldInstall, String>)> = futures_util::stream::iter(missing)
        .map(|identity| {
            let (graph, app_id) = (graph.clone(), app_id.clone());
            let base = HeraldInstall {
                tenant_id: tenant.to_string(),
                channel_id: TEAMS.to_string(),
                bot_id: bot_id.clone(),
                service_url: service_url.clone(),
                ..HeraldInstall::default()
            };
            async move {
                let result = install_one(&graph, &app_id, &identity, base).await;
                (identity, result)
            }
        })
        .buffer_unordered(CONCURRENCY)
        .collect()
        .await;
    let mut out = Installs::default();
    let mut recorded = Vec::new();
    for (identity, result) in done {
        match result {
            Ok(install) => recorded.push(install),
            Err(why) => out.refused.push((identity, why)),
        }
    }
    out.installed = recorded.len();
    if !recorded.is_empty() {
        db.run(move |conn| {
            let now = chrono::Utc::now();
            for install in &recorded {
                installs::record_herald_install(conn, install, now)?;
            }
            Ok(())
        })
        .await?;
    }
    out.refused.sort();
    tracing::info!(
        tenant,
        installed = out.installed,
        refused = out.refused.len(),
        "proactive install"
    );
    Ok(out)
}

/// `graph.teams_app_id`, else the tenant's catalog id of the app (looked up once).
async fn app_id(
    reach: &Reach,
    graph: &GraphClient,
    tenant: &str,
) -> Result<Option<String>, InstallError> {
    if !reach.teams_app_id.is_empty() {
        return Ok(Some(reach.teams_app_id.clone()));
    }
    if let Some(id) = reach.catalog.get(tenant) {
        return Ok(Some(id));
    }
    let found = graph.catalog_app_id(tenant, &reach.manifest_id).await?;
    if let Some(id) = &found {
        reach.catalog.put(tenant, id);
    }
    Ok(found)
}

/// One member: looked up, installed for, their chat read back. `Err` is the reason.
async fn install_one(
    graph: &GraphClient,
    app_id: &str,
    identity: &str,
    base: HeraldInstall,
) -> Result<HeraldInstall, String> {
    let tenant = base.tenant_id.clone();
    let user = match graph.find_user(&tenant, identity).await {
        Ok(Some(user)) => user,
        Ok(None) => return Err("user_not_found".into()),
        Err(e) => return Err(reason(&e)),
    };
    if user.account_enabled == Some(false) {
        return Err("disabled".into());
    }
    graph
        .install_for_user(&tenant, &user.id, app_id)
        .await
        .map_err(|e| reason(&e))?;
    let chat = match graph.personal_chat(&tenant, &user.id, app_id).await {
        Ok(Some(chat)) => chat,
        Ok(None) => return Err("no_chat".into()),
        Err(e) => return Err(reason(&e)),
    };
    Ok(HeraldInstall {
        aad_object_id: user.id.clone(),
        conversation_id: chat,
        profile: Profile {
            display_name: user.display_name,
            given_name: user.given_name,
            surname: user.surname,
            email: user.mail,
            user_principal_name: user.user_principal_name,
            aad_object_id: Some(user.id),
        },
        ..base
    })
}
