//! The one way uaiso runs host commands. Tests observe it through their own [`Runner`];
//! an install into another root (`--root DIR`) runs nothing on the live host.

use std::io::Write;
use std::process::{Command, Stdio};

/// What a command did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Output {
    pub success: bool,
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

pub trait Runner {
    /// Run `argv`, feeding `input` on stdin when given.
    fn run(&self, argv: &[String], input: Option<&str>) -> std::io::Result<Output>;
}

/// Runs commands on this host.
pub struct HostRunner;

impl Runner for HostRunner {
    fn run(&self, argv: &[String], input: Option<&str>) -> std::io::Result<Output> {
        let (program, args) = argv
            .split_first()
            .ok_or_else(|| std::io::Error::other("empty command"))?;
        let mut child = Command::new(program)
            .args(args)
            .stdin(if input.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()?;
        if let (Some(text), Some(mut stdin)) = (input, child.stdin.take()) {
            stdin.write_all(text.as_bytes())?;
        }
        let out = child.wait_with_output()?;
        Ok(Output {
            success: out.status.success(),
            code: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        })
    }
}

/// For an install into another root (an image being built): the files are written
/// there, but commands would act on the live host, so none runs; each is logged.
pub struct SkipRunner;

impl Runner for SkipRunner {
    fn run(&self, argv: &[String], _input: Option<&str>) -> std::io::Result<Output> {
        tracing::info!(command = %argv.join(" "), "not run: installing into another root");
        Ok(Output {
            success: true,
            ..Output::default()
        })
    }
}
