//! `labvisor net`: run network scenarios, print reachability matrices, write examples.
//!
//! A scenario file (TOML) describes a lab (hosts, routers, servers, VirtualBox VMs and their
//! attachment modes) and a list of steps (send a packet, wait, add or remove a forwarding
//! rule, change a NIC's mode, create, rename or remove a VM or a NIC, give a NIC an address).
//! See `labvisor net example --list` for ready ones. With `--lang ko` the titles, the trace's
//! headings and action lines, every drop's cause and the topology's problems print in Korean;
//! the packets and tables keep tcpdump's, conntrack's and Cisco's own notation.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Subcommand;
use labvisor_core::lang::{Explain, Lang, Text};
use labvisor_core::net::reach;
use labvisor_core::net::scenario::{self, Scenario, ScenarioErrors, EXAMPLES};
use labvisor_core::net::sim::Network;
use labvisor_core::net::topology::{Problem, Severity};
use labvisor_core::net::trace::Step;
use serde::Serialize;

use super::output::{out, outln, print_json, Table};
use super::{CliError, CliResult, Global};
use crate::files;

/// Network labs: NAT, NAT Network, port forwarding, host-only, routing, step by step.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub command: NetCommand,
}

/// The `net` subcommands.
#[derive(Debug, Subcommand)]
pub enum NetCommand {
    /// Run a scenario: print every packet's journey hop by hop, then the NAT tables
    /// (like `conntrack -L` and Cisco's `show ip nat translations`).
    Run {
        /// The scenario file (TOML).
        file: PathBuf,
    },
    /// Print who can reach whom in a scenario's lab, found by simulating a TCP connection
    /// between every pair of machines ("pf" = only through port forwarding).
    Reach {
        /// The scenario file (TOML).
        file: PathBuf,
    },
    /// Write a ready example scenario to NAME.toml (or list the examples).
    Example {
        /// The example's name (see --list).
        #[arg(required_unless_present = "list")]
        name: Option<String>,
        /// List the examples.
        #[arg(long)]
        list: bool,
        /// Where to write it ("-" for standard output; default NAME.toml).
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
        /// Overwrite an existing file.
        #[arg(long)]
        force: bool,
    },
}

/// Runs `labvisor net`.
pub fn run(args: Args, global: &Global) -> CliResult {
    match args.command {
        NetCommand::Run { file } => run_scenario(&file, global),
        NetCommand::Reach { file } => reach_matrix(&file, global),
        NetCommand::Example {
            name,
            list,
            output,
            force,
        } => example(name, list, output, force, global),
    }
}

fn scenario_errors(e: ScenarioErrors) -> CliError {
    let n = e.0.len();
    if n == 1 {
        CliError::Usage(e.to_string())
    } else {
        CliError::Usage(format!("{n} problems in the scenario:\n{e}"))
    }
}

fn load(file: &Path) -> Result<(String, Scenario), CliError> {
    let name = file.display().to_string();
    let src = files::read_text(file, "scenario file", files::SCENARIO_LIMIT)?;
    let scenario = Scenario::parse(&name, &src).map_err(scenario_errors)?;
    Ok((name, scenario))
}

#[derive(Serialize)]
struct JsonStep<'a> {
    text: String,
    #[serde(flatten)]
    step: &'a Step,
}

#[derive(Serialize)]
struct JsonAction<'a> {
    action: String,
    steps: Vec<JsonStep<'a>>,
}

#[derive(Serialize)]
struct JsonNat {
    name: String,
    nat_type: String,
    forwards: Vec<String>,
    conntrack: Vec<String>,
    translations: Vec<[String; 5]>,
}

#[derive(Serialize)]
struct JsonRun<'a> {
    title: &'a str,
    leases: Vec<JsonStep<'a>>,
    actions: Vec<JsonAction<'a>>,
    nat: Vec<JsonNat>,
    warnings: Vec<String>,
}

fn json_steps(steps: &[Step]) -> Vec<JsonStep<'_>> {
    steps
        .iter()
        .map(|s| JsonStep {
            text: s.event.to_string(),
            step: s,
        })
        .collect()
}

fn run_scenario(file: &Path, global: &Global) -> CliResult {
    let (name, scenario) = load(file)?;
    let run = scenario
        .run(&name)
        .map_err(|e| CliError::Runtime(e.to_string()))?;
    if global.json {
        let now = run.network.now();
        let out = JsonRun {
            title: scenario.title.get(global.lang()),
            leases: json_steps(&run.leases),
            actions: run
                .actions
                .iter()
                .map(|(a, steps)| JsonAction {
                    action: scenario::describe(a),
                    steps: json_steps(steps),
                })
                .collect(),
            nat: run
                .network
                .nats()
                .iter()
                .map(|(name, t)| JsonNat {
                    name: name.clone(),
                    nat_type: t.config().type_name(),
                    forwards: t.forwards().iter().map(|r| r.to_string()).collect(),
                    conntrack: t.conntrack_lines(now),
                    translations: t.cisco_rows(),
                })
                .collect(),
            warnings: run.warnings.iter().map(|w| w.to_string()).collect(),
        };
        print_json(&out)?;
        return Ok(ExitCode::SUCCESS);
    }
    if !scenario.title.is_empty() {
        outln!("# {}", scenario.title.get(global.lang()))?;
        outln!()?;
    }
    let lang = global.lang();
    out!("{}", run.trace_text_in(lang))?;
    outln!()?;
    out!("{}", run.nat_text_in(lang))?;
    for w in &run.warnings {
        outln!("{}", problem_line(w, lang))?;
    }
    Ok(ExitCode::SUCCESS)
}

