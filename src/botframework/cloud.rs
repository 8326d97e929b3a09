//! The Azure clouds a bot can live in, and the Bot Framework and Graph endpoints of each, as
//! Microsoft documents them (Bot Framework SDK authentication constants, "Bot Framework in
//! government clouds"). GCC (moderate) uses the public cloud's endpoints; GCC High and DoD share
//! the US Government Bot Framework endpoints and differ only in their Graph host.

use serde::Deserialize;

/// `bot.cloud`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Cloud {
    #[default]
    Public,
    Gcc,
    #[serde(alias = "gcc_high", alias = "gcc-high")]
    GccHigh,
    Dod,
}

/// The endpoints of one cloud.
#[derive(Debug, PartialEq, Eq)]
pub struct CloudEndpoints {
    /// `iss` of channel (Teams) tokens.
    pub channel_issuer: &'static str,
    /// Where the channel publishes its signing keys.
    pub channel_openid_metadata: &'static str,
    /// Where the Emulator's (and Agents Playground's) signing keys are published.
    pub emulator_openid_metadata: &'static str,
    /// `iss` of emulator tokens: v1 and v2 issuers of the Bot Framework tenants of this cloud.
    pub emulator_issuers: &'static [&'static str],
    /// The Entra login host, for every token request.
    pub login: &'static str,
    /// The tenant multi-tenant bots get their connector token from.
    pub bot_token_tenant: &'static str,
    /// Scope of connector tokens.
    pub bot_scope: &'static str,
    /// Graph's root.
    pub graph: &'static str,
}

const PUBLIC: CloudEndpoints = CloudEndpoints {
    channel_issuer: "https://api.botframework.com",
    channel_openid_metadata: "https://login.botframework.com/v1/.well-known/openidconfiguration",
    emulator_openid_metadata: "https://login.microsoftonline.com/common/v2.0/.well-known/openid-configuration",
    emulator_issuers: &[
        "https://sts.windows.net/d6d49420-f39b-4df7-a1dc-d59a935871db/",
        "https://login.microsoftonline.com/d6d49420-f39b-4df7-a1dc-d59a935871db/v2.0",
        "https://sts.windows.net/f8cdef31-a31e-4b4a-93e4-5f571e91255a/",
        "https://login.microsoftonline.com/f8cdef31-a31e-4b4a-93e4-5f571e91255a/v2.0",
    ],
    login: "https://login.microsoftonline.com",
    bot_token_tenant: "botframework.com",
    bot_scope: "https://api.botframework.com/.default",
    graph: "https://graph.microsoft.com",
};

const US_GOVERNMENT: CloudEndpoints = CloudEndpoints {
    channel_issuer: "https://api.botframework.us",
    channel_openid_metadata: "https://login.botframework.azure.us/v1/.well-known/openidconfiguration",
    emulator_openid_metadata: "https://login.microsoftonline.us/cab8a31a-1906-4287-a0d8-4eef66b95f6e/v2.0/.well-known/openid-configuration",
    emulator_issuers: &[
        "https://sts.windows.net/cab8a31a-1906-4287-a0d8-4eef66b95f6e/",
        "https://login.microsoftonline.us/cab8a31a-1906-4287-a0d8-4eef66b95f6e/v2.0",
    ],
    login: "https://login.microsoftonline.us",
    bot_token_tenant: "MicrosoftServices.onmicrosoft.us",
    bot_scope: "https://api.botframework.us/.default",
    graph: "https://graph.microsoft.us",
};

const DOD: CloudEndpoints = CloudEndpoints {
    graph: "https://dod-graph.microsoft.us",
    ..US_GOVERNMENT
};

impl Cloud {
    /// The name `bot.cloud` takes.
    pub fn name(self) -> &'static str {
        match self {
            Cloud::Public => "public",
            Cloud::Gcc => "gcc",
            Cloud::GccHigh => "gcchigh",
            Cloud::Dod => "dod",
        }
    }

    pub fn endpoints(self) -> &'static CloudEndpoints {
        match self {
            Cloud::Public | Cloud::Gcc => &PUBLIC,
            Cloud::GccHigh => &US_GOVERNMENT,
            Cloud::Dod => &DOD,
        }
    }

    /// The connector token endpoint of a multi-tenant bot.
    pub fn multi_tenant_token_endpoint(self) -> String {
        let e = self.endpoints();
        format!("{}/{}/oauth2/v2.0/token", e.login, e.bot_token_tenant)
    }

    /// A tenant's token endpoint, `{tenant}` left to fill: single-tenant bots and Graph.
    pub fn tenant_token_endpoint(self) -> String {
        format!("{}/{{tenant}}/oauth2/v2.0/token", self.endpoints().login)
    }

    /// Scope of app-only Graph tokens.
    pub fn graph_scope(self) -> String {
        format!("{}/.default", self.endpoints().graph)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gcc_moderate_is_the_public_cloud_and_gcc_high_and_dod_are_us_government() {
        assert_eq!(Cloud::Gcc.endpoints(), Cloud::Public.endpoints());
        let high = Cloud::GccHigh.endpoints();
        assert_eq!(high.channel_issuer, "https://api.botframework.us");
        assert_eq!(
            Cloud::GccHigh.multi_tenant_token_endpoint(),
            "https://login.microsoftonline.us/MicrosoftServices.onmicrosoft.us/oauth2/v2.0/token"
        );
        assert_eq!(
            Cloud::Public.multi_tenant_token_endpoint(),
            "https://login.microsoftonline.com/botframework.com/oauth2/v2.0/token"
        );
        let dod = Cloud::Dod.endpoints();
        assert_eq!(dod.channel_issuer, high.channel_issuer);
        assert_eq!(dod.bot_scope, "https://api.botframework.us/.default");
        assert_eq!(
            Cloud::Dod.graph_scope(),
            "https://dod-graph.microsoft.us/.default"
        );
        assert_eq!(
            Cloud::GccHigh.tenant_token_endpoint(),
            "https://login.microsoftonline.us/{tenant}/oauth2/v2.0/token"
        );
    }

    #[test]
    fn every_endpoint_is_an_https_url() {
        for cloud in [Cloud::Public, Cloud::Gcc, Cloud::GccHigh, Cloud::Dod] {
            let e = cloud.endpoints();
            let mut all = vec![
                e.channel_issuer,
                e.channel_openid_metadata,
                e.emulator_openid_metadata,
                e.login,
                e.bot_scope,
                e.graph,
            ];
            all.extend(e.emulator_issuers);
            for u in all {
                let url = url::Url::parse(u).unwrap();
                assert_eq!(url.scheme(), "https", "{u}");
            }
            url::Url::parse(&cloud.multi_tenant_token_endpoint()).unwrap();
        }
    }
}
