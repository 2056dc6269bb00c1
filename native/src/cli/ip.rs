//! `labvisor ip ADDR[/PREFIX]`: what an IPv4 address is (class, scope, RFC) and, with a
//! prefix length, its subnet; optionally split the subnet or compare with another address.

use std::net::Ipv4Addr;
use std::process::ExitCode;

use labvisor_core::addr::{self, Cidr, CidrInfo, Ipv4Info};
use labvisor_core::lang::{Explain, Lang};
use serde::Serialize;

use super::output::{out, pick, print_json, yes_no, Table};
use super::{CliError, CliResult, Global};

/// Explain an IPv4 address: class, scope (private, public, …), subnet.
///
/// Shows the address's class (A-E by its leading bits), its scope from the IANA
/// special-purpose registry with the RFC that defines it, and, with /PREFIX, its subnet:
/// netmask, network, broadcast and usable hosts.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  labvisor ip 192.168.0.10                       private, class C
  labvisor ip 8.8.8.8                            public, class A
  labvisor ip 10.0.2.15/24                       VirtualBox NAT guest and its subnet
  labvisor ip 192.168.0.0/24 --split 4           four /26 subnets
  labvisor ip 192.168.0.10/24 --same-subnet 192.168.1.20")]
pub struct Args {
    /// The address, optionally with a prefix length: 192.168.0.10 or 192.168.0.10/24.
    #[arg(value_name = "ADDR[/PREFIX]")]
    pub address: String,
    /// Split the subnet into N equal subnets (rounded up to a power of two). Needs /PREFIX.
    #[arg(long, value_name = "N")]
    pub split: Option<String>,
    /// Say whether ADDR is in the same subnet, i.e. reachable without a router. Needs /PREFIX.
    #[arg(long, value_name = "ADDR")]
    pub same_subnet: Option<String>,
}

/// The JSON form of the answer.
#[derive(Debug, Serialize)]
pub struct IpReport {
    /// The address.
    pub address: Ipv4Info,
    /// Its subnet, when a prefix was given.
    pub subnet: Option<CidrInfo>,
    /// The subnets asked for with `--split`.
    pub split: Option<Vec<CidrInfo>>,
    /// The answer to `--same-subnet`.
    pub same_subnet: Option<SameSubnet>,
}

/// Whether two addresses share a subnet.
#[derive(Debug, Serialize)]
pub struct SameSubnet {
    /// The other address.
    pub other: Ipv4Addr,
    /// Whether it is in the same subnet.
    pub same: bool,
}

/// The most subnets `--split` lists (each is a line of output and memory to hold it).
const MAX_SPLIT: u32 = 65536;

fn too_many_parts(n: &str) -> String {
    format!(
        "--split {n:?} is too many: at most {MAX_SPLIT} subnets are listed (a /16 split into /32s)"
    )
}

/// Runs `labvisor ip`.
pub fn run(args: Args, global: &Global) -> CliResult {
    let lang = global.lang();
    let usage = |e: &dyn Explain| CliError::Usage(e.explain_in(lang));
    let (address, prefix) = addr::parse_address_and_prefix(&args.address).map_err(|e| usage(&e))?;
    let cidr = prefix
        .map(|p| Cidr::new(address, p))
        .transpose()
        .map_err(|e| usage(&e))?;
    let needs_prefix = |option: &str| {
        CliError::Usage(format!(
            "{option} needs a prefix length: write the address as ADDR/PREFIX, such as {address}/24"
        ))
    };

    let split = match &args.split {
        None => None,
        Some(n) => {
            let cidr = cidr.ok_or_else(|| needs_prefix("--split"))?;
            let count: u32 = n.trim().parse().map_err(|e: std::num::ParseIntError| {
                CliError::Usage(match e.kind() {
                    std::num::IntErrorKind::PosOverflow => too_many_parts(n),
                    _ => format!(
                        "--split {n:?} is not a number: expected how many subnets, such as 4"
                    ),
                })
            })?;
            if count > MAX_SPLIT {
                return Err(CliError::Usage(too_many_parts(n)));
            }
            Some(cidr.split(count).map_err(|e| usage(&e))?)
        }
    };
    let same_subnet = match &args.same_subnet {
        None => None,
        Some(other) => {
            let cidr = cidr.ok_or_else(|| needs_prefix("--same-subnet"))?;
            let other = addr::parse_ipv4(other).map_err(|e| usage(&e))?;
            Some(SameSubnet {
                other,
                same: cidr.contains(other),
            })
        }
    };

    let report = IpReport {
        address: Ipv4Info::of(address),
        subnet: cidr.map(|c| c.info()),
        split: split.map(|parts| parts.iter().map(Cidr::info).collect()),
        same_subnet,
    };
    if global.json {
        print_json(&report)?;
    } else {
        out!("{}", render(&report, lang))?;
    }
    Ok(ExitCode::SUCCESS)
}

