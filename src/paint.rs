//! Colour for what a person reads: status words (ok, FAILED, FIX, HIGH...) and headings, on a
//! terminal only. Whether stdout gets colour is anstream's rule, the one clap follows for its
//! own messages: a terminal, no `NO_COLOR`, not `TERM=dumb` (`CLICOLOR_FORCE` forces it).

use anstream::ColorChoice;
use anstyle::{AnsiColor, Style};

/// Paints text for one stream, or passes it through unchanged.
#[derive(Clone, Copy, Debug)]
pub struct Paint {
    on: bool,
}

const GOOD: Style = AnsiColor::Green.on_default().bold();
const BAD: Style = AnsiColor::Red.on_default().bold();
const WARN: Style = AnsiColor::Yellow.on_default().bold();
const STRONG: Style = Style::new().bold();
const FAINT: Style = Style::new().dimmed();

impl Paint {
    /// For stdout, where every report goes.
    pub fn stdout() -> Paint {
        Paint {
            on: anstream::AutoStream::choice(&std::io::stdout()) != ColorChoice::Never,
        }
    }

    /// No colour (JSON, files).
    pub fn plain() -> Paint {
        Paint { on: false }
    }

    pub fn is_on(self) -> bool {
        self.on
    }

    fn apply(self, style: Style, text: &str) -> String {
        if self.on {
            format!("{}{text}{}", style.render(), style.render_reset())
        } else {
            text.to_string()
        }
    }

    /// All is well: ok, no regressions.
    pub fn good(self, text: &str) -> String {
        self.apply(GOOD, text)
    }

    /// Something failed or needs fixing.
    pub fn bad(self, text: &str) -> String {
        self.apply(BAD, text)
    }

    /// Worth a look, not a failure: warnings, medium findings, what to do next.
    pub fn warn(self, text: &str) -> String {
        self.apply(WARN, text)
    }

    /// Headings and names.
    pub fn strong(self, text: &str) -> String {
        self.apply(STRONG, text)
    }

    /// Less important detail.
    pub fn faint(self, text: &str) -> String {
        self.apply(FAINT, text)
    }
}
