//! CPU facts: vendor, model, topology, the feature flags llama.cpp cares about, the
//! x86-64 level and the llama.cpp CPU variant, and whether we run under a hypervisor.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::Note;
use super::raw::{CPUID_JSON, RawInputs};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CpuFacts {
    /// `x86_64`, `aarch64`, or `unknown` when cpuinfo is unreadable.
    pub arch: String,
    pub vendor: Option<String>,
    pub model: Option<String>,
    pub sockets: u32,
    pub cores: u32,
    pub threads: u32,
    pub features: CpuFeatures,
    /// x86-64 micro-architecture level 1–4 (`None` off x86).
    pub x86_level: Option<u8>,
    /// The llama.cpp CPU backend variant whose requirements this CPU meets.
    pub llama_cpu_variant: Option<String>,
    /// `kvm`, `vmware`, `hyperv`, `xen`, `virtualbox`, `parallels`, `qemu`, or `unknown`
    /// when the hypervisor bit is set but names nobody; `None` on bare metal.
    pub hypervisor: Option<String>,
    /// Where the feature flags came from: `cpuid` (live) or `cpuinfo`.
    pub features_source: String,
}

/// The features that decide which llama.cpp kernels run. x86 names follow
/// `/proc/cpuinfo`; the aarch64 ones are false on x86 and vice versa.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CpuFeatures {
    pub sse4_2: bool,
    pub avx: bool,
    pub avx2: bool,
    pub fma: bool,
    pub f16c: bool,
    pub bmi2: bool,
    pub avx512f: bool,
    pub avx512cd: bool,
    pub avx512vl: bool,
    pub avx512dq: bool,
    pub avx512bw: bool,
    pub avx512vbmi: bool,
    pub avx512_vnni: bool,
    pub avx512_bf16: bool,
    pub avx_vnni: bool,
    pub amx_tile: bool,
    pub amx_int8: bool,
    pub amx_bf16: bool,
    pub aes: bool,
    /// Intel VT-x.
    pub vmx: bool,
    /// AMD-V.
    pub svm: bool,
    pub neon: bool,
    pub sve: bool,
    pub sve2: bool,
    pub dotprod: bool,
    pub i8mm: bool,
}

impl CpuFeatures {
    fn from_flags(flags: &BTreeSet<String>) -> Self {
        let has = |name: &str| flags.contains(name);
        CpuFeatures {
            sse4_2: has("sse4_2"),
            avx: has("avx"),
            avx2: has("avx2"),
            fma: has("fma"),
            f16c: has("f16c"),
            bmi2: has("bmi2"),
            avx512f: has("avx512f"),
            avx512cd: has("avx512cd"),
            avx512vl: has("avx512vl"),
            avx512dq: has("avx512dq"),
            avx512bw: has("avx512bw"),
            avx512vbmi: has("avx512vbmi"),
            avx512_vnni: has("avx512_vnni"),
            avx512_bf16: has("avx512_bf16"),
            avx_vnni: has("avx_vnni"),
            amx_tile: has("amx_tile"),
            amx_int8: has("amx_int8"),
            amx_bf16: has("amx_bf16"),
            aes: has("aes"),
            vmx: has("vmx"),
            svm: has("svm"),
            neon: has("asimd"),
            sve: has("sve"),
            sve2: has("sve2"),
            dotprod: has("asimddp"),
            i8mm: has("i8mm"),
        }
    }

    /// AVX-512 as llama.cpp needs it: F, CD, VL, DQ and BW together.
    pub fn avx512(&self) -> bool {
        self.avx512f && self.avx512cd && self.avx512vl && self.avx512dq && self.avx512bw
    }
}

/// The x86-64 psABI levels, from the cpuinfo flag names.
fn x86_level(flags: &BTreeSet<String>) -> u8 {
    let all = |names: &[&str]| names.iter().all(|n| flags.contains(*n));
    let v2 = all(&[
        "cx16", "lahf_lm", "popcnt", "pni", "sse4_1", "sse4_2", "ssse3",
    ]);
    let v3 = v2
        && all(&[
            "avx", "avx2", "bmi1", "bmi2", "f16c", "fma", "abm", "movbe", "xsave",
        ]);
    let v4 = v3 && all(&["avx512f", "avx512bw", "avx512cd", "avx512dq", "avx512vl"]);
    match (v2, v3, v4) {
        (_, _, true) => 4,
        (_, true, _) => 3,
        (true, _, _) => 2,
        _ => 1,
    }
}

