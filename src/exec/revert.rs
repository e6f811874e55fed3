//! `reset`: take back what the receipt says uaiso did, newest first, past errors.

use super::{ExecError, save_receipt};
use crate::plan::Step;
use crate::plan::receipt::{self, Entry, Previous, Receipt, State};
use crate::sys::host::Host;

#[derive(Debug, Default)]
pub struct ResetReport {
    pub reverted: Vec<String>,
    /// Left alone: they were there before uaiso.
    pub kept: Vec<String>,
    /// What could not be taken back, and why.
    pub errors: Vec<String>,
}

impl ResetReport {
    pub fn ok(&self) -> bool {
        self.errors.is_empty()
    }
}

/// Revert every step that is ours, in reverse order. Failures are collected, not fatal;
/// the receipt goes only when everything was taken back, else it is rewritten with the
/// remaining steps so that a second `reset` can finish the job.
pub fn reset(
    host: &Host,
    mut receipt: Receipt,
    on_step: &mut dyn FnMut(&Step),
) -> Result<ResetReport, ExecError> {
    let mut report = ResetReport::default();
    for i in (0..receipt.steps.len()).rev() {
        let entry = receipt.steps[i].clone();
        match entry.state {
            State::Pending | State::Reverted => continue,
            State::NotOurs => {
                report.kept.push(entry.step.describe());
                continue;
            }
            State::Done | State::InProgress | State::Failed => {}
        }
        on_step(&entry.step);
        match revert(host, &entry) {
            Ok(()) => {
                host.remove_empty_dirs(&entry.created_dirs);
                receipt.steps[i].state = State::Reverted;
                report.reverted.push(entry.step.describe());
            }
            Err(message) => report
                .errors
                .push(format!("{}: {message}", entry.step.describe())),
        }
        save_receipt(host, &mut receipt)?;
    }
    if report.ok() {
        host.remove_file(receipt::PATH)?;
        host.remove_empty_dirs(&receipt.created_dirs);
        // Directories that hold what reset keeps (the models) are still uaiso's: a
        // receipt with only them lets a later `reset --purge-models` take them back.
        let remaining: Vec<String> = receipt
            .created_dirs
            .iter()
            .filter(|d| host.exists(d))
            .cloned()
            .collect();
        if !remaining.is_empty() {
            receipt.steps.clear();
            receipt.created_dirs = remaining;
            save_receipt(host, &mut receipt)?;
        }
    }
    Ok(report)
}

fn run_all(host: &Host, commands: &[Vec<String>], errors: &mut Vec<String>) {
    for argv in commands {
        match host.run(argv) {
            Ok(out) if out.success => {}
            Ok(out) => errors.push(format!(
                "`{}` failed: {}",
                argv.join(" "),
                out.stderr.trim()
            )),
            Err(e) => errors.push(e.to_string()),
        }
    }
}

