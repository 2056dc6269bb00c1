//! TCP and UDP port numbers: the 16-bit range, the IANA ranges of RFC 6335 §6, the ephemeral
//! ranges operating systems actually use, Linux's privileged-port rule, and a catalog of
//! common services.
//!
//! - [`lookup`]: a port number or a service name, as a learner types it, to everything we
//!   know ([`PortInfo`]).
//! - [`Port`] and [`PortRange`]: the number and the IANA range it falls in.
//! - [`services`], [`service_by_name`], [`services_on`]: the catalog.
//!
//! A port number alone does not name a service: IANA *registers* a service on a port, and
//! anything may listen anywhere. The catalog says what is customary.

use std::fmt;

use serde::{Deserialize, Serialize};

mod explain;

use crate::lang::Text;

/// Why a string is not a port number or a known service.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[serde(tag = "error", rename_all = "snake_case")]
pub enum PortError {
    /// Nothing was given.
    #[error("empty port: expected a number 0-65535 or a service name such as ssh")]
    Empty,
    /// Not a decimal number.
    #[error("{input:?} is not a port number: expected digits only, 0-65535")]
    NotANumber {
        /// The input.
        input: String,
    },
    /// A number above 65535 (ports are 16 bits).
    #[error("port {input} is out of range: TCP and UDP ports are 16-bit numbers, 0-65535")]
    OutOfRange {
        /// The input.
        input: String,
    },
    /// Neither a number nor a service in the catalog.
    #[error("unknown service {input:?}: expected a port number 0-65535 or a service name such as ssh, http, mysql")]
    UnknownService {
        /// The input.
        input: String,
    },
}

/// A TCP or UDP port number, 0-65535.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Port(pub u16);

impl Port {
    /// Parses a decimal port number 0-65535. Signs, spaces and hex are rejected.
    pub fn parse(input: &str) -> Result<Port, PortError> {
        if input.is_empty() {
            return Err(PortError::Empty);
        }
        if !input.bytes().all(|b| b.is_ascii_digit()) {
            return Err(PortError::NotANumber {
                input: input.to_string(),
            });
        }
        let digits = input.trim_start_matches('0');
        if digits.len() > 5 {
            return Err(PortError::OutOfRange {
                input: input.to_string(),
            });
        }
        match digits.parse::<u32>() {
            Ok(v) if v <= 65_535 => Ok(Port(v as u16)),
            Err(_) if digits.is_empty() => Ok(Port(0)),
            _ => Err(PortError::OutOfRange {
                input: input.to_string(),
            }),
        }
    }

    /// The number.
    pub fn number(self) -> u16 {
        self.0
    }

    /// The IANA range the port falls in.
    pub fn range(self) -> PortRange {
        range_of(self.0)
    }

    /// Whether binding it on Linux needs root or `CAP_NET_BIND_SERVICE`: below
    /// What is special about this port beyond its range: port 0 is "Reserved" in the IANA
    /// registry, and in `bind()` it asks for any free port (POSIX; Linux `ip(7)`).
    pub fn note(self) -> Option<Text> {
        (self.0 == 0).then_some(Text::new(
            "Port 0 is \"Reserved\" in the IANA registry: no service is assigned to it and nothing can be reached on it. In bind(), port 0 means \"any free port\": the OS picks an ephemeral port (how a client gets its source port).",
            "포트 0은 IANA 레지스트리에 \"Reserved\"(예약)로 올라 있습니다. 어떤 서비스에도 할당되지 않고 그 포트로는 아무 곳에도 연결할 수 없습니다. bind()에서 포트 0은 \"남는 포트 아무거나\"라는 뜻이라 OS가 임시 포트를 골라 줍니다(클라이언트가 출발지 포트를 얻는 방법).",
        ))
    }

    /// `net.ipv4.ip_unprivileged_port_start`, 1024 by default.
    pub fn privileged_on_linux(self) -> bool {
        self.0 < LINUX_UNPRIVILEGED_PORT_START
    }
}

impl fmt::Display for Port {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// Linux's default `net.ipv4.ip_unprivileged_port_start`.
pub const LINUX_UNPRIVILEGED_PORT_START: u16 = 1024;

/// The three ranges of RFC 6335 §6.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PortRange {
    /// 0-1023, "system ports" (well-known): assigned by IANA through IETF review.
    System,
    /// 1024-49151, "user ports" (registered): assigned by IANA on request.
    User,
    /// 49152-65535, "dynamic ports" (private/ephemeral): never assigned.
    Dynamic,
}

