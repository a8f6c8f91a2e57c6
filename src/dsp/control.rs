//! A DSP instance's controls, whichever backend made it: what they are, and where their
//! values live inside the instance.

use serde::Serialize;

/// What kind of widget a control is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ControlKind {
    Button,
    CheckButton,
    VerticalSlider,
    HorizontalSlider,
    NumEntry,
}

/// One input control of a DSP instance (bargraphs, which the DSP writes, are not listed).
#[derive(Debug, Clone, Serialize)]
pub struct Control {
    /// The labels of the enclosing groups and of the control, joined with `/`.
    pub path: String,
    pub kind: ControlKind,
    pub init: f64,
    pub min: f64,
    pub max: f64,
    pub step: f64,
    #[serde(skip)]
    pub(crate) zone: Zone,
}

/// Where a control's value lives inside the instance.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Zone {
    Single(*mut f32),
    Double(*mut f64),
}

/// A `FAUSTFLOAT`: `f32`, or `f64` in `-double` code.
pub(crate) trait FaustFloat: Copy + Into<f64> + 'static {
    fn zone(ptr: *mut Self) -> Zone;
}

impl FaustFloat for f32 {
    fn zone(ptr: *mut f32) -> Zone {
        Zone::Single(ptr)
    }
}

impl FaustFloat for f64 {
    fn zone(ptr: *mut f64) -> Zone {
        Zone::Double(ptr)
    }
}
