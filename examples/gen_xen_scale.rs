//! Generates Xen-scale coverage dumps of ONE build, for benchmarks (see
//! `scripts/bench-merge` and `docs/bench-merge.md`).
//!
//! ```sh
//! cargo run --release --example gen_xen_scale -- --out DIR --count N \
//!     [--seed S] [--units 400] [--functions 12000] [--counters 300000]
//! ```
//!
//! Every dump is what a GCC 12.2 x86 hypervisor returns for
//! `XEN_SYSCTL_COVERAGE_read` (formats/xen-dump.md): a little-endian XCOV
//! container whose payloads have no summary, a zero header checksum, every
//! counter written out (never the compact zero form) and no end marker.
//! Only the arc counters are active (`-fprofile-arcs -ftest-coverage`).
//!
//! * The build (units, paths, stamps, functions, idents, checksums, number of
//!   arcs per function) depends on the seed only: all N dumps share it.
//! * The counter values differ per dump (one run each) and are deterministic
//!   given the seed and the dump's number.
//!
//! The shape of the build follows real data (tables below): the number of
//! functions per unit and of arc counters per function are drawn from what
//! real gcda files show, then stretched (with a power law, so that small
//! stays small and the tail grows) to the requested totals, which are then
//! met exactly.

use rayon::prelude::*;
use std::path::PathBuf;
use xencov::Endian;
use xencov::gcov::gcda::{Counters, Function, FunctionId, Gcda, Record, Values};
use xencov::gcov::record::Header;
use xencov::gcov::version::{Status, Version};
use xencov::xen::dump::encode_container;

// ---------------------------------------------------------------------------
// Observed distributions.
//
// Source: the 21 real gcda files under /work/shared/corpus/grcov/test/
// (Firefox units built by GCC 4.9 — Unified_cpp_netwerk_base0, Platform,
// nsGnomeModule, nsMaiInterface*, RootAccessibleWrap — and the GCC 6.2 / 9.4
// units 64bit_count, negative_counts, prova, mozillavpn_serverconnection,
// plus the small reader/LLVM/rust units), decoded with `xencov-rs dump
// --json` on 2026-11-26: 5,040 functions, 22,914 arc counters. Values of
// counters come from the units that hold runs (the five with non-zero
// counters: Unified_cpp_netwerk_base0, negative_counts,
// mozillavpn_serverconnection, prova, 64bit_count; 1,279 executed functions).
// ---------------------------------------------------------------------------

/// Arc counters per function: (lowest, highest, functions). Mean 4.55.
const ARCS_PER_FUNCTION: &[(u32, u32, u32)] = &[
    (1, 1, 1619),
    (2, 2, 1152),
    (3, 3, 690),
    (4, 4, 397),
    (5, 5, 285),
    (6, 6, 151),
    (7, 7, 120),
    (8, 8, 91),
    (9, 9, 68),
    (10, 10, 57),
    (11, 15, 174),
    (16, 20, 75),
    (21, 30, 76),
    (31, 50, 49),
    (51, 100, 31),
    (101, 268, 5),
];

/// Functions per unit of the 21 units, sorted. Mean 240, median 7.
const FUNCTIONS_PER_UNIT: &[u32] = &[
    1, 1, 2, 2, 2, 2, 2, 2, 2, 4, 7, 9, 16, 19, 24, 70, 72, 402, 691, 1300, 2410,
];

/// log2 of the largest arc counter of an executed function: (log2, functions).
const LOG2_ENTRY: &[(u32, u32)] = &[
    (0, 132),
    (1, 53),
    (2, 24),
    (3, 84),
    (4, 46),
    (5, 55),
    (6, 58),
    (7, 50),
    (8, 62),
    (9, 68),
    (10, 46),
    (11, 47),
    (12, 70),
    (13, 45),
    (14, 47),
    (15, 61),
    (16, 47),
    (17, 79),
    (18, 46),
    (19, 28),
    (20, 29),
    (21, 14),
    (22, 23),
    (23, 13),
    (24, 13),
    (25, 8),
    (26, 7),
    (27, 7),
    (28, 11),
    (29, 3),
    (30, 3),
];