/// The IANA range of a port number.
pub fn range_of(port: u16) -> PortRange {
    match port {
        0..=1023 => PortRange::System,
        1024..=49151 => PortRange::User,
        49152..=65535 => PortRange::Dynamic,
    }
}

impl PortRange {
    /// All three, in order.
    pub const ALL: [PortRange; 3] = [PortRange::System, PortRange::User, PortRange::Dynamic];

    /// First and last port of the range.
    pub fn bounds(self) -> (u16, u16) {
        match self {
            PortRange::System => (0, 1023),
            PortRange::User => (1024, 49151),
            PortRange::Dynamic => (49152, 65535),
        }
    }

    /// The range's names: RFC 6335's and the older one.
    pub fn name(self) -> Text {
        match self {
            PortRange::System => Text::new("system (well-known)", "시스템 (잘 알려진 포트)"),
            PortRange::User => Text::new("user (registered)", "사용자 (등록된 포트)"),
            PortRange::Dynamic => Text::new("dynamic (private/ephemeral)", "동적 (사설/임시 포트)"),
        }
    }

    /// What the range is for.
    pub fn explanation(self) -> Text {
        match self {
            PortRange::System => Text::new(
                "System ports 0-1023 (RFC 6335 §6, once \"well-known\"): IANA assigns them only through IETF Review or IESG Approval, for core services such as ssh 22, http 80, https 443. On Linux, binding one needs root or CAP_NET_BIND_SERVICE; on macOS (since 10.14) any user may bind one on the wildcard address 0.0.0.0, but a specific address such as 127.0.0.1 still needs root; Windows has no privileged ports.",
                "시스템 포트 0-1023(RFC 6335 §6, 예전 이름 \"well-known\"): IETF 검토나 IESG 승인을 거쳐서만 IANA가 할당하며 ssh 22, http 80, https 443 같은 핵심 서비스용입니다. 리눅스에서 이 포트를 열려면 root 또는 CAP_NET_BIND_SERVICE 권한이 필요합니다. macOS(10.14부터)에서는 와일드카드 주소 0.0.0.0이면 누구나 열 수 있지만 127.0.0.1 같은 특정 주소는 여전히 root가 필요하고, Windows에는 특권 포트가 없습니다.",
            ),
            PortRange::User => Text::new(
                "User ports 1024-49151 (RFC 6335 §6, once \"registered\"): IANA registers them on request after expert review, e.g. mysql 3306, rdp 3389, postgresql 5432. Any user may bind them. (Not \"unknown\": most have a registered service.)",
                "사용자 포트 1024-49151(RFC 6335 §6, 예전 이름 \"registered\"): 요청하면 전문가 검토를 거쳐 IANA가 등록해 줍니다. 예: mysql 3306, rdp 3389, postgresql 5432. 일반 사용자도 열 수 있습니다. (\"unknown\" 포트가 아니라 대부분 등록된 서비스가 있습니다.)",
            ),
            PortRange::Dynamic => Text::new(
                "Dynamic ports 49152-65535 (RFC 6335 §6, \"private\" or \"ephemeral\"): never assigned to a service; operating systems pick a client's source port from here (Windows 49152-65535; Linux uses its own 32768-60999).",
                "동적 포트 49152-65535(RFC 6335 §6, \"private\" 또는 \"ephemeral\"): 어떤 서비스에도 할당되지 않으며, 운영체제가 클라이언트의 출발지 포트를 여기서 고릅니다(윈도우 49152-65535, 리눅스는 자체 범위 32768-60999).",
            ),
        }
    }
}

/// An operating system's default range for automatically chosen (ephemeral) source ports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct EphemeralRange {
    /// The operating system.
    pub os: &'static str,
    /// First port.
    pub first: u16,
    /// Last port.
    pub last: u16,
    /// Where the setting lives.
    pub setting: &'static str,
}

impl EphemeralRange {
    /// Whether `port` is in the range.
    pub fn contains(&self, port: u16) -> bool {
        (self.first..=self.last).contains(&port)
    }
}

/// Default ephemeral port ranges.
pub const EPHEMERAL_RANGES: &[EphemeralRange] = &[
    EphemeralRange {
        os: "Linux",
        first: 32768,
        last: 60999,
        setting: "sysctl net.ipv4.ip_local_port_range",
    },
    EphemeralRange {
        os: "Windows",
        first: 49152,
        last: 65535,
        setting: "netsh int ipv4 show dynamicport tcp",
    },
];

/// A transport protocol.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Transport {
    /// TCP: a reliable byte stream.
    Tcp,
    /// UDP: single datagrams.
    Udp,
}