fn render(report: &IpReport, lang: Lang) -> String {
    let info = &report.address;
    let mut t = Table::new();
    t.row([
        pick(lang, "Address", "주소").to_string(),
        info.address.to_string(),
    ]);
    t.row([
        pick(lang, "Binary", "2진수").to_string(),
        info.binary.clone(),
    ]);
    let class = match (info.default_prefix, info.default_mask) {
        (Some(p), Some(mask)) => format!(
            "{} ({} {}, {} /{p} = {mask})",
            info.class,
            pick(lang, "leading bits", "앞자리 비트"),
            info.class_bits,
            pick(lang, "default mask", "기본 마스크"),
        ),
        _ => format!(
            "{} ({} {}, {})",
            info.class,
            pick(lang, "leading bits", "앞자리 비트"),
            info.class_bits,
            pick(lang, "no default mask", "기본 마스크 없음"),
        ),
    };
    t.row([pick(lang, "Class", "클래스").to_string(), class]);
    let block = info.block.map(|b| format!(" {b}")).unwrap_or_default();
    t.row([
        pick(lang, "Scope", "용도").to_string(),
        format!(
            "{}: {}{block} ({})",
            info.scope.name().get(lang),
            info.block_name,
            info.rfc
        ),
    ]);
    t.row([
        pick(lang, "Globally reachable", "인터넷에서 도달").to_string(),
        yes_no(lang, info.globally_reachable).to_string(),
    ]);

    if let Some(s) = &report.subnet {
        subnet_rows(&mut t, s, lang);
    }
    if let Some(same) = &report.same_subnet {
        let answer = if same.same {
            pick(
                lang,
                "same subnet: no router needed",
                "같은 서브넷: 라우터 없이 통신",
            )
        } else {
            pick(
                lang,
                "different subnet: traffic goes through a router",
                "다른 서브넷: 라우터를 거쳐야 함",
            )
        };
        t.row([format!("{}", same.other), answer.to_string()]);
    }

    let mut out = t.render();
    out.push('\n');
    out.push_str(info.scope.explanation().get(lang));
    out.push('\n');
    if let Some(note) = prefix_note(report, lang) {
        out.push_str(note);
        out.push('\n');
    }
    if let Some(parts) = &report.split {
        out.push('\n');
        out.push_str(&split_table(parts, lang).render());
    }
    out
}

/// The rows that describe the subnet an address with a prefix lies in.
fn subnet_rows(t: &mut Table, s: &CidrInfo, lang: Lang) {
    t.row([
        pick(lang, "Subnet", "서브넷").to_string(),
        format!("{}/{}", s.network, s.prefix),
    ]);
    t.row([
        pick(lang, "Netmask", "넷마스크").to_string(),
        format!(
            "{} ({} {})",
            s.netmask,
            pick(lang, "wildcard", "와일드카드"),
            s.wildcard
        ),
    ]);
    t.row([
        pick(lang, "Network", "네트워크 주소").to_string(),
        s.network.to_string(),
    ]);
    t.row([
        pick(lang, "Broadcast", "브로드캐스트").to_string(),
        s.broadcast.to_string(),
    ]);
    t.row([
        pick(lang, "Usable hosts", "사용 가능한 호스트").to_string(),
        format!("{} - {} ({})", s.first_host, s.last_host, s.host_count),
    ]);
}

/// What the prefix means for the hosts (/32, /31, the usual), or how to see the subnet.
fn prefix_note(report: &IpReport, lang: Lang) -> Option<&'static str> {
    let Some(s) = &report.subnet else {
        return report.address.default_prefix.is_some().then(|| {
            pick(
                lang,
                "Add /PREFIX (for example /24) to see the subnet: classes no longer decide the mask (CIDR, RFC 4632).",
                "서브넷을 보려면 /PREFIX(예: /24)를 붙이세요. 지금은 클래스가 아니라 CIDR(RFC 4632)로 마스크를 정합니다.",
            )
        });
    };
    Some(match s.prefix {
        32 => pick(
            lang,
            "A /32 is a single address: used for one host's route or a loopback address.",
            "/32는 주소 하나뿐입니다. 호스트 하나의 경로나 루프백 주소에 씁니다.",
        ),
        31 => pick(
            lang,
            "A /31 has no network or broadcast address: both addresses are usable on a point-to-point link (RFC 3021).",
            "/31에는 네트워크 주소와 브로드캐스트 주소가 없어 점대점 링크에서 두 주소를 모두 씁니다(RFC 3021).",
        ),
        _ => pick(
            lang,
            "The first address names the network and the last is its broadcast, so hosts get the ones in between.",
            "첫 주소는 네트워크 자체를, 마지막 주소는 브로드캐스트를 뜻하므로 호스트는 그 사이의 주소를 씁니다.",
        ),
    })
}

/// The parts of `--split`, one row each.
fn split_table(parts: &[CidrInfo], lang: Lang) -> Table {
    let mut t = Table::new();
    t.row([
        "#",
        pick(lang, "SUBNET", "서브넷"),
        pick(lang, "USABLE HOSTS", "사용 가능한 호스트"),
        pick(lang, "BROADCAST", "브로드캐스트"),
    ]);
    for (i, p) in parts.iter().enumerate() {
        t.row([
            (i + 1).to_string(),
            p.cidr.to_string(),
            format!("{} - {} ({})", p.first_host, p.last_host, p.host_count),
            p.broadcast.to_string(),
        ]);
    }
    t
}
