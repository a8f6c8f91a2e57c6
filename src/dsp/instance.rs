//! DSP instances, their audio buffers, and `compute()`.

use super::control::{Control, Zone};
use super::FaustError;
use crate::options::Precision;
use std::ffi::c_void;

/// One instance of generated code, whichever backend made it (libfaust's LLVM JIT or
/// interpreter, a C++ shared object, a WebAssembly module): what an [`Instance`] runs.
pub trait Dsp: Send {
    fn inputs(&self) -> usize;
    fn outputs(&self) -> usize;
    /// The input controls, with zones this instance's [`Dsp::compute`] reads.
    fn controls(&mut self, precision: Precision) -> Vec<Control>;
    /// Bytes the instance holds outside the C heap (`None`: all of it is on the heap).
    fn own_memory_bytes(&self) -> Option<u64> {
        None
    }
    /// Runs the generated `compute()`.
    ///
    /// # Safety
    /// `inputs` and `outputs` hold one pointer per channel of the instance, each to `frames`
    /// samples of its precision.
    unsafe fn compute(&mut self, frames: i32, inputs: *mut *mut c_void, outputs: *mut *mut c_void);
}

/// Compiled code of any backend, from which instances are made.
pub trait DspFactory: Send + Sync {
    /// A new instance initialised at `sample_rate`.
    fn instance(&self, sample_rate: u32) -> Result<Instance, FaustError>;
    /// The sample type of the instances' `compute()`.
    fn precision(&self) -> Precision;
    /// Threads the code may run on (OpenMP code built by the C++ compiler may use several).
    fn threads(&self) -> usize {
        1
    }
}

/// A DSP instance of any backend, with its channel counts, controls and memory.
pub struct Instance {
    dsp: Box<dyn Dsp>,
    precision: Precision,
    memory_bytes: Option<u64>,
    controls: Vec<Control>,
}

// SAFETY: an instance is a heap object of generated code with no tie to the creating thread; it
// is used from one thread at a time (`compute` takes `&mut self`), and its control zones point
// into the instance itself. Not Sync: two threads must not compute on one instance.
unsafe impl Send for Instance {}

impl Instance {
    /// Wraps what `create` makes (an instance initialised at the sample rate); its memory is
    /// what the C heap grew by meanwhile, or what the instance says it holds.
    pub(crate) fn new(
        precision: Precision,
        create: impl FnOnce() -> Result<Box<dyn Dsp>, FaustError>,
    ) -> Result<Instance, FaustError> {
        let before = heap_in_use();
        let mut dsp = create()?;
        let memory_bytes = dsp.own_memory_bytes().or(match (before, heap_in_use()) {
            (Some(b), Some(a)) => Some(a.saturating_sub(b)),
            _ => None,
        });
        let controls = dsp.controls(precision);
        Ok(Instance {
            dsp,
            precision,
            memory_bytes,
            controls,
        })
    }

    /// Number of input channels.
    pub fn inputs(&self) -> usize {
        self.dsp.inputs()
    }

    /// Number of output channels.
    pub fn outputs(&self) -> usize {
        self.dsp.outputs()
    }

    /// The sample type of `compute()`.
    pub fn precision(&self) -> Precision {
        self.precision
    }

    /// Heap bytes that creating and initialising this instance took (glibc's `mallinfo2`
    /// before and after, including large blocks served by mmap); `None` where not measurable.
    pub fn memory_bytes(&self) -> Option<u64> {
        self.memory_bytes
    }

    /// The input controls (buttons, check buttons, sliders, numeric entries).
    pub fn controls(&self) -> &[Control] {
        &self.controls
    }

    /// Sets control `index` to `value` (clamped to its range); out-of-range indices are ignored.
    pub fn set_control(&mut self, index: usize, value: f64) {
        let Some(control) = self.controls.get(index) else {
            return;
        };
        let value = value.clamp(control.min.min(control.max), control.max.max(control.min));
        // SAFETY: the zone points into this live instance and was given by libfaust for this
        // control, with the instance's sample type; we hold `&mut self`.
        unsafe {
            match control.zone {
                Zone::Single(p) => *p = value as f32,
                Zone::Double(p) => *p = value,
            }
        }
    }

