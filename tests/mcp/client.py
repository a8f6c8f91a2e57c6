"""A real MCP client (the Python `mcp` package) driving `faustperf mcp` for tests/mcp.rs.

Usage: client.py SPEC_JSON, where SPEC is
  {"command": EXE, "args": [...], "cwd": DIR,
   "mode": "sequence" | "concurrent" | "cancel",
   "steps": [{"tool": NAME, "arguments": {...}}, ...]}

- sequence: the steps one after another in one session;
- concurrent: all steps at once in one session;
- cancel: the first step, cancelled once it reports progress, then the other steps.

Prints one JSON object: the negotiated protocol version, the tools listed (name, whether they
have an output schema, the allowed values of each parameter that declares an enum), the time
tools/list took, and per step: is_error, structured content, the errors of validating it
against the tool's declared outputSchema with jsonschema (`schema_errors`, also for error
results), text, progress messages and values, seconds, or the exception the client raised (a
JSON-RPC error, or a structured result that does not match the tool's output schema).
"""

import base64
import json
import os
import sys
import time

import anyio
from jsonschema import validators
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


def resolve(schema, node):
    """`node` with a local `$ref` followed."""
    while isinstance(node, dict) and "$ref" in node:
        path = node["$ref"].lstrip("#/").split("/")
        node = schema
        for part in path:
            node = node[part]
    return node


def enum_values(schema, node):
    """The values an enum parameter allows, wherever schemars put them (a `$ref`, `anyOf` with
    null, `oneOf` of constants); None when the parameter is no enum."""
    node = resolve(schema, node)
    if not isinstance(node, dict):
        return None
    if "enum" in node:
        return [v for v in node["enum"] if v is not None]
    if "const" in node:
        return [node["const"]]
    for key in ("anyOf", "oneOf"):
        if key in node:
            values = []
            for option in node[key]:
                option = resolve(schema, option)
                if option.get("type") == "null":
                    continue
                found = enum_values(schema, option)
                if found is None:
                    return None
                values.extend(found)
            return values
    return None


def schema_errors(schema, value):
    """Every way `value` breaks `schema` (a JSON Schema of any draft), as text."""
    if schema is None:
        return ["the tool declares no outputSchema"]
    if value is None:
        return ["no structured content"]
    cls = validators.validator_for(schema)
    cls.check_schema(schema)
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in cls(schema).iter_errors(value)]


async def call(session, step, output_schemas, progress_seen=None):
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
        if result.structured_content is not None:
            out["schema_errors"] = schema_errors(
                output_schemas.get(step["tool"]), result.structured_content
            )
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
                {
                    "name": t.name,
                    "has_output_schema": t.output_schema is not None,
                    "enums": {
                        name: values
                        for name, prop in (t.input_schema.get("properties") or {}).items()
                        if (values := enum_values(t.input_schema, prop)) is not None
                    },
                }
                for t in tools.tools
            ]
            schemas = {t.name: t.output_schema for t in tools.tools}
            steps = spec.get("steps", [])
            mode = spec.get("mode", "sequence")
            if mode == "sequence":
                for step in steps:
                    report["results"].append(await call(session, step, schemas))
            elif mode == "concurrent":
                results = [None] * len(steps)

                async def run(i):
                    results[i] = await call(session, steps[i], schemas)

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
                            first.update(await call(session, steps[0], schemas, seen))
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
                    report["results"].append(await call(session, step, schemas))
    print(json.dumps(report))


if __name__ == "__main__":
    anyio.run(main, json.loads(sys.argv[1]))
