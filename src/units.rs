//! PURE: byte sizes for people (binary units, as `free -h` and NVML's MiB use).

const UNITS: [&str; 6] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];

/// `12884901888` → `12.0 GiB`; one decimal above KiB.
pub fn bytes(n: u64) -> String {
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

pub const GIB: u64 = 1 << 30;

#[cfg(test)]
mod tests {
    #[test]
    fn sizes() {
        assert_eq!(super::bytes(512), "512 B");
        assert_eq!(super::bytes(12884901888), "12.0 GiB");
        assert_eq!(super::bytes(1536 * 1024 * 1024), "1.5 GiB");
    }
}
