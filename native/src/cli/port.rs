//! `labvisor port [N|NAME]`: which IANA range a port is in, who may bind it, which services
//! customarily use it; without an argument, the ranges and the whole service catalog.

use std::process::ExitCode;

use labvisor_core::lang::{Explain, Lang};
use labvisor_core::port::{
    self, PortInfo, PortRange, Service, EPHEMERAL_RANGES, LINUX_UNPRIVILEGED_PORT_START,
};
use serde::Serialize;

use super::output::{out, pick, print_json, Table};
use super::{CliError, CliResult, Global};

/// Explain a port number or service: IANA range, privileges, services.
///
/// Shows the port's IANA range (RFC 6335), whether binding it needs root on Linux, whether
/// clients use it as an ephemeral source port, and the services customarily on it. Without an
/// argument, lists the ranges and the service catalog.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  labvisor port 22          system (well-known) port, ssh
  labvisor port 3306        user (registered) port, mysql
  labvisor port postgres    look a service up by name
  labvisor port             the ranges and every service we know")]
pub struct Args {
    /// A port number 0-65535 or a service name such as ssh, https, mysql.
    #[arg(value_name = "N|NAME", allow_negative_numbers = true)]
    pub query: Option<String>,
}

/// The JSON form of the list shown without an argument.
#[derive(Debug, Serialize)]
pub struct Catalog {
    /// The RFC 6335 ranges.
    pub ranges: Vec<RangeRow>,
    /// Operating systems' ephemeral ranges.
    pub ephemeral: &'static [port::EphemeralRange],
    /// The services.
    pub services: &'static [Service],
}

/// One RFC 6335 range.
#[derive(Debug, Serialize)]
pub struct RangeRow {
    /// Which range.
    pub range: PortRange,
    /// First port.
    pub first: u16,
    /// Last port.
    pub last: u16,
}

/// Runs `labvisor port`.
pub fn run(args: Args, global: &Global) -> CliResult {
    let lang = global.lang();
    match args.query {
        Some(query) => {
            let info = port::lookup(&query).map_err(|e| CliError::Usage(e.explain_in(lang)))?;
            if global.json {
                print_json(&info)?;
            } else {
                out!("{}", render_port(&info, lang))?;
            }
        }
        None => {
            let catalog = Catalog {
                ranges: PortRange::ALL
                    .iter()
                    .map(|&range| {
                        let (first, last) = range.bounds();
                        RangeRow { range, first, last }
                    })
                    .collect(),
                ephemeral: EPHEMERAL_RANGES,
                services: port::services(),
            };
            if global.json {
                print_json(&catalog)?;
            } else {
                out!("{}", render_catalog(&catalog, lang))?;
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn render_port(info: &PortInfo, lang: Lang) -> String {
    let (first, last) = info.range_bounds;
    let mut t = Table::new();
    t.row([
        pick(lang, "Port", "포트").to_string(),
        info.port.to_string(),
    ]);
    t.row([
        pick(lang, "Range", "범위").to_string(),
        format!(
            "{}, {first}-{last} (RFC 6335 §6)",
            info.range.name().get(lang)
        ),
    ]);
    let linux = if info.linux_privileged {
        format!(
            "{} {LINUX_UNPRIVILEGED_PORT_START})",
            pick(
                lang,
                "binding needs root or CAP_NET_BIND_SERVICE (below",
                "열려면 root 또는 CAP_NET_BIND_SERVICE 필요 (기준"
            )
        )
    } else {
        pick(lang, "any user may bind it", "일반 사용자도 열 수 있음").to_string()
    };
    t.row(["Linux".to_string(), linux]);
    let ephemeral = if info.ephemeral_in.is_empty() {
        pick(
            lang,
            "outside the Linux and Windows ephemeral ranges",
            "리눅스와 윈도우의 임시 포트 범위 밖",
        )
        .to_string()
    } else {
        let systems: Vec<String> = EPHEMERAL_RANGES
            .iter()
            .filter(|r| info.ephemeral_in.contains(&r.os))
            .map(|r| format!("{} {}-{}", r.os, r.first, r.last))
            .collect();
        format!(
            "{} {}",
            pick(
                lang,
                "clients may use it as a source port:",
                "클라이언트가 출발지 포트로 쓸 수 있음:"
            ),
            systems.join(", ")
        )
    };
    t.row([pick(lang, "Ephemeral", "임시 포트").to_string(), ephemeral]);
    if info.services.is_empty() {
        t.row([
            pick(lang, "Services", "서비스").to_string(),
            pick(lang, "none in our catalog", "카탈로그에 없음").to_string(),
        ]);
    }
    let mut out = t.render();
    if !info.services.is_empty() {
        out.push('\n');
        out.push_str(&services_table(&info.services, lang).render());
    }
    out.push('\n');
    if let Some(note) = info.note {
        out.push_str(note.get(lang));
        out.push_str("\n\n");
    }
    out.push_str(info.range.explanation().get(lang));
    out.push('\n');
    out
}

fn services_table(services: &[&Service], lang: Lang) -> Table {
    let mut t = Table::new();
    t.row([
        pick(lang, "SERVICE", "서비스"),
        pick(lang, "PORT", "포트"),
        pick(lang, "IANA NAME", "IANA 이름"),
        pick(lang, "DESCRIPTION", "설명"),
    ]);
    for s in services {
        t.row([
            s.name.to_string(),
            format!("{}/{}", s.port, s.transport_label()),
            s.iana_name
                .unwrap_or(pick(lang, "(convention)", "(관례)"))
                .to_string(),
            s.description.get(lang).to_string(),
        ]);
    }
    t
}

fn render_catalog(catalog: &Catalog, lang: Lang) -> String {
    let mut t = Table::new();
    t.row([
        pick(lang, "RANGE", "범위"),
        pick(lang, "PORTS", "포트"),
        pick(lang, "MEANING", "의미"),
    ]);
    for row in &catalog.ranges {
        t.row([
            row.range.name().get(lang).to_string(),
            format!("{}-{}", row.first, row.last),
            match row.range {
                PortRange::System => pick(
                    lang,
                    "assigned after IETF review; root needed on Linux",
                    "IETF 검토 후 할당, 리눅스에서 root 필요",
                ),
                PortRange::User => pick(
                    lang,
                    "registered with IANA on request",
                    "요청하면 IANA가 등록",
                ),
                PortRange::Dynamic => pick(
                    lang,
                    "never assigned; ephemeral client ports",
                    "할당하지 않음, 클라이언트 임시 포트",
                ),
            }
            .to_string(),
        ]);
    }
    let mut out = t.render();
    out.push('\n');
    let mut e = Table::new();
    e.row([
        pick(lang, "OS", "운영체제"),
        pick(lang, "EPHEMERAL PORTS", "임시 포트"),
        pick(lang, "SETTING", "설정"),
    ]);
    for r in catalog.ephemeral {
        e.row([
            r.os.to_string(),
            format!("{}-{}", r.first, r.last),
            r.setting.to_string(),
        ]);
    }
    out.push_str(&e.render());
    out.push('\n');
    let services: Vec<&Service> = catalog.services.iter().collect();
    out.push_str(&services_table(&services, lang).render());
    out
}