impl fmt::Display for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Transport::Tcp => "tcp",
            Transport::Udp => "udp",
        })
    }
}

/// A service customarily found on a port.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Service {
    /// The everyday name, e.g. `"dns"`.
    pub name: &'static str,
    /// The port.
    pub port: u16,
    /// The transports it uses there.
    pub transports: &'static [Transport],
    /// The service name in IANA's registry, or `None` where the port is only a convention.
    pub iana_name: Option<&'static str>,
    /// Other names people type.
    pub aliases: &'static [&'static str],
    /// What it is.
    pub description: Text,
}

impl Service {
    /// The transports as written in `/etc/services`: `tcp`, `udp` or `tcp+udp`.
    pub fn transport_label(&self) -> String {
        self.transports
            .iter()
            .map(Transport::to_string)
            .collect::<Vec<_>>()
            .join("+")
    }
}

const TCP: &[Transport] = &[Transport::Tcp];
const UDP: &[Transport] = &[Transport::Udp];
const BOTH: &[Transport] = &[Transport::Tcp, Transport::Udp];

const fn svc(
    name: &'static str,
    port: u16,
    transports: &'static [Transport],
    iana_name: Option<&'static str>,
    aliases: &'static [&'static str],
    en: &'static str,
    ko: &'static str,
) -> Service {
    Service {
        name,
        port,
        transports,
        iana_name,
        aliases,
        description: Text::new(en, ko),
    }
}

