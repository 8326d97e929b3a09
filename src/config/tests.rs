//! Settings tests: loading, overrides, validation.
use super::*;
use crate::botframework::service_url::DEFAULT_SERVICE_URL_HOSTS;
use url::Url;

#[test]
fn constant_urls_parse() {
    for u in [
        CHANNEL_OPENID_METADATA,
        EMULATOR_OPENID_METADATA,
        MULTI_TENANT_TOKEN_ENDPOINT,
    ] {
        Url::parse(u).unwrap();
    }
    let _ = BotSettings::default();
}

#[test]
fn the_example_file_is_valid_and_says_the_defaults() {
    let text = include_str!("../../appsettings.example.toml");
    let s = Settings::from_toml(text).unwrap();
    let d = Settings::from_toml("").unwrap();
    assert_eq!(s.server.bind, d.server.bind);
    assert_eq!(s.server.metrics_bind, d.server.metrics_bind);
    assert_eq!(s.server.metrics_token(), d.server.metrics_token());
    assert_eq!(
        s.database.url.expose_secret(),
        d.database.url.expose_secret()
    );
    assert_eq!(s.database.max_connections, d.database.max_connections);
    assert_eq!(s.bot.app_id, d.bot.app_id);
    assert_eq!(s.bot.app_type, d.bot.app_type);
    assert_eq!(s.bot.openid_metadata_url, d.bot.openid_metadata_url);
    assert_eq!(
        s.bot.emulator_openid_metadata_url,
        d.bot.emulator_openid_metadata_url
    );
    assert_eq!(s.token_endpoint(), d.token_endpoint());
    assert_eq!(s.bot.cloud, d.bot.cloud);
    assert_eq!(s.bot.certificate_path, d.bot.certificate_path);
    assert_eq!(s.campaigns.tick, d.campaigns.tick);
    assert_eq!(s.bot.allowed_tenants, d.bot.allowed_tenants);
    assert_eq!(s.bot.admins, d.bot.admins);
    assert_eq!(s.bot.service_url_hosts, d.bot.service_url_hosts);
    assert_eq!(s.delivery.global_rps, d.delivery.global_rps);
    assert_eq!(s.delivery.concurrency, d.delivery.concurrency);
    assert_eq!(
        s.delivery.max_transport_retries,
        d.delivery.max_transport_retries
    );
    assert_eq!(s.delivery.retry_base, d.delivery.retry_base);
    assert_eq!(s.delivery.retry_max, d.delivery.retry_max);
    assert_eq!(s.delivery.lease, d.delivery.lease);
    assert_eq!(s.delivery.window_margin, d.delivery.window_margin);
    assert_eq!(s.campaigns.time_zone, d.campaigns.time_zone);
    assert_eq!(s.campaigns.business_hours, d.campaigns.business_hours);
    assert_eq!(s.campaigns.absence_cycles, d.campaigns.absence_cycles);
    assert_eq!(s.campaigns.unknown_presence, d.campaigns.unknown_presence);
    assert_eq!(s.graph.enabled, d.graph.enabled);
    assert_eq!(s.graph.base_url, d.graph.base_url);
    assert_eq!(s.graph.token_endpoint, d.graph.token_endpoint);
    assert_eq!(
        s.tracking.secret.expose_secret(),
        d.tracking.secret.expose_secret()
    );
    assert_eq!(s.tracking.link_lifetime, d.tracking.link_lifetime);
    assert_eq!(s.tracking.report_lifetime, d.tracking.report_lifetime);
    assert_eq!(s.manifest.developer_name, d.manifest.developer_name);
    assert_eq!(s.manifest.website_url, d.manifest.website_url);
    assert_eq!(s.manifest.privacy_url, d.manifest.privacy_url);
    assert_eq!(s.manifest.terms_url, d.manifest.terms_url);
}

