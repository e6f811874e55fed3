//! THE ONLY code that prints: data to stdout, chatter to stderr, colours only on a
//! terminal and never with `NO_COLOR`.
#![allow(clippy::print_stdout, clippy::print_stderr, clippy::disallowed_methods)]

pub mod doctor;
pub mod plan;
pub mod progress;
pub mod prompt;
pub mod stack;
mod style;
pub mod tables;

use std::io::Write;

pub use style::Paint;

/// Should stdout get colours? anstream decides: a terminal, no `NO_COLOR`, or
/// `CLICOLOR_FORCE`.
pub fn stdout_colors() -> bool {
    anstream::AutoStream::choice(&std::io::stdout()) != anstream::ColorChoice::Never
}

/// Pretty JSON with a final newline, for `--json`.
pub fn json<T: serde::Serialize + ?Sized>(value: &T) -> serde_json::Result<String> {
    let mut text = serde_json::to_string_pretty(value)?;
    text.push('\n');
    Ok(text)
}

/// Data for people or programs, on stdout.
pub fn out(text: &str) {
    let mut stdout = anstream::stdout();
    let _ = stdout.write_all(text.as_bytes());
    let _ = stdout.flush();
}

/// A message for the person at the terminal, on stderr.
pub fn note(text: &str) {
    let mut stderr = anstream::stderr();
    let _ = writeln!(stderr, "{text}");
}

/// An error and its hint, on stderr: `error: …` then `hint: …` lines as written.
pub fn error(text: &str) {
    let paint = Paint::new(
        anstream::AutoStream::choice(&std::io::stderr()) != anstream::ColorChoice::Never,
    );
    let mut stderr = anstream::stderr();
    let mut lines = text.lines();
    if let Some(first) = lines.next() {
        let _ = writeln!(stderr, "{} {first}", paint.fail("error:"));
    }
    for line in lines {
        let _ = writeln!(stderr, "{line}");
    }
}

/// The writer tracing logs to.
pub fn log_writer() -> impl Write {
    anstream::stderr()
}