static SERVICES: &[Service] = &[
    svc(
        "ftp-data",
        20,
        TCP,
        Some("ftp-data"),
        &[],
        "FTP data connection (active mode)",
        "FTP 데이터 연결 (액티브 모드)",
    ),
    svc(
        "ftp",
        21,
        TCP,
        Some("ftp"),
        &[],
        "FTP control connection",
        "FTP 제어 연결",
    ),
    svc(
        "ssh",
        22,
        TCP,
        Some("ssh"),
        &["sftp", "scp"],
        "Secure Shell: remote login, sftp, scp",
        "SSH: 원격 접속, sftp, scp",
    ),
    svc(
        "telnet",
        23,
        TCP,
        Some("telnet"),
        &[],
        "Telnet: unencrypted remote login",
        "텔넷: 암호화되지 않은 원격 접속",
    ),
    svc(
        "smtp",
        25,
        TCP,
        Some("smtp"),
        &[],
        "SMTP: mail between servers",
        "SMTP: 서버 간 메일 전송",
    ),
    svc(
        "dns",
        53,
        BOTH,
        Some("domain"),
        &["domain"],
        "DNS: UDP for most queries, TCP for large answers and zone transfers",
        "DNS: 대부분의 질의는 UDP, 큰 응답과 존 전송은 TCP",
    ),
    svc(
        "dhcp-server",
        67,
        UDP,
        Some("bootps"),
        &["dhcp", "bootps"],
        "DHCP/BOOTP server",
        "DHCP/BOOTP 서버",
    ),
    svc(
        "dhcp-client",
        68,
        UDP,
        Some("bootpc"),
        &["bootpc"],
        "DHCP/BOOTP client",
        "DHCP/BOOTP 클라이언트",
    ),
    svc(
        "tftp",
        69,
        UDP,
        Some("tftp"),
        &[],
        "Trivial FTP, used for network boot (PXE)",
        "TFTP: 네트워크 부팅(PXE)에 사용",
    ),
    svc(
        "http",
        80,
        TCP,
        Some("http"),
        &["www"],
        "HTTP: the web, unencrypted",
        "HTTP: 암호화되지 않은 웹",
    ),
    svc(
        "kerberos",
        88,
        BOTH,
        Some("kerberos"),
        &[],
        "Kerberos authentication (Active Directory logins)",
        "Kerberos 인증 (Active Directory 로그인)",
    ),
    svc(
        "pop3",
        110,
        TCP,
        Some("pop3"),
        &[],
        "POP3: fetching mail",
        "POP3: 메일 가져오기",
    ),
    svc(
        "ntp",
        123,
        UDP,
        Some("ntp"),
        &[],
        "NTP: clock synchronisation",
        "NTP: 시간 동기화",
    ),
    svc(
        "imap",
        143,
        TCP,
        Some("imap"),
        &[],
        "IMAP: mailbox access",
        "IMAP: 메일함 접근",
    ),
    svc(
        "snmp",
        161,
        UDP,
        Some("snmp"),
        &[],
        "SNMP: monitoring network devices",
        "SNMP: 네트워크 장비 모니터링",
    ),
    svc(
        "snmptrap",
        162,
        UDP,
        Some("snmptrap"),
        &[],
        "SNMP traps sent by devices",
        "장비가 보내는 SNMP 트랩",
    ),
    svc(
        "bgp",
        179,
        TCP,
        Some("bgp"),
        &[],
        "BGP: routing between networks on the Internet",
        "BGP: 인터넷의 네트워크 간 라우팅",
    ),
    svc(
        "ldap",
        389,
        TCP,
        Some("ldap"),
        &[],
        "LDAP: directory lookups",
        "LDAP: 디렉터리 조회",
    ),
    svc(
        "https",
        443,
        BOTH,
        Some("https"),
        &["ssl", "tls"],
        "HTTPS: the web over TLS (TCP), and HTTP/3 over QUIC (UDP)",
        "HTTPS: TLS 위의 웹(TCP), QUIC 위의 HTTP/3(UDP)",
    ),
    svc(
        "smb",
        445,
        TCP,
        Some("microsoft-ds"),
        &["microsoft-ds", "cifs", "samba"],
        "SMB: Windows file sharing",
        "SMB: 윈도우 파일 공유",
    ),
    svc(
        "syslog",
        514,
        UDP,
        Some("syslog"),
        &[],
        "Syslog: log messages",
        "Syslog: 로그 메시지",
    ),
    svc(
        "submission",
        587,
        TCP,
        Some("submission"),
        &[],
        "Mail submission from clients",
        "메일 클라이언트의 메일 제출",
    ),
    svc(
        "ldaps",
        636,
        TCP,
        Some("ldaps"),
        &[],
        "LDAP over TLS",
        "TLS 위의 LDAP",
    ),
    svc(
        "dns-over-tls",
        853,
        TCP,
        Some("domain-s"),
        &["dot", "domain-s"],
        "DNS over TLS",
        "TLS 위의 DNS",
    ),
    svc(
        "imaps",
        993,
        TCP,
        Some("imaps"),
        &[],
        "IMAP over TLS",
        "TLS 위의 IMAP",
    ),
    svc(
        "pop3s",
        995,
        TCP,
        Some("pop3s"),
        &[],
        "POP3 over TLS",
        "TLS 위의 POP3",
    ),
    svc(
        "openvpn",
        1194,
        UDP,
        Some("openvpn"),
        &[],
        "OpenVPN (UDP by default, TCP possible)",
        "OpenVPN (기본 UDP, TCP도 가능)",
    ),
    svc(
        "mssql",
        1433,
        TCP,
        Some("ms-sql-s"),
        &["sqlserver", "ms-sql-s"],
        "Microsoft SQL Server",
        "Microsoft SQL Server",
    ),
    svc(
        "mqtt",
        1883,
        TCP,
        Some("mqtt"),
        &[],
        "MQTT: IoT messaging",
        "MQTT: IoT 메시징",
    ),
    svc(
        "nfs",
        2049,
        BOTH,
        Some("nfs"),
        &[],
        "NFS: Unix file sharing",
        "NFS: 유닉스 파일 공유",
    ),
    svc(
        "docker",
        2375,
        TCP,
        Some("docker"),
        &[],
        "Docker Engine API, unencrypted (never expose it)",
        "Docker Engine API, 암호화 없음 (외부에 열지 말 것)",
    ),
    svc(
        "docker-tls",
        2376,
        TCP,
        Some("docker-s"),
        &["docker-s"],
        "Docker Engine API over TLS",
        "TLS 위의 Docker Engine API",
    ),
    svc(
        "etcd",
        2379,
        TCP,
        Some("etcd-client"),
        &["etcd-client"],
        "etcd client API (Kubernetes' database)",
        "etcd 클라이언트 API (쿠버네티스의 데이터베이스)",
    ),
    svc(
        "mysql",
        3306,
        TCP,
        Some("mysql"),
        &["mariadb"],
        "MySQL and MariaDB",
        "MySQL, MariaDB",
    ),
    svc(
        "rdp",
        3389,
        BOTH,
        Some("ms-wbt-server"),
        &["ms-wbt-server", "remote-desktop"],
        "Remote Desktop Protocol (Windows remote desktop)",
        "원격 데스크톱 프로토콜 (윈도우 원격 데스크톱)",
    ),
    svc(
        "postgresql",
        5432,
        TCP,
        Some("postgresql"),
        &["postgres", "psql"],
        "PostgreSQL",
        "PostgreSQL",
    ),
    svc(
        "amqp",
        5672,
        TCP,
        Some("amqp"),
        &["rabbitmq"],
        "AMQP message broker (RabbitMQ)",
        "AMQP 메시지 브로커 (RabbitMQ)",
    ),
    svc(
        "vnc",
        5900,
        TCP,
        Some("rfb"),
        &["rfb"],
        "VNC remote screen (RFB protocol), display :0",
        "VNC 원격 화면 (RFB 프로토콜), 디스플레이 :0",
    ),
    svc(
        "redis",
        6379,
        TCP,
        Some("redis"),
        &[],
        "Redis in-memory database",
        "Redis 인메모리 데이터베이스",
    ),
    svc(
        "kubernetes-api",
        6443,
        TCP,
        None,
        &["k8s", "kube-apiserver"],
        "Kubernetes API server (convention; IANA lists another service here)",
        "쿠버네티스 API 서버 (관례; IANA에는 다른 서비스가 등록됨)",
    ),
    svc(
        "http-alt",
        8080,
        TCP,
        Some("http-alt"),
        &["http-proxy"],
        "Alternative HTTP: proxies, development servers, Tomcat",
        "대체 HTTP: 프록시, 개발 서버, Tomcat",
    ),
    svc(
        "elasticsearch",
        9200,
        TCP,
        None,
        &["opensearch"],
        "Elasticsearch/OpenSearch REST API (convention)",
        "Elasticsearch/OpenSearch REST API (관례)",
    ),
    svc(
        "memcached",
        11211,
        BOTH,
        Some("memcache"),
        &["memcache"],
        "Memcached cache",
        "Memcached 캐시",
    ),
    svc(
        "mongodb",
        27017,
        TCP,
        Some("mongodb"),
        &["mongo"],
        "MongoDB",
        "MongoDB",
    ),
    svc(
        "wireguard",
        51820,
        UDP,
        None,
        &["wg"],
        "WireGuard VPN (convention; in the dynamic range, so unregistered)",
        "WireGuard VPN (관례; 동적 범위라 등록되지 않음)",
    ),
];

