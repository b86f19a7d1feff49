//! The guard that keeps webhook deliveries off internal networks.
//!
//! Why: an endpoint URL is chosen by whoever holds an admin key, and the
//! server POSTs to it; without a guard that is a way to reach loopback
//! services, the private network or a cloud metadata service from inside.
//! URLs whose host resolves to a loopback, private, link-local, unique-local,
//! CGNAT, metadata or otherwise non-public address are refused when an
//! endpoint is created or changed (`invalid_webhook_url`), and again at every
//! delivery: the delivery client resolves through [`GuardedResolver`], which
//! checks the addresses and hands exactly those to the connector, so a DNS
//! answer that changed since (rebinding) cannot slip through. Development
//! mode and the hosts of `TESSERA_WEBHOOK_ALLOW_HOSTS` ([`AllowHosts`]) are
//! exempt. See `docs/contract.md` ("Webhooks").

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

use crate::validate::{in_network, parse_cidr};
use crate::{Error, ErrorKind, Result};

/// Longest endpoint URL accepted.
const MAX_URL_LEN: usize = 2048;

/// Hosts exempt from the guard: names, addresses or CIDR blocks (the value
/// of `TESSERA_WEBHOOK_ALLOW_HOSTS`, comma- or space-separated). Hosts on the
/// list may also be reached over plain `http://`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AllowHosts {
    names: Vec<String>,
    nets: Vec<(IpAddr, u8)>,
}

impl AllowHosts {
    /// Parse a list such as `hooks.internal, 10.0.0.0/8, ::1`; `config_error`
    /// on an entry that is none of a name, an address or a CIDR block.
    pub fn parse(list: &str) -> Result<Self> {
        let mut out = AllowHosts::default();
        for entry in list
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|e| !e.is_empty())
        {
            let bad = || {
                Error::config(format!(
                    "TESSERA_WEBHOOK_ALLOW_HOSTS: {entry:?} is not a host name, an address or a CIDR block"
                ))
            };
            if let Some(net) = parse_cidr(entry) {
                out.nets.push(net);
            } else if entry.contains('/') {
                return Err(bad());
            } else if entry
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
            {
                out.names
                    .push(entry.trim_end_matches('.').to_ascii_lowercase());
            } else {
                return Err(bad());
            }
        }
        Ok(out)
    }

    /// Whether the list is empty.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty() && self.nets.is_empty()
    }

    fn allows_name(&self, host: &str) -> bool {
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        self.names.contains(&host)
    }

    fn allows_ip(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.nets
            .iter()
            .any(|&(net, bits)| in_network(ip, canonical(net), bits))
    }
}

/// `ip` with an IPv4-mapped IPv6 address turned into its IPv4 address.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6
            .to_ipv4_mapped()
            .map(IpAddr::V4)
            .unwrap_or(IpAddr::V6(v6)),
        v4 => v4,
    }
}

/// Whether `ip` is a public unicast address a webhook may be delivered to:
/// not loopback, private (RFC 1918), link-local (cloud metadata included),
/// CGNAT, unique-local, multicast, documentation, benchmarking, reserved or
/// unspecified.
pub fn is_public(ip: IpAddr) -> bool {
    match canonical(ip) {
        IpAddr::V4(v4) => public_v4(v4),
        IpAddr::V6(v6) => public_v6(v6),
    }
}

fn public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0
        || (a == 100 && (64..128).contains(&b)) // CGNAT (and Alibaba's metadata)
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 198 && (18..20).contains(&b)) // benchmarking
        || a >= 240) // reserved
}

fn public_v6(ip: Ipv6Addr) -> bool {
    let s = ip.segments();
    // NAT64 (64:ff9b::/96) reaches the IPv4 address inside.
    if s[0] == 0x64 && s[1] == 0xff9b && s[2..6] == [0, 0, 0, 0] {
        let [a, b] = s[6].to_be_bytes();
        let [c, d] = s[7].to_be_bytes();
        return public_v4(Ipv4Addr::new(a, b, c, d));
    }
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_multicast()
        || (s[0] & 0xfe00) == 0xfc00 // unique local (fd00:ec2::254 metadata too)
        || (s[0] & 0xffc0) == 0xfe80 // link local
        || (s[0] == 0x2001 && s[1] == 0x0db8) // documentation
        || s[0..6] == [0, 0, 0, 0, 0, 0]) // IPv4-compatible (deprecated)
}

/// The guard of one Tessera: development mode and the allow list.
#[derive(Debug, Clone, Default)]
pub(crate) struct Guard {
    pub(crate) development: bool,
    pub(crate) allow: AllowHosts,
}

/// An `invalid_webhook_url` error saying why.
fn refused(why: impl Into<std::borrow::Cow<'static, str>>) -> Error {
    Error::with_message(ErrorKind::InvalidWebhookUrl, why)
}

impl Guard {
    /// Whether `host` (as written in the URL) at `ip` may be reached.
    fn permits(&self, host: &str, ip: IpAddr) -> bool {
        self.development
            || self.allow.allows_name(host)
            || self.allow.allows_ip(ip)
            || is_public(ip)
    }

    /// Whether `host` may be reached over plain `http://`.
    fn permits_plain_http(&self, host: &str) -> bool {
        self.development
            || self.allow.allows_name(host)
            || host
                .trim_matches(['[', ']'])
                .parse::<IpAddr>()
                .is_ok_and(|ip| self.allow.allows_ip(ip))
    }

