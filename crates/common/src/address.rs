//! Which network addresses requests to URLs from pipelines and settings may reach (check targets, calendar
//! feeds). Those URLs come from whoever edits a pipeline, so without a guard a check could read the Lambda
//! Runtime API (127.0.0.1:9001, where the next invocation's event waits) or an instance metadata service
//! (169.254.169.254, fd00:ec2::254) and put what it found into a report.
//!
//! Denied by default: loopback (127.0.0.0/8, ::1), link-local (169.254.0.0/16, fe80::/10), the unspecified
//! addresses (0.0.0.0/8, ::, which Linux connects to the machine itself), AWS's instance services over IPv6
//! (fd00:ec2::/32), and each of them written as an IPv4-mapped (::ffff:127.0.0.1) or NAT64 (64:ff9b::/96)
//! IPv6 address. Private ranges (10/8, 172.16/12, 192.168/16, fc00::/7) stay allowed: a function attached to a
//! VPC testing an internal load balancer is a real post-deploy check. Two settings change that:
//!
//! - `TARGET_ALLOW_CIDRS`: CIDR blocks (or single addresses) that are always allowed, comma-separated; for tests
//!   and the local simulator, whose targets listen on 127.0.0.1.
//! - `TARGET_DENY_PRIVATE=true`: the private ranges are denied too.
//!
//! The policy holds after DNS resolution: [`AddressPolicy::apply`] gives a reqwest client a resolver that drops
//! denied answers (so a name that resolves, or rebinds, to 127.0.0.1 is refused), and [`AddressPolicy::check_url`]
//! covers URLs written with an IP address, which reqwest connects to without asking a resolver.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::str::FromStr;
use std::sync::Arc;

use reqwest::Url;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use crate::Error;
use crate::settings::Env;

pub const ALLOW_VAR: &str = "TARGET_ALLOW_CIDRS";
pub const DENY_PRIVATE_VAR: &str = "TARGET_DENY_PRIVATE";

/// What kind of address an IP is, as far as the policy cares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Class {
    Loopback,
    LinkLocal,
    Unspecified,
    InstanceServices,
    Private,
    Public,
}

impl Class {
    pub fn of(ip: IpAddr) -> Class {
        match ip {
            IpAddr::V4(v4) => class_v4(v4),
            IpAddr::V6(v6) => match embedded_v4(v6) {
                Some(v4) => class_v4(v4),
                None => class_v6(v6),
            },
        }
    }
}

impl fmt::Display for Class {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Class::Loopback => "loopback",
            Class::LinkLocal => "link-local",
            Class::Unspecified => "unspecified",
            Class::InstanceServices => "an AWS instance service address",
            Class::Private => "private",
            Class::Public => "public",
        })
    }
}

fn class_v4(ip: Ipv4Addr) -> Class {
    let [a, b, ..] = ip.octets();
    match (a, b) {
        (127, _) => Class::Loopback,
        (169, 254) => Class::LinkLocal,
        (0, _) => Class::Unspecified,
        (10, _) | (192, 168) => Class::Private,
        (172, 16..=31) => Class::Private,
        _ => Class::Public,
    }
}

fn class_v6(ip: Ipv6Addr) -> Class {
    let s = ip.segments();
    if ip.is_loopback() {
        Class::Loopback
    } else if ip.is_unspecified() {
        Class::Unspecified
    } else if s[0] & 0xffc0 == 0xfe80 {
        Class::LinkLocal
    } else if s[0] == 0xfd00 && s[1] == 0x0ec2 {
        Class::InstanceServices
    } else if s[0] & 0xfe00 == 0xfc00 {
        Class::Private
    } else {
        Class::Public
    }
}

/// The IPv4 address an IPv6 address stands for when a connection to it reaches that IPv4 address: IPv4-mapped
/// (`::ffff:a.b.c.d`) and the well-known NAT64 prefix (`64:ff9b::a.b.c.d`).
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return Some(v4);
    }
    let s = ip.segments();
    let nat64 = s[..6] == [0x64, 0xff9b, 0, 0, 0, 0];
    nat64.then(|| Ipv4Addr::from(u32::from(s[6]) << 16 | u32::from(s[7])))
}

