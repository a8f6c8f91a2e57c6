//! faustperf: measures how fast Faust DSP programs run under each compiler option set.
pub mod analyze;
pub mod baseline;
pub mod cache;
pub mod cli;
pub mod compare;
pub mod corpus;
pub mod inspect;
pub mod jobs;
pub mod libfaust;
pub mod mcp;
pub mod measure;
pub mod options;
pub mod pipeline;
pub mod profile;
pub mod report;
pub mod worker;