    /// Check an endpoint URL as given by an admin: `https://` (or `http://`
    /// to an allowed host), no credentials in it, and every address its
    /// host resolves to permitted. Answers the URL normalised.
    pub(crate) async fn check_url(&self, raw: &str) -> Result<String> {
        let raw = raw.trim();
        if raw.len() > MAX_URL_LEN {
            return Err(refused("the webhook URL is longer than 2048 characters"));
        }
        let url = url::Url::parse(raw).map_err(|_| refused("the webhook URL is not a URL"))?;
        let host = url
            .host_str()
            .ok_or_else(|| refused("the webhook URL has no host"))?
            .to_owned();
        match url.scheme() {
            "https" => {}
            "http" if self.permits_plain_http(&host) => {}
            _ => return Err(refused("the webhook URL must be https://")),
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(refused("the webhook URL must not carry credentials"));
        }
        let addrs = resolve(&url)
            .await
            .map_err(|_| refused(format!("the webhook host {host} does not resolve")))?;
        if let Some(bad) = addrs.iter().find(|a| !self.permits(&host, a.ip())) {
            return Err(refused(format!(
                "the webhook host {host} resolves to {}, which is not a public address; allow it with TESSERA_WEBHOOK_ALLOW_HOSTS",
                bad.ip()
            )));
        }
        Ok(url.to_string())
    }

    /// Whether a delivery to `url` may go ahead before the connection: a
    /// literal address in the URL is checked here (names are checked by
    /// [`GuardedResolver`] as they are resolved).
    pub(crate) fn permits_literal(&self, url: &url::Url) -> bool {
        let host = url.host_str().unwrap_or_default();
        match url.host() {
            Some(url::Host::Ipv4(ip)) => self.permits(host, IpAddr::V4(ip)),
            Some(url::Host::Ipv6(ip)) => self.permits(host, IpAddr::V6(ip)),
            Some(url::Host::Domain(_)) => true,
            None => false,
        }
    }
}

async fn resolve(url: &url::Url) -> std::io::Result<Vec<SocketAddr>> {
    let port = url.port_or_known_default().unwrap_or(443);
    let addrs: Vec<SocketAddr> = match url.host() {
        Some(url::Host::Ipv4(ip)) => vec![SocketAddr::new(IpAddr::V4(ip), port)],
        Some(url::Host::Ipv6(ip)) => vec![SocketAddr::new(IpAddr::V6(ip), port)],
        Some(url::Host::Domain(d)) => tokio::net::lookup_host((d, port)).await?.collect(),
        None => Vec::new(),
    };
    if addrs.is_empty() {
        return Err(std::io::Error::other("no address"));
    }
    Ok(addrs)
}

/// A delivery refused because its host resolved to a forbidden address.
#[derive(Debug)]
pub(crate) struct AddressRefused(pub(crate) String);

impl std::fmt::Display for AddressRefused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} resolves to an address that is not public", self.0)
    }
}

impl std::error::Error for AddressRefused {}

/// The DNS resolver of the delivery client: resolves once, refuses the
/// whole answer if any address is forbidden, and hands the checked
/// addresses to the connector (which connects to nothing else).
pub(crate) struct GuardedResolver(pub(crate) Arc<Guard>);

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let guard = self.0.clone();
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let addrs: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            if addrs.is_empty() || addrs.iter().any(|a| !guard.permits(&host, a.ip())) {
                return Err(
                    Box::new(AddressRefused(host)) as Box<dyn std::error::Error + Send + Sync>
                );
            }
            Ok(Box::new(addrs.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_public_unicast_addresses_pass() {
        for bad in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.100.100.200",
            "0.0.0.0",
            "255.255.255.255",
            "224.0.0.1",
            "::1",
            "::",
            "fd00:ec2::254",
            "fe80::1",
            "::ffff:127.0.0.1",
            "64:ff9b::a00:1",
        ] {
            assert!(!is_public(bad.parse().unwrap()), "{bad} is refused");
        }
        for good in [
            "93.184.215.14",
            "8.8.8.8",
            "2606:4700::1111",
            "64:ff9b::808:808",
        ] {
            assert!(is_public(good.parse().unwrap()), "{good} is public");
        }
    }

    #[test]
    fn the_allow_list_takes_names_addresses_and_blocks() {
        let a = AllowHosts::parse("hooks.internal, 10.0.0.0/8 ::1").unwrap();
        assert!(a.allows_name("HOOKS.internal."));
        assert!(!a.allows_name("other.internal"));
        assert!(a.allows_ip("10.9.8.7".parse().unwrap()));
        assert!(a.allows_ip("::ffff:10.0.0.1".parse().unwrap()));
        assert!(a.allows_ip("::1".parse().unwrap()));
        assert!(!a.allows_ip("11.0.0.1".parse().unwrap()));
        assert!(AllowHosts::parse("10.0.0.0/33").is_err());
        assert!(AllowHosts::parse("http://x").is_err());
        assert!(AllowHosts::parse("").unwrap().is_empty());
    }

    #[tokio::test]
    async fn urls_are_checked_at_creation() {
        let g = Guard::default();
        for (url, why) in [
            ("http://93.184.215.14/", "https"),
            ("https://127.0.0.1/hook", "not a public address"),
            ("https://[::1]:8443/", "not a public address"),
            ("https://169.254.169.254/latest", "not a public address"),
            ("https://user:pw@93.184.215.14/", "credentials"),
            ("ftp://93.184.215.14/", "https"),
            ("nonsense", "not a URL"),
        ] {
            let e = g.check_url(url).await.unwrap_err();
            assert_eq!(e.code(), "invalid_webhook_url", "{url}");
            assert!(e.to_string().contains(why), "{url}: {e}");
        }
        assert_eq!(
            g.check_url("https://93.184.215.14/h").await.unwrap(),
            "https://93.184.215.14/h"
        );
        let allowed = Guard {
            development: false,
            allow: AllowHosts::parse("127.0.0.1").unwrap(),
        };
        allowed.check_url("http://127.0.0.1:9/h").await.unwrap();
    }
}
