//! `conntrack -L` lines, the kernel's and the model's, read into one shape and compared.

use std::fmt;

/// One direction's tuple: addresses and ports (ICMP: the echo identifier as both ports).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Tuple {
    pub src: String,
    pub dst: String,
    pub sport: u16,
    pub dport: u16,
}

impl fmt::Display for Tuple {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{} > {}:{}",
            self.src, self.sport, self.dst, self.dport
        )
    }
}

/// One conntrack entry as `conntrack -L` prints it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub proto: String,
    pub timeout: u64,
    /// TCP's state (`ESTABLISHED`...); none for UDP and ICMP.
    pub state: Option<String>,
    pub orig: Tuple,
    pub reply: Tuple,
    pub unreplied: bool,
    pub assured: bool,
}

impl fmt::Display for Line {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.proto, self.timeout)?;
        if let Some(s) = &self.state {
            write!(f, " {s}")?;
        }
        write!(f, " {}", self.orig)?;
        if self.unreplied {
            f.write_str(" [UNREPLIED]")?;
        }
        write!(f, " {}", self.reply)?;
        if self.assured {
            f.write_str(" [ASSURED]")?;
        }
        Ok(())
    }
}

/// Reads one `conntrack -L` line (the kernel's, through conntrack-tools, or the model's).
pub fn parse(line: &str) -> Result<Line, String> {
    let bad = |why: &str| format!("cannot read conntrack line {line:?}: {why}");
    let mut words = line.split_whitespace();
    let proto = words.next().ok_or_else(|| bad("empty"))?.to_string();
    let _number = words.next();
    let timeout = words
        .next()
        .and_then(|w| w.parse().ok())
        .ok_or_else(|| bad("no timeout"))?;
    let mut state = None;
    let mut tuples: Vec<Tuple> = Vec::new();
    let (mut unreplied, mut assured) = (false, false);
    for w in words {
        match w.split_once('=') {
            Some(("src", v)) => tuples.push(Tuple {
                src: v.to_string(),
                dst: String::new(),
                sport: 0,
                dport: 0,
            }),
            Some((key, v)) => {
                let Some(t) = tuples.last_mut() else {
                    continue;
                };
                let port = || v.parse::<u16>().map_err(|_| bad("bad number"));
                match key {
                    "dst" => t.dst = v.to_string(),
                    "sport" => t.sport = port()?,
                    "dport" => t.dport = port()?,
                    "id" => (t.sport, t.dport) = (port()?, port()?),
                    _ => {}
                }
            }
            None if w == "[UNREPLIED]" => unreplied = true,
            None if w == "[ASSURED]" => assured = true,
            None if tuples.is_empty() && w.chars().all(|c| c.is_ascii_uppercase() || c == '_') => {
                state = Some(w.to_string())
            }
            None => {}
        }
    }
    let [orig, reply]: [Tuple; 2] = tuples.try_into().map_err(|_| bad("expected two tuples"))?;
    Ok(Line {
        proto,
        timeout,
        state,
        orig,
        reply,
        unreplied,
        assured,
    })
}

/// Reads a whole listing, sorted by original tuple.
pub fn parse_all<'a>(lines: impl IntoIterator<Item = &'a str>) -> Result<Vec<Line>, String> {
    let mut v = lines
        .into_iter()
        .filter(|l| !l.trim().is_empty() && !l.starts_with("conntrack v"))
        .map(parse)
        .collect::<Result<Vec<_>, _>>()?;
    v.sort_by(|a, b| (&a.proto, &a.orig).cmp(&(&b.proto, &b.orig)));
    Ok(v)
}

/// The external ports Linux picks from when it must change a source port
/// (`nf_nat_l4proto_unique_tuple`): the same class as the original port.
pub fn linux_port_class(sport: u16) -> std::ops::RangeInclusive<u16> {
    match sport {
        0..=511 => 1..=511,
        512..=1023 => 600..=1023,
        _ => 1024..=65535,
    }
}

/// Compares the kernel's table with the model's: the same entries (by original tuple), the same
/// reply tuples, state and flags, timeouts within a second. A reply port Linux changed (a clash)
/// is random there: the model must have changed it too, to a port in the same class.
pub fn compare(kernel: &[Line], model: &[Line]) -> Result<(), String> {
    let listing = |ls: &[Line]| ls.iter().map(|l| format!("\n    {l}")).collect::<String>();
    let mismatch = |why: String| {
        format!(
            "{why}\n  kernel:{}\n  model:{}",
            listing(kernel),
            listing(model)
        )
    };
    if kernel.len() != model.len() {
        return Err(mismatch(format!(
            "{} entries in the kernel, {} in the model",
            kernel.len(),
            model.len()
        )));
    }
    for (k, m) in kernel.iter().zip(model) {
        let what = format!("entry {} {}", k.proto, k.orig);
        if (&k.proto, &k.orig) != (&m.proto, &m.orig) {
            return Err(mismatch(format!(
                "{what}: the model has {} {}",
                m.proto, m.orig
            )));
        }
        // A translated source (the reply goes to another address than the sender's) whose
        // port the kernel could not keep.
        let port_changed = k.reply.dst != k.orig.src && k.reply.dport != k.orig.sport;
        let (mut kr, mut mr) = (k.reply.clone(), m.reply.clone());
        if port_changed {
            let class = linux_port_class(k.orig.sport);
            if mr.dport == k.orig.sport || !class.contains(&mr.dport) {
                return Err(mismatch(format!(
                    "{what}: the kernel changed the source port (to {}); the model must pick \
                     another port in {}-{}, it has {}",
                    kr.dport,
                    class.start(),
                    class.end(),
                    mr.dport
                )));
            }
            if k.proto == "icmp" {
                (kr.sport, mr.sport) = (0, 0);
            }
            (kr.dport, mr.dport) = (0, 0);
        }
        if kr != mr {
            return Err(mismatch(format!(
                "{what}: reply tuple {} in the kernel, {} in the model",
                k.reply, m.reply
            )));
        }
        if (&k.state, k.unreplied, k.assured) != (&m.state, m.unreplied, m.assured) {
            return Err(mismatch(format!("{what}: state or flags differ")));
        }
        if k.timeout.abs_diff(m.timeout) > 1 {
            return Err(mismatch(format!(
                "{what}: timeout {} s in the kernel, {} s in the model",
                k.timeout, m.timeout
            )));
        }
    }
    Ok(())
}