    /// Prepares `buffers` for `compute()` on this instance, checking that they match its channel
    /// counts and sample type.
    pub fn bind<'a>(
        &'a mut self,
        buffers: &'a mut AudioBuffers,
    ) -> Result<BoundInstance<'a>, FaustError> {
        if buffers.inputs != self.inputs()
            || buffers.outputs != self.outputs()
            || buffers.precision != self.precision()
        {
            return Err(FaustError::invalid_input(format!(
                "buffers for {} in / {} out ({:?}) do not fit an instance with {} in / {} out ({:?})",
                buffers.inputs,
                buffers.outputs,
                buffers.precision,
                self.inputs(),
                self.outputs(),
                self.precision()
            )));
        }
        Ok(BoundInstance {
            instance: self,
            buffers,
        })
    }
}

/// Heap bytes in use according to glibc (`uordblks` + `hblkhd`).
fn heap_in_use() -> Option<u64> {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: mallinfo2 only reads the allocator's counters.
        let info = unsafe { libc::mallinfo2() };
        Some((info.uordblks + info.hblkhd) as u64)
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    {
        None
    }
}

enum Channel {
    Single(Vec<f32>),
    Double(Vec<f64>),
}

impl Channel {
    fn new(precision: Precision, len: usize, mut fill: impl FnMut(usize) -> f64) -> Channel {
        match precision {
            Precision::Single => Channel::Single((0..len).map(|i| fill(i) as f32).collect()),
            Precision::Double => Channel::Double((0..len).map(fill).collect()),
        }
    }

    fn block_ptr(&mut self, offset: usize) -> *mut c_void {
        match self {
            Channel::Single(v) => v[offset..].as_mut_ptr().cast(),
            Channel::Double(v) => v[offset..].as_mut_ptr().cast(),
        }
    }

    /// NaN or infinite samples among `len` from `start` (all with `len` = usize::MAX).
    fn non_finite(&self, start: usize, len: usize) -> usize {
        match self {
            Channel::Single(v) => v
                .iter()
                .skip(start)
                .take(len)
                .filter(|x| !x.is_finite())
                .count(),
            Channel::Double(v) => v
                .iter()
                .skip(start)
                .take(len)
                .filter(|x| !x.is_finite())
                .count(),
        }
    }
}

/// Bytes each channel can be shifted by: one page, the span of 4 KiB aliasing.
pub const SHIFT_ROOM_BYTES: usize = 4096;

/// Input and output channels holding `blocks` consecutive blocks of `frames` samples each, so that
/// successive `compute()` calls can walk through more memory than the caches hold.
pub struct AudioBuffers {
    precision: Precision,
    inputs: usize,
    outputs: usize,
    frames: usize,
    blocks: usize,
    /// Owns the input samples, which compute() reads through `input_ptrs`.
    _input_data: Vec<Channel>,
    output_data: Vec<Channel>,
    /// `blocks × inputs` pointers: block `b`'s channel pointers start at `b * inputs`.
    input_ptrs: Vec<*mut c_void>,
    output_ptrs: Vec<*mut c_void>,
    /// Samples every channel is shifted by (see `shift`).
    offset: usize,
}

// SAFETY: the pointers point into the Vecs this struct owns (heap data that moves with it).
unsafe impl Send for AudioBuffers {}

impl AudioBuffers {
    /// Buffers for `inputs`/`outputs` channels of `blocks` × `frames` samples; input sample `i`
    /// of channel `c` is `fill(c, i)` (called channel after channel, in order; `i` runs past
    /// `blocks × frames` into the shift room); outputs start at zero.
    pub fn new(
        precision: Precision,
        inputs: usize,
        outputs: usize,
        frames: usize,
        blocks: usize,
        mut fill: impl FnMut(usize, usize) -> f64,
    ) -> AudioBuffers {
        let blocks = blocks.max(1);
        // Room to shift every channel by up to `SHIFT_ROOM_BYTES` (see `shift`).
        let len = frames * blocks + SHIFT_ROOM_BYTES / precision.sample_bytes();
        let input_data: Vec<Channel> = (0..inputs)
            .map(|c| Channel::new(precision, len, |i| fill(c, i)))
            .collect();
        let output_data: Vec<Channel> = (0..outputs)
            .map(|_| Channel::new(precision, len, |_| 0.0))
            .collect();
        let mut buffers = AudioBuffers {
            precision,
            inputs,
            outputs,
            frames,
            blocks,
            _input_data: input_data,
            output_data,
            input_ptrs: Vec::new(),
            output_ptrs: Vec::new(),
            offset: 0,
        };
        buffers.shift(0);
        buffers
    }