/// The ggml CPU backend variants, best first, each with what it needs.
fn llama_variant(f: &CpuFeatures) -> &'static str {
    let haswell = f.avx2 && f.fma && f.f16c && f.bmi2;
    let ladder: [(&str, bool); 12] = [
        (
            "sapphirerapids",
            f.avx512()
                && f.avx512vbmi
                && f.avx512_vnni
                && f.avx512_bf16
                && f.amx_tile
                && f.amx_int8,
        ),
        (
            "zen4",
            f.avx512() && f.avx512vbmi && f.avx512_vnni && f.avx512_bf16,
        ),
        ("cooperlake", f.avx512() && f.avx512_vnni && f.avx512_bf16),
        ("icelake", f.avx512() && f.avx512vbmi && f.avx512_vnni),
        ("cascadelake", f.avx512() && f.avx512_vnni),
        ("cannonlake", f.avx512() && f.avx512vbmi),
        ("skylakex", f.avx512()),
        ("alderlake", haswell && f.avx_vnni),
        ("haswell", haswell),
        ("ivybridge", f.avx && f.f16c),
        ("sandybridge", f.avx),
        ("sse42", f.sse4_2),
    ];
    ladder
        .iter()
        .find(|(_, ok)| *ok)
        .map(|(name, _)| *name)
        .unwrap_or("x64")
}

/// What a live CPUID read reported (see docs/snapshot.md).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CpuidReport {
    pub schema: u32,
    pub vendor: Option<String>,
    pub brand: Option<String>,
    pub flags: Vec<String>,
    pub hypervisor: Option<String>,
}

/// The key/value blocks of /proc/cpuinfo, one per logical CPU (or one global block on
/// some aarch64 kernels).
fn cpuinfo_blocks(text: &str) -> Vec<BTreeMap<&str, &str>> {
    text.split("\n\n")
        .map(|block| {
            block
                .lines()
                .filter_map(|l| l.split_once(':'))
                .map(|(k, v)| (k.trim(), v.trim()))
                .collect::<BTreeMap<_, _>>()
        })
        .filter(|b| !b.is_empty())
        .collect()
}

const ARM_IMPLEMENTERS: &[(&str, &str)] = &[
    ("0x41", "ARM"),
    ("0x42", "Broadcom"),
    ("0x43", "Cavium"),
    ("0x46", "Fujitsu"),
    ("0x48", "HiSilicon"),
    ("0x4e", "NVIDIA"),
    ("0x50", "Ampere (APM)"),
    ("0x51", "Qualcomm"),
    ("0x61", "Apple"),
    ("0xc0", "Ampere"),
];