/// An address block: `10.0.0.0/8`, `::1/128`, or a single address (`127.0.0.1` means `127.0.0.1/32`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cidr {
    network: IpAddr,
    prefix: u8,
}

impl Cidr {
    pub fn contains(&self, ip: IpAddr) -> bool {
        // An IPv4-mapped address is the IPv4 address for this purpose too.
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        match (self.network, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                same_prefix(u32::from(net).into(), u32::from(ip).into(), self.prefix, 32)
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => same_prefix(u128::from(net), u128::from(ip), self.prefix, 128),
            _ => false,
        }
    }
}

fn same_prefix(net: u128, ip: u128, prefix: u8, bits: u8) -> bool {
    let ignored = u32::from(bits - prefix.min(bits));
    net.checked_shr(ignored).unwrap_or(0) == ip.checked_shr(ignored).unwrap_or(0)
}

impl FromStr for Cidr {
    type Err = String;

    fn from_str(raw: &str) -> Result<Cidr, String> {
        let (address, prefix) = match raw.split_once('/') {
            Some((address, prefix)) => (address, Some(prefix)),
            None => (raw, None),
        };
        let network: IpAddr = address
            .parse()
            .map_err(|_| format!("`{raw}` is not an IP address or CIDR block"))?;
        let bits = if network.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => bits,
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= bits)
                .ok_or_else(|| format!("`{raw}` has prefix length `{p}`, not 0 to {bits}"))?,
        };
        Ok(Cidr { network, prefix })
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix)
    }
}

/// Why a request may not go: the address, what it is, and the setting that would allow it. `host` is set when
/// the address came from resolving a name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Denied {
    pub host: Option<String>,
    pub ip: IpAddr,
    pub class: Class,
    pub purpose: &'static str,
}