/// log2(largest counter of the function / this counter) over the non-zero
/// counters of executed functions: (log2 ratio, counters).
const LOG2_BELOW_ENTRY: &[(u32, u32)] = &[
    (0, 3936),
    (1, 433),
    (2, 261),
    (3, 299),
    (4, 192),
    (5, 153),
    (6, 141),
    (7, 96),
    (8, 59),
    (9, 85),
    (10, 108),
    (11, 38),
    (12, 39),
    (13, 31),
    (14, 63),
    (15, 18),
    (16, 25),
    (17, 5),
    (18, 10),
    (19, 4),
    (20, 5),
    (21, 9),
    (22, 1),
    (23, 1),
    (25, 1),
    (28, 3),
];

/// Share of non-zero arcs in an executed function by its number of arcs:
/// (up to this many arcs, per mille non-zero).
const NONZERO_SHARE: &[(u32, u32)] = &[
    (2, 1000),
    (5, 910),
    (10, 790),
    (20, 680),
    (50, 660),
    (u32::MAX, 600),
];

/// Per run, a function is touched with the probability of its class:
/// (per mille of functions, per mille chance per run). Boot and the idle
/// loop always run (hot), the paths of the guests' workload often (warm),
/// error paths and unused features rarely (cold): about 43 % touched per run,
/// in line with the 20 – 93 % seen per unit above.
const TOUCH_CLASSES: &[(u32, u32)] = &[(300, 1000), (300, 400), (400, 30)];

// ---------------------------------------------------------------------------
// A made-up but plausible Xen 4.19 tree (x86, in-tree build: the gcda lands
// next to the object).
// ---------------------------------------------------------------------------

const BUILD_ROOT: &str = "/build/xen-4.19/xen";

