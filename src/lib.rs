//! faustperf: measures how fast Faust DSP programs run under each compiler option set.
pub mod libfaust;
pub mod measure;
pub mod worker;
