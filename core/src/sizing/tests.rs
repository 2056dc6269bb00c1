//! Tests of the parent module.

use super::*;
use proptest::prelude::*;

fn vm(spec: &str) -> VmRequest {
    VmRequest::parse(spec, "vm").unwrap()
}

#[test]
fn course_example_eight_cpus_two_for_the_host_six_vms() {
    let host = Host::new(8, 16 * 1024, None).unwrap();
    let vms: Vec<VmRequest> = (1..=6)
        .map(|i| VmRequest::new(format!("vm{i}"), 1, 2048, None).unwrap())
        .collect();
    let p = plan(&host, &vms, &Policy::default());
    assert_eq!(p.reserve.cpus, 2);
    assert_eq!(p.available.cpus, 6);
    // 20 % of 16384 MiB = 3276.8, rounded up.
    assert_eq!(p.reserve.ram_mib, 3277);
    assert_eq!(p.available.ram_mib, 13107);
    assert!(p.fits, "{:?}", p.problems);
    assert!(p.warnings.is_empty());
    assert_eq!(
        p.left,
        Resources {
            cpus: 0,
            ram_mib: 13107 - 6 * 2048
        }
    );
    assert_eq!(
        p.even_split,
        Some(EvenSplit {
            vms: 6,
            vcpus_each: 1,
            ram_mib_each: 2184
        })
    );
}

#[test]
fn vcpu_overcommit_is_a_warning_with_its_ratio() {
    let host = Host::new(8, 16 * 1024, None).unwrap();
    let p = plan(
        &host,
        &[vm("4:2G"), vm("4:2G"), vm("1:1G")],
        &Policy::default(),
    );
    assert!(p.fits);
    assert_eq!(
        p.warnings,
        vec![Warning::VcpuOvercommit {
            requested: 9,
            available: 6,
            ratio: 1.5
        }]
    );
}

#[test]
fn ram_overcommit_is_an_error_unless_allowed() {
    let host = Host::new(4, 8 * 1024, None).unwrap();
    let vms = [vm("1:4G"), vm("1:4G")];
    let p = plan(&host, &vms, &Policy::default());
    assert!(!p.fits);
    assert_eq!(
        p.problems,
        vec![Problem::RamOvercommit {
            requested_mib: 8192,
            available_mib: 6553
        }]
    );
    let lenient = Policy {
        allow_ram_overcommit: true,
        ..Policy::default()
    };
    let p = plan(&host, &vms, &lenient);
    assert!(p.fits);
    assert!(matches!(
        p.warnings[0],
        Warning::RamOvercommitAllowed { .. }
    ));
}

#[test]
fn impossible_requests_are_explained() {
    let tiny = Host::new(1, 1024, None).unwrap();
    let p = plan(&tiny, &[vm("2:256M")], &Policy::default());
    assert!(!p.fits);
    assert!(p.problems.contains(&Problem::NoCpuLeft {
        host_cpus: 1,
        reserved: 1
    }));
    assert!(p.problems.contains(&Problem::VmWiderThanHost {
        vm: "vm".into(),
        vcpus: 2,
        host_cpus: 1
    }));
    assert_eq!(p.even_split, None);
}

#[test]
fn disk_overcommit_is_a_warning() {
    // The course: a 256G SSD can hold two 128G dynamically allocated disks and more.
    let host = Host::new(8, 16384, Some(256 * 1024)).unwrap();
    let p = plan(
        &host,
        &[vm("1:1G:128G"), vm("1:1G:128G"), vm("1:1G:128G")],
        &Policy::default(),
    );
    assert!(p.fits);
    assert_eq!(
        p.warnings,
        vec![Warning::DiskOvercommit {
            requested_mib: 384 * 1024,
            host_mib: 256 * 1024
        }]
    );
}

#[test]
fn reserve_is_a_parameter() {
    let host = Host::new(8, 10000, None).unwrap();
    let none = plan(
        &host,
        &[],
        &Policy {
            reserve: Percent::parse("0%").unwrap(),
            ..Policy::default()
        },
    );
    assert_eq!(
        none.available,
        Resources {
            cpus: 8,
            ram_mib: 10000
        }
    );
    let all = plan(
        &host,
        &[],
        &Policy {
            reserve: Percent::parse("100").unwrap(),
            ..Policy::default()
        },
    );
    assert_eq!(
        all.available,
        Resources {
            cpus: 0,
            ram_mib: 0
        }
    );
    let quarter = plan(
        &host,
        &[],
        &Policy {
            reserve: Percent::new(25).unwrap(),
            ..Policy::default()
        },
    );
    assert_eq!(
        quarter.reserve,
        Resources {
            cpus: 2,
            ram_mib: 2500
        }
    );
}