const TREE: &[(&str, &str)] = &[
    (
        "common",
        "bitmap bsearch bunzip2 core_parking cpu cpupool decompress domain domctl domid \
        earlycpio event_2l event_channel event_fifo gdbstub grant_table guestcopy gunzip hypfs \
        ioreq irq kernel kexec keyhandler kimage livepatch livepatch_elf lzo memory monitor \
        multicall notifier page_alloc param pdx percpu preempt radix-tree random rangeset \
        rcupdate rwlock shutdown smp softirq sort spinlock stop_machine string symbols sysctl \
        tasklet time timer trace unlz4 unlzma unlzo unxz unzstd version virtual_region vm_event \
        vmap vsprintf wait warning xmalloc_tlsf argo",
    ),
    (
        "common/sched",
        "arinc653 boot-cpupool core cpupool credit credit2 null rt",
    ),
    (
        "common/compat",
        "domain grant_table kernel memory multicall xlat",
    ),
    ("common/coverage", "coverage gcc_4_7 gcov"),
    ("common/efi", "boot runtime compat"),
    ("common/lz4", "decompress"),
    ("common/xz", "crc32 dec_bcj dec_lzma2 dec_stream"),
    (
        "common/zstd",
        "decompress entropy_common fse_decompress huf_decompress xxhash zstd_common",
    ),
    ("common/libelf", "libelf-dominfo libelf-loader libelf-tools"),
    (
        "arch/x86",
        "alternative apic bitops bzimage compat cpu-policy cpuid crash debug delay \
        dmi_scan dom0_build domain domain_page domctl e820 emul-i8254 extable flushtlb hpet \
        hypercall i387 i8259 io_apic ioport_emulate irq machine_kexec mm monitor mpparse msi \
        msr nmi numa percpu physdev platform_hypercall psr pci setup shutdown smp smpboot \
        spec_ctrl srat string sysctl tboot time traps tsx usercopy x86_emulate xstate \
        livepatch memory_hotplug mtrr genapic",
    ),
    (
        "arch/x86/acpi",
        "boot cpu_idle lib power suspend wakeup_prot",
    ),
    ("arch/x86/acpi/cpufreq", "acpi cpufreq hwp powernow"),
    (
        "arch/x86/cpu",
        "amd centaur common hygon intel intel_cacheinfo mwait-idle shanghai vpmu \
        vpmu_amd vpmu_intel",
    ),
    (
        "arch/x86/cpu/mcheck",
        "amd_nonfatal barrier mcaction mce mce-apei mce_amd mce_intel \
        mctelem non-fatal util vmce",
    ),
    ("arch/x86/cpu/microcode", "amd core intel"),
    ("arch/x86/genapic", "bigsmp default delivery probe x2apic"),
    ("arch/x86/guest", "hypervisor"),
    ("arch/x86/guest/xen", "hypercall_page pvh-boot xen"),
    ("arch/x86/guest/hyperv", "hyperv tlb util"),
    (
        "arch/x86/hvm",
        "asid dm dom0_build domain emulate grant_table hpet hvm hypercall intercept \
        io ioreq irq monitor mtrr nestedhvm pmtimer quirks rtc save stdvga vioapic vlapic \
        vm_event vmsi vpic vpt",
    ),
    (
        "arch/x86/hvm/svm",
        "asid emulate intr nestedsvm svm svmdebug vmcb",
    ),
    ("arch/x86/hvm/vmx", "intr realmode vmcs vmx vvmx"),
    ("arch/x86/hvm/viridian", "hypercall synic time viridian"),
    (
        "arch/x86/mm",
        "altp2m guest_walk_2 guest_walk_3 guest_walk_4 mem_access mem_paging \
        mem_sharing p2m p2m-basic p2m-ept p2m-pod p2m-pt paging physmap",
    ),
    (
        "arch/x86/mm/hap",
        "guest_walk_2level guest_walk_3level guest_walk_4level hap nested_ept \
        nested_hap",
    ),
    (
        "arch/x86/mm/shadow",
        "common guest_2 guest_3 guest_4 hvm pv set",
    ),
    (
        "arch/x86/pv",
        "callback descriptor-tables dom0_build domain emul-gate-op emul-inv-op \
        emul-priv-op emulate grant_table hypercall iret misc-hypercalls mm ro-page-fault shim \
        traps",
    ),
    (
        "arch/x86/x86_64",
        "acpi_mmcfg machine_kexec mm mmconf-fam10h mmconfig-shared mmconfig_64 \
        pci traps",
    ),
    ("arch/x86/x86_64/compat", "mm"),
    (
        "arch/x86/x86_emulate",
        "0f01 0fae 0fc7 blk decode fpu util util-xen",
    ),
    ("arch/x86/efi", "runtime stub"),
    ("drivers/acpi", "hwregs numa osl pmstat reboot tables"),
    ("drivers/acpi/apei", "apei-base apei-io erst hest"),
    (
        "drivers/acpi/tables",
        "tbfadt tbinstal tbutils tbxface tbxfroot",
    ),
    ("drivers/acpi/utilities", "utglobal utmisc"),
    (
        "drivers/char",
        "console consoled ehci-dbgp ns16550 serial xhci-dbc",
    ),
    (
        "drivers/cpufreq",
        "cpufreq cpufreq_misc_governors cpufreq_ondemand utility",
    ),
    ("drivers/passthrough", "ats iommu pci"),
    (
        "drivers/passthrough/amd",
        "iommu_acpi iommu_cmd iommu_detect iommu_guest iommu_init \
        iommu_intr iommu_map pci_amd_iommu",
    ),
    (
        "drivers/passthrough/vtd",
        "dmar intremap iommu qinval quirks utils",
    ),
    ("drivers/passthrough/vtd/x86", "ats hvm vtd"),
    ("drivers/passthrough/x86", "ats hvm iommu"),
    ("drivers/pci", "pci physdev"),
    ("drivers/video", "font_8x14 font_8x16 font_8x8 lfb vesa vga"),
    ("drivers/vpci", "header msi msix rebar vpci"),
    ("xsm", "dummy silo xsm_core xsm_policy"),
    ("xsm/flask", "avc flask_op hooks"),
    (
        "xsm/flask/ss",
        "avtab conditional ebitmap hashtab mls policydb services sidtab symtab",
    ),
    (
        "lib",
        "bsearch ctors ctype find-next-bit generic-ffsl generic-flsl generic-hweightl \
        list-sort memchr memchr_inv memcmp memcpy memmove memset muldiv64 parse-size rbtree \
        sort strcasecmp strchr strcmp strcspn strlcat strlcpy strlen strncasecmp strncmp \
        strnlen strpbrk strrchr strsep strspn strstr strtol strtoll strtoul strtoull xxhash32 \
        xxhash64",
    ),
    ("lib/x86", "cpuid msr policy"),
    ("crypto", "rijndael vmac"),
    ("tools/kconfig", "stub"),
];

/// All unit paths of the tree, in tree order.
fn tree_paths() -> Vec<String> {
    TREE.iter()
        .flat_map(|(dir, names)| {
            names
                .split_whitespace()
                .map(move |n| format!("{BUILD_ROOT}/{dir}/{n}.gcda"))
        })
        .collect()
}

// ---------------------------------------------------------------------------
// splitmix64: tiny, fast, and good enough for synthetic data.
// ---------------------------------------------------------------------------

