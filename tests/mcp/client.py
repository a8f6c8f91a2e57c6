"""A real MCP client (the Python `mcp` package) driving `faustperf mcp` for tests/mcp.rs.

Usage: client.py SPEC_JSON, where SPEC is
  {"command": EXE, "args": [...], "cwd": DIR,
   "mode": "sequence" | "concurrent" | "cancel",
   "steps": [{"tool": NAME, "arguments": {...}}, ...]}

- sequence: the steps one after another in one session;
- concurrent: all steps at once in one session;
- cancel: the first step, cancelled once it reports progress, then the other steps.

Prints one JSON object: the negotiated protocol version, the tools listed (name, whether they
have an output schema), the time tools/list took, and per step: is_error, structured content,
text, progress messages and values, seconds, or the exception the client raised (a JSON-RPC error, or a
structured result that does not match the tool's output schema).
"""

import base64
import json
import os
import sys
import time

import anyio
from mcp import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client


def live_workers(exe):
    """Command lines of the worker processes of EXE still alive."""
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            if os.path.realpath(f"/proc/{pid}/exe") != os.path.realpath(exe):
                continue
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmdline = f.read().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if "__worker" in cmdline:
            found.append(cmdline)
    return found


async def call(session, step, progress_seen=None):
    """Runs one step; never raises."""
    messages = []
    values = []

    async def on_progress(progress, total, message):
        messages.append(message)
        values.append(progress)
        if progress_seen is not None:
            progress_seen.set()

    started = time.monotonic()
    out = {"tool": step["tool"], "progress": messages, "progress_values": values}
    try:
        result = await session.call_tool(
            step["tool"], step.get("arguments", {}), progress_callback=on_progress
        )
        out["is_error"] = bool(result.is_error)
        out["structured"] = result.structured_content
        out["text"] = "\n".join(c.text for c in result.content if c.type == "text")
        # Images as the client received them: their type and the first bytes decoded.
        out["images"] = [
            {"mime_type": getattr(c, "mime_type", None) or getattr(c, "mimeType", None), "head": list(base64.b64decode(c.data)[:8])}
            for c in result.content
            if c.type == "image"
        ]
    except BaseException as e:  # noqa: BLE001 - the test wants to see every failure
        if isinstance(e, anyio.get_cancelled_exc_class()):
            out["cancelled"] = True
            raise
        out["exception"] = f"{type(e).__name__}: {e}"
    finally:
        out["seconds"] = time.monotonic() - started
    return out


async def main(spec):
    params = StdioServerParameters(
        command=spec["command"], args=spec.get("args", []), cwd=spec.get("cwd")
    )
    report = {"results": []}
    async with stdio_client(params) as streams:
        async with ClientSession(*streams) as session:
            init = await session.initialize()
            report["protocol_version"] = init.protocol_version
            report["server"] = init.server_info.name
            started = time.monotonic()
            tools = await session.list_tools()
            report["list_seconds"] = time.monotonic() - started
            report["tools"] = [
                {"name": t.name, "has_output_schema": t.output_schema is not None}
                for t in tools.tools
            ]
            steps = spec.get("steps", [])
            mode = spec.get("mode", "sequence")
            if mode == "sequence":
                for step in steps:
                    report["results"].append(await call(session, step))
            elif mode == "concurrent":
                results = [None] * len(steps)

                async def run(i):
                    results[i] = await call(session, steps[i])

                async with anyio.create_task_group() as group:
                    for i in range(len(steps)):
                        group.start_soon(run, i)
                report["results"] = results
            elif mode == "cancel":
                seen = anyio.Event()
                first = {"tool": steps[0]["tool"], "cancelled": False}
                started = time.monotonic()
                async with anyio.create_task_group() as group:

                    async def first_call():
                        try:
                            first.update(await call(session, steps[0], seen))
                        except BaseException:
                            first["cancelled"] = True
                            raise

                    group.start_soon(first_call)
                    await seen.wait()
                    group.cancel_scope.cancel()
                first["seconds_to_cancel"] = time.monotonic() - started
                # The server kills the workers within a poll period.
                await anyio.sleep(1.0)
                first["workers_after_cancel"] = live_workers(spec["command"])
                report["results"].append(first)
                for step in steps[1:]:
                    report["results"].append(await call(session, step))
    print(json.dumps(report))


if __name__ == "__main__":
    anyio.run(main, json.loads(sys.argv[1]))
