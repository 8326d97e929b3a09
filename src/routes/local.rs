//! With authentication off (no `bot.app_id`), `/api/messages` trusts whatever it is sent: who
//! the sender is, their tenant, an admin's object id. It must then be reachable from this machine
//! only, and not through a proxy or tunnel on it, nor from a web page that renamed itself with
//! DNS rebinding. A request passes when its peer is a loopback address, its `Host` names the
//! loopback interface (`localhost`, `127.0.0.1` or `[::1]`, any port), and it carries no
//! `Forwarded`, `Via`, `X-Forwarded-*` or other proxy header (a proxy's mark). A proxy that
//! adds none and keeps `Host: 127.0.0.1` is indistinguishable from a local tool, so a
//! configuration that looks like a deployment (credentials, a tenant, a public address) with no
//! app id does not start at all.

use std::net::SocketAddr;

use actix_web::HttpRequest;
use actix_web::http::StatusCode;
use actix_web::http::header::{HOST, HeaderMap};

use crate::error::ApiError;

/// Headers that proxies, tunnels and CDNs add (besides every `X-Forwarded-*`). A proxy that adds
/// none of them and keeps `Host: 127.0.0.1` cannot be told from a local tool: that is why herald
/// also refuses to start with authentication off when credentials or a public address are set.
const PROXY_HEADERS: [&str; 8] = [
    "forwarded",
    "via",
    "x-real-ip",
    "x-client-ip",
    "x-original-forwarded-for",
    "true-client-ip",
    "cf-connecting-ip",
    "fastly-client-ip",
];

/// The names a local tool (Agents Playground, Emulator, curl) calls herald by.
const LOCAL_HOSTS: [&str; 3] = ["localhost", "127.0.0.1", "[::1]"];

fn refused(code: &'static str, message: String) -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        code,
        format!(
            "{message}; authentication is off (no bot.app_id), so herald only answers local \
             tools on this machine"
        ),
    )
}

/// Refuses a request that did not come straight from this machine: 403, with a code naming why
/// (`auth_off_remote_peer`, `auth_off_forwarded`, `auth_off_host`).
pub fn local_only(req: &HttpRequest) -> Result<(), ApiError> {
    check(
        req.peer_addr(),
        req.headers(),
        req.uri().authority().map(|a| a.as_str()),
    )
}

/// [`local_only`] on the request's parts. `authority` is the HTTP/2 `:authority`, used when
/// there is no `Host` header.
fn check(
    peer: Option<SocketAddr>,
    headers: &HeaderMap,
    authority: Option<&str>,
) -> Result<(), ApiError> {
    match peer {
        Some(peer) if peer.ip().is_loopback() => {}
        Some(peer) => {
            return Err(refused(
                "auth_off_remote_peer",
                format!("the request came from {}, not from this machine", peer.ip()),
            ));
        }
        None => {
            return Err(refused(
                "auth_off_remote_peer",
                "the request's peer address is unknown".into(),
            ));
        }
    }
    if let Some(name) = headers
        .keys()
        .map(|k| k.as_str())
        .find(|k| PROXY_HEADERS.contains(k) || k.starts_with("x-forwarded-"))
    {
        return Err(refused(
            "auth_off_forwarded",
            format!("the request carries `{name}`, so it came through a proxy or a tunnel"),
        ));
    }
    let host = headers
        .get(HOST)
        .map(|h| h.to_str().unwrap_or("(not text)"))
        .or(authority)
        .unwrap_or("");
    if !is_local_host(host) {
        return Err(refused(
            "auth_off_host",
            format!(
                "the request is addressed to `{}`, not to localhost, 127.0.0.1 or [::1]",
                host.chars().take(100).collect::<String>()
            ),
        ));
    }
    Ok(())
}

/// `localhost`, `127.0.0.1` or `[::1]`, with or without a port, case aside.
fn is_local_host(host: &str) -> bool {
    let host = host.trim().to_ascii_lowercase();
    let name = match host.rsplit_once(':') {
        // `[::1]:3978` or `localhost:3978`; a bare `[::1]` has its colons inside brackets.
        Some((name, port)) if !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) => {
            if name.starts_with('[') && !name.ends_with(']') {
                host.as_str()
            } else {
                name
            }
        }
        _ => host.as_str(),
    };
    LOCAL_HOSTS.contains(&name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::http::header::{HeaderName, HeaderValue};

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.append(
                HeaderName::from_bytes(k.as_bytes()).unwrap(),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        map
    }

    fn code(peer: &str, pairs: &[(&str, &str)]) -> Option<&'static str> {
        check(Some(peer.parse().unwrap()), &headers(pairs), None)
            .err()
            .map(|e| e.code)
    }

    #[test]
    fn a_local_tool_on_this_machine_passes() {
        for host in [
            "localhost",
            "localhost:3978",
            "LOCALHOST:3978",
            "127.0.0.1:3978",
            "127.0.0.1",
            "[::1]:3978",
            "[::1]",
        ] {
            assert_eq!(code("127.0.0.1:50000", &[("host", host)]), None, "{host}");
        }
        assert_eq!(code("[::1]:50000", &[("host", "[::1]:3978")]), None);
        assert!(
            check(
                Some("127.0.0.1:1".parse().unwrap()),
                &HeaderMap::new(),
                Some("localhost:3978")
            )
            .is_ok()
        );
    }

    #[test]
    fn a_remote_peer_a_proxy_or_another_name_is_refused() {
        assert_eq!(
            code("10.0.0.5:50000", &[("host", "localhost:3978")]),
            Some("auth_off_remote_peer")
        );
        assert_eq!(
            code("[fd00::1]:50000", &[("host", "localhost:3978")]),
            Some("auth_off_remote_peer")
        );
        for proxy in [
            "x-forwarded-for",
            "X-Forwarded-Host",
            "forwarded",
            "x-real-ip",
            "via",
            "cf-connecting-ip",
        ] {
            assert_eq!(
                code(
                    "127.0.0.1:50000",
                    &[("host", "localhost"), (proxy, "203.0.113.9")]
                ),
                Some("auth_off_forwarded"),
                "{proxy}"
            );
        }
        for host in [
            "evil.example",
            "evil.example:3978",
            "localhost.evil.example",
            "127.0.0.2:3978",
            "0.0.0.0:3978",
            "[::1",
            "",
        ] {
            assert_eq!(
                code("127.0.0.1:50000", &[("host", host)]),
                Some("auth_off_host"),
                "{host}"
            );
        }
        assert_eq!(code("127.0.0.1:50000", &[]), Some("auth_off_host"));
        assert!(check(None, &headers(&[("host", "localhost")]), None).is_err());
    }
}
