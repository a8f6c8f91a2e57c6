//! Progress on stderr: a bar on a terminal, one line per option set otherwise.

use crate::analyze::{pass_message, Progress, SetState};
use crate::options::OptionSet;
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
                    "{bar:30} {pos}/{len} option sets measured, {elapsed} elapsed, ETA {eta}  {msg}",
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
    fn update(&mut self, set: &OptionSet, index: usize, total: usize, state: &SetState) {
        let line = match state {
            SetState::Done(outcome) | SetState::Failed(outcome) => Some(outcome.as_str()),
            SetState::Cached => Some("compiled code from the cache"),
            _ => None,
        };
        match self {
            StderrProgress::Bar(bar) => {
                bar.set_length(total as u64);
                match state {
                    SetState::Done(_) | SetState::Failed(_) => bar.inc(1),
                    SetState::Compiling => bar.set_message(format!("compiling {}", set.display())),
                    _ => {}
                }
                if let Some(line) = line {
                    bar.println(format!("{}: {line}", set.display()));
                }
            }
            StderrProgress::Lines => {
                if let Some(line) = line {
                    eprintln!("[{}/{total}] {}: {line}", index + 1, set.display());
                }
            }
        }
    }

    fn pass(&mut self, pass: usize, max_passes: usize, sets: usize) {
        let line = pass_message(pass, max_passes, sets);
        match self {
            StderrProgress::Bar(bar) => bar.set_message(line),
            StderrProgress::Lines if pass == 1 => eprintln!("{line}"),
            StderrProgress::Lines => {}
        }
    }

    fn step(&mut self, what: &str) {
        match self {
            StderrProgress::Bar(bar) => bar.println(what),
            StderrProgress::Lines => eprintln!("{what}"),
        }
    }
}