#[test]
fn notations() {
    assert_eq!(parse_size_mib("16G"), Ok(16384));
    assert_eq!(parse_size_mib("16GiB"), Ok(16384));
    assert_eq!(parse_size_mib("512m"), Ok(512));
    assert_eq!(parse_size_mib("1.5G"), Ok(1536));
    assert_eq!(parse_size_mib("2048"), Ok(2048));
    assert_eq!(parse_size_mib("1T"), Ok(1024 * 1024));
    // The one rule (crate::size): GB are decimal, a whole number of MiB only when it happens to be.
    assert_eq!(parse_size_mib("16384MB"), Ok(15625));
    assert_eq!(
        parse_size_mib("16GB"),
        Err(SizingError::DecimalSize {
            input: "16GB".into(),
            bytes: 16_000_000_000
        })
    );
    assert_eq!(format_mib(u64::MAX), format!("{} MiB", u64::MAX));
    assert_eq!(format_mib(u64::MAX - 1023), "18014398509481983 GiB");
    assert!(matches!(
        parse_size_mib("1.3M"),
        Err(SizingError::SizeOutOfRange { .. })
    ));
    assert!(matches!(
        parse_size_mib("0G"),
        Err(SizingError::SizeOutOfRange { .. })
    ));
    assert!(matches!(
        parse_size_mib("16Q"),
        Err(SizingError::BadSize { .. })
    ));
    assert!(matches!(
        parse_size_mib("G"),
        Err(SizingError::BadSize { .. })
    ));
    assert!(matches!(
        parse_size_mib("1.2.3G"),
        Err(SizingError::BadSize { .. })
    ));
    assert!(matches!(
        parse_size_mib("-1G"),
        Err(SizingError::BadSize { .. })
    ));
    assert!(matches!(
        parse_size_mib("99999999999999999999T"),
        Err(SizingError::SizeOutOfRange { .. })
    ));

    assert_eq!(Percent::parse("20%").map(Percent::value), Ok(20));
    assert!(Percent::parse("101%").is_err());
    assert!(Percent::parse("-5").is_err());
    assert!(Percent::parse("%").is_err());

    assert_eq!(
        VmRequest::parse("web=2:4G:20G", "vm1").unwrap(),
        VmRequest::new("web", 2, 4096, Some(20480)).unwrap()
    );
    assert_eq!(VmRequest::parse("1:2G", "vm3").unwrap().name, "vm3");
    assert!(matches!(
        VmRequest::parse("0:2G", "vm"),
        Err(SizingError::EmptyVm { .. })
    ));
    assert!(matches!(
        VmRequest::parse("2G", "vm"),
        Err(SizingError::BadVmSpec { .. })
    ));
    assert!(matches!(
        VmRequest::parse("=1:2G", "vm"),
        Err(SizingError::BadVmSpec { .. })
    ));
    assert!(matches!(
        VmRequest::parse("x:2G", "vm"),
        Err(SizingError::BadVmSpec { .. })
    ));
    assert_eq!(parse_cpu_count("8"), Ok(8));
    assert!(
        parse_cpu_count("0").is_err()
            && parse_cpu_count("-2").is_err()
            && parse_cpu_count("70000").is_err()
    );

    assert_eq!(format_mib(2048), "2 GiB");
    assert_eq!(format_mib(1536), "1.5 GiB");
    assert_eq!(format_mib(3277), "3277 MiB");
    assert_eq!(format_mib(512), "512 MiB");
}

#[test]
fn plan_serializes() {
    let host = Host::new(8, 16384, None).unwrap();
    let p = plan(&host, &[vm("1:2G")], &Policy::default());
    let json = serde_json::to_value(&p).unwrap();
    assert_eq!(json["policy"]["reserve"], 20);
    assert_eq!(json["reserve"]["cpus"], 2);
    let back: Plan = serde_json::from_value(json).unwrap();
    assert_eq!(back, p);
}

proptest! {
    #[test]
    fn parsers_never_panic(s in "\\PC*") {
        let _ = parse_size_mib(&s);
        let _ = Percent::parse(&s);
        let _ = VmRequest::parse(&s, "vm");
        let _ = parse_cpu_count(&s);
    }

    #[test]
    fn plan_accounts_for_everything(
        cpus in 1u32..=512, ram in 1u64..=(1 << 22), pct in 0u8..=100,
        vms in proptest::collection::vec((1u32..=64, 1u64..=65536), 0..12),
    ) {
        let host = Host::new(cpus, ram, None).unwrap();
        let vms: Vec<VmRequest> = vms.iter().map(|&(c, r)| VmRequest::new("vm", c, r, None).unwrap()).collect();
        let policy = Policy { reserve: Percent::new(pct).unwrap(), allow_ram_overcommit: false };
        let p = plan(&host, &vms, &policy);
        prop_assert_eq!(p.reserve.cpus + p.available.cpus, u64::from(cpus));
        prop_assert_eq!(p.reserve.ram_mib + p.available.ram_mib, ram);
        prop_assert!(p.reserve.cpus * 100 >= u64::from(cpus) * u64::from(pct));
        prop_assert!((p.reserve.cpus.saturating_sub(1)) * 100 < u64::from(cpus) * u64::from(pct) || p.reserve.cpus == 0);
        prop_assert_eq!(p.fits, p.problems.is_empty());
        if p.fits && !vms.is_empty() {
            prop_assert!(p.requested.ram_mib <= p.available.ram_mib);
        }
    }
}