    /// [`AudioBuffers::new`] with `instance`'s channels and sample type.
    pub fn for_instance(
        instance: &Instance,
        frames: usize,
        blocks: usize,
        fill: impl FnMut(usize, usize) -> f64,
    ) -> AudioBuffers {
        let (inputs, outputs) = (instance.inputs(), instance.outputs());
        AudioBuffers::new(instance.precision(), inputs, outputs, frames, blocks, fill)
    }

    /// Moves every channel's start `bytes` (rounded down to a sample, below
    /// `SHIFT_ROOM_BYTES`) into its allocation, so that successive measurement rounds see the
    /// audio at other offsets relative to the instance's memory (cache-set and 4 KiB aliasing
    /// effects differ with that offset).
    pub fn shift(&mut self, bytes: usize) {
        let offset = (bytes % SHIFT_ROOM_BYTES) / self.precision.sample_bytes();
        let (blocks, frames) = (self.blocks, self.frames);
        let pointers = |data: &mut Vec<Channel>| -> Vec<*mut c_void> {
            let channels = data.len();
            (0..blocks * channels)
                .map(|i| data[i % channels].block_ptr(offset + (i / channels) * frames))
                .collect()
        };
        self.input_ptrs = pointers(&mut self._input_data);
        self.output_ptrs = pointers(&mut self.output_data);
        self.offset = offset;
    }

    /// Number of blocks the buffers rotate over.
    pub fn blocks(&self) -> usize {
        self.blocks
    }

    /// Total bytes of input and output samples held.
    pub fn bytes(&self) -> usize {
        (self.inputs + self.outputs) * self.frames * self.blocks * self.precision.sample_bytes()
    }

    /// Copies block `block % blocks` of the outputs into `out`, interleaved for
    /// `out_channels` channels (extra outputs are dropped, missing ones are silent).
    pub fn write_interleaved(&self, block: usize, out: &mut [f32], out_channels: usize) {
        let start = self.offset + (block % self.blocks) * self.frames;
        for (frame, chunk) in out
            .chunks_mut(out_channels.max(1))
            .take(self.frames)
            .enumerate()
        {
            for (c, sample) in chunk.iter_mut().enumerate() {
                *sample = match self.output_data.get(c) {
                    Some(Channel::Single(v)) => v[start + frame],
                    Some(Channel::Double(v)) => v[start + frame] as f32,
                    None => 0.0,
                };
            }
        }
    }

    /// Every block of output channel `channel`, in order, widened to f64.
    pub fn output_channel(&self, channel: usize) -> Vec<f64> {
        let range = self.offset..self.offset + self.blocks * self.frames;
        match &self.output_data[channel] {
            Channel::Single(v) => v[range].iter().map(|&x| f64::from(x)).collect(),
            Channel::Double(v) => v[range].to_vec(),
        }
    }

    /// NaN or infinite samples in block `block % blocks` of the outputs.
    pub fn non_finite_in_block(&self, block: usize) -> usize {
        let start = self.offset + (block % self.blocks) * self.frames;
        self.output_data
            .iter()
            .map(|c| c.non_finite(start, self.frames))
            .sum()
    }
}

/// An instance with buffers that fit it: ready to `compute()`.
pub struct BoundInstance<'a> {
    instance: &'a mut Instance,
    buffers: &'a mut AudioBuffers,
}

impl BoundInstance<'_> {
    /// Runs `compute()` on block `block % blocks` of the buffers.
    #[inline]
    pub fn compute(&mut self, block: usize) {
        let b = block % self.buffers.blocks;
        let inputs = self.buffers.input_ptrs[b * self.buffers.inputs..].as_mut_ptr();
        let outputs = self.buffers.output_ptrs[b * self.buffers.outputs..].as_mut_ptr();
        // SAFETY: `bind` checked that the buffers have the instance's channel counts and sample
        // type; block `b` of every channel holds `frames` samples; the instance is live and ours.
        unsafe {
            self.instance
                .dsp
                .compute(self.buffers.frames as i32, inputs, outputs)
        }
    }

    /// The bound instance, e.g. to change controls between blocks.
    pub fn instance(&mut self) -> &mut Instance {
        self.instance
    }
}