struct Rng(u64);

impl Rng {
    fn new(seed: u64, stream: u64, index: u64) -> Rng {
        let mut r = Rng(seed ^ stream.wrapping_mul(0xD1B5_4A32_D192_ED03));
        r.0 ^= r
            .next()
            .wrapping_add(index.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        r.next();
        r
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next()) * u128::from(n)) >> 64) as u64
    }

    /// Index into a table by its weights.
    fn weighted<T>(&mut self, table: &[T], weight: impl Fn(&T) -> u32) -> usize {
        let total: u64 = table.iter().map(|t| u64::from(weight(t))).sum();
        let mut x = self.below(total);
        for (i, t) in table.iter().enumerate() {
            let w = u64::from(weight(t));
            if x < w {
                return i;
            }
            x -= w;
        }
        table.len() - 1
    }
}

/// Scales the raw draws `x` with a power law `x^p` so that they add up to
/// `target` (p by bisection), each at least 1, then fixes the rounding so
/// the total is exact.
fn stretch(raw: &[f64], target: u64, rng: &mut Rng) -> Vec<u64> {
    let sized = |p: f64| -> Vec<u64> {
        raw.iter()
            .map(|&x| (x.powf(p).round() as u64).max(1))
            .collect()
    };
    let sum = |p: f64| -> u64 { sized(p).iter().sum() };
    let (mut lo, mut hi) = (0.0f64, 1.0f64);
    while sum(hi) < target && hi < 64.0 {
        hi *= 2.0;
    }
    for _ in 0..100 {
        let mid = (lo + hi) / 2.0;
        if sum(mid) < target {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    let mut out = sized(hi);
    let mut total: u64 = out.iter().sum();
    // Within one or two of the target per draw of the last step: nudge
    // random entries by one.
    let n = out.len() as u64;
    let mut guard = 0u64;
    while total != target && guard < 100 * target + 1000 {
        guard += 1;
        let i = rng.below(n) as usize;
        if total > target && out[i] > 1 {
            out[i] -= 1;
            total -= 1;
        } else if total < target {
            out[i] += 1;
            total += 1;
        }
    }
    out
}

/// A draw from a (lo, hi, weight) histogram: uniform in log space in the bucket.
fn draw_bucket(rng: &mut Rng, table: &[(u32, u32, u32)]) -> f64 {
    let (lo, hi, _) = table[rng.weighted(table, |t| t.2)];
    let (a, b) = (f64::from(lo).ln(), f64::from(hi + 1).ln());
    (a + (b - a) * rng.unit()).exp().min(f64::from(hi) + 0.999)
}

/// A draw from the empirical CDF of sorted observations, log-interpolated.
fn draw_empirical(rng: &mut Rng, sorted: &[u32]) -> f64 {
    let u = rng.unit() * (sorted.len() - 1) as f64;
    let i = (u as usize).min(sorted.len() - 2);
    let t = u - i as f64;
    let (a, b) = (f64::from(sorted[i]).ln(), f64::from(sorted[i + 1]).ln());
    (a + (b - a) * t).exp()
}

// ---------------------------------------------------------------------------
// The build.
// ---------------------------------------------------------------------------

struct FunctionPlan {
    id: FunctionId,
    /// Per mille chance to run in a run.
    touch: u32,
    /// log2 of the entry count when it runs.
    level: u8,
    /// Index of the first arc in `Build::arcs`.
    first_arc: usize,
    arcs: usize,
}

/// Per arc: log2 below the entry count, and the per mille chance to be
/// non-zero when its function runs.
#[derive(Clone, Copy)]
struct ArcPlan {
    below: u8,
    reach: u16,
}

struct UnitPlan {
    path: String,
    stamp: u32,
    functions: Vec<FunctionPlan>,
}

struct Build {
    units: Vec<UnitPlan>,
    arcs: Vec<ArcPlan>,
}

fn plan_build(seed: u64, units: usize, functions: u64, counters: u64) -> Build {
    let mut rng = Rng::new(seed, 1, 0);

    // Unit paths: a seed-chosen subset of the tree (all of it, and numbered
    // extra units in the biggest directories, if more are asked for).
    let tree = tree_paths();
    let mut paths: Vec<String> = tree.clone();
    let mut extra = 0;
    while paths.len() < units {
        let base = &tree[rng.below(tree.len() as u64) as usize];
        extra += 1;
        paths.push(base.replace(".gcda", &format!("-{extra}.gcda")));
    }
    // Fisher-Yates, then keep the first `units` in tree order.
    let mut order: Vec<usize> = (0..paths.len()).collect();
    for i in (1..order.len()).rev() {
        order.swap(i, rng.below(i as u64 + 1) as usize);
    }
    let mut keep: Vec<usize> = order[..units].to_vec();
    keep.sort_unstable();
    // Xen lists units in reverse link order (each __gcov_init prepends).
    keep.reverse();

    let raw_funcs: Vec<f64> = (0..units)
        .map(|_| draw_empirical(&mut rng, FUNCTIONS_PER_UNIT))
        .collect();
    let per_unit = stretch(&raw_funcs, functions, &mut rng);
    let raw_arcs: Vec<f64> = (0..functions)
        .map(|_| draw_bucket(&mut rng, ARCS_PER_FUNCTION))
        .collect();
    let per_function = stretch(&raw_arcs, counters, &mut rng);

    let mut arcs: Vec<ArcPlan> = Vec::with_capacity(counters as usize);
    let mut next_fn = 0usize;
    let mut out = Vec::with_capacity(units);
    for (&k, &nf) in keep.iter().zip(&per_unit) {
        let mut idents = std::collections::HashSet::new();
        let mut fns = Vec::with_capacity(nf as usize);
        for _ in 0..nf {
            let n = per_function[next_fn] as usize;
            next_fn += 1;
            // GCC 12 idents are profile ids: 32-bit hashes, unique in the unit.
            let ident = loop {
                let x = (rng.next() >> 33) as u32;
                if idents.insert(x) {
                    break x;
                }
            };
            let class = rng.weighted(TOUCH_CLASSES, |c| c.0);
            let reach = NONZERO_SHARE
                .iter()
                .find(|(up_to, _)| n as u32 <= *up_to)
                .map_or(600, |s| s.1);
            let first_arc = arcs.len();
            for a in 0..n {
                arcs.push(ArcPlan {
                    // The first arc carries the entry count.
                    below: if a == 0 {
                        0
                    } else {
                        LOG2_BELOW_ENTRY[rng.weighted(LOG2_BELOW_ENTRY, |t| t.1)].0 as u8
                    },
                    // Some arcs are reached every time, some rarely: spread
                    // around the observed share.
                    reach: if a == 0 {
                        1000
                    } else {
                        let r = rng.unit();
                        (f64::from(reach) * (0.5 + r)).min(1000.0) as u16
                    },
                });
            }
            fns.push(FunctionPlan {
                id: FunctionId {
                    ident,
                    lineno_checksum: rng.next() as u32,
                    cfg_checksum: Some(rng.next() as u32),
                },
                touch: TOUCH_CLASSES[class].1,
                level: LOG2_ENTRY[rng.weighted(LOG2_ENTRY, |t| t.1)].0 as u8,
                first_arc,
                arcs: n,
            });
        }
        out.push(UnitPlan {
            path: paths[k].clone(),
            stamp: rng.next() as u32,
            functions: fns,
        });
    }
    Build { units: out, arcs }
}

/// The counters of one run of one unit, as the hypervisor's payload.
fn unit_payload(build: &Build, unit: &UnitPlan, version: Version, rng: &mut Rng) -> (Vec<u8>, u64) {
    let arcs_kind = version.format().counter_kinds[0];
    let mut touched = 0;
    let records = unit
        .functions
        .iter()
        .map(|f| {
            let mut values = vec![0u64; f.arcs];
            if rng.below(1000) < u64::from(f.touch) {
                touched += 1;
                // The run's entry count: the function's level, give or take 1.5 in log2.
                let entry = (f64::from(f.level) + 3.0 * rng.unit() - 1.5)
                    .max(0.0)
                    .exp2();
                let plans = &build.arcs[f.first_arc..f.first_arc + f.arcs];
                for (v, a) in values.iter_mut().zip(plans) {
                    if rng.below(1000) < u64::from(a.reach) {
                        let jitter = 0.5 + 1.5 * rng.unit();
                        let x = entry / f64::from(a.below).exp2() * jitter;
                        *v = (x.round() as u64).max(1);
                    }
                }
            }
            Record::Function(Function {
                id: Some(f.id),
                extra: Vec::new(),
                counters: vec![Counters {
                    kind: arcs_kind,
                    values: Values::Stored(values),
                }],
            })
        })
        .collect();
    let gcda = Gcda {
        header: Header {
            endian: Endian::Little,
            version,
            stamp: unit.stamp,
            // Xen always writes 0 here.
            checksum: Some(0),
        },
        records,
        end_marker: false,
        after_end: Vec::new(),
    };
    (gcda.encode(), touched)
}

struct Args {
    out: PathBuf,
    count: usize,
    seed: u64,
    units: usize,
    functions: u64,
    counters: u64,
}

fn parse_args() -> Result<Args, String> {
    let mut a = Args {
        out: PathBuf::new(),
        count: 0,
        seed: 1,
        units: 400,
        functions: 12_000,
        counters: 300_000,
    };
    let mut out = None;
    let mut count = None;
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{flag} needs a value"));
        let num = |s: String| s.parse::<u64>().map_err(|e| format!("{flag}: {s}: {e}"));
        match flag.as_str() {
            "--out" => out = Some(PathBuf::from(value()?)),
            "--count" => count = Some(num(value()?)? as usize),
            "--seed" => a.seed = num(value()?)?,
            "--units" => a.units = num(value()?)? as usize,
            "--functions" => a.functions = num(value()?)?,
            "--counters" => a.counters = num(value()?)?,
            "-h" | "--help" => {
                return Err(
                    "usage: gen_xen_scale --out DIR --count N [--seed S] [--units 400] \
                            [--functions 12000] [--counters 300000]"
                        .into(),
                );
            }
            other => return Err(format!("unknown argument {other} (try --help)")),
        }
    }
    a.out = out.ok_or("--out DIR is required")?;
    a.count = count.ok_or("--count N is required")?;
    if a.units == 0 || a.functions < a.units as u64 || a.counters < a.functions {
        return Err("need 0 < units <= functions <= counters".into());
    }
    Ok(a)
}

fn main() {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("gen_xen_scale: {e}");
            std::process::exit(2);
        }
    };
    let version = Version::new(12, 2, Status::Release).expect("GCC 12.2 is known");
    let build = plan_build(args.seed, args.units, args.functions, args.counters);
    if let Err(e) = std::fs::create_dir_all(&args.out) {
        eprintln!("gen_xen_scale: cannot create {}: {e}", args.out.display());
        std::process::exit(1);
    }
    let width = args.count.saturating_sub(1).to_string().len().max(3);
    let results: Vec<Result<(usize, u64), String>> = (0..args.count)
        .into_par_iter()
        .map(|run| {
            let mut total_touched = 0;
            let payloads: Vec<(&[u8], Vec<u8>)> = build
                .units
                .iter()
                .enumerate()
                .map(|(u, unit)| {
                    let mut rng = Rng::new(args.seed, 2 + run as u64, u as u64);
                    let (p, t) = unit_payload(&build, unit, version, &mut rng);
                    total_touched += t;
                    (unit.path.as_bytes(), p)
                })
                .collect();
            let dump = encode_container(
                Endian::Little,
                payloads.iter().map(|(p, b)| (*p, b.as_slice())),
            );
            let path = args.out.join(format!("xen-run-{run:0width$}.xcov"));
            std::fs::write(&path, &dump).map_err(|e| format!("{}: {e}", path.display()))?;
            Ok((dump.len(), total_touched))
        })
        .collect();
    let mut bytes = 0;
    let mut touched = 0;
    for r in results {
        match r {
            Ok((b, t)) => {
                bytes += b;
                touched += t;
            }
            Err(e) => {
                eprintln!("gen_xen_scale: cannot write {e}");
                std::process::exit(1);
            }
        }
    }
    let functions: usize = build.units.iter().map(|u| u.functions.len()).sum();
    let largest = build
        .units
        .iter()
        .map(|u| u.functions.len())
        .max()
        .unwrap_or(0);
    let biggest_fn = build
        .units
        .iter()
        .flat_map(|u| u.functions.iter().map(|f| f.arcs))
        .max()
        .unwrap_or(0);
    eprintln!(
        "gen_xen_scale: {} dumps in {}: {} units (largest {} functions), {} functions \
         (largest {} arcs), {} arc counters each; {:.2} MB per dump; {:.1} % of functions \
         touched per run",
        args.count,
        args.out.display(),
        build.units.len(),
        largest,
        functions,
        biggest_fn,
        build.arcs.len(),
        bytes as f64 / args.count.max(1) as f64 / 1e6,
        100.0 * touched as f64 / (functions * args.count.max(1)) as f64,
    );
}
