"""The CLI reference ``docs/cli.md``, generated from every command's ``--help``.

``python -m algolens.cli.reference`` rewrites ``docs/cli.md`` (``--doc PATH``: another file);
``--check`` exits 1 (printing what differs) when the file is stale
(``tests/cli/test_reference.py``). Commands come in
alphabetical order, sub-commands under their group. The help is rendered 100 columns wide without
colour. Option ranges that depend on the machine's CPU count (``--threads``, ``--workers``) are
rendered as if it had 1000 CPUs and then shown as ``NCPU`` (same width), so the file is the same
on every machine. Run it in a fresh process: it sets ``os.cpu_count`` before importing the CLI.
"""

from __future__ import annotations

import difflib
import os
import sys
from pathlib import Path

WIDTH = 100
FAKE_CPUS = 1000
DOC = Path(__file__).resolve().parents[3] / "docs" / "cli.md"
HEADER = """# algolens command-line reference

Generated from `--help` by `python -m algolens.cli.reference` (do not edit by hand; a test fails
when this file is stale, and that command regenerates it). Ranges written `NCPU` are the
machine's CPU count. Every command accepts `-h`/`--help`; commands that print results accept
`--json`; bad input is one line on stderr and exit code 2.
"""


def render() -> str:
    """The whole reference as markdown."""
    os.environ.update({"COLUMNS": str(WIDTH), "TERMINAL_WIDTH": str(WIDTH), "NO_COLOR": "1"})
    os.cpu_count = lambda: FAKE_CPUS  # before the CLI modules read it (option ranges)
    import typer

    from algolens.cli.app import app

    root = typer.main.get_command(app)
    parts = [HEADER, _section(app, [], "algolens")]
    for name in sorted(root.commands):  # type: ignore[attr-defined]
        cmd = root.commands[name]  # type: ignore[attr-defined]
        parts.append(_section(app, [name], f"algolens {name}"))
        for sub in sorted(getattr(cmd, "commands", {})):
            parts.append(_section(app, [name, sub], f"algolens {name} {sub}"))
    return "\n".join(parts)


def _section(app, args: list[str], title: str) -> str:
    from typer.testing import CliRunner

    result = CliRunner().invoke(app, [*args, "--help"], prog_name="algolens")
    if result.exit_code != 0:
        raise RuntimeError(f"`{title} --help` failed: {result.output}")
    text = "\n".join(line.rstrip() for line in result.output.strip("\n").splitlines())
    ncpu = f"<={FAKE_CPUS}]"
    text = text.replace(ncpu, "<=NCPU]")
    level = "#" * min(len(args) + 2, 4)
    return f"{level} `{title}`\n\n```text\n{text}\n```\n"


def main(argv: list[str] | None = None) -> int:
    """Write ``docs/cli.md`` (or with ``--check`` compare it); return the exit code."""
    args = sys.argv[1:] if argv is None else argv
    doc = Path(args[args.index("--doc") + 1]) if "--doc" in args else DOC
    text = render()
    if "--check" in args:
        current = doc.read_text() if doc.is_file() else ""
        if current == text:
            return 0
        diff = difflib.unified_diff(
            current.splitlines(), text.splitlines(), "docs/cli.md", "--help now", lineterm="", n=1
        )
        print("\n".join(list(diff)[:80]))
        print(f"{doc} is stale: run `python -m algolens.cli.reference`", file=sys.stderr)
        return 1
    from algolens.fileio import write_text_atomic

    write_text_atomic(doc, text)
    print(f"wrote {doc}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
