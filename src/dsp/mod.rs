//! What the engines run, whichever backend made it: an instance of generated code ([`Dsp`]),
//! the factory that makes instances ([`DspFactory`]), the instance with its controls and memory
//! ([`Instance`]), its audio buffers, and what can go wrong ([`FaustError`]). Below every
//! backend: libfaust's factories, the C++ shared objects and the WebAssembly modules implement
//! these traits.

pub mod control;
mod error;
mod instance;

pub use control::{Control, ControlKind};
pub use error::FaustError;
pub use instance::{AudioBuffers, BoundInstance, Dsp, DspFactory, Instance};
