//! Host readiness checks for Kubernetes: OS, systemd, cgroup v2, modules, forwarding,
//! host name, ports, existing distros, proxy variables.

use super::Finding;
use crate::probe::HostFacts;
use crate::probe::host::ModuleState;

/// The ranges k3s uses for pods and services: they must bypass any proxy.
const CLUSTER_RANGES: [&str; 2] = ["10.42.0.0/16", "10.43.0.0/16"];

pub fn check(facts: &HostFacts, out: &mut Vec<Finding>) {
    let h = &facts.host;
    let os = h.os.as_deref().unwrap_or("unknown OS");
    let kernel = h
        .kernel
        .as_deref()
        .map(|k| format!(", kernel {k}"))
        .unwrap_or_default();
    let machine = h
        .machine
        .as_deref()
        .map(|m| format!(" on {m}"))
        .unwrap_or_default();
    if h.os.is_some() {
        out.push(Finding::pass("host.os", format!("{os}{kernel}{machine}")));
    } else {
        out.push(Finding::warn(
            "host.os",
            format!("the distribution could not be identified{kernel}"),
        ));
    }

    if h.systemd {
        out.push(Finding::pass("host.systemd", "systemd is the init system"));
    } else {
        out.push(
            Finding::fail("host.systemd", "systemd is not running (no `/run/systemd/system`): uaiso installs k3s or k0s as systemd services")
                .hint("run uaiso on the host, not in a container; under WSL set `systemd=true` in /etc/wsl.conf"),
        );
    }

    match h.cgroup.as_str() {
        "v2" => out.push(Finding::pass("host.cgroup", "cgroup v2")),
        "v1" => out.push(
            Finding::fail("host.cgroup", "cgroup v1: kubelet 1.35 and later refuse to start on it")
                .hint("boot with `systemd.unified_cgroup_hierarchy=1`: add it to GRUB_CMDLINE_LINUX in /etc/default/grub, `sudo update-grub`, reboot"),
        ),
        _ => out.push(Finding::warn("host.cgroup", "the cgroup version could not be determined")),
    }

    for (name, state) in &h.modules {
        let id = "host.modules";
        match state {
            ModuleState::Loaded => out.push(Finding::pass(id, format!("{name} is loaded"))),
            ModuleState::BuiltIn => out.push(Finding::pass(id, format!("{name} is built into the kernel"))),
            ModuleState::Available => out.push(Finding::pass(id, format!("{name} is available; `uaiso up` loads it"))),
            ModuleState::Missing => out.push(
                Finding::fail(id, format!("the kernel has no {name} module"))
                    .hint("install the kernel's extra modules: Ubuntu `sudo apt install linux-modules-extra-$(uname -r)`"),
            ),
            ModuleState::Unknown => out.push(Finding::warn(
                id,
                format!("cannot tell whether {name} is available (no module list for this kernel)"),
            )),
        }
    }

    match h.ip_forward {
        Some(true) => out.push(Finding::pass("host.ip_forward", "IPv4 forwarding is on")),
        Some(false) => out.push(Finding::warn(
            "host.ip_forward",
            "IPv4 forwarding is off; `uaiso up` turns it on with a sysctl drop-in",
        )),
        None => out.push(Finding::warn(
            "host.ip_forward",
            "IPv4 forwarding state could not be read",
        )),
    }

    match (&h.hostname, h.hostname_resolvable) {
        (Some(name), Some(true)) => out.push(Finding::pass(
            "host.hostname",
            format!("host name `{name}` resolves locally"),
        )),
        (Some(name), _) => out.push(Finding::warn(
            "host.hostname",
            format!("host name `{name}` is not in /etc/hosts; `uaiso up` adds it"),
        )),
        (None, _) => out.push(Finding::warn(
            "host.hostname",
            "the host name could not be read",
        )),
    }

    let existing: Vec<&str> = h.existing.iter().map(|e| e.distro.as_str()).collect();
    for port in &h.ports_in_use {
        if existing.is_empty() {
            out.push(
                Finding::fail(
                    "host.ports",
                    format!("port {port} is already in use; Kubernetes needs it"),
                )
                .hint(format!(
                    "see which program holds it: `sudo ss -ltnp 'sport = :{port}'`"
                )),
            );
        } else {
            out.push(Finding::warn(
                "host.ports",
                format!(
                    "port {port} is in use, most likely by the existing {}",
                    existing.join(" and ")
                ),
            ));
        }
    }
    if h.ports_in_use.is_empty() {
        out.push(Finding::pass("host.ports", "ports 6443 and 10250 are free"));
    }

    for install in &h.existing {
        let uninstall = match install.distro.as_str() {
            "k3s" => "`/usr/local/bin/k3s-uninstall.sh`",
            _ => "`sudo k0s stop && sudo k0s reset`",
        };
        out.push(
            Finding::warn(
                "host.existing",
                format!(
                    "{} is already installed ({}); uaiso never touches what it did not install",
                    install.distro,
                    install.paths.join(", ")
                ),
            )
            .hint(format!(
                "remove it first with {uninstall}, or keep it and apply uaiso's manifests to it"
            )),
        );
    }

    proxy(facts, out);
}

fn proxy(facts: &HostFacts, out: &mut Vec<Finding>) {
    let env = &facts.host.proxy;
    let proxied = env.keys().any(|k| !k.eq_ignore_ascii_case("no_proxy"));
    if !proxied {
        out.push(Finding::pass(
            "host.proxy",
            "no proxy variables set: downloads go direct",
        ));
        return;
    }
    let names: Vec<&str> = env.keys().map(String::as_str).collect();
    let no_proxy = env
        .get("NO_PROXY")
        .or(env.get("no_proxy"))
        .map(String::as_str)
        .unwrap_or_default();
    let entries: Vec<&str> = no_proxy.split(',').map(str::trim).collect();
    let mut missing: Vec<&str> = ["127.0.0.1", "localhost"]
        .into_iter()
        .chain(CLUSTER_RANGES)
        .filter(|want| !entries.contains(want))
        .collect();
    missing.dedup();
    if missing.is_empty() {
        out.push(Finding::pass(
            "host.proxy",
            format!(
                "proxy set ({}); `uaiso up` carries it into the distro's environment",
                names.join(", ")
            ),
        ));
    } else {
        let fixed: Vec<&str> = entries
            .iter()
            .copied()
            .filter(|e| !e.is_empty())
            .chain(missing.iter().copied())
            .collect();
        out.push(
            Finding::warn(
                "host.proxy",
                format!("proxy set ({}) but NO_PROXY lacks {}: cluster traffic would go through the proxy", names.join(", "), missing.join(", ")),
            )
            .hint(format!("export NO_PROXY={}", fixed.join(","))),
        );
    }
}
