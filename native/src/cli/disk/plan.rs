//! `disk plan`: will these VM disks fit on this host disk?

use super::*;
use labvisor_core::lang::particle::i_ga;

/// Prints the plan; like `host plan`, exits with status 1 when the disks cannot be created.
pub(super) fn plan_cmd(a: PlanArgs, global: &Global) -> CliResult {
    let disks: Vec<(u64, Allocation)> = a.vms.iter().map(|(s, al)| (s.bytes(), *al)).collect();
    let p: Plan =
        try_plan(a.host_disk.bytes(), &disks).map_err(|e| CliError::Usage(e.to_string()))?;
    let status = if p.fits_at_creation {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    };
    if global.json {
        print_json(&p)?;
        return Ok(status);
    }
    let mut t = Table::new();
    let ko = global.lang() == Lang::Ko;
    if ko {
        t.row(["vm", "크기", "할당", "지금 호스트", "가득 찼을 때"]);
    } else {
        t.row(["vm", "size", "allocation", "host now", "host when full"]);
    }
    for (i, d) in p.disks.iter().enumerate() {
        t.row([
            format!("vm{}", i + 1),
            size_text(d.virtual_size),
            match d.allocation {
                Allocation::Dynamic => say(global, "dynamic".into(), "동적".into()),
                Allocation::Fixed => say(global, "fixed".into(), "고정".into()),
            },
            size_text(d.at_creation),
            size_text(d.when_full),
        ]);
    }
    t.row([
        say(global, "total".into(), "합계".into()),
        size_text(p.provisioned),
        String::new(),
        size_text(p.at_creation),
        size_text(p.when_full),
    ]);
    out!("{}", t.render())?;
    outln!()?;
    let (capacity, promised, ratio) = (
        size_text(p.capacity),
        size_text(p.provisioned),
        p.overcommit_ratio,
    );
    let (now, room, full) = (
        size_text(p.at_creation),
        size_text(p.growth_room),
        size_text(p.when_full),
    );
    let mut lines = vec![(
        format!("Host disk {capacity}: promised to guests {promised} = overcommit ratio {ratio:.2}."),
        format!("호스트 디스크 {capacity}: 게스트에게 약속한 크기 {promised} = 오버커밋 비율 {ratio:.2}."),
    )];
    if !p.fits_at_creation {
        lines.push((
            format!("Does not fit: creating these disks needs {now} now (fixed disks take their whole size at creation), the host has {capacity}."),
            format!("들어가지 않습니다: 이 디스크들을 만들려면 지금 {} 필요하지만(고정 크기 디스크는 만들 때 전체 크기를 차지) 호스트에는 {capacity}뿐입니다.", i_ga(now)),
        ));
    } else if p.fits_when_full {
        lines.push((
            "Fits, even with every disk completely full.".into(),
            "모든 디스크가 가득 차도 들어갑니다.".into(),
        ));
    } else {
        lines.push((
            format!("Fits now, with {room} left for dynamic disks to grow into; they can grow to {full} in total."),
            format!("지금은 들어갑니다. 동적 디스크가 커질 수 있는 여유는 {room}이고, 모두 가득 차면 합계 {full}까지 커집니다."),
        ));
        lines.push((
            "When the guests really fill the host, the next write that needs a new block cannot be stored: VirtualBox suspends the VM (a \"disk full\" runtime error) before the guest sees any error. Data already written stays intact; free space on the host, then resume, and the write completes.".into(),
            "게스트들이 실제로 호스트를 가득 채우면, 새 블록이 필요한 다음 쓰기를 저장할 수 없습니다. VirtualBox는 게스트가 오류를 보기 전에 VM을 일시 정지합니다(\"디스크 가득 참\" 런타임 오류). 이미 쓴 데이터는 그대로 남고, 호스트 공간을 비운 뒤 재개하면 그 쓰기가 끝납니다.".into(),
        ));
    }
    for (en, ko) in lines {
        outln!("{}", say(global, en, ko))?;
    }
    Ok(status)
}
