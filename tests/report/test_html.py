"""HtmlReport: every text escaped, links relative and quoted, circuitsvis props inert."""

from __future__ import annotations

import re

import numpy as np

from algolens.report.html import HtmlReport, Link

EVIL = "<script>alert(1)</script>"


def test_text_cells_links_and_title_are_escaped():
    r = HtmlReport(EVIL)
    r.heading(EVIL)
    r.paragraph(EVIL)
    r.table([EVIL], [[EVIL], [Link(EVIL, "javascript:alert(1)")], [Link("x", 'a"b<c>/r.html')]])
    text = r.render()
    assert "<script>" not in text and text.count("&lt;script&gt;alert(1)&lt;/script&gt;") == 7
    hrefs = re.findall(r'href="([^"]*)"', text)
    assert hrefs == ["javascript%3Aalert%281%29", "a%22b%3Cc%3E/r.html"]  # relative, quoted


def test_sortable_table_has_one_script_and_a_filter_box_per_table():
    r = HtmlReport("t")
    r.table(["a"], [[1]], sortable=True)
    r.table(["b"], [[2]], sortable=True)
    text = r.render()
    assert text.count("<script>") == 1 and text.count("input class='filter'") == 2
    assert text.count("<thead>") == 2 and text.count("<tbody>") == 2


def test_circuitsvis_bundle_inlined_once_and_props_cannot_close_the_script():
    r = HtmlReport("t")
    att = np.full((1, 2, 2), 0.5)
    r.circuitsvis("AttentionPatterns", tokens=[EVIL, "b"], attention=att)
    r.circuitsvis("AttentionPatterns", tokens=["a", "b"], attention=att, headLabels=[EVIL])
    text = r.render()
    assert "unpkg.com" not in text and "sourceMappingURL" not in text
    assert text.count("CircuitsVis.render(") == 2
    # the only </script> tags are those our builder wrote: bundle + 2 views
    assert text.count("</script>") == 3
    assert '"&lt;script&gt;alert(1)&lt;/script&gt;"' in text  # tokens escaped (shown as text)
    assert '"attention": [[[0.5, 0.5], [0.5, 0.5]]]' in text
    assert '"headLabels": ["<script>alert(1)<\\/script>"]' in text  # other props: JSON, inert
