//! Memory facts: RAM, swap split into disk swap and zram, zram compression, and the
//! cgroup memory limit this process runs under.

use serde::{Deserialize, Serialize};

use super::Note;
use super::raw::RawInputs;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MemoryFacts {
    pub total_bytes: Option<u64>,
    pub available_bytes: Option<u64>,
    pub swap_total_bytes: u64,
    pub swap_free_bytes: u64,
    /// Swap on disk (partitions and files), which is not zram.
    pub disk_swap_bytes: u64,
    /// Swap on zram devices: compressed RAM, never counted as RAM for a model.
    pub zram_swap_bytes: u64,
    pub swaps: Vec<Swap>,
    pub zram: Vec<Zram>,
    /// The memory limit of this process's cgroup, when lower than the RAM.
    pub cgroup_limit_bytes: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Swap {
    pub device: String,
    /// `partition`, `file` or `zram`.
    pub kind: String,
    pub size_bytes: u64,
    pub used_bytes: u64,
    pub priority: i32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Zram {
    pub device: String,
    pub disksize_bytes: u64,
    pub algorithm: Option<String>,
    pub orig_data_bytes: Option<u64>,
    pub compr_data_bytes: Option<u64>,
    pub mem_used_bytes: Option<u64>,
    /// orig_data / compr_data, when anything is stored.
    pub compression_ratio: Option<f64>,
    pub used_as_swap: bool,
}

/// A `/proc/meminfo` field in bytes.
fn meminfo_field(text: &str, key: &str) -> Option<u64> {
    text.lines().find_map(|line| {
        let (k, rest) = line.split_once(':')?;
        if k.trim() != key {
            return None;
        }
        let mut parts = rest.split_whitespace();
        let n: u64 = parts.next()?.parse().ok()?;
        Some(match parts.next() {
            Some("kB") => n * 1024,
            _ => n,
        })
    })
}

fn parse_swaps(text: &str) -> Vec<Swap> {
    text.lines()
        .skip(1)
        .filter_map(|line| {
            let f: Vec<&str> = line.split_whitespace().collect();
            let [device, kind, size, used, priority] = f.get(..5)? else {
                return None;
            };
            let device = device.replace("\\040", " ");
            let kind = if zram_name(&device).is_some() {
                "zram".to_string()
            } else {
                kind.to_string()
            };
            Some(Swap {
                device,
                kind,
                size_bytes: size.parse::<u64>().ok()? * 1024,
                used_bytes: used.parse::<u64>().ok()? * 1024,
                priority: priority.parse().ok()?,
            })
        })
        .collect()
}

fn zram_name(device: &str) -> Option<&str> {
    device
        .strip_prefix("/dev/")
        .filter(|name| name.starts_with("zram"))
}

/// The active algorithm is the bracketed one: `lzo lzo-rle [zstd]`.
fn active_algorithm(text: &str) -> Option<String> {
    let t = text.trim();
    if let (Some(start), Some(end)) = (t.find('['), t.find(']'))
        && start < end
    {
        return Some(t[start + 1..end].to_string());
    }
    (!t.is_empty() && !t.contains(' ')).then(|| t.to_string())
}

fn parse_limit(text: &str) -> Option<u64> {
    text.trim().parse().ok()
}

pub fn probe(raw: &RawInputs, notes: &mut Vec<Note>) -> MemoryFacts {
    let meminfo = raw.text("proc/meminfo");
    if meminfo.is_none() {
        notes.push(Note::new("memory", raw.why_missing("proc/meminfo")));
    }
    let field = |key| meminfo.and_then(|t| meminfo_field(t, key));
    let total = field("MemTotal");
    if meminfo.is_some() && total.is_none() {
        notes.push(Note::new("memory", "`/proc/meminfo` has no MemTotal line"));
    }
    let swaps = raw.text("proc/swaps").map(parse_swaps).unwrap_or_default();
    let zram_swap_bytes = swaps
        .iter()
        .filter(|s| s.kind == "zram")
        .map(|s| s.size_bytes)
        .sum();
    let disk_swap_bytes = swaps
        .iter()
        .filter(|s| s.kind != "zram")
        .map(|s| s.size_bytes)
        .sum();

    let zram = raw
        .children("sys/block")
        .into_iter()
        .filter_map(|dev| {
            let base = format!("sys/block/{dev}");
            let disksize: u64 = raw.value(&format!("{base}/disksize"))?.parse().ok()?;
            let stat: Vec<u64> = raw
                .value(&format!("{base}/mm_stat"))
                .unwrap_or_default()
                .split_whitespace()
                .filter_map(|n| n.parse().ok())
                .collect();
            let (orig, compr) = (stat.first().copied(), stat.get(1).copied());
            let ratio = match (orig, compr) {
                (Some(o), Some(c)) if c > 0 && o > 0 => {
                    Some(((o as f64 / c as f64) * 100.0).round() / 100.0)
                }
                _ => None,
            };
            Some(Zram {
                device: format!("/dev/{dev}"),
                disksize_bytes: disksize,
                algorithm: raw
                    .text(&format!("{base}/comp_algorithm"))
                    .and_then(active_algorithm),
                orig_data_bytes: orig,
                compr_data_bytes: compr,
                mem_used_bytes: stat.get(2).copied(),
                compression_ratio: ratio,
                used_as_swap: swaps.iter().any(|s| zram_name(&s.device) == Some(dev)),
            })
        })
        .filter(|z| z.disksize_bytes > 0)
        .collect();

    // cgroup v2 writes `max` for no limit; v1 writes a huge page-aligned number.
    let cgroup_limit_bytes = raw
        .texts
        .iter()
        .filter(|(path, _)| {
            path.starts_with("sys/fs/cgroup/")
                && (path.ends_with("/memory.max") || path.ends_with("/memory.limit_in_bytes"))
        })
        .filter_map(|(_, text)| parse_limit(text))
        .min()
        .filter(|limit| total.is_none_or(|t| *limit < t));

    MemoryFacts {
        total_bytes: total,
        available_bytes: field("MemAvailable"),
        swap_total_bytes: field("SwapTotal").unwrap_or(0),
        swap_free_bytes: field("SwapFree").unwrap_or(0),
        disk_swap_bytes,
        zram_swap_bytes,
        swaps,
        zram,
        cgroup_limit_bytes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn swaps_split_zram_from_disk() {
        let text = "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n/dev/zram0                              partition\t8388604\t\t0\t\t100\n/swap.img                               file\t\t2097148\t\t512\t\t-2\n";
        let swaps = parse_swaps(text);
        assert_eq!(swaps.len(), 2);
        assert_eq!(swaps[0].kind, "zram");
        assert_eq!(swaps[0].size_bytes, 8388604 * 1024);
        assert_eq!(swaps[1].kind, "file");
        assert_eq!(swaps[1].priority, -2);
    }

    #[test]
    fn zram_algorithm_and_ratio() {
        assert_eq!(
            active_algorithm("lzo lzo-rle lz4 [zstd]\n").as_deref(),
            Some("zstd")
        );
        assert_eq!(active_algorithm("zstd\n").as_deref(), Some("zstd"));
        let mut raw = RawInputs::default();
        raw.texts
            .insert("sys/block/zram0/disksize".into(), "8589934592\n".into());
        raw.texts.insert(
            "sys/block/zram0/mm_stat".into(),
            "  409600000 102400000 110000000 0 120000000 100 5 0 0\n".into(),
        );
        raw.texts.insert(
            "sys/block/zram0/comp_algorithm".into(),
            "lzo-rle [zstd]\n".into(),
        );
        let m = probe(&raw, &mut Vec::new());
        assert_eq!(m.zram.len(), 1);
        assert_eq!(m.zram[0].compression_ratio, Some(4.0));
        assert_eq!(m.zram[0].algorithm.as_deref(), Some("zstd"));
        assert!(!m.zram[0].used_as_swap);
    }

    #[test]
    fn cgroup_limit_only_when_below_ram() {
        let mut raw = RawInputs::default();
        raw.texts.insert(
            "proc/meminfo".into(),
            "MemTotal:       16384000 kB\n".into(),
        );
        raw.texts
            .insert("sys/fs/cgroup/a/memory.max".into(), "max\n".into());
        assert_eq!(probe(&raw, &mut Vec::new()).cgroup_limit_bytes, None);
        raw.texts
            .insert("sys/fs/cgroup/a/memory.max".into(), "4294967296\n".into());
        assert_eq!(
            probe(&raw, &mut Vec::new()).cgroup_limit_bytes,
            Some(4294967296)
        );
        raw.texts.insert(
            "sys/fs/cgroup/a/memory.max".into(),
            "9223372036854771712\n".into(),
        );
        assert_eq!(probe(&raw, &mut Vec::new()).cgroup_limit_bytes, None);
    }
}