/// The service catalog, ordered by port.
pub fn services() -> &'static [Service] {
    SERVICES
}

/// The services customarily on `port`.
pub fn services_on(port: u16) -> Vec<&'static Service> {
    SERVICES.iter().filter(|s| s.port == port).collect()
}

/// The service with this name, IANA name or alias (case-insensitive).
pub fn service_by_name(name: &str) -> Option<&'static Service> {
    let name = name.trim().to_ascii_lowercase();
    SERVICES.iter().find(|s| {
        s.name == name || s.iana_name == Some(name.as_str()) || s.aliases.contains(&name.as_str())
    })
}

/// Everything we teach about one port.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PortInfo {
    /// The port.
    pub port: Port,
    /// Its IANA range.
    pub range: PortRange,
    /// The range's first and last port.
    pub range_bounds: (u16, u16),
    /// Whether binding it on Linux needs root or `CAP_NET_BIND_SERVICE`.
    pub linux_privileged: bool,
    /// The OS ephemeral ranges that contain it (clients may be using it as a source port).
    pub ephemeral_in: Vec<&'static str>,
    /// Services customarily on it.
    pub services: Vec<&'static Service>,
    /// What is special about this one port, beyond its range (port 0).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<Text>,
}

impl PortInfo {
    /// Describes `port`.
    pub fn of(port: Port) -> PortInfo {
        let range = port.range();
        PortInfo {
            port,
            range,
            range_bounds: range.bounds(),
            linux_privileged: port.privileged_on_linux(),
            ephemeral_in: EPHEMERAL_RANGES
                .iter()
                .filter(|r| r.contains(port.0))
                .map(|r| r.os)
                .collect(),
            services: services_on(port.0),
            note: port.note(),
        }
    }
}

/// Looks up a port number (`"22"`) or a service name (`"ssh"`).
///
/// ```
/// use labvisor_core::port::{lookup, PortRange};
/// assert_eq!(lookup("3306").unwrap().range, PortRange::User);
/// assert_eq!(lookup("ssh").unwrap().port.0, 22);
/// ```
pub fn lookup(query: &str) -> Result<PortInfo, PortError> {
    let query = query.trim();
    if query.is_empty() {
        return Err(PortError::Empty);
    }
    let looks_numeric = query
        .bytes()
        .all(|b| b.is_ascii_digit() || b == b'-' || b == b'+');
    if looks_numeric {
        return Port::parse(query.strip_prefix('+').unwrap_or(query)).map(PortInfo::of);
    }
    service_by_name(query)
        .map(|s| PortInfo::of(Port(s.port)))
        .ok_or_else(|| PortError::UnknownService {
            input: query.to_string(),
        })
}

#[cfg(test)]
mod tests;
