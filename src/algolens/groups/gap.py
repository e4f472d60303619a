"""Import groups from GAP (Debian packages ``gap-core gap-libs gap-smallgrp``) as Cayley tables.

GAP is optional. Without it, ``gap:`` specs raise :class:`ExternalToolError` naming the packages.
The spec is parsed by :mod:`algolens.groups.gap_spec` (a whitelist of constructors with integer
arguments) and the GAP text is regenerated from that AST; user text never reaches GAP.
The table lists ``AsSSortedList(G)`` in GAP's order; the identity is wherever GAP puts it.
"""

from __future__ import annotations

import json
import shutil
import subprocess

from algolens.errors import ExternalToolError, SizeLimitError, SpecError
from algolens.groups.gap_spec import parse_gap_spec, to_gap
from algolens.groups.group import MAX_ORDER, FiniteGroup

GAP_TIMEOUT_S = 120

_GAP_SCRIPT = """AlgolensTable := function()
  local G, el, x;
  G := {expr};
  if not IsGroup(G) or not IsFinite(G) then
    Print("ALGOLENS-ERROR not a finite group\\n"); return;
  fi;
  if Size(G) > {limit} then Print("ALGOLENS-ERROR order ", Size(G), "\\n"); return; fi;
  el := AsSSortedList(G);
  Print("ALGOLENS-BEGIN\\n");
  for x in el do Print(List(el, y -> PositionSorted(el, x*y) - 1), "\\n"); od;
  Print("ALGOLENS-END\\n");
end;;
AlgolensTable();
QUIT;
"""


def from_gap(spec: str, *, gap_binary: str = "gap") -> FiniteGroup:
    """Build a group from a ``gap:`` spec (the text after ``gap:``) with GAP's multiplication table.

    Raises:
        SpecError: the spec is outside the grammar, or GAP cannot evaluate it.
        SizeLimitError: the group's order is above ``MAX_ORDER``.
        ExternalToolError: GAP is not installed, times out or answers unreadably.
    """
    expr = to_gap(parse_gap_spec(spec))  # regenerated from the AST, never the user's text
    script = _GAP_SCRIPT.replace("{expr}", expr).replace("{limit}", str(MAX_ORDER))
    exe = shutil.which(gap_binary)
    if exe is None:
        raise ExternalToolError(
            "gap: specs need the GAP program; install it with `apt-get install gap-core "
            "gap-libs gap-smallgrp` (Debian packages) or use a table file"
        )
    try:
        proc = subprocess.run(
            [exe, "-q", "-b"], input=script, capture_output=True, text=True, timeout=GAP_TIMEOUT_S
        )
    except subprocess.TimeoutExpired:
        raise ExternalToolError(f"GAP did not answer for gap:{expr} in {GAP_TIMEOUT_S} s") from None
    out = proc.stdout
    gap_error = next((ln for ln in proc.stderr.splitlines() if ln.startswith("Error")), None)
    if gap_error:
        raise SpecError(f"GAP could not evaluate gap:{expr}: {gap_error.strip()}")
    if "ALGOLENS-ERROR not a finite group" in out:
        raise SpecError(f"gap:{expr} is not a finite group")
    if "ALGOLENS-ERROR order" in out:
        raise SizeLimitError(f"gap:{expr} has order above the limit {MAX_ORDER} (MAX_ORDER)")
    if "ALGOLENS-BEGIN" not in out or "ALGOLENS-END" not in out:
        first = next((ln for ln in out.splitlines() if ln.strip()), "no output")
        raise ExternalToolError(f"GAP gave no table for gap:{expr}: {first.strip()[:200]}")
    body = out.split("ALGOLENS-BEGIN", 1)[1].split("ALGOLENS-END", 1)[0]
    try:
        rows = json.loads("[" + ",".join(_join_gap_lines(body)) + "]")
    except ValueError:
        raise ExternalToolError(f"GAP's table for gap:{expr} is unreadable") from None
    return FiniteGroup(rows, name=f"gap:{expr}")


def _join_gap_lines(body: str) -> list[str]:
    """GAP wraps long lists over lines ending in backslash; rejoin one list per row."""
    rows, current = [], ""
    for line in body.splitlines():
        current += line.rstrip().rstrip("\\").strip()
        if current.endswith("]"):
            rows.append(current)
            current = ""
    return rows
