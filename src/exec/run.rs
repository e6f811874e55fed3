//! Executing a plan: carry over what an earlier run did, skip what is already there
//! (not ours), do the rest, and record each step's state as it goes.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use super::{ExecError, load_receipt, save_receipt};
use crate::plan::receipt::{Entry, Previous, Receipt, State};
use crate::plan::{Checksum, HostPlan, Step};
use crate::sys::download::{Progress, sha256_from_list};
use crate::sys::host::Host;

/// What the caller hears while the plan runs.
pub enum Event<'a> {
    Start {
        index: usize,
        total: usize,
        step: &'a Step,
    },
    Done {
        index: usize,
        state: State,
        changed: bool,
    },
}

#[derive(Debug, Default, PartialEq, Eq)]
pub struct RunReport {
    /// Steps that changed the host in this run.
    pub changed: usize,
    /// Steps already done by an earlier run, or already there.
    pub unchanged: usize,
}

/// Steps of one kind at one place are the same step, even when their content differs.
fn key(step: &Step) -> String {
    match step {
        Step::WriteFile { path, .. } => format!("file:{path}"),
        Step::AppendLine { path, line, .. } => format!("line:{path}:{line}"),
        Step::Symlink { path, .. } => format!("link:{path}"),
        Step::Sysctl { .. } => "sysctl".into(),
        Step::LoadModules { .. } => "modules".into(),
        Step::Download { dest, .. } => format!("download:{dest}"),
        Step::CopySelf { dest } => format!("self:{dest}"),
        Step::EnableService { unit } => format!("service:{unit}"),
        Step::Command { creates, .. } => format!("command:{creates}"),
        Step::CaptureToFile { path, .. } => format!("capture:{path}"),
        Step::WaitForNode { unit, .. } => format!("wait:{unit}"),
        Step::DistroLeftovers { distro, .. } => format!("leftovers:{distro}"),
    }
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Run `plan`. The receipt is written before the first step and after every step; a
/// failure stops the run and leaves the receipt saying which step failed.
/// The refusals `run` makes before touching anything: an unreadable receipt, another
/// distro installed. Returns the receipt there is.
pub fn check(host: &Host, plan: &HostPlan) -> Result<Option<Receipt>, ExecError> {
    let earlier_receipt = load_receipt(host)?;
    if let Some(r) = &earlier_receipt
        && r.distro != plan.distro
        && r.steps.iter().any(|e| e.state == State::Done)
    {
        return Err(ExecError::OtherDistro {
            installed: r.distro.clone(),
            wanted: plan.distro.clone(),
        });
    }
    Ok(earlier_receipt)
}

pub fn run(
    host: &Host,
    plan: &HostPlan,
    progress: &mut dyn Progress,
    on_event: &mut dyn FnMut(Event),
) -> Result<RunReport, ExecError> {
    let earlier_receipt = check(host, plan)?;
    let mut receipt = Receipt::new(&plan.distro, &plan.steps);
    if let Some(r) = &earlier_receipt {
        receipt.created_dirs = r.created_dirs.clone();
    }
    let old: BTreeMap<String, Entry> = earlier_receipt
        .map(|r| r.steps.into_iter().map(|e| (key(&e.step), e)).collect())
        .unwrap_or_default();
    // Steps an earlier run did that this plan no longer has stay on the receipt, so
    // reset can still take them back.
    let planned: Vec<String> = plan.steps.iter().map(key).collect();
    let dropped: Vec<Entry> = old
        .values()
        .filter(|e| {
            !planned.contains(&key(&e.step))
                && matches!(e.state, State::Done | State::InProgress | State::Failed)
        })
        .cloned()
        .collect();
    receipt.steps.splice(0..0, dropped);
    let offset = receipt.steps.len() - plan.steps.len();
    save_receipt(host, &mut receipt)?;

    let mut report = RunReport::default();
    let mut changed_since_service = false;
    let total = plan.steps.len();
    for (index, step) in plan.steps.iter().enumerate() {
        on_event(Event::Start { index, total, step });
        let slot = offset + index;
        let earlier = old.get(&key(step));
        // Identical to what an earlier run did: nothing to do, and it stays ours.
        if let Some(e) =
            earlier.filter(|e| &e.step == step && matches!(e.state, State::Done | State::NotOurs))
        {
            let must_restart = matches!(step, Step::EnableService { .. }) && changed_since_service;
            if !must_restart && !matches!(step, Step::WaitForNode { .. }) {
                receipt.steps[slot] = e.clone();
                save_receipt(host, &mut receipt)?;
                report.unchanged += 1;
                on_event(Event::Done {
                    index,
                    state: e.state,
                    changed: false,
                });
                continue;
            }
        }
        receipt.steps[slot].state = State::InProgress;
        // What was there before uaiso first touched this place goes on the receipt
        // before the step starts, so that even a crash mid-step leaves reset the truth.
        let touched =
            earlier.filter(|e| matches!(e.state, State::Done | State::InProgress | State::Failed));
        let captured = match touched {
            // Keys an earlier attempt could not read are captured now, before this run
            // changes them.
            Some(Entry {
                previous: Some(Previous::Sysctl { values: old }),
                ..
            }) => capture_previous(host, step).map(|now| match now {
                Some(Previous::Sysctl { values: mut fresh }) => {
                    fresh.extend(old.clone());
                    Some(Previous::Sysctl { values: fresh })
                }
                other => other,
            }),
            Some(e) => Ok(e.previous.clone()),
            None => capture_previous(host, step),
        };
        receipt.steps[slot].created_dirs =
            touched.map(|e| e.created_dirs.clone()).unwrap_or_default();
        let was_done = earlier.is_some_and(|e| e.state == State::Done);
        let result = captured.and_then(|previous| {
            receipt.steps[slot].previous = previous;
            save_receipt(host, &mut receipt).map_err(|e| e.to_string())?;
            execute(host, step, was_done, changed_since_service, progress)
        });
        match result {
            Ok(outcome) => {
                let entry = &mut receipt.steps[slot];
                entry.state = if outcome.ours || was_done {
                    State::Done
                } else {
                    State::NotOurs
                };
                entry.created_dirs.extend(outcome.created_dirs);
                if outcome.changed {
                    report.changed += 1;
                    changed_since_service |=
                        !matches!(step, Step::EnableService { .. } | Step::WaitForNode { .. });
                } else {
                    report.unchanged += 1;
                }
                if matches!(step, Step::EnableService { .. }) {
                    changed_since_service = false;
                }
                let state = entry.state;
                save_receipt(host, &mut receipt)?;
                on_event(Event::Done {
                    index,
                    state,
                    changed: outcome.changed,
                });
            }
            Err(message) => {
                receipt.steps[slot].state = State::Failed;
                receipt.steps[slot].error = Some(message.clone());
                save_receipt(host, &mut receipt)?;
                return Err(ExecError::Step {
                    index: index + 1,
                    what: step.describe(),
                    message,
                });
            }
        }
    }
    Ok(report)
}

/// The state of a step's place before uaiso acts there.
fn capture_previous(host: &Host, step: &Step) -> Result<Option<Previous>, String> {
    let e = |err: crate::sys::Error| err.to_string();
    Ok(match step {
        Step::WriteFile { path, .. } => {
            host.read(path)
                .map_err(e)?
                .map(|(bytes, mode)| Previous::File {
                    content: String::from_utf8_lossy(&bytes).into_owned(),
                    mode,
                })
        }
        Step::Sysctl { values } => {
            let mut now = BTreeMap::new();
            for k in values.keys() {
                let file = format!("/proc/sys/{}", k.replace('.', "/"));
                if let Some(v) = host.read_text(&file).map_err(e)? {
                    now.insert(k.clone(), v.trim().to_string());
                }
            }
            Some(Previous::Sysctl { values: now })
        }
        Step::Download { dest: path, .. }
        | Step::CopySelf { dest: path }
        | Step::CaptureToFile { path, .. }
        | Step::Symlink { path, .. } => host.exists(path).then_some(Previous::Existed),
        _ => None,
    })
}

struct Outcome {
    /// uaiso made the change (else it was already there).
    ours: bool,
    changed: bool,
    created_dirs: Vec<String>,
}

fn ours(changed: bool) -> Result<Outcome, String> {
    Ok(Outcome {
        ours: true,
        changed,
        created_dirs: Vec::new(),
    })
}

/// A change that had to create directories.
fn ours_in(created_dirs: Vec<String>) -> Result<Outcome, String> {
    Ok(Outcome {
        ours: true,
        changed: true,
        created_dirs,
    })
}

fn already_there() -> Result<Outcome, String> {
    Ok(Outcome {
        ours: false,
        changed: false,
        created_dirs: Vec::new(),
    })
}

fn check_output(host: &Host, argv: &[String]) -> Result<String, String> {
    let out = host.run(argv).map_err(|e| e.to_string())?;
    if out.success {
        Ok(out.stdout)
    } else {
        Err(format!(
            "`{}` exited with {}: {}",
            argv.join(" "),
            out.code.map_or("a signal".to_string(), |c| c.to_string()),
            out.stderr.trim()
        ))
    }
}

fn argv(words: &[&str]) -> Vec<String> {
    words.iter().map(|w| w.to_string()).collect()
}

fn execute(
    host: &Host,
    step: &Step,
    was_done: bool,
    restart: bool,
    progress: &mut dyn Progress,
) -> Result<Outcome, String> {
    let e = |err: crate::sys::Error| err.to_string();
    match step {
        Step::WriteFile {
            path,
            content,
            mode,
            ..
        } => {
            let before = host.read(path).map_err(e)?;
            if let Some((bytes, m)) = &before
                && bytes == content.as_bytes()
                && m == mode
            {
                return if was_done {
                    ours(false)
                } else {
                    already_there()
                };
            }
            ours_in(host.write(path, content.as_bytes(), *mode).map_err(e)?)
        }
        Step::AppendLine { path, line, .. } => {
            let text = host.read_text(path).map_err(e)?.unwrap_or_default();
            if text.lines().any(|l| l.trim() == line) {
                return if was_done {
                    ours(false)
                } else {
                    already_there()
                };
            }
            let mode = host.read(path).map_err(e)?.map_or(0o644, |(_, m)| m);
            let sep = if text.is_empty() || text.ends_with('\n') {
                ""
            } else {
                "\n"
            };
            host.write(path, format!("{text}{sep}{line}\n").as_bytes(), mode)
                .map_err(e)?;
            ours(true)
        }
        Step::Symlink { path, target } => {
            if host.read_link(path).as_deref() == Some(target.as_str()) {
                return if was_done {
                    ours(false)
                } else {
                    already_there()
                };
            }
            if host.exists(path) {
                // Someone else's kubectl: leave it, as the k3s installer does.
                return already_there();
            }
            ours_in(host.symlink(path, target).map_err(e)?)
        }
        // Another root is not the running kernel: the drop-ins carry these to its boot.
        Step::Sysctl { .. } | Step::LoadModules { .. } if !host.live() => ours(false),
        Step::Sysctl { values } => {
            let mut changed = false;
            for (k, v) in values {
                let file = format!("/proc/sys/{}", k.replace('.', "/"));
                let now = host.read_text(&file).map_err(e)?.ok_or_else(|| {
                    format!(
                        "`{file}` does not exist: is the kernel module that provides `{k}` loaded?"
                    )
                })?;
                if now.trim() != v {
                    host.write(&file, format!("{v}\n").as_bytes(), 0o644)
                        .map_err(e)?;
                    changed = true;
                }
            }
            if !changed {
                return if was_done {
                    ours(false)
                } else {
                    already_there()
                };
            }
            ours(true)
        }
        Step::LoadModules { modules } => {
            let loaded = |m: &String| host.exists(&format!("/sys/module/{m}"));
            if modules.iter().all(loaded) {
                return if was_done {
                    ours(false)
                } else {
                    already_there()
                };
            }
            let mut cmd = argv(&["modprobe", "--all"]);
            cmd.extend(modules.iter().cloned());
            check_output(host, &cmd)?;
            ours(true)
        }
        Step::Download {
            url,
            checksum,
            dest,
            mode,
        } => {
            let sha256 = match checksum {
                Checksum::Pinned { sha256 } => sha256.clone(),
                Checksum::List {
                    url: list_url,
                    name,
                } => {
                    let list = host.fetch_text(list_url).map_err(e)?;
                    sha256_from_list(&list, name)
                        .ok_or_else(|| format!("`{list_url}` lists no `{name}`"))?
                }
            };
            if let Some((bytes, _)) = host.read(dest).map_err(e)? {
                if sha256_hex(&bytes) == sha256 {
                    return if was_done {
                        ours(false)
                    } else {
                        already_there()
                    };
                }
                if !was_done {
                    return Err(format!(
                        "`{dest}` exists and is not the pinned release (sha256 {}); uaiso does not replace what it did not install\nhint: remove it (or its distro's own uninstall script) first",
                        sha256_hex(&bytes)
                    ));
                }
            }
            ours_in(
                host.download(url, &sha256, dest, *mode, Some(progress))
                    .map_err(e)?,
            )
        }
        Step::CopySelf { dest } => {
            let created = host.copy_self(dest).map_err(e)?;
            Ok(Outcome {
                ours: true,
                changed: !was_done,
                created_dirs: created,
            })
        }
        Step::EnableService { unit } => {
            if was_done && !restart {
                return ours(false);
            }
            check_output(host, &argv(&["systemctl", "daemon-reload"]))?;
            check_output(host, &argv(&["systemctl", "enable", unit]))?;
            let verb = if was_done { "restart" } else { "start" };
            check_output(host, &argv(&["systemctl", verb, unit]))?;
            ours(true)
        }
        Step::Command {
            argv: cmd, creates, ..
        } => {
            if host.exists(creates) {
                return if was_done {
                    ours(false)
                } else {
                    already_there()
                };
            }
            check_output(host, cmd)?;
            ours(true)
        }
        Step::CaptureToFile {
            argv: cmd,
            path,
            mode,
        } => {
            let out = check_output(host, cmd)?;
            let same = host
                .read(path)
                .map_err(e)?
                .is_some_and(|(b, _)| b == out.as_bytes());
            if same {
                return ours(false);
            }
            ours_in(host.write(path, out.as_bytes(), *mode).map_err(e)?)
        }
        Step::WaitForNode {
            kubectl,
            unit,
            timeout_s,
        } => {
            if !host.live() {
                tracing::info!("not waiting for the node: nothing runs in another root");
                return ours(false);
            }
            wait_for_node(host, kubectl, unit, *timeout_s)?;
            ours(false)
        }
        Step::DistroLeftovers { .. } => ours(false),
    }
}

fn wait_for_node(
    host: &Host,
    kubectl: &[String],
    unit: &str,
    timeout_s: u64,
) -> Result<(), String> {
    let deadline = Instant::now() + Duration::from_secs(timeout_s);
    let mut ready = kubectl.to_vec();
    ready.extend(argv(&[
        "get",
        "nodes",
        "-o",
        "jsonpath={.items[*].status.conditions[?(@.type==\"Ready\")].status}",
    ]));
    loop {
        let last = match check_output(host, &ready) {
            Ok(out) if out.split_whitespace().any(|s| s == "True") => return Ok(()),
            Ok(out) => format!("node not Ready yet ({})", out.trim()),
            Err(err) => err,
        };
        if Instant::now() >= deadline {
            let journal = host
                .run(&argv(&["journalctl", "-u", unit, "-n", "20", "--no-pager"]))
                .map(|o| o.stdout)
                .unwrap_or_default();
            return Err(format!(
                "the node was not Ready after {timeout_s} s: {last}\nlast lines of `journalctl -u {unit}`:\n{}",
                journal.trim_end()
            ));
        }
        std::thread::sleep(Duration::from_secs(2).min(Duration::from_secs(timeout_s.max(1))));
    }
}
