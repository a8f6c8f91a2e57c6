//! The DSP's controls, read through libfaust's `UIGlue` callbacks.

use crate::dsp::control::{Control, ControlKind, FaustFloat, Zone};
use crate::options::Precision;
use faust_ffi::UiGlue;
use std::ffi::{c_char, c_void, CStr};

/// Collects controls while `buildUserInterface` walks the DSP's UI tree.
#[derive(Default)]
struct Collector {
    groups: Vec<String>,
    controls: Vec<Control>,
}

impl Collector {
    fn push(&mut self, label: *const c_char, kind: ControlKind, zone: Zone, range: [f64; 4]) {
        let path = control_path(&self.groups, &label_text(label));
        let [init, min, max, step] = range;
        self.controls.push(Control {
            path,
            kind,
            init,
            min,
            max,
            step,
            zone,
        });
    }
}

/// A control's path: the labels of its groups and its own, joined with `/`. Code compiled from
/// a string names its top group `0x00`: not a useful label.
pub(crate) fn control_path(groups: &[String], label: &str) -> String {
    (groups.iter().map(String::as_str))
        .chain([label])
        .filter(|g| !g.is_empty() && *g != "0x00")
        .collect::<Vec<_>>()
        .join("/")
}

fn label_text(label: *const c_char) -> String {
    if label.is_null() {
        return String::new();
    }
    // SAFETY: libfaust passes NUL-terminated labels that live for the call.
    unsafe { CStr::from_ptr(label) }
        .to_string_lossy()
        .into_owned()
}

/// # Safety (all callbacks below)
/// libfaust calls them during `buildUserInterface` with `ui` pointing at the `Collector` passed
/// in the glue, alive and exclusively ours for the call. They do not unwind: a panic in an
/// `extern "C"` function aborts the process.
unsafe fn collector<'a>(ui: *mut c_void) -> &'a mut Collector {
    // SAFETY: see above.
    unsafe { &mut *ui.cast::<Collector>() }
}

unsafe extern "C" fn open_box(ui: *mut c_void, label: *const c_char) {
    // SAFETY: see `collector`.
    unsafe { collector(ui) }.groups.push(label_text(label));
}

unsafe extern "C" fn close_box(ui: *mut c_void) {
    // SAFETY: see `collector`.
    unsafe { collector(ui) }.groups.pop();
}

macro_rules! button_callback {
    ($name:ident, $kind:expr) => {
        unsafe extern "C" fn $name<T: FaustFloat>(
            ui: *mut c_void,
            label: *const c_char,
            zone: *mut T,
        ) {
            // SAFETY: see `collector`.
            let c = unsafe { collector(ui) };
            c.push(label, $kind, T::zone(zone), [0.0, 0.0, 1.0, 1.0]);
        }
    };
}

button_callback!(add_button, ControlKind::Button);
button_callback!(add_check_button, ControlKind::CheckButton);

macro_rules! slider_callback {
    ($name:ident, $kind:expr) => {
        unsafe extern "C" fn $name<T: FaustFloat>(
            ui: *mut c_void,
            label: *const c_char,
            zone: *mut T,
            init: T,
            min: T,
            max: T,
            step: T,
        ) {
            // SAFETY: see `collector`.
            let c = unsafe { collector(ui) };
            let range = [init.into(), min.into(), max.into(), step.into()];
            c.push(label, $kind, T::zone(zone), range);
        }
    };
}

slider_callback!(add_vertical_slider, ControlKind::VerticalSlider);
slider_callback!(add_horizontal_slider, ControlKind::HorizontalSlider);
slider_callback!(add_num_entry, ControlKind::NumEntry);

unsafe extern "C" fn add_bargraph<T: FaustFloat>(
    _ui: *mut c_void,
    _label: *const c_char,
    _zone: *mut T,
    _min: T,
    _max: T,
) {
}

unsafe extern "C" fn add_soundfile(
    _ui: *mut c_void,
    _label: *const c_char,
    _url: *const c_char,
    _sf_zone: *mut *mut c_void,
) {
}

unsafe extern "C" fn declare<T: FaustFloat>(
    _ui: *mut c_void,
    _zone: *mut T,
    _key: *const c_char,
    _value: *const c_char,
) {
}

/// The glue that fills `collector`, for samples of type `T`.
fn glue<T: FaustFloat>(collector: &mut Collector) -> UiGlue<T> {
    UiGlue {
        ui_interface: (collector as *mut Collector).cast(),
        open_tab_box: open_box,
        open_horizontal_box: open_box,
        open_vertical_box: open_box,
        close_box,
        add_button: add_button::<T>,
        add_check_button: add_check_button::<T>,
        add_vertical_slider: add_vertical_slider::<T>,
        add_horizontal_slider: add_horizontal_slider::<T>,
        add_num_entry: add_num_entry::<T>,
        add_horizontal_bargraph: add_bargraph::<T>,
        add_vertical_bargraph: add_bargraph::<T>,
        add_soundfile,
        declare: declare::<T>,
    }
}

/// The controls that `build_user_interface(glue)` reports, the glue being a `UiGlue` of
/// `precision`'s sample type.
///
/// # Safety
/// `build_user_interface` must pass the glue to a `buildUserInterface` of code whose
/// `FAUSTFLOAT` matches `precision`, and return when it returns.
pub(crate) unsafe fn collect(
    precision: Precision,
    build_user_interface: impl FnOnce(*mut c_void),
) -> Vec<Control> {
    let mut collector = Collector::default();
    match precision {
        Precision::Single => {
            let mut glue = glue::<f32>(&mut collector);
            build_user_interface((&mut glue as *mut UiGlue<f32>).cast())
        }
        Precision::Double => {
            let mut glue = glue::<f64>(&mut collector);
            build_user_interface((&mut glue as *mut UiGlue<f64>).cast())
        }
    }
    collector.controls
}