pub fn probe(raw: &RawInputs, notes: &mut Vec<Note>) -> CpuFacts {
    let text = raw.text("proc/cpuinfo").unwrap_or_default();
    if text.is_empty() {
        notes.push(Note::new("cpu", raw.why_missing("proc/cpuinfo")));
    }
    let blocks = cpuinfo_blocks(text);
    let processors: Vec<&BTreeMap<&str, &str>> = blocks
        .iter()
        .filter(|b| b.contains_key("processor"))
        .collect();
    let first = processors.first().copied().or(blocks.first());
    let field = |key: &str| {
        blocks
            .iter()
            .find_map(|b| b.get(key))
            .map(|v| v.to_string())
            .filter(|v| !v.is_empty())
    };

    let x86 = field("flags").is_some() || field("vendor_id").is_some();
    let arm = field("Features").is_some() || field("CPU implementer").is_some();
    let arch = match (x86, arm) {
        (true, _) => "x86_64",
        (false, true) => "aarch64",
        _ => "unknown",
    };

    let mut flags: BTreeSet<String> = first
        .and_then(|b| b.get("flags").or(b.get("Features")))
        .or(blocks.iter().find_map(|b| b.get("Features")))
        .map(|f| f.split_whitespace().map(str::to_string).collect())
        .unwrap_or_default();
    let mut features_source = "cpuinfo";
    let mut vendor = field("vendor_id");
    let mut model = field("model name");
    let mut cpuid_hypervisor = None;
    if let Some(json) = raw.text(CPUID_JSON) {
        match serde_json::from_str::<CpuidReport>(json) {
            Ok(report) => {
                flags = report.flags.into_iter().collect();
                features_source = "cpuid";
                vendor = report.vendor.or(vendor);
                model = report.brand.or(model);
                cpuid_hypervisor = report.hypervisor;
            }
            Err(e) => notes.push(Note::new(
                "cpu",
                format!("`/{CPUID_JSON}` is malformed: {e}"),
            )),
        }
    }
    if arch == "aarch64" {
        let implementer = field("CPU implementer").map(|i| i.to_lowercase());
        vendor = vendor.or_else(|| {
            implementer.map(|i| {
                ARM_IMPLEMENTERS
                    .iter()
                    .find(|(id, _)| *id == i)
                    .map(|(_, name)| name.to_string())
                    .unwrap_or(format!("implementer {i}"))
            })
        });
        model = model.or_else(|| {
            raw.value("sys/class/dmi/id/product_name")
                .map(str::to_string)
        });
    }

    let threads = processors.len().max(usize::from(!blocks.is_empty())) as u32;
    let (sockets, cores) = topology(raw, &processors, threads);
    let features = CpuFeatures::from_flags(&flags);
    let is_x86 = arch == "x86_64";
    let hypervisor = cpuid_hypervisor.or_else(|| hypervisor_from_files(raw, &flags));

    CpuFacts {
        arch: arch.to_string(),
        vendor,
        model,
        sockets,
        cores,
        threads,
        x86_level: is_x86.then(|| x86_level(&flags)),
        llama_cpu_variant: is_x86.then(|| llama_variant(&features).to_string()),
        features,
        hypervisor,
        features_source: features_source.to_string(),
    }
}

/// Sockets and physical cores: cpuinfo's `physical id`/`core id`, else sysfs topology,
/// else one socket with one core per thread.
fn topology(raw: &RawInputs, processors: &[&BTreeMap<&str, &str>], threads: u32) -> (u32, u32) {
    let pairs: BTreeSet<(&str, &str)> = processors
        .iter()
        .filter_map(|b| Some((*b.get("physical id")?, *b.get("core id")?)))
        .collect();
    if !pairs.is_empty() {
        let sockets = pairs.iter().map(|(s, _)| *s).collect::<BTreeSet<_>>().len();
        return (sockets as u32, pairs.len() as u32);
    }
    let mut sys_pairs = BTreeSet::new();
    for cpu in raw.children("sys/devices/system/cpu") {
        let base = format!("sys/devices/system/cpu/{cpu}/topology");
        if let (Some(pkg), Some(core)) = (
            raw.value(&format!("{base}/physical_package_id")),
            raw.value(&format!("{base}/core_id")),
        ) {
            sys_pairs.insert((pkg.to_string(), core.to_string()));
        }
    }
    if !sys_pairs.is_empty() {
        let sockets = sys_pairs
            .iter()
            .map(|(s, _)| s)
            .collect::<BTreeSet<_>>()
            .len();
        return (sockets as u32, sys_pairs.len() as u32);
    }
    (u32::from(threads > 0), threads)
}