/// Undo one step. What is already gone counts as undone.
fn revert(host: &Host, entry: &Entry) -> Result<(), String> {
    let e = |err: crate::sys::Error| err.to_string();
    match &entry.step {
        Step::WriteFile { path, .. } => match &entry.previous {
            Some(Previous::File { content, mode }) => host
                .write(path, content.as_bytes(), *mode)
                .map(|_| ())
                .map_err(e),
            _ => host.remove_file(path).map_err(e),
        },
        Step::AppendLine { path, line, .. } => {
            let Some(text) = host.read_text(path).map_err(e)? else {
                return Ok(());
            };
            let mode = host.read(path).map_err(e)?.map_or(0o644, |(_, m)| m);
            let kept: String = text
                .lines()
                .filter(|l| l.trim() != line)
                .map(|l| format!("{l}\n"))
                .collect();
            if kept != text {
                host.write(path, kept.as_bytes(), mode).map_err(e)?;
            }
            Ok(())
        }
        Step::Symlink { path, target } => {
            if host.read_link(path).as_deref() == Some(target.as_str()) {
                host.remove_file(path).map_err(e)?;
            }
            Ok(())
        }
        Step::Sysctl { .. } => {
            if let Some(Previous::Sysctl { values }) = &entry.previous {
                for (k, v) in values {
                    let file = format!("/proc/sys/{}", k.replace('.', "/"));
                    let now = host.read_text(&file).map_err(e)?;
                    if now.is_some_and(|n| n.trim() != v) {
                        host.write(&file, format!("{v}\n").as_bytes(), 0o644)
                            .map_err(e)?;
                    }
                }
            }
            Ok(())
        }
        // Modules stay loaded: unloading br_netfilter under other users of it does harm.
        Step::LoadModules { .. } | Step::WaitForNode { .. } => Ok(()),
        // What was there before uaiso stays, whatever became of the step.
        Step::Download { .. } | Step::CopySelf { .. } | Step::CaptureToFile { .. }
            if entry.previous == Some(Previous::Existed) =>
        {
            Ok(())
        }
        Step::Download { dest, .. } | Step::CopySelf { dest } => host.remove_file(dest).map_err(e),
        Step::CaptureToFile { path, .. } => host.remove_file(path).map_err(e),
        Step::EnableService { unit } => {
            let mut errors = Vec::new();
            let unit_known = host.exists(&format!("/etc/systemd/system/{unit}"));
            if unit_known {
                run_all(
                    host,
                    &[vec![
                        "systemctl".into(),
                        "disable".into(),
                        "--now".into(),
                        unit.clone(),
                    ]],
                    &mut errors,
                );
            }
            run_all(
                host,
                &[vec!["systemctl".into(), "daemon-reload".into()]],
                &mut errors,
            );
            if errors.is_empty() {
                Ok(())
            } else {
                Err(errors.join("; "))
            }
        }
        Step::Command { creates, undo, .. } => {
            if !host.exists(creates) {
                return Ok(());
            }
            let mut errors = Vec::new();
            run_all(host, undo, &mut errors);
            if errors.is_empty() {
                Ok(())
            } else {
                Err(errors.join("; "))
            }
        }
        Step::DistroLeftovers {
            dirs,
            interfaces,
            iptables_chains,
            stop,
            ..
        } => {
            let mut errors = Vec::new();
            // Stopping what is already stopped fails harmlessly; only the cleanup counts.
            let mut ignored = Vec::new();
            run_all(host, stop, &mut ignored);
            for iface in interfaces {
                if host.exists(&format!("/sys/class/net/{iface}")) {
                    run_all(
                        host,
                        &[vec![
                            "ip".into(),
                            "link".into(),
                            "delete".into(),
                            iface.clone(),
                        ]],
                        &mut errors,
                    );
                }
            }
            for tool in ["iptables", "ip6tables"] {
                clean_iptables(host, tool, iptables_chains, &mut errors);
            }
            for dir in dirs {
                if let Err(err) = host.remove_tree_same_fs(dir) {
                    errors.push(err.to_string());
                }
            }
            if errors.is_empty() {
                Ok(())
            } else {
                Err(errors.join("; "))
            }
        }
    }
}

/// Drop the rules and chains whose names start with the distro's prefixes, as the k3s
/// uninstall script does with iptables-save | grep -v | iptables-restore.
fn clean_iptables(host: &Host, tool: &str, prefixes: &[String], errors: &mut Vec<String>) {
    let save = vec![format!("{tool}-save")];
    let Ok(out) = host.run(&save) else {
        return; // no iptables on this box: nothing of the distro's to clean
    };
    if !out.success {
        return;
    }
    let kept: String = out
        .stdout
        .lines()
        .filter(|l| !prefixes.iter().any(|p| l.contains(p.as_str())))
        .map(|l| format!("{l}\n"))
        .collect();
    if kept.len() == out.stdout.len() {
        return;
    }
    match host.run_with_input(&[format!("{tool}-restore")], Some(&kept)) {
        Ok(o) if o.success => {}
        Ok(o) => errors.push(format!("`{tool}-restore` failed: {}", o.stderr.trim())),
        Err(err) => errors.push(err.to_string()),
    }
}
