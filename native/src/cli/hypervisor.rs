//! `labvisor hypervisor [NAME|DESCRIPTION]`: the hypervisor catalog, one product in detail, or
//! the classification of a description ("runs as an application on Windows").

use std::process::ExitCode;

use labvisor_core::hypervisor::{
    self, Classification, HardwareAssist, Hypervisor, Kind, Technique,
};
use labvisor_core::lang::{Lang, Text};
use serde::Serialize;

use super::output::{out, pick, print_json, Table};
use super::{CliError, CliResult, Global};

/// Hypervisors: the catalog, one product, or classify a description.
///
/// Without an argument, lists type 1, type 2 and KVM-based hypervisors and the virtualization
/// techniques; with a product name, shows it in detail; with a description, says which type it
/// describes and why.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  labvisor hypervisor                     the catalog and the techniques
  labvisor hypervisor virtualbox          one product
  labvisor hypervisor VMware ESXi         names may have spaces
  labvisor hypervisor runs as an application on Windows")]
pub struct Args {
    /// A product (kvm, esxi, hyper-v, virtualbox, qemu, …) or a description to classify.
    #[arg(value_name = "NAME|DESCRIPTION", num_args = 0..)]
    pub query: Vec<String>,
}

/// The JSON form of the catalog.
#[derive(Debug, Serialize)]
pub struct CatalogReport {
    /// The kinds, with their definitions.
    pub kinds: Vec<KindRow>,
    /// The products.
    pub hypervisors: &'static [Hypervisor],
    /// The techniques, with their explanations.
    pub techniques: Vec<TechniqueRow>,
}

/// A kind and its definition.
#[derive(Debug, Serialize)]
pub struct KindRow {
    /// The kind.
    pub kind: Kind,
    /// Its name.
    pub name: Text,
    /// What it means.
    pub explanation: Text,
}

/// A technique and its explanation.
#[derive(Debug, Serialize)]
pub struct TechniqueRow {
    /// The technique.
    pub technique: Technique,
    /// Its name.
    pub name: Text,
    /// How it works.
    pub explanation: Text,
}

/// Runs `labvisor hypervisor`.
pub fn run(args: Args, global: &Global) -> CliResult {
    let lang = global.lang();
    let query = args.query.join(" ");
    if query.trim().is_empty() {
        let report = CatalogReport {
            kinds: Kind::ALL
                .iter()
                .map(|&kind| KindRow {
                    kind,
                    name: kind.name(),
                    explanation: kind.explanation(),
                })
                .collect(),
            hypervisors: hypervisor::catalog(),
            techniques: Technique::ALL
                .iter()
                .map(|&technique| TechniqueRow {
                    technique,
                    name: technique.name(),
                    explanation: technique.explanation(),
                })
                .collect(),
        };
        if global.json {
            print_json(&report)?;
        } else {
            out!("{}", render_catalog(&report, lang))?;
        }
        return Ok(ExitCode::SUCCESS);
    }
    if let Ok(h) = hypervisor::find(&query) {
        if global.json {
            print_json(h)?;
        } else {
            out!("{}", render_product(h, lang))?;
        }
        return Ok(ExitCode::SUCCESS);
    }
    let answer = hypervisor::classify(&query).map_err(|e| CliError::Usage(e.to_string()))?;
    if global.json {
        print_json(&answer)?;
    } else {
        out!("{}", render_classification(&answer, lang))?;
    }
    Ok(ExitCode::SUCCESS)
}

fn assist(h: &Hypervisor, lang: Lang) -> &'static str {
    match h.hardware_assist {
        HardwareAssist::Required => pick(lang, "required", "필수"),
        HardwareAssist::Optional => pick(lang, "optional", "선택"),
    }
}

fn render_catalog(report: &CatalogReport, lang: Lang) -> String {
    let mut out = String::new();
    for kind in &report.kinds {
        let mut t = Table::new();
        t.row([
            pick(lang, "NAME", "이름"),
            pick(lang, "VENDOR", "제조사"),
            pick(lang, "RUNS ON", "실행 환경"),
            "VT-x/AMD-V",
        ]);
        for h in report.hypervisors.iter().filter(|h| h.kind == kind.kind) {
            t.row([
                h.name.to_string(),
                h.vendor
                    .split(['(', ';'])
                    .next()
                    .unwrap_or(h.vendor)
                    .trim()
                    .to_string(),
                h.host.get(lang).to_string(),
                assist(h, lang).to_string(),
            ]);
        }
        out.push_str(&format!("{}\n", kind.name.get(lang).to_uppercase()));
        out.push_str(kind.explanation.get(lang));
        out.push_str("\n\n");
        out.push_str(&t.render());
        out.push('\n');
    }
    out.push_str(&format!("{}\n", pick(lang, "TECHNIQUES", "가상화 기법")));
    for tech in &report.techniques {
        out.push_str(&format!(
            "- {}: {}\n",
            tech.name.get(lang),
            tech.explanation.get(lang)
        ));
    }
    out.push('\n');
    out.push_str(pick(
        lang,
        "Details: labvisor hypervisor NAME. Classify a description: labvisor hypervisor runs on bare metal\n",
        "자세히: labvisor hypervisor 이름. 설명으로 분류: labvisor hypervisor 하드웨어 위에 직접 설치\n",
    ));
    out
}

fn render_product(h: &Hypervisor, lang: Lang) -> String {
    let mut t = Table::new();
    t.row([pick(lang, "Name", "이름"), h.name]);
    t.row([pick(lang, "Type", "타입"), h.kind.name().get(lang)]);
    t.row([pick(lang, "Vendor", "제조사"), h.vendor]);
    t.row([pick(lang, "Runs on", "실행 환경"), h.host.get(lang)]);
    t.row(["VT-x/AMD-V", assist(h, lang)]);
    let techniques: Vec<&str> = h.techniques.iter().map(|t| t.name().get(lang)).collect();
    let techniques = techniques.join(", ");
    t.row([pick(lang, "Techniques", "기법"), techniques.as_str()]);
    let mut out = t.render();
    out.push('\n');
    out.push_str(h.note.get(lang));
    out.push_str("\n\n");
    out.push_str(h.kind.explanation().get(lang));
    out.push('\n');
    out
}

fn render_classification(c: &Classification, lang: Lang) -> String {
    let mut out = format!(
        "{}: {}\n{}: {}\n\n",
        pick(lang, "Answer", "정답"),
        c.kind.name().get(lang),
        pick(lang, "Clues", "단서"),
        c.clues.join(", ")
    );
    out.push_str(c.why.get(lang));
    out.push('\n');
    out
}
