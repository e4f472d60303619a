"""The inline script behind ``HtmlReport.table(..., sortable=True)``: sort and filter in the page.

A click on a header of a ``table.sortable`` sorts its body rows by that column (numbers as
numbers, empty cells last; a second click reverses); typing in the ``input.filter`` box just
before the table keeps the rows that contain every typed word (case-insensitive). No network, no
libraries; it reads and reorders the DOM only (no HTML is built from cell text).
"""

from __future__ import annotations

TABLE_JS = """
document.addEventListener("DOMContentLoaded", function () {
  function key(cell) {
    var t = cell ? cell.textContent.trim() : "";
    var x = Number(t.replace(/%$/, ""));
    return t === "" ? [2, 0, ""] : (isNaN(x) ? [1, 0, t.toLowerCase()] : [0, x, ""]);
  }
  function cmp(a, b) {
    for (var i = 0; i < 3; i++) { if (a[i] < b[i]) return -1; if (a[i] > b[i]) return 1; }
    return 0;
  }
  document.querySelectorAll("table.sortable").forEach(function (table) {
    var body = table.tBodies[0];
    table.querySelectorAll("thead th").forEach(function (th, col) {
      th.addEventListener("click", function () {
        var dir = th.dataset.dir === "asc" ? -1 : 1;
        table.querySelectorAll("thead th").forEach(function (h) { delete h.dataset.dir; });
        th.dataset.dir = dir === 1 ? "asc" : "desc";
        var rows = Array.from(body.rows);
        rows.sort(function (r, s) {
          var a = key(r.cells[col]), b = key(s.cells[col]);
          return (a[0] === 2) - (b[0] === 2) || dir * cmp(a, b);  // blanks last either way
        });
        rows.forEach(function (r) { body.appendChild(r); });
      });
    });
    var box = table.previousElementSibling;
    if (box && box.matches("input.filter")) {
      box.addEventListener("input", function () {
        var words = box.value.toLowerCase().split(/\\s+/).filter(Boolean);
        Array.from(body.rows).forEach(function (r) {
          var text = r.textContent.toLowerCase();
          r.hidden = !words.every(function (w) { return text.includes(w); });
        });
      });
    }
  });
});
"""
"""Sorting and filtering for every ``table.sortable`` of the page (see the module docstring)."""