/// Which hypervisor, from the cpuinfo bit and the DMI strings QEMU, VMware, Hyper-V,
/// VirtualBox, Xen and Parallels set.
fn hypervisor_from_files(raw: &RawInputs, flags: &BTreeSet<String>) -> Option<String> {
    let dmi = |leaf: &str| {
        raw.value(&format!("sys/class/dmi/id/{leaf}"))
            .unwrap_or_default()
            .to_lowercase()
    };
    let (vendor, product) = (dmi("sys_vendor"), dmi("product_name"));
    let xen = raw.value("sys/hypervisor/type") == Some("xen");
    let named = if vendor.contains("qemu") || product.contains("kvm") {
        Some("kvm")
    } else if vendor.contains("vmware") {
        Some("vmware")
    } else if vendor.contains("microsoft") && product.contains("virtual") {
        Some("hyperv")
    } else if vendor.contains("innotek") || product.contains("virtualbox") {
        Some("virtualbox")
    } else if vendor.contains("xen") || xen {
        Some("xen")
    } else if vendor.contains("parallels") {
        Some("parallels")
    } else {
        None
    };
    match (flags.contains("hypervisor"), named) {
        (_, Some(name)) => Some(name.to_string()),
        (true, None) => Some("unknown".to_string()),
        (false, None) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flags(s: &str) -> BTreeSet<String> {
        s.split_whitespace().map(str::to_string).collect()
    }

    #[test]
    fn variant_ladder() {
        let f = |s: &str| llama_variant(&CpuFeatures::from_flags(&flags(s)));
        assert_eq!(f(""), "x64");
        assert_eq!(f("sse4_2"), "sse42");
        assert_eq!(f("sse4_2 avx"), "sandybridge");
        assert_eq!(f("sse4_2 avx f16c"), "ivybridge");
        assert_eq!(f("avx avx2 fma f16c bmi2"), "haswell");
        assert_eq!(f("avx avx2 fma f16c bmi2 avx_vnni"), "alderlake");
        let avx512 = "avx avx2 fma f16c bmi2 avx512f avx512cd avx512vl avx512dq avx512bw";
        assert_eq!(f(avx512), "skylakex");
        assert_eq!(f(&format!("{avx512} avx512_vnni")), "cascadelake");
        assert_eq!(f(&format!("{avx512} avx512_vnni avx512vbmi")), "icelake");
        assert_eq!(
            f(&format!("{avx512} avx512_vnni avx512_bf16")),
            "cooperlake"
        );
        assert_eq!(
            f(&format!("{avx512} avx512_vnni avx512_bf16 avx512vbmi")),
            "zen4"
        );
        assert_eq!(
            f(&format!(
                "{avx512} avx512_vnni avx512_bf16 avx512vbmi amx_tile amx_int8"
            )),
            "sapphirerapids"
        );
        // AVX-512F alone is not enough for the skylakex kernels.
        assert_eq!(f("avx avx2 fma f16c bmi2 avx512f"), "haswell");
    }

    #[test]
    fn x86_levels() {
        let v2 = "cx16 lahf_lm popcnt pni sse4_1 sse4_2 ssse3";
        let v3 = format!("{v2} avx avx2 bmi1 bmi2 f16c fma abm movbe xsave");
        let v4 = format!("{v3} avx512f avx512bw avx512cd avx512dq avx512vl");
        assert_eq!(x86_level(&flags("sse2")), 1);
        assert_eq!(x86_level(&flags(v2)), 2);
        assert_eq!(x86_level(&flags(&v3)), 3);
        assert_eq!(x86_level(&flags(&v4)), 4);
    }

    #[test]
    fn aarch64_cpuinfo_is_understood() {
        let mut raw = RawInputs::default();
        let block = "processor\t: 0\nBogoMIPS\t: 50.00\nFeatures\t: fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp cpuid asimdrdm lrcpc dcpop asimddp ssbs\nCPU implementer\t: 0x41\nCPU architecture: 8\nCPU variant\t: 0x3\nCPU part\t: 0xd0c\nCPU revision\t: 1\n";
        raw.texts.insert(
            "proc/cpuinfo".into(),
            format!("{block}\n{}", block.replace(": 0\n", ": 1\n")),
        );
        let mut notes = Vec::new();
        let cpu = probe(&raw, &mut notes);
        assert_eq!(cpu.arch, "aarch64");
        assert_eq!(cpu.vendor.as_deref(), Some("ARM"));
        assert_eq!(cpu.threads, 2);
        assert!(cpu.features.neon && cpu.features.dotprod && !cpu.features.sve);
        assert_eq!(cpu.x86_level, None);
        assert!(notes.is_empty());
    }

    #[test]
    fn malformed_cpuinfo_does_not_panic() {
        let mut raw = RawInputs::default();
        raw.texts
            .insert("proc/cpuinfo".into(), "garbage\n\n:::\nflags\n".into());
        let mut notes = Vec::new();
        let cpu = probe(&raw, &mut notes);
        assert_eq!(cpu.arch, "unknown");
        assert_eq!(cpu.llama_cpu_variant, None);
    }
}