#[test]
fn campaign_defaults_are_checked() {
    let err = Settings::from_toml("[campaigns]\ntime_zone = \"Mars/Olympus\"\n")
        .unwrap_err()
        .to_string();
    assert!(err.contains("campaigns.time_zone"), "{err}");
    let err = Settings::from_toml("[campaigns]\nbusiness_hours = \"whenever\"\n")
        .unwrap_err()
        .to_string();
    assert!(err.contains("campaigns.business_hours"), "{err}");
    let err = Settings::from_toml("[campaigns]\nabsence_cycles = 0\n")
        .unwrap_err()
        .to_string();
    assert!(err.contains("campaigns.absence_cycles"), "{err}");
    let err = Settings::from_toml("[campaigns]\nunknown_presence = \"maybe\"\n")
        .unwrap_err()
        .to_string();
    assert!(err.contains("unknown_presence"), "{err}");
}

#[test]
fn campaign_defaults_are_typed_at_load() {
    let s = Settings::from_toml(
        "[campaigns]\ntime_zone = \" Europe/Paris \"\nbusiness_hours = \"Mon-Thu 08:30-17:00\"\n",
    )
    .unwrap();
    assert_eq!(s.campaign_time_zone(), chrono_tz::Europe::Paris);
    assert_eq!(
        s.campaign_hours(),
        crate::domain::hours::BusinessHours::parse("Mon-Thu 08:30-17:00").unwrap()
    );
    // The defaults, loaded or not, are the documented ones.
    for s in [Settings::from_toml("").unwrap(), Settings::default()] {
        assert_eq!(s.campaign_time_zone(), chrono_tz::UTC);
        assert_eq!(
            s.campaign_hours(),
            crate::domain::hours::BusinessHours::parse("Mon-Fri 09:00-18:00").unwrap()
        );
        assert_eq!(s.service_url_policy(), ServiceUrlPolicy::default());
    }
}

