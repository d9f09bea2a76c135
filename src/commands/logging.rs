//! The stderr logger behind `-v`, `-vv` and `--log-level`: keyhound's own log records only
//! (libraries' debug chatter stays out), each line `keyhound: …` and sanitised, so no path or
//! message from a scanned repository can drive the terminal. Records never carry a secret:
//! the code that logs passes redacted values only.

use log::{Level, LevelFilter, Log, Metadata, Record};

use crate::cli::LogLevel;
use crate::report::sanitize;

struct Stderr;

impl Log for Stderr {
    fn enabled(&self, m: &Metadata<'_>) -> bool {
        m.target().starts_with("keyhound") && m.level() <= log::max_level()
    }

    fn log(&self, r: &Record<'_>) {
        if !self.enabled(r.metadata()) {
            return;
        }
        let text = sanitize(&r.args().to_string());
        // Info is what -v always printed: plain lines.
        match r.level() {
            Level::Info => eprintln!("keyhound: {text}"),
            Level::Error => eprintln!("keyhound: error: {text}"),
            Level::Warn => eprintln!("keyhound: warning: {text}"),
            Level::Debug => eprintln!("keyhound: debug: {text}"),
            Level::Trace => eprintln!("keyhound: trace: {text}"),
        }
    }

    fn flush(&self) {}
}

/// The level `-q`, `-v` (repeated) and `--log-level` ask for; `--log-level` wins.
pub fn level(quiet: bool, verbose: u8, explicit: Option<LogLevel>) -> LevelFilter {
    match explicit {
        Some(LogLevel::Off) => LevelFilter::Off,
        Some(LogLevel::Error) => LevelFilter::Error,
        Some(LogLevel::Warn) => LevelFilter::Warn,
        Some(LogLevel::Info) => LevelFilter::Info,
        Some(LogLevel::Debug) => LevelFilter::Debug,
        Some(LogLevel::Trace) => LevelFilter::Trace,
        None if quiet => LevelFilter::Error,
        None => match verbose {
            0 => LevelFilter::Warn,
            1 => LevelFilter::Info,
            2 => LevelFilter::Debug,
            _ => LevelFilter::Trace,
        },
    }
}

/// Installs the logger at `level` (once per process; later calls only change the level).
pub fn init(level: LevelFilter) {
    static LOGGER: Stderr = Stderr;
    let _ = log::set_logger(&LOGGER);
    log::set_max_level(level);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_pick_the_level() {
        assert_eq!(level(false, 0, None), LevelFilter::Warn);
        assert_eq!(level(false, 1, None), LevelFilter::Info);
        assert_eq!(level(false, 2, None), LevelFilter::Debug);
        assert_eq!(level(false, 5, None), LevelFilter::Trace);
        assert_eq!(level(true, 2, None), LevelFilter::Error);
        assert_eq!(level(true, 0, Some(LogLevel::Debug)), LevelFilter::Debug);
        assert_eq!(level(false, 2, Some(LogLevel::Off)), LevelFilter::Off);
    }
}
