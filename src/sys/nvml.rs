//! Live NVIDIA facts through NVML (nvml-wrapper loads libnvidia-ml at run time, so
//! this builds and runs on boxes without a driver).

use nvml_wrapper::Nvml;
use nvml_wrapper::enum_wrappers::device::TemperatureSensor;
use nvml_wrapper::error::NvmlError;

use crate::probe::nvidia::{self, NvidiaReport, NvmlGpu};

/// Ask NVML everything uaiso needs. Never fails: what NVML refuses is recorded.
pub fn report() -> NvidiaReport {
    let nvml = match Nvml::init() {
        Ok(n) => n,
        Err(e) => {
            return NvidiaReport {
                schema: nvidia::SCHEMA,
                error: Some(format!("NVML could not start: {e}")),
                ..NvidiaReport::default()
            };
        }
    };
    let mut report = NvidiaReport {
        schema: nvidia::SCHEMA,
        error: None,
        driver_version: nvml.sys_driver_version().ok(),
        cuda_driver_version: nvml.sys_cuda_driver_version().ok().map(|v| {
            format!(
                "{}.{}",
                nvml_wrapper::cuda_driver_version_major(v),
                nvml_wrapper::cuda_driver_version_minor(v)
            )
        }),
        gpus: Vec::new(),
    };
    let count = match nvml.device_count() {
        Ok(c) => c,
        Err(e) => {
            report.error = Some(format!("NVML could not count the GPUs: {e}"));
            return report;
        }
    };
    for index in 0..count {
        let mut gpu = NvmlGpu {
            index,
            ..NvmlGpu::default()
        };
        let device = match nvml.device_by_index(index) {
            Ok(d) => d,
            Err(e) => {
                gpu.errors.push(format!("device: {e}"));
                report.gpus.push(gpu);
                continue;
            }
        };
        let mut errors = Vec::new();
        let mut ask = |what: &str, e: NvmlError| errors.push(format!("{what}: {e}"));
        gpu.name = answer(&mut ask, "name", device.name());
        gpu.uuid = answer(&mut ask, "uuid", device.uuid());
        gpu.pci_bus_id = answer(&mut ask, "pci info", device.pci_info().map(|p| p.bus_id))
            .map(|id| nvidia::sysfs_bus_id(&id));
        if let Some(mem) = answer(&mut ask, "memory", device.memory_info()) {
            gpu.memory_total_bytes = Some(mem.total);
            gpu.memory_free_bytes = Some(mem.free);
        }
        gpu.compute_capability = answer(
            &mut ask,
            "compute capability",
            device.cuda_compute_capability(),
        )
        .map(|c| format!("{}.{}", c.major, c.minor));
        gpu.power_limit_mw = answer(&mut ask, "power limit", device.enforced_power_limit());
        gpu.temperature_c = answer(
            &mut ask,
            "temperature",
            device.temperature(TemperatureSensor::Gpu),
        );
        gpu.pcie_gen_current = answer(&mut ask, "pcie generation", device.current_pcie_link_gen());
        gpu.pcie_gen_max = answer(&mut ask, "max pcie generation", device.max_pcie_link_gen());
        gpu.pcie_width_current = answer(&mut ask, "pcie width", device.current_pcie_link_width());
        gpu.pcie_width_max = answer(&mut ask, "max pcie width", device.max_pcie_link_width());
        gpu.errors = errors;
        report.gpus.push(gpu);
    }
    report
}

/// The value NVML gave, or `None` with the refusal recorded.
fn answer<T>(
    record: &mut impl FnMut(&str, NvmlError),
    what: &str,
    r: Result<T, NvmlError>,
) -> Option<T> {
    r.map_err(|e| record(what, e)).ok()
}