#[test]
fn service_url_hosts_are_checked_at_load() {
    let s = Settings::from_toml("").unwrap();
    assert_eq!(
        s.service_url_policy(),
        ServiceUrlPolicy::new(&DEFAULT_SERVICE_URL_HOSTS).unwrap()
    );
    let s = Settings::from_toml("[bot]\nservice_url_hosts = [\"*.example.com\", \"10.0.0.5\"]\n")
        .unwrap();
    let url = crate::botframework::ServiceUrl::parse("https://10.0.0.5/").unwrap();
    s.service_url_policy().check(&url).unwrap();
    for (bad, named) in [
        (
            "[\"https://connector.example.com/\"]",
            "https://connector.example.com/",
        ),
        ("[\"*\"]", "`*` is not a host pattern: it would let anyone"),
        ("[]", "no host is listed"),
    ] {
        let err = Settings::from_toml(&format!("[bot]\nservice_url_hosts = {bad}\n"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("bot.service_url_hosts"), "{err}");
        assert!(err.contains(named), "{err}");
    }
}

#[test]
fn durations_are_read_with_units_and_checked() {
    let s = Settings::from_toml("[delivery]\nretry_base = \"250ms\"\nlease = \"2m\"\n").unwrap();
    assert_eq!(s.delivery.retry_base, Duration::from_millis(250));
    assert_eq!(s.delivery.lease, Duration::from_secs(120));
    let err = Settings::from_toml("[campaigns]\ntick = \"soon\"\n")
        .unwrap_err()
        .to_string();
    assert!(err.contains("campaigns.tick"), "{err}");
    let err = Settings::from_toml("[delivery]\nglobal_rps = 0\n")
        .unwrap_err()
        .to_string();
    assert!(err.contains("delivery.global_rps"), "{err}");
}

#[test]
fn defaults_are_local_sqlite_without_auth() {
    let s = Settings::from_toml("").unwrap();
    assert_eq!(s.server.bind.to_string(), "127.0.0.1:3978");
    assert_eq!(s.database.url.expose_secret(), "sqlite://data/herald.db");
    assert!(s.auth_disabled());
    s.validate_for_serve().unwrap();
    assert_eq!(s.token_endpoint(), MULTI_TENANT_TOKEN_ENDPOINT);
}

#[test]
fn unknown_key_is_named() {
    let err = Settings::from_toml("[server]\nbindd = \"127.0.0.1:1\"\n")
        .unwrap_err()
        .to_string();
    assert!(err.contains("bindd"), "{err}");
    let err = Settings::from_toml("[srv]\nbind = 1\n")
        .unwrap_err()
        .to_string();
    assert!(err.contains("srv"), "{err}");
}

#[test]
fn bad_value_is_named() {
    let err = Settings::from_toml("[server]\nbind = \"nowhere\"\n")
        .unwrap_err()
        .to_string();
    assert!(err.contains("server.bind"), "{err}");
    let err = Settings::from_toml("[database]\nurl = \"mysql://x/y\"\n")
        .unwrap_err()
        .to_string();
    assert!(err.contains("database.url"), "{err}");
    let err = Settings::from_toml("[bot]\napp_type = \"UserAssignedMSI\"\n")
        .unwrap_err()
        .to_string();
    assert!(err.contains("app_type"), "{err}");
}

#[test]
fn single_tenant_needs_tenant_and_uses_its_endpoint() {
    let err = Settings::from_toml("[bot]\napp_type = \"SingleTenant\"\n")
        .unwrap_err()
        .to_string();
    assert!(err.contains("bot.tenant_id"), "{err}");
    let s = Settings::from_toml("[bot]\napp_type = \"SingleTenant\"\ntenant_id = \"contoso-id\"\n")
        .unwrap();
    assert_eq!(
        s.token_endpoint(),
        "https://login.microsoftonline.com/contoso-id/oauth2/v2.0/token"
    );
}

#[test]
#[allow(clippy::result_large_err)] // figment::Jail fixes the closure's error type
fn environment_overrides_file_and_knows_bot_framework_names() {
    figment::Jail::expect_with(|jail| {
        jail.create_file(
            "appsettings.toml",
            "[server]\nbind = \"127.0.0.1:1000\"\n[bot]\napp_id = \"from-file\"\n",
        )?;
        jail.set_env("HERALD__SERVER__BIND", "127.0.0.1:2000");
        jail.set_env("MicrosoftAppId", "from-env");
        jail.set_env("MicrosoftAppPassword", "pw");
        jail.set_env("MicrosoftAppType", "SingleTenant");
        jail.set_env("MicrosoftAppTenantId", "tenant-1");
        let s = Settings::load(None).map_err(|e| e.to_string())?;
        assert_eq!(s.server.bind.port(), 2000);
        assert_eq!(s.bot.app_id, "from-env");
        assert_eq!(s.bot.app_password.expose_secret(), "pw");
        assert_eq!(s.bot.app_type, AppType::SingleTenant);
        assert_eq!(s.bot.tenant_id, "tenant-1");
        jail.set_env("HERALD__SERVER__NOPE", "1");
        let err = Settings::load(None).unwrap_err().to_string();
        assert!(err.contains("nope"), "{err}");
        Ok(())
    });
}

#[test]
fn missing_config_file_is_an_error() {
    let err = Settings::load(Some(Path::new("/nonexistent/herald.toml")))
        .unwrap_err()
        .to_string();
    assert!(err.contains("/nonexistent/herald.toml"), "{err}");
}

#[test]
fn auth_off_refused_on_public_address() {
    let s = Settings::from_toml("[server]\nbind = \"0.0.0.0:3978\"\n").unwrap();
    let err = s.validate_for_serve().unwrap_err().to_string();
    assert!(
        err.contains("bot.app_id") && err.contains("0.0.0.0"),
        "{err}"
    );
}

#[test]
fn auth_off_refused_when_the_rest_looks_like_a_deployment() {
    for (extra, key) in [
        ("[bot]\napp_password = \"secret\"\n", "bot.app_password"),
        ("[bot]\ntenant_id = \"contoso-id\"\n", "bot.tenant_id"),
        (
            "[bot]\ncertificate_path = \"/etc/herald/bot.pem\"\n",
            "bot.certificate_path",
        ),
        (
            "[server]\npublic_url = \"https://herald.contoso.com\"\n",
            "server.public_url",
        ),
    ] {
        let s = Settings::from_toml(extra).unwrap();
        let err = s.validate_for_serve().unwrap_err().to_string();
        assert!(err.contains("bot.app_id") && err.contains(key), "{err}");
        assert!(!err.contains("secret"), "{err}");
    }
    Settings::default().validate_for_serve().unwrap();
}

#[test]
fn deliveries_are_kept_at_least_as_long_as_tracked_links_work() {
    let err = Settings::from_toml("[retention]\ndeliveries = \"30days\"\n")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("retention.deliveries") && err.contains("tracking.link_lifetime"),
        "{err}"
    );
    Settings::from_toml(
        "[retention]\ndeliveries = \"30days\"\n[tracking]\nlink_lifetime = \"30days\"\n",
    )
    .unwrap();
    Settings::from_toml("[retention]\ndeliveries = \"0\"\n").unwrap();
    let err = Settings::from_toml("[retention]\nevery = \"300000years\"\n")
        .unwrap_err()
        .to_string();
    assert!(err.contains("retention.every"), "{err}");
}

