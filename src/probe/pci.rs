//! PCI devices from sysfs, their PCIe link, their bound driver, and names from
//! `pci.ids`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::raw::RawInputs;

pub const VENDOR_NVIDIA: u16 = 0x10de;
pub const VENDOR_AMD: u16 = 0x1002;
pub const VENDOR_AMD_CPU: u16 = 0x1022;
pub const VENDOR_INTEL: u16 = 0x8086;
pub const VENDOR_CORAL: u16 = 0x1ac1;
pub const VENDOR_HAILO: u16 = 0x1e60;
pub const VENDOR_TENSTORRENT: u16 = 0x1e52;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PciDevice {
    pub address: String,
    pub vendor: u16,
    pub device: u16,
    /// The 24-bit class code: base class, subclass, programming interface.
    pub class: u32,
    pub driver: Option<String>,
    pub link: Option<PcieLink>,
}

impl PciDevice {
    pub fn base_class(&self) -> u8 {
        (self.class >> 16) as u8
    }

    /// Display controllers (0x03) and processing accelerators (0x12).
    pub fn is_display(&self) -> bool {
        self.base_class() == 0x03
    }

    pub fn is_accelerator(&self) -> bool {
        self.base_class() == 0x12
            || matches!(self.vendor, VENDOR_CORAL | VENDOR_HAILO | VENDOR_TENSTORRENT)
            // AMD's XDNA NPUs present as signal processing controllers (0x1180).
            || (self.vendor == VENDOR_AMD_CPU && self.class >> 8 == 0x1180)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PcieLink {
    pub current_gen: Option<u8>,
    pub current_width: Option<u8>,
    pub max_gen: Option<u8>,
    pub max_width: Option<u8>,
}

fn hex<T: TryFrom<u64>>(s: &str) -> Option<T> {
    let s = s.trim();
    let digits = s.strip_prefix("0x").unwrap_or(s);
    T::try_from(u64::from_str_radix(digits, 16).ok()?).ok()
}

/// `8.0 GT/s PCIe` → 3. Transfer rate per lane of each generation.
fn pcie_gen(speed: &str) -> Option<u8> {
    let rate: f64 = speed.split_whitespace().next()?.parse().ok()?;
    let gens = [
        (2.5, 1),
        (5.0, 2),
        (8.0, 3),
        (16.0, 4),
        (32.0, 5),
        (64.0, 6),
    ];
    gens.iter()
        .find(|(gt, _)| (rate - gt).abs() < 0.01)
        .map(|(_, g)| *g)
}

pub fn devices(raw: &RawInputs) -> Vec<PciDevice> {
    raw.children("sys/bus/pci/devices")
        .into_iter()
        .filter_map(|addr| {
            let leaf = |name: &str| raw.value(&format!("sys/bus/pci/devices/{addr}/{name}"));
            let width = |name: &str| leaf(name).and_then(|w| w.parse::<u8>().ok());
            let link = PcieLink {
                current_gen: leaf("current_link_speed").and_then(pcie_gen),
                current_width: width("current_link_width"),
                max_gen: leaf("max_link_speed").and_then(pcie_gen),
                max_width: width("max_link_width"),
            };
            let has_link = link.current_gen.is_some() || link.max_gen.is_some();
            Some(PciDevice {
                address: addr.to_string(),
                vendor: hex(leaf("vendor")?)?,
                device: hex(leaf("device")?)?,
                class: hex(leaf("class")?)?,
                driver: raw
                    .link_name(&format!("sys/bus/pci/devices/{addr}/driver"))
                    .map(str::to_string),
                link: has_link.then_some(link),
            })
        })
        .collect()
}

/// Vendor and device names from a `pci.ids` file.
#[derive(Debug, Default)]
pub struct PciNames {
    vendors: BTreeMap<u16, String>,
    devices: BTreeMap<(u16, u16), String>,
}

impl PciNames {
    pub fn parse(text: &str) -> Self {
        let mut names = PciNames::default();
        let mut vendor: Option<u16> = None;
        for line in text.lines() {
            if line.starts_with('#') || line.trim().is_empty() {
                continue;
            }
            // The class list at the end uses `C xx` lines; nothing after it is a vendor.
            if line.starts_with("C ") {
                break;
            }
            if let Some(rest) = line.strip_prefix('\t') {
                if rest.starts_with('\t') {
                    continue;
                }
                if let (Some(v), Some((id, name))) = (vendor, rest.split_once("  "))
                    && let Some(id) = hex::<u16>(id)
                {
                    names.devices.insert((v, id), name.trim().to_string());
                }
            } else if let Some((id, name)) = line.split_once("  ") {
                vendor = hex::<u16>(id);
                if let Some(v) = vendor {
                    names.vendors.insert(v, name.trim().to_string());
                }
            }
        }
        names
    }

    pub fn vendor(&self, vendor: u16) -> Option<&str> {
        self.vendors.get(&vendor).map(String::as_str)
    }

    pub fn device(&self, vendor: u16, device: u16) -> Option<&str> {
        self.devices.get(&(vendor, device)).map(String::as_str)
    }
}

/// The lines of `pci.ids` that name the given devices: what a snapshot keeps.
pub fn pci_ids_extract(text: &str, wanted: &[(u16, u16)]) -> String {
    let mut out = String::new();
    let mut keep_vendor = None;
    for line in text.lines() {
        if line.starts_with("C ") {
            break;
        }
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        if let Some(rest) = line.strip_prefix('\t') {
            // Most lines belong to vendors we skip: test that before any parsing.
            let Some(v) = keep_vendor else { continue };
            if let Some((id, _)) = rest.split_once("  ")
                && !rest.starts_with('\t')
                && hex::<u16>(id).is_some_and(|d| wanted.contains(&(v, d)))
            {
                out.push_str(line);
                out.push('\n');
            }
        } else if let Some((id, _)) = line.split_once("  ") {
            keep_vendor = hex::<u16>(id).filter(|v| wanted.iter().any(|(wv, _)| wv == v));
            if keep_vendor.is_some() {
                out.push_str(line);
                out.push('\n');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const IDS: &str = "# comment\n10de  NVIDIA Corporation\n\t2504  GA106 [GeForce RTX 3060 Lite Hash Rate]\n\t\t1458 4074  subsystem line\n\t2204  GA102 [GeForce RTX 3090]\n8086  Intel Corporation\n\t46d1  Alder Lake-N [UHD Graphics]\nC 03  Display controller\n\t00  VGA compatible controller\n";

    #[test]
    fn names_and_extract() {
        let names = PciNames::parse(IDS);
        assert_eq!(names.vendor(0x10de), Some("NVIDIA Corporation"));
        assert_eq!(
            names.device(0x10de, 0x2504),
            Some("GA106 [GeForce RTX 3060 Lite Hash Rate]")
        );
        assert_eq!(
            names.device(0x8086, 0x46d1),
            Some("Alder Lake-N [UHD Graphics]")
        );
        assert_eq!(names.vendor(0x0003), None);
        let extract = pci_ids_extract(IDS, &[(0x10de, 0x2504)]);
        assert_eq!(
            extract,
            "10de  NVIDIA Corporation\n\t2504  GA106 [GeForce RTX 3060 Lite Hash Rate]\n"
        );
    }

    #[test]
    fn link_generations() {
        assert_eq!(pcie_gen("8.0 GT/s PCIe"), Some(3));
        assert_eq!(pcie_gen("2.5 GT/s"), Some(1));
        assert_eq!(pcie_gen("16.0 GT/s PCIe"), Some(4));
        assert_eq!(pcie_gen("Unknown"), None);
    }

    #[test]
    fn device_with_bad_ids_is_skipped() {
        let mut raw = RawInputs::default();
        let base = "sys/bus/pci/devices/0000:01:00.0";
        raw.texts
            .insert(format!("{base}/vendor"), "0x10de\n".into());
        raw.texts.insert(format!("{base}/device"), "zzz\n".into());
        raw.texts
            .insert(format!("{base}/class"), "0x030000\n".into());
        assert!(devices(&raw).is_empty());
        raw.texts
            .insert(format!("{base}/device"), "0x2504\n".into());
        let devs = devices(&raw);
        assert_eq!(devs.len(), 1);
        assert!(devs[0].is_display());
        assert_eq!(devs[0].driver, None);
    }
}
