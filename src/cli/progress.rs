//! Progress on stderr: a bar on a terminal, one line per option set otherwise.

use crate::analyze::options::OptionSet;
use crate::analyze::Progress;
use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;

pub enum StderrProgress {
    Bar(ProgressBar),
    Lines,
}

impl StderrProgress {
    pub fn new() -> StderrProgress {
        if std::io::stderr().is_terminal() {
            let bar = ProgressBar::new(0);
            bar.set_style(
                ProgressStyle::with_template(
                    "{bar:30} {pos}/{len} option sets, {elapsed} elapsed, ETA {eta}  {msg}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            StderrProgress::Bar(bar)
        } else {
            StderrProgress::Lines
        }
    }

    pub fn finish(&self) {
        if let StderrProgress::Bar(bar) = self {
            bar.finish_and_clear();
        }
    }
}

impl Progress for StderrProgress {
    fn started(&mut self, set: &OptionSet, index: usize, total: usize) {
        if let StderrProgress::Bar(bar) = self {
            bar.set_length(total as u64);
            bar.set_position(index as u64);
            bar.set_message(format!("compiling and measuring {}", set.display()));
        }
    }

    fn finished(&mut self, set: &OptionSet, outcome: &str) {
        match self {
            StderrProgress::Bar(bar) => {
                bar.inc(1);
                bar.println(format!("{}: {outcome}", set.display()));
            }
            StderrProgress::Lines => eprintln!("{}: {outcome}", set.display()),
        }
    }
}