#[test]
fn app_id_without_password_refused() {
    let s = Settings::from_toml("[bot]\napp_id = \"abc\"\n").unwrap();
    let err = s.validate_for_serve().unwrap_err().to_string();
    assert!(err.contains("bot.app_password"), "{err}");
}

#[test]
fn secrets_are_not_in_debug_output() {
    let s = Settings::from_toml(
        "[bot]\napp_id = \"abc\"\napp_password = \"hunter2\"\n[database]\nurl = \"postgres://u:pw-secret@h/db\"\n",
    )
    .unwrap();
    let debug = format!("{s:?}");
    assert!(!debug.contains("hunter2"), "{debug}");
    assert!(!debug.contains("pw-secret"), "{debug}");
}

#[test]
fn metrics_settings_are_checked_with_the_key_named() {
    let s = Settings::from_toml(
        "[server]\nmetrics_bind = \"127.0.0.1:9090\"\nmetrics_token = \"0123456789abcdef0123\"\n",
    )
    .unwrap();
    assert_eq!(
        s.server.metrics_bind,
        Some("127.0.0.1:9090".parse().unwrap())
    );
    assert_eq!(s.server.metrics_token(), Some("0123456789abcdef0123"));
    assert_eq!(
        Settings::from_toml("").unwrap().server.metrics_token(),
        None
    );
    for (toml, key) in [
        (
            "[server]\nbind = \"127.0.0.1:3978\"\nmetrics_bind = \"127.0.0.1:3978\"\n",
            "server.metrics_bind",
        ),
        (
            "[server]\nmetrics_token = \"short\"\n",
            "server.metrics_token",
        ),
        (
            "[server]\nmetrics_token = \"has a space in it, sadly\"\n",
            "server.metrics_token",
        ),
    ] {
        let e = Settings::from_toml(toml).unwrap_err().to_string();
        assert!(e.contains(key), "{toml}: {e}");
    }
    let e = Settings::from_toml("[server]\nmetrics_bind = \"nowhere\"\n")
        .unwrap_err()
        .to_string();
    assert!(e.contains("metrics_bind"), "{e}");
}

#[test]
fn approval_is_read_per_tenant_and_needs_approvers() {
    let s = Settings::from_toml(
        "[approval]\nrequired = false\napprovers = [\"Grace@Contoso.com\"]\n\
         [approval.tenants.\"t-strict\"]\nrequired = true\n",
    )
    .unwrap();
    let p = s.approval.policy();
    assert!(!p.required("t-other") && p.required("T-Strict"));
    assert!(p.is_approver("t-strict", &["grace@contoso.com"]));
    let err = Settings::from_toml("[approval]\nrequired = true\n")
        .unwrap_err()
        .to_string();
    assert!(err.contains("approval.approvers"), "{err}");
    let err = Settings::from_toml("[approval.tenants.\"t1\"]\nrequired = true\napprovers = []\n")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("approval.tenants") && err.contains("t1"),
        "{err}"
    );
    let err = Settings::from_toml("[approval]\nrequire = true\n")
        .unwrap_err()
        .to_string();
    assert!(err.contains("require"), "{err}");
    let err = Settings::from_toml("[approval.tenants.\"t1\"]\napprover = [\"x\"]\n")
        .unwrap_err()
        .to_string();
    assert!(err.contains("approver"), "{err}");
}