impl fmt::Display for Denied {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(host) = &self.host {
            write!(f, "host {host} resolves to no allowed address: ")?;
        }
        let bits = if self.ip.is_ipv4() { 32 } else { 128 };
        write!(
            f,
            "address {} is {}; denied for {}; allow it with {ALLOW_VAR}={}/{bits}",
            self.ip, self.class, self.purpose, self.ip
        )?;
        if self.class == Class::Private {
            write!(f, " or unset {DENY_PRIVATE_VAR}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Denied {}

/// The addresses requests may reach; see the module documentation. The default denies loopback, link-local,
/// unspecified and instance-service addresses and allows everything else.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AddressPolicy {
    allow: Vec<Cidr>,
    deny_private: bool,
    purpose: &'static str,
}

impl Default for AddressPolicy {
    fn default() -> AddressPolicy {
        AddressPolicy {
            allow: Vec::new(),
            deny_private: false,
            purpose: "check targets",
        }
    }
}

impl AddressPolicy {
    /// Reads `TARGET_ALLOW_CIDRS` and `TARGET_DENY_PRIVATE`; unset means the default.
    pub fn from_env(env: &Env) -> Result<AddressPolicy, Error> {
        let setting = |name: &str, problem: String, fix: &str| Error::Setting {
            name: name.to_owned(),
            problem,
            fix: fix.to_owned(),
        };
        let allow = match env.optional(ALLOW_VAR) {
            None => Vec::new(),
            Some(raw) => raw
                .split(',')
                .map(str::trim)
                .filter(|item| !item.is_empty())
                .map(Cidr::from_str)
                .collect::<Result<_, _>>()
                .map_err(|problem| {
                    setting(
                        ALLOW_VAR,
                        problem,
                        "list CIDR blocks or addresses separated by commas, e.g. 127.0.0.1/32,10.1.0.0/16",
                    )
                })?,
        };
        let deny_private = match env.optional(DENY_PRIVATE_VAR).map(|v| v.to_ascii_lowercase()) {
            None => false,
            Some(v) if v == "true" => true,
            Some(v) if v == "false" => false,
            Some(v) => {
                return Err(setting(
                    DENY_PRIVATE_VAR,
                    format!("is `{v}`"),
                    "set it to true (deny 10/8, 172.16/12, 192.168/16, fc00::/7) or false (the default)",
                ));
            }
        };
        Ok(AddressPolicy {
            allow,
            deny_private,
            ..AddressPolicy::default()
        })
    }

    /// The default policy plus these blocks, always allowed.
    pub fn allowing(blocks: &[Cidr]) -> AddressPolicy {
        AddressPolicy {
            allow: blocks.to_vec(),
            ..AddressPolicy::default()
        }
    }

    /// Denies the private ranges too.
    pub fn deny_private(self, deny: bool) -> AddressPolicy {
        AddressPolicy {
            deny_private: deny,
            ..self
        }
    }

    /// What denials say the requests are for ("check targets" unless set, e.g. "calendar feeds").
    pub fn purpose(self, purpose: &'static str) -> AddressPolicy {
        AddressPolicy { purpose, ..self }
    }

    pub fn check_ip(&self, ip: IpAddr) -> Result<(), Denied> {
        if self.allow.iter().any(|block| block.contains(ip)) {
            return Ok(());
        }
        match Class::of(ip) {
            Class::Public => Ok(()),
            Class::Private if !self.deny_private => Ok(()),
            class => Err(Denied {
                host: None,
                ip,
                class,
                purpose: self.purpose,
            }),
        }
    }

    /// Refuses a URL whose host is a denied IP address. Names pass here: the resolver of a client built with
    /// [`AddressPolicy::apply`] checks what they resolve to.
    pub fn check_url(&self, url: &Url) -> Result<(), Denied> {
        let host = url.host_str().unwrap_or_default();
        match host.trim_start_matches('[').trim_end_matches(']').parse::<IpAddr>() {
            Ok(ip) => self.check_ip(ip),
            Err(_) => Ok(()),
        }
    }

    /// A client builder whose DNS answers are filtered by this policy. Proxies are turned off: through a proxy
    /// the proxy resolves the target, out of the policy's sight. Callers still [`check_url`](Self::check_url)
    /// each URL (and each redirect's), since IP addresses in URLs are never resolved.
    pub fn apply(&self, builder: reqwest::ClientBuilder) -> reqwest::ClientBuilder {
        builder.no_proxy().dns_resolver(Arc::new(Guarded(self.clone())))
    }
}

/// The system resolver, keeping only the answers the policy allows.
struct Guarded(AddressPolicy);

impl Resolve for Guarded {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = self.0.clone();
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let answers: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let mut first_denied = None;
            let mut allowed = Vec::new();
            for answer in answers {
                match policy.check_ip(answer.ip()) {
                    Ok(()) => allowed.push(answer),
                    Err(denied) => {
                        first_denied.get_or_insert(denied);
                    }
                }
            }
            match first_denied {
                // Some answers were denied and none is left: say which, for which host.
                Some(denied) if allowed.is_empty() => Err(Box::new(Denied {
                    host: Some(host),
                    ..denied
                }) as _),
                _ => Ok(Box::new(allowed.into_iter()) as Addrs),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(raw: &str) -> IpAddr {
        raw.parse().unwrap()
    }

    fn cidrs(raw: &[&str]) -> Vec<Cidr> {
        raw.iter().map(|c| c.parse().unwrap()).collect()
    }

    #[test]
    fn the_default_denies_loopback_link_local_unspecified_and_instance_services_in_every_form() {
        // (address, class, allowed by default, allowed with TARGET_DENY_PRIVATE=true)
        let table = [
            ("127.0.0.1", Class::Loopback, false, false),
            ("127.255.0.9", Class::Loopback, false, false),
            ("::1", Class::Loopback, false, false),
            ("::ffff:127.0.0.1", Class::Loopback, false, false),
            ("64:ff9b::7f00:1", Class::Loopback, false, false),
            ("169.254.169.254", Class::LinkLocal, false, false),
            ("169.254.170.2", Class::LinkLocal, false, false),
            ("::ffff:169.254.169.254", Class::LinkLocal, false, false),
            ("fe80::1", Class::LinkLocal, false, false),
            ("febf:ffff::1", Class::LinkLocal, false, false),
            ("0.0.0.0", Class::Unspecified, false, false),
            ("0.1.2.3", Class::Unspecified, false, false),
            ("::", Class::Unspecified, false, false),
            ("::ffff:0.0.0.0", Class::Unspecified, false, false),
            ("fd00:ec2::254", Class::InstanceServices, false, false),
            ("10.0.0.1", Class::Private, true, false),
            ("172.16.0.1", Class::Private, true, false),
            ("172.31.255.255", Class::Private, true, false),
            ("192.168.1.1", Class::Private, true, false),
            ("::ffff:10.1.2.3", Class::Private, true, false),
            ("fc00::1", Class::Private, true, false),
            ("fdff::1", Class::Private, true, false),
            ("172.15.0.1", Class::Public, true, true),
            ("172.32.0.1", Class::Public, true, true),
            ("169.253.0.1", Class::Public, true, true),
            ("128.0.0.1", Class::Public, true, true),
            ("93.184.216.34", Class::Public, true, true),
            ("2606:4700::1111", Class::Public, true, true),
            ("fec0::1", Class::Public, true, true),
            ("::7f00:1", Class::Public, true, true),
        ];
        let strict = AddressPolicy::default().deny_private(true);
        for (raw, class, by_default, when_strict) in table {
            assert_eq!(Class::of(ip(raw)), class, "{raw}");
            assert_eq!(AddressPolicy::default().check_ip(ip(raw)).is_ok(), by_default, "{raw}");
            assert_eq!(
                strict.check_ip(ip(raw)).is_ok(),
                when_strict,
                "{raw} with private denied"
            );
        }
    }

    #[test]
    fn the_allow_list_wins_over_every_class() {
        let policy = AddressPolicy::allowing(&cidrs(&["127.0.0.1/32", "169.254.0.0/16", "fe80::/10", "10.9.0.0/16"]))
            .deny_private(true);
        for allowed in [
            "127.0.0.1",
            "::ffff:127.0.0.1",
            "169.254.169.254",
            "fe80::abcd",
            "10.9.200.1",
        ] {
            assert_eq!(policy.check_ip(ip(allowed)), Ok(()), "{allowed}");
        }
        for denied in ["127.0.0.2", "::1", "10.8.0.1", "192.168.0.1", "fd00:ec2::254"] {
            assert!(policy.check_ip(ip(denied)).is_err(), "{denied}");
        }
        let everything = AddressPolicy::allowing(&cidrs(&["0.0.0.0/0", "::/0"]));
        assert_eq!(everything.check_ip(ip("127.0.0.1")), Ok(()));
        assert_eq!(everything.check_ip(ip("::1")), Ok(()));
    }

    #[test]
    fn cidrs_parse_blocks_and_single_addresses() {
        let block: Cidr = "10.0.0.0/8".parse().unwrap();
        assert!(block.contains(ip("10.255.1.1")) && !block.contains(ip("11.0.0.1")));
        assert!(
            !block.contains(ip("::a00:1")),
            "an IPv6 address is not in an IPv4 block"
        );
        let single: Cidr = "::1".parse().unwrap();
        assert_eq!(single.to_string(), "::1/128");
        assert!(single.contains(ip("::1")) && !single.contains(ip("::2")));
        for (bad, words) in [
            ("10.0.0.0/33", "prefix length `33`, not 0 to 32"),
            ("::/129", "not 0 to 128"),
            ("10.0.0.0/x", "prefix length `x`"),
            ("localhost", "is not an IP address or CIDR block"),
            ("10.0.0/8", "is not an IP address"),
        ] {
            let problem = bad.parse::<Cidr>().unwrap_err();
            assert!(problem.contains(words), "{bad}: {problem}");
        }
    }

    #[test]
    fn settings_parse_with_errors_naming_the_variable_the_value_and_the_fix() {
        let policy = AddressPolicy::from_env(&Env::from_pairs(&[
            (ALLOW_VAR, " 127.0.0.1/32, ::1 ,"),
            (DENY_PRIVATE_VAR, "TRUE"),
        ]))
        .unwrap();
        assert_eq!(
            policy,
            AddressPolicy::allowing(&cidrs(&["127.0.0.1/32", "::1/128"])).deny_private(true)
        );
        assert_eq!(
            AddressPolicy::from_env(&Env::from_pairs(&[])).unwrap(),
            AddressPolicy::default()
        );
        for (name, value, words) in [
            (
                ALLOW_VAR,
                "127.0.0.1/32,10.0.0.0/40",
                "`10.0.0.0/40` has prefix length `40`",
            ),
            (
                ALLOW_VAR,
                "127.0.0.1 10.0.0.1",
                "`127.0.0.1 10.0.0.1` is not an IP address",
            ),
            (DENY_PRIVATE_VAR, "yes", "is `yes`"),
        ] {
            let err = AddressPolicy::from_env(&Env::from_pairs(&[(name, value)]))
                .unwrap_err()
                .to_string();
            assert!(err.starts_with(&format!("setting {name}: ")), "{err}");
            assert!(err.contains(words), "{err}");
            assert!(err.contains("Fix: "), "{err}");
        }
    }

    #[test]
    fn urls_with_a_denied_address_are_refused_with_the_setting_that_allows_them() {
        let policy = AddressPolicy::default();
        let url = |raw: &str| Url::parse(raw).unwrap();
        let err = policy
            .check_url(&url("http://127.0.0.1:9001/2018-06-01/runtime/invocation/next"))
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "address 127.0.0.1 is loopback; denied for check targets; allow it with TARGET_ALLOW_CIDRS=127.0.0.1/32"
        );
        let err = policy
            .check_url(&url("http://[::ffff:a9fe:a9fe]/latest/meta-data/"))
            .unwrap_err();
        assert!(
            err.to_string()
                .starts_with("address ::ffff:169.254.169.254 is link-local"),
            "{err}"
        );
        let feeds = policy.clone().purpose("calendar feeds").deny_private(true);
        let err = feeds
            .check_url(&url("https://10.0.0.5/cal.ics"))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("denied for calendar feeds") && err.ends_with("or unset TARGET_DENY_PRIVATE"),
            "{err}"
        );
        for fine in [
            "https://example.com/",
            "http://localhost:1/",
            "http://10.0.0.5/",
            "http://[2606:4700::1]/",
        ] {
            assert_eq!(
                policy.check_url(&url(fine)),
                Ok(()),
                "{fine}: names are checked by the resolver"
            );
        }
    }

    #[tokio::test]
    async fn the_resolver_refuses_a_name_whose_every_address_is_denied() {
        let resolve = |policy: AddressPolicy| Guarded(policy).resolve("localhost".parse().unwrap());
        let err = match resolve(AddressPolicy::default()).await {
            Ok(addrs) => panic!("localhost resolved to {:?}", addrs.collect::<Vec<_>>()),
            Err(err) => err.to_string(),
        };
        assert!(
            err.starts_with("host localhost resolves to no allowed address: address "),
            "{err}"
        );
        assert!(
            err.contains("is loopback; denied for check targets; allow it with TARGET_ALLOW_CIDRS="),
            "{err}"
        );
        let allowed = AddressPolicy::allowing(&cidrs(&["127.0.0.0/8", "::1"]));
        let addrs: Vec<SocketAddr> = resolve(allowed).await.unwrap().collect();
        assert!(
            !addrs.is_empty() && addrs.iter().all(|a| a.ip().is_loopback()),
            "{addrs:?}"
        );
    }
}
