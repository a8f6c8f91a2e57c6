//! `faustperf mcp`: a Model Context Protocol server on stdio (rmcp), whose tools let an AI
//! assistant measure Faust code. stdout carries only JSON-RPC: the protocol gets its own copy of
//! the descriptor and fd 1 points at stderr, so nothing else can write into the stream.

mod roots;
mod server;
mod wire;

pub use roots::Roots;
pub use server::{confinement, FaustPerfServer, ServerSettings};

use rmcp::ServiceExt;

/// Serves MCP on stdin/stdout until the client closes the connection.
pub fn serve(settings: ServerSettings) -> Result<(), String> {
    let output = crate::worker::protocol_stdout()
        .map_err(|e| format!("cannot set up stdout for the protocol: {e}"))?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))?;
    let served = runtime.block_on(async {
        let transport = (tokio::io::stdin(), tokio::fs::File::from_std(output));
        let service = FaustPerfServer::new(settings)
            .serve(transport)
            .await
            .map_err(|e| format!("MCP initialisation failed: {e}"))?;
        service
            .waiting()
            .await
            .map_err(|e| format!("the MCP service stopped: {e}"))?;
        Ok(())
    });
    // A job still running was cancelled with its call; give it a moment to end.
    runtime.shutdown_timeout(std::time::Duration::from_secs(2));
    served
}
