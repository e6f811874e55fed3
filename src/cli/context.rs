//! What `plan`, `profile` and `models` share: the box's facts, and the bundled plus the
//! user's profiles and models.

use std::path::{Path, PathBuf};

use anyhow::Context as _;

use crate::probe::{self, HostFacts};
use crate::profile::{Overrides, Profile, bundled, models};
use crate::sys::{self, snapshot::Source};

/// Where the facts and `/etc/uaiso` come from.
#[derive(Debug, clap::Args, Clone)]
pub struct HostArgs {
    /// Read a snapshot directory (or any tree shaped like `/`) instead of this host.
    #[arg(long, value_name = "DIR", global = true)]
    pub sysroot: Option<PathBuf>,
    /// An extra profile file (may be repeated); it can replace a bundled profile of the same name.
    #[arg(long = "profile-file", value_name = "FILE", global = true)]
    pub profile_files: Vec<PathBuf>,
}

impl HostArgs {
    fn root(&self) -> &Path {
        self.sysroot.as_deref().unwrap_or(Path::new("/"))
    }

    pub fn facts(&self) -> anyhow::Result<HostFacts> {
        let source = match &self.sysroot {
            Some(dir) => Source::Sysroot(dir.clone()),
            None => Source::Live,
        };
        Ok(probe::probe(&sys::snapshot::collect(&source)?))
    }

    /// Bundled profiles, then the user's; a later one of the same name wins.
    pub fn profiles(&self) -> anyhow::Result<Vec<Profile>> {
        if let Some(dir) = &self.sysroot {
            sys::fs::check_root(dir)?;
        }
        let mut out = bundled::profiles();
        for (file, text) in sys::config::profile_files(self.root(), &self.profile_files)? {
            let profile = Profile::parse(&file, &text)?;
            out.retain(|p| p.name != profile.name);
            out.push(profile);
        }
        Ok(out)
    }

    pub fn models(&self) -> anyhow::Result<Vec<models::Model>> {
        let mut lists = vec![bundled::models()];
        for (file, text) in sys::config::model_files(self.root())? {
            lists.push(
                models::parse(&file, &text)
                    .with_context(|| "reading the user's model catalogue")?,
            );
        }
        Ok(models::merge(lists))
    }
}

/// What the user picks instead of the automatic choice.
#[derive(Debug, clap::Args, Clone)]
pub struct SelectArgs {
    /// Use this profile instead of the automatic choice.
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,
    /// Use this model (`id` or `id:QUANT`, see `uaiso models list`).
    #[arg(long, value_name = "MODEL")]
    pub model: Option<String>,
}

impl SelectArgs {
    pub fn overrides(&self) -> Overrides {
        Overrides {
            profile: self.profile.clone(),
            model: self.model.clone(),
            cached: Vec::new(),
        }
    }
}

/// Ask before changing the host, unless `--yes`; no terminal to ask on is a refusal.
/// Then insist on root where the live host is changed.
pub fn confirm_and_check_root(
    question: &str,
    yes: bool,
    live: bool,
    command: &str,
) -> anyhow::Result<()> {
    if !yes {
        match crate::ui::prompt::confirm(question)? {
            Some(true) => {}
            Some(false) => anyhow::bail!("nothing was changed"),
            None => anyhow::bail!(
                "no terminal to ask on, so nothing was changed\nhint: pass `--yes` to {command} without asking"
            ),
        }
    }
    if live && !sys::live::is_root() {
        anyhow::bail!(
            "changing the host needs root, so nothing was changed\nhint: `sudo uaiso {command}`"
        );
    }
    Ok(())
}
