//! `mqtt://user:pass@host:port/path?key=value` → [`ConnectOptions`].

use std::time::Duration;

use super::{ConnectOptions, Transport};
use crate::error::Error;
use crate::packet::ProtocolVersion;

pub(super) fn parse(url: &str) -> Result<ConnectOptions, Error> {
    let fail = |reason: &'static str| Error::InvalidUrl {
        url: url.to_owned(),
        reason,
    };

    let (scheme, rest) = url
        .split_once("://")
        .ok_or_else(|| fail("missing scheme (mqtt://, mqtts://, ws://, wss://)"))?;
    let transport = match scheme.to_ascii_lowercase().as_str() {
        "mqtt" | "tcp" => Transport::Tcp,
        "mqtts" | "ssl" | "tls" => Transport::Tls,
        "ws" => Transport::Ws,
        "wss" => Transport::Wss,
        _ => return Err(fail("unknown scheme: use mqtt, mqtts, ws or wss")),
    };

    let (rest, query) = match rest.split_once('?') {
        Some((rest, query)) => (rest, Some(query)),
        None => (rest, None),
    };
    let (authority, path) = match rest.find('/') {
        Some(at) => rest.split_at(at),
        None => (rest, ""),
    };
    let (userinfo, hostport) = match authority.rsplit_once('@') {
        Some((userinfo, hostport)) => (Some(userinfo), hostport),
        None => (None, authority),
    };
    let (host, port) = split_host_port(hostport).ok_or_else(|| fail("invalid host or port"))?;
    if host.is_empty() {
        return Err(fail("missing host"));
    }

    let mut opts = ConnectOptions::new(host, "").transport(transport);
    if let Some(port) = port {
        opts = opts.port(port);
    }
    if !path.is_empty() && path != "/" {
        if !matches!(transport, Transport::Ws | Transport::Wss) {
            return Err(fail("a path is only meaningful for ws:// and wss://"));
        }
        opts = opts.ws_path(path);
    }
    if let Some(userinfo) = userinfo {
        let (user, pass) = match userinfo.split_once(':') {
            Some((user, pass)) => (user, Some(pass)),
            None => (userinfo, None),
        };
        let user = percent_decode(user).ok_or_else(|| fail("bad percent-encoding in the user name"))?;
        opts = opts.username(user);
        if let Some(pass) = pass {
            let pass = percent_decode(pass).ok_or_else(|| fail("bad percent-encoding in the password"))?;
            opts = opts.password(pass);
        }
    }

    for pair in query
        .into_iter()
        .flat_map(|q| q.split('&'))
        .filter(|p| !p.is_empty())
    {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let value = percent_decode(value).ok_or_else(|| fail("bad percent-encoding in the query"))?;
        opts = match key {
            "client_id" | "clientid" => opts.client_id(value),
            "keepalive" | "keep_alive" => opts.keepalive(Duration::from_secs(
                value.parse().map_err(|_| fail("keepalive is not a number"))?,
            )),
            "clean_session" | "clean_start" => opts
                .clean_session(parse_bool(&value).ok_or_else(|| fail("clean_session is not true or false"))?),
            "protocol_version" | "version" => opts.protocol_version(match value.as_str() {
                "3.1.1" | "4" | "311" => ProtocolVersion::V311,
                "5" | "5.0" => ProtocolVersion::V5,
                _ => return Err(fail("protocol_version must be 3.1.1 or 5")),
            }),
            "max_inflight" => {
                opts.max_inflight(value.parse().map_err(|_| fail("max_inflight is not a number"))?)
            }
            "connect_timeout" => opts.connect_timeout(Duration::from_secs(
                value
                    .parse()
                    .map_err(|_| fail("connect_timeout is not a number"))?,
            )),
            _ => return Err(fail("unknown query parameter")),
        };
    }
    Ok(opts)
}

fn split_host_port(hostport: &str) -> Option<(&str, Option<u16>)> {
    if let Some(rest) = hostport.strip_prefix('[') {
        let (host, after) = rest.split_once(']')?;
        return match after.strip_prefix(':') {
            Some(port) => Some((host, Some(port.parse().ok()?))),
            None if after.is_empty() => Some((host, None)),
            None => None,
        };
    }
    match hostport.rsplit_once(':') {
        Some((host, port)) => Some((host, Some(port.parse().ok()?))),
        None => Some((hostport, None)),
    }
}

fn parse_bool(value: &str) -> Option<bool> {
    match value {
        "true" | "1" | "yes" => Some(true),
        "false" | "0" | "no" => Some(false),
        _ => None,
    }
}

fn percent_decode(input: &str) -> Option<String> {
    let mut out = Vec::with_capacity(input.len());
    let mut bytes = input.bytes();
    while let Some(b) = bytes.next() {
        if b == b'%' {
            let hi = (bytes.next()? as char).to_digit(16)?;
            let lo = (bytes.next()? as char).to_digit(16)?;
            out.push((hi * 16 + lo) as u8);
        } else {
            out.push(b);
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_url() {
        let o = parse("mqtt://al%40ice:p%3Ass@broker.example:1884?client_id=c1&keepalive=10&clean_session=false&protocol_version=3.1.1")
            .unwrap();
        assert_eq!(o.host, "broker.example");
        assert_eq!(o.port_number(), 1884);
        assert_eq!(o.username.as_deref(), Some("al@ice"));
        assert_eq!(o.password.as_deref(), Some(&b"p:ss"[..]));
        assert_eq!(&*o.client_id, "c1");
        assert_eq!(o.keepalive, Duration::from_secs(10));
        assert!(!o.clean_session);
        assert_eq!(o.protocol_version, Some(ProtocolVersion::V311));
    }

    #[test]
    fn default_ports_follow_the_scheme() {
        assert_eq!(parse("mqtt://h").unwrap().port_number(), 1883);
        assert_eq!(parse("mqtts://h").unwrap().port_number(), 8883);
        assert_eq!(parse("ws://h").unwrap().port_number(), 8083);
        let wss = parse("wss://h/ws").unwrap();
        assert_eq!(wss.port_number(), 8084);
        assert_eq!(wss.ws_path, "/ws");
    }

    #[test]
    fn ipv6_host() {
        let o = parse("mqtt://[::1]:1999").unwrap();
        assert_eq!(o.host, "::1");
        assert_eq!(o.port_number(), 1999);
    }

    #[test]
    fn nothing_in_a_url_turns_certificate_verification_off() {
        for query in [
            "insecure=true",
            "accept_invalid_certs=true",
            "tls_insecure=1",
            "verify=false",
            "ssl_verify=none",
        ] {
            let url = format!("mqtts://broker.example.com?{query}");
            assert!(parse(&url).is_err(), "{url} is refused, not obeyed");
        }
        let opts = parse("mqtts://broker.example.com").unwrap();
        assert!(!opts.tls.accept_invalid_certs, "verification stays on");
    }

    #[test]
    fn bad_urls_are_errors() {
        for bad in [
            "localhost:1883",
            "http://h",
            "mqtt://h:99999",
            "mqtt://h?bogus=1",
            "mqtt://:1883",
            "mqtt://h/x",
            "mqtt://h?keepalive=x",
        ] {
            assert!(
                matches!(parse(bad), Err(Error::InvalidUrl { .. })),
                "{bad} should be rejected"
            );
        }
    }
}
