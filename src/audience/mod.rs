//! Who a list reaches beyond the addresses typed into it, worked out before a campaign or a
//! broadcast takes its write transaction (Graph is called here, never inside a transaction):
//! the transitive members of its Entra ID groups ([`groups`]), and the recipients herald
//! installs the app for through Graph ([`install`]).

pub mod groups;
pub mod install;

use std::sync::Arc;

use crate::graph::GraphClient;
use crate::store::{Db, StoreError};

/// What reaching a list needs besides the store.
#[derive(Clone, Default)]
pub struct Reach {
    /// `None` when Graph is off: groups cannot be resolved and nobody is installed.
    pub graph: Option<Arc<GraphClient>>,
    /// `graph.proactive_install`: install for every send, whatever it asked.
    pub always_install: bool,
    /// `graph.teams_app_id`: the catalog id of the app to install; empty: found by `manifest_id`.
    pub teams_app_id: String,
    /// The manifest's id (how the app is found in a tenant's catalog).
    pub manifest_id: String,
    /// The bot's channel id (`28:{app id}`), for users herald installs when no user of their
    /// tenant tells it.
    pub bot_id: String,
    /// The cloud's Teams service URL, for users herald installs in a tenant it has not heard
    /// from yet.
    pub default_service_url: String,
    /// `bot.service_url_hosts`: a service URL herald records must pass it.
    pub service_urls: crate::botframework::ServiceUrlPolicy,
    /// Each tenant's catalog id of the app, once looked up.
    pub catalog: install::CatalogCache,
}

/// A list's audience as known before the send's transaction.
#[derive(Debug, Clone, Default)]
pub struct Expanded {
    /// Identities (lower-case UPN or mail) the list's groups add to its typed members.
    pub identities: Vec<String>,
    /// Recipients herald could not install the app for, with Graph's reason.
    pub refused: Vec<(String, String)>,
    /// The list's groups Graph could not resolve: the send holds back (a campaign is tried
    /// again at the planner's next look, a broadcast is refused) rather than miss their members.
    pub unresolved: Vec<groups::Unresolved>,
    /// Recipients herald installed the app for through Graph (409 included).
    pub installed: usize,
}

impl std::fmt::Debug for Reach {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reach")
            .field("graph", &self.graph.is_some())
            .field("always_install", &self.always_install)
            .field("teams_app_id", &self.teams_app_id)
            .field("manifest_id", &self.manifest_id)
            .finish()
    }
}

impl Reach {
    /// From the settings; Graph's client is given by whoever builds it.
    pub fn from_settings(settings: &crate::config::Settings) -> Reach {
        Reach {
            graph: None,
            always_install: settings.graph.proactive_install,
            teams_app_id: settings.graph.teams_app_id.trim().to_string(),
            manifest_id: settings.bot.app_id.trim().to_lowercase(),
            bot_id: format!("28:{}", settings.bot.app_id.trim()),
            default_service_url: install::default_service_url(settings.bot.cloud).to_string(),
            service_urls: settings.service_url_policy(),
            catalog: install::CatalogCache::default(),
        }
    }

    /// Expands `list_id`'s groups and, when `install` (or `graph.proactive_install`), installs
    /// herald for the members who lack it, so that the send's transaction finds them installed.
    pub async fn prepare(
        &self,
        db: &Db,
        tenant: &str,
        list_id: Option<&str>,
        channel: &str,
        install: bool,
    ) -> Result<Expanded, StoreError> {
        let mut expanded = Expanded::default();
        if let Some(list_id) = list_id {
            let expansion = groups::expand(self, db, tenant, list_id).await?;
            expanded.identities = expansion.identities;
            expanded.unresolved = expansion.unresolved;
            if !expanded.unresolved.is_empty() {
                return Ok(expanded);
            }
        }
        if install || self.always_install {
            let done =
                install::install_missing(self, db, tenant, list_id, channel, &expanded.identities)
                    .await?;
            expanded.refused = done.refused;
            expanded.installed = done.installed;
        }
        Ok(expanded)
    }
}
