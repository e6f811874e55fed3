//! Live CPU features through CPUID (raw-cpuid), named as `/proc/cpuinfo` names them.

use crate::probe::cpu::CpuidReport;

/// Read CPUID; `None` off x86.
#[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
pub fn report() -> Option<CpuidReport> {
    use raw_cpuid::{CpuId, Hypervisor};

    let cpuid = CpuId::new();
    let mut flags: Vec<&str> = Vec::new();
    let mut add = |on: bool, name: &'static str| {
        if on {
            flags.push(name);
        }
    };
    let (avx_state, avx512_state, amx_state) = os_enabled_state();
    if let Some(f) = cpuid.get_feature_info() {
        add(f.has_sse3(), "pni");
        add(f.has_ssse3(), "ssse3");
        add(f.has_sse41(), "sse4_1");
        add(f.has_sse42(), "sse4_2");
        add(f.has_popcnt(), "popcnt");
        add(f.has_cmpxchg16b(), "cx16");
        add(f.has_movbe(), "movbe");
        add(f.has_xsave(), "xsave");
        add(f.has_aesni(), "aes");
        add(f.has_vmx(), "vmx");
        add(f.has_hypervisor(), "hypervisor");
        add(f.has_avx() && avx_state, "avx");
        add(f.has_fma() && avx_state, "fma");
        add(f.has_f16c() && avx_state, "f16c");
    }
    if let Some(e) = cpuid.get_extended_feature_info() {
        add(e.has_bmi1(), "bmi1");
        add(e.has_bmi2(), "bmi2");
        add(e.has_avx2() && avx_state, "avx2");
        add(e.has_avx_vnni() && avx_state, "avx_vnni");
        add(e.has_avx512f() && avx512_state, "avx512f");
        add(e.has_avx512cd() && avx512_state, "avx512cd");
        add(e.has_avx512vl() && avx512_state, "avx512vl");
        add(e.has_avx512dq() && avx512_state, "avx512dq");
        add(e.has_avx512bw() && avx512_state, "avx512bw");
        add(e.has_avx512vbmi() && avx512_state, "avx512vbmi");
        add(e.has_avx512vnni() && avx512_state, "avx512_vnni");
        add(e.has_avx512_bf16() && avx512_state, "avx512_bf16");
        add(e.has_amx_tile() && amx_state, "amx_tile");
        add(e.has_amx_int8() && amx_state, "amx_int8");
        add(e.has_amx_bf16() && amx_state, "amx_bf16");
    }
    if let Some(x) = cpuid.get_extended_processor_and_feature_identifiers() {
        add(x.has_lahf_sahf(), "lahf_lm");
        add(x.has_lzcnt(), "abm");
        add(x.has_svm(), "svm");
    }
    let hypervisor = cpuid.get_hypervisor_info().map(|h| {
        match h.identify() {
            Hypervisor::KVM => "kvm",
            Hypervisor::QEMU => "qemu",
            Hypervisor::VMware => "vmware",
            Hypervisor::HyperV => "hyperv",
            Hypervisor::Xen => "xen",
            Hypervisor::Bhyve => "bhyve",
            Hypervisor::QNX => "qnx",
            Hypervisor::ACRN => "acrn",
            Hypervisor::Unknown(..) => "unknown",
        }
        .to_string()
    });
    flags.sort_unstable();
    Some(CpuidReport {
        schema: 1,
        vendor: cpuid.get_vendor_info().map(|v| v.as_str().to_string()),
        brand: cpuid
            .get_processor_brand_string()
            .map(|b| b.as_str().trim().to_string()),
        flags: flags.into_iter().map(str::to_string).collect(),
        hypervisor,
    })
}

#[cfg(not(any(target_arch = "x86", target_arch = "x86_64")))]
pub fn report() -> Option<CpuidReport> {
    None
}

/// Which register states the kernel enabled in XCR0: a CPU can have AVX-512 that the
/// OS (or the hypervisor) keeps switched off, and /proc/cpuinfo then hides it too.
/// Returns (AVX, AVX-512, AMX).
#[cfg(target_arch = "x86_64")]
fn os_enabled_state() -> (bool, bool, bool) {
    let osxsave = raw_cpuid::CpuId::new()
        .get_feature_info()
        .is_some_and(|f| f.has_oxsave());
    if !osxsave {
        return (false, false, false);
    }
    // SAFETY: XGETBV is available whenever CPUID reports OSXSAVE, checked above.
    let xcr0 = unsafe { xgetbv0() };
    let avx = xcr0 & 0b110 == 0b110;
    let avx512 = avx && xcr0 & 0b1110_0000 == 0b1110_0000;
    let amx = xcr0 & (0b11 << 17) == 0b11 << 17;
    (avx, avx512, amx)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "xsave")]
unsafe fn xgetbv0() -> u64 {
    // SAFETY: the caller checked OSXSAVE, so XGETBV with XCR0 cannot fault.
    unsafe { std::arch::x86_64::_xgetbv(0) }
}

#[cfg(target_arch = "x86")]
fn os_enabled_state() -> (bool, bool, bool) {
    (true, true, false)
}