/// A topology problem as the CLI prints it: the severity as a label, then the core's sentence.
pub fn problem_line(problem: &Problem, lang: Lang) -> String {
    let label = match problem.severity {
        Severity::Error => Text::new("error", "오류"),
        Severity::Warning => Text::new("warning", "경고"),
    };
    format!("{}: {}", label.get(lang), problem.explain_in(lang))
}

fn reach_matrix(file: &Path, global: &Global) -> CliResult {
    let (_, scenario) = load(file)?;
    let lang = global.lang();
    let network = Network::new(scenario.topology.clone()).map_err(|p| {
        CliError::Usage(
            p.iter()
                .map(|p| problem_line(p, lang))
                .collect::<Vec<_>>()
                .join("\n"),
        )
    })?;
    let m = reach::matrix(&network).map_err(|e| CliError::Usage(e.explain_in(lang)))?;
    if global.json {
        print_json(&m)?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut t = Table::new();
    let mut header = vec![Text::new("from \\ to", "출발 \\ 도착")
        .get(lang)
        .to_string()];
    header.extend(m.nodes.iter().cloned());
    t.row(header);
    for (i, from) in m.nodes.iter().enumerate() {
        let mut row = vec![from.clone()];
        row.extend(m.cells[i].iter().map(|c| c.to_string()));
        t.row(row);
    }
    out!("{}", t.render())?;
    outln!()?;
    outln!(
        "{}",
        Text::new(
            "+ reachable directly   pf ADDR:PORT only through that port-forwarding rule   - unreachable",
            "+ 직접 연결됨   pf 주소:포트 그 포트 포워딩 규칙으로만 연결됨   - 연결 불가"
        )
        .get(lang)
    )?;
    let blocked: Vec<String> = m
        .nodes
        .iter()
        .enumerate()
        .flat_map(|(i, from)| {
            m.cells[i]
                .iter()
                .zip(&m.nodes)
                .filter_map(move |(cell, to)| match cell {
                    reach::Cell::No { why } => {
                        Some(format!("  {from} → {to}: {}", why.explain_in(lang)))
                    }
                    _ => None,
                })
        })
        .collect();
    if !blocked.is_empty() {
        outln!()?;
        outln!("{}", Text::new("Why not:", "닿지 않는 이유:").get(lang))?;
        for line in blocked {
            outln!("{line}")?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn example(
    name: Option<String>,
    list: bool,
    output: Option<PathBuf>,
    force: bool,
    global: &Global,
) -> CliResult {
    let lang = global.lang();
    let title = |src: &str| {
        Scenario::parse("example", src)
            .map(|s| s.title.get(lang).to_string())
            .unwrap_or_default()
    };
    if list {
        if global.json {
            #[derive(Serialize)]
            struct Ex {
                name: &'static str,
                title: String,
            }
            let v: Vec<Ex> = EXAMPLES
                .iter()
                .map(|(n, src)| Ex {
                    name: n,
                    title: title(src),
                })
                .collect();
            print_json(&v)?;
        } else {
            let mut t = Table::new();
            for (n, src) in EXAMPLES {
                t.row([n.to_string(), title(src)]);
            }
            out!("{}", t.render())?;
        }
        return Ok(ExitCode::SUCCESS);
    }
    let name = name.unwrap_or_default();
    let Some((_, src)) = EXAMPLES.iter().find(|(n, _)| *n == name) else {
        let names: Vec<&str> = EXAMPLES.iter().map(|(n, _)| *n).collect();
        return Err(CliError::Usage(format!(
            "unknown example {name:?}: expected one of {}",
            names.join(", ")
        )));
    };
    let path = output.unwrap_or_else(|| PathBuf::from(format!("{name}.toml")));
    if path.as_os_str() == "-" {
        out!("{src}")?;
        return Ok(ExitCode::SUCCESS);
    }
    if path.exists() && !force {
        return Err(CliError::Runtime(format!(
            "{} already exists: pass --force to overwrite it",
            path.display()
        )));
    }
    std::fs::write(&path, src)
        .map_err(|e| CliError::Runtime(format!("cannot write {}: {e}", path.display())))?;
    if global.json {
        print_json(&serde_json::json!({ "example": name, "written": path.display().to_string() }))?;
    } else {
        outln!(
            "wrote {} ({}); run it with: labvisor net run {}",
            path.display(),
            title(src),
            path.display()
        )?;
    }
    Ok(ExitCode::SUCCESS)
}
