//! Apply the full render of a host snapshot to a cluster with `uaiso::kube`, and say
//! how many objects the server changed. `scripts/bench-apply` times the no-op re-apply.
//!   cargo run --release --example apply -- KUBECONFIG SYSROOT
#![allow(clippy::print_stdout)]

use std::path::Path;

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let [_, kubeconfig, sysroot] = args.as_slice() else {
        anyhow::bail!("usage: apply KUBECONFIG SYSROOT");
    };
    let source = uaiso::sys::snapshot::Source::Sysroot(sysroot.into());
    let facts = uaiso::probe::probe(&uaiso::sys::snapshot::collect(&source)?);
    let sel = uaiso::profile::select(
        &facts,
        &uaiso::profile::bundled::profiles(),
        &uaiso::profile::bundled::models(),
        &Default::default(),
    )?;
    let docs = uaiso::render::render(&facts, &sel, None, &Default::default())?;
    let cluster = uaiso::kube::Cluster::connect(Some(Path::new(kubeconfig)))?;
    let applied = cluster.apply(&docs)?;
    let changed = applied.iter().filter(|a| a.changed).count();
    println!("{} objects, {changed} changed", applied.len());
    Ok(())
}
