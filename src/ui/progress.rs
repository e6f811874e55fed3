//! Download progress: a bar on a terminal, plain lines otherwise.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};

use crate::sys::download::Progress;
use crate::units::bytes;

/// Bars that run at the same time (the distro and the model), drawn one under another.
#[derive(Clone, Default)]
pub struct Group(MultiProgress);

impl Group {
    pub fn new() -> Self {
        Group(MultiProgress::new())
    }

    /// A progress for one download in this group, its lines prefixed with `label`.
    pub fn downloads(&self, label: &str) -> Downloads {
        let mut d = Downloads::new();
        d.group = Some(self.0.clone());
        d.label = label.to_string();
        d
    }
}

pub struct Downloads {
    group: Option<MultiProgress>,
    label: String,
    bar: Option<ProgressBar>,
    url: String,
    done: u64,
    total: Option<u64>,
    last_line: Instant,
}

impl Downloads {
    pub fn new() -> Self {
        Downloads {
            group: None,
            label: String::new(),
            bar: None,
            url: String::new(),
            done: 0,
            total: None,
            last_line: Instant::now(),
        }
    }
}

impl Downloads {
    fn prefix(&self) -> String {
        if self.label.is_empty() {
            String::new()
        } else {
            format!("{}: ", self.label)
        }
    }
}

impl Default for Downloads {
    fn default() -> Self {
        Self::new()
    }
}

impl Progress for Downloads {
    fn start(&mut self, url: &str, total: Option<u64>, resumed_from: u64) {
        self.url = url.to_string();
        self.done = resumed_from;
        self.total = total;
        self.last_line = Instant::now();
        if std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none() {
            let bar = match total {
                Some(t) => ProgressBar::new(t),
                None => ProgressBar::new_spinner(),
            };
            let bar = match &self.group {
                Some(g) => g.add(bar),
                None => bar,
            };
            bar.set_style(
                ProgressStyle::with_template(
                    "  {prefix} {bar:40} {bytes}/{total_bytes} {bytes_per_sec} {eta}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            bar.set_prefix(self.label.clone());
            bar.set_position(resumed_from);
            self.bar = Some(bar);
        } else {
            let from = if resumed_from > 0 {
                format!(", resuming at {}", bytes(resumed_from))
            } else {
                String::new()
            };
            super::note(&format!("  {}downloading {url}{from}", self.prefix()));
        }
    }

    fn advance(&mut self, n: u64) {
        self.done += n;
        if let Some(bar) = &self.bar {
            bar.inc(n);
        } else if self.last_line.elapsed() >= Duration::from_secs(10) {
            self.last_line = Instant::now();
            let of = self
                .total
                .map(|t| format!(" of {}", bytes(t)))
                .unwrap_or_default();
            super::note(&format!("  {}{}{of}", self.prefix(), bytes(self.done)));
        }
    }

    fn retry(&mut self, attempt: u32, why: &str, wait: Duration) {
        let msg = format!("  retry {attempt} in {} s: {why}", wait.as_secs());
        match &self.bar {
            Some(bar) => bar.println(msg),
            None => super::note(&msg),
        }
    }

    fn finish(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
        super::note(&format!(
            "  {}downloaded {}",
            self.prefix(),
            bytes(self.done)
        ));
    }
}
