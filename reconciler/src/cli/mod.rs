//! The subcommands, each a thin layer over the library modules.

pub mod agent;
pub mod daemon;
pub mod queue;
pub mod spec;
pub mod status;

/// Builds the tokio runtime that async subcommands run on.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("the tokio runtime starts unless the process is out of resources")
}
