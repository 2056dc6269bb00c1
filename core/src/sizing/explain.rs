//! What the sizing module's results say to a learner, in both languages ([`Explain`]). The
//! front ends print these sentences as they are; a hint that names a front end's own control
//! (the CLI's `--allow-ram-overcommit`) is the front end's to add.

use super::{format_mib, Problem, SizingError, Warning};
use crate::lang::particle::{eul_reul, eun_neun, i_ga};
use crate::lang::{Explain, Lang};

impl Explain for SizingError {
    fn explain_in(&self, lang: Lang) -> String {
        use SizingError::*;
        if lang == Lang::En {
            return self.to_string();
        }
        match self {
            BadSize { input } => format!("크기 {} 읽을 수 없습니다. 512M, 16G처럼 숫자 뒤에 단위 M, G, T를 붙입니다(이진 단위: 1G = 1024 MiB). 단위가 없는 숫자는 MiB입니다", eul_reul(format!("{input:?}"))),
            SizeOutOfRange { input } => format!("크기 {} 1 MiB와 1 EiB 사이의 MiB 단위 정수가 아닙니다", eun_neun(format!("{input:?}"))),
            DecimalSize { input, bytes } => format!("크기 {} {bytes} 바이트로, MiB 단위 정수가 아닙니다. GB, MB, TB는 십진 단위입니다(1GB = 10^9 바이트, 드라이브를 파는 방식). VirtualBox의 \"GB\"는 GiB이므로 16G처럼 G로 적으세요", eun_neun(format!("{input:?}"))),
            BadPercent { input } => format!("예약 비율 {} 백분율이 아닙니다. 20%처럼 0–100 사이의 정수를 적습니다(%는 빼도 됩니다)", eun_neun(format!("{input:?}"))),
            BadVmSpec { input } => format!("VM {} 읽을 수 없습니다. 1:2G나 web=2:4G:20G처럼 [이름=]vCPU:RAM[:디스크] 형식으로 적습니다", eul_reul(format!("{input:?}"))),
            EmptyVm { name, what } => format!("VM {name:?}의 {} 0입니다. VM에는 vCPU가 1개 이상, RAM이 0보다 많이 있어야 합니다", i_ga(what)),
            EmptyHost { what } => format!("호스트의 {} 0입니다. 논리 CPU가 1개 이상, RAM이 0보다 많이 있어야 합니다", i_ga(what)),
            BadCount { input } => format!("CPU 개수 {} 읽을 수 없습니다. 1부터 65535까지의 정수를 적습니다", eul_reul(format!("{input:?}"))),
        }
    }
}

impl Explain for Problem {
    fn explain_in(&self, lang: Lang) -> String {
        match (self, lang) {
            (Problem::RamOvercommit { requested_mib, available_mib }, Lang::En) => format!(
                "the VMs ask for {} RAM but only {} is left after the host's reserve; guests that use their memory would push the host into swapping",
                format_mib(*requested_mib),
                format_mib(*available_mib)
            ),
            (Problem::RamOvercommit { requested_mib, available_mib }, Lang::Ko) => format!(
                "VM들이 RAM {} 요구하지만 호스트 몫을 빼면 {}만 남습니다. 게스트가 메모리를 다 쓰면 호스트가 스와핑에 빠집니다",
                eul_reul(format_mib(*requested_mib)),
                format_mib(*available_mib)
            ),
            (Problem::NoCpuLeft { host_cpus, reserved }, Lang::En) => {
                format!("the reserve keeps {reserved} of {host_cpus} logical CPUs for the host, leaving none for VMs")
            }
            (Problem::NoCpuLeft { host_cpus, reserved }, Lang::Ko) => {
                format!("호스트 몫으로 논리 CPU {host_cpus}개 중 {reserved}개를 남기면 VM에 줄 CPU가 없습니다")
            }
            (Problem::VmWiderThanHost { vm, vcpus, host_cpus }, Lang::En) => {
                format!("{vm} asks for {vcpus} vCPUs but the host has only {host_cpus} logical CPUs; VirtualBox refuses such a VM")
            }
            (Problem::VmWiderThanHost { vm, vcpus, host_cpus }, Lang::Ko) => {
                format!("{} vCPU {vcpus}개를 요구하지만 호스트의 논리 CPU는 {host_cpus}개뿐입니다. VirtualBox는 이런 VM을 거부합니다", eun_neun(vm))
            }
        }
    }
}

impl Explain for Warning {
    fn explain_in(&self, lang: Lang) -> String {
        match (self, lang) {
            (Warning::VcpuOvercommit { requested, available, ratio }, Lang::En) => format!(
                "{requested} vCPUs on {available} CPUs (overcommit {ratio}:1): vCPUs are threads that take turns, so busy VMs slow each other down"
            ),
            (Warning::VcpuOvercommit { requested, available, ratio }, Lang::Ko) => format!(
                "CPU {available}개에 vCPU {requested}개(오버커밋 {ratio}:1): vCPU는 번갈아 실행되는 스레드라서 바쁜 VM끼리 서로 느려집니다"
            ),
            (Warning::RamOvercommitAllowed { requested_mib, available_mib }, Lang::En) => format!(
                "RAM overcommitted: {} promised, {} available; fine only while guests leave memory unused",
                format_mib(*requested_mib),
                format_mib(*available_mib)
            ),
            (Warning::RamOvercommitAllowed { requested_mib, available_mib }, Lang::Ko) => format!(
                "RAM 오버커밋: {} 약속했지만 쓸 수 있는 것은 {}입니다. 게스트가 메모리를 다 쓰지 않는 동안에만 괜찮습니다",
                eul_reul(format_mib(*requested_mib)),
                format_mib(*available_mib)
            ),
            (Warning::DiskOvercommit { requested_mib, host_mib }, Lang::En) => format!(
                "virtual disks total {} on {} of host disk: works with dynamically allocated images until they fill up, impossible with fixed-size ones",
                format_mib(*requested_mib),
                format_mib(*host_mib)
            ),
            (Warning::DiskOvercommit { requested_mib, host_mib }, Lang::Ko) => format!(
                "가상 디스크 합계 {}, 호스트 디스크 {}: 동적 할당 이미지는 가득 차기 전까지 쓸 수 있지만 고정 크기 이미지로는 불가능합니다",
                format_mib(*requested_mib),
                format_mib(*host_mib)
            ),
        }
    }
}
