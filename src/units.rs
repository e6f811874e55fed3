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

/// A Kubernetes quantity in bytes: `1Gi`, `512Mi`, `1000k`, `2e9`-free plain numbers;
/// `None` for what is not one.
pub fn quantity(q: &str) -> Option<u64> {
    const SUFFIXES: [(&str, u64); 9] = [
        ("Ki", 1 << 10),
        ("Mi", 1 << 20),
        ("Gi", 1 << 30),
        ("Ti", 1 << 40),
        ("k", 1_000),
        ("M", 1_000_000),
        ("G", 1_000_000_000),
        ("T", 1_000_000_000_000),
        ("", 1),
    ];
    SUFFIXES
        .iter()
        .find_map(|(suffix, factor)| Some(q.strip_suffix(suffix)?.parse::<u64>().ok()? * factor))
}

#[cfg(test)]
mod tests {
    #[test]
    fn sizes() {
        assert_eq!(super::bytes(512), "512 B");
        assert_eq!(super::bytes(12884901888), "12.0 GiB");
        assert_eq!(super::bytes(1536 * 1024 * 1024), "1.5 GiB");
        assert_eq!(super::quantity("1Gi"), Some(1 << 30));
        assert_eq!(super::quantity("16318340Ki"), Some(16318340 << 10));
        assert_eq!(super::quantity("2000000000"), Some(2_000_000_000));
        assert_eq!(super::quantity("100m"), None);
    }
}
