"""A single self-contained ``index.html``: the report's Markdown rendered, figures inlined, files linked."""

from __future__ import annotations

import base64
import html
import json
import re
from pathlib import Path

STYLE = (
    "body{font-family:sans-serif;max-width:1100px;margin:2em auto;line-height:1.4}table{border-collapse:collapse}"
    "td,th{border:1px solid #ccc;padding:2px 6px;font-size:90%}img{max-width:100%}pre{background:#f6f6f6;padding:1em}"
)


def _inline(line: str) -> str:
    text = html.escape(line)
    text = re.sub(r"`([^`]+)`", r"<code>\1</code>", text)
    text = re.sub(r"\*\*([^*]+)\*\*", r"<b>\1</b>", text)
    return re.sub(r"\*([^*]+)\*", r"<i>\1</i>", text)


def markdown_to_html(markdown: str, folder: Path) -> str:
    """The small Markdown subset the report uses: headings, lists, pipe tables, images, code fences."""
    out: list[str] = []
    rows: list[list[str]] = []
    fenced = False
    for line in markdown.splitlines() + [""]:
        if line.startswith("```"):
            out.append("</pre>" if fenced else "<pre>")
            fenced = not fenced
            continue
        if fenced:
            out.append(html.escape(line))
            continue
        if line.startswith("|"):
            cells = [c.strip() for c in line.strip("|").split("|")]
            if not all(set(c) <= set("-: ") for c in cells):
                rows.append(cells)
            continue
        if rows:
            head, *body = rows
            out.append("<table><tr>" + "".join(f"<th>{_inline(c)}</th>" for c in head) + "</tr>")
            out += ["<tr>" + "".join(f"<td>{_inline(c)}</td>" for c in r) + "</tr>" for r in body]
            out.append("</table>")
            rows = []
        if image := re.fullmatch(r"!\[([^]]*)\]\(([^)]+)\)", line):
            data = base64.b64encode((folder / image[2]).read_bytes()).decode()
            out.append(f'<p><img alt="{html.escape(image[1])}" src="data:image/png;base64,{data}"></p>')
        elif heading := re.match(r"(#+) (.*)", line):
            level = len(heading[1])
            out.append(f"<h{level}>{_inline(heading[2])}</h{level}>")
        elif line.startswith("- "):
            out.append(f"<li>{_inline(line[2:])}</li>")
        elif line.strip():
            out.append(f"<p>{_inline(line)}</p>")
    return "\n".join(out)


def write_index(folder: Path, markdown: str, provenance: dict) -> Path:
    files = sorted(p.name for p in folder.iterdir() if p.suffix in (".csv", ".tex", ".svg", ".md"))
    links = "".join(f'<li><a href="{html.escape(name)}">{html.escape(name)}</a></li>' for name in files)
    body = markdown_to_html(markdown, folder)
    facts = html.escape(json.dumps(provenance, sort_keys=True))
    page = (
        f"<!doctype html><html><head><meta charset='utf-8'><title>tnasbench report</title><style>{STYLE}</style></head>"
        f"<body>{body}<h2>Files</h2><ul>{links}</ul>"
        f"<script type='application/json' id='provenance'>{facts}</script>"
        "</body></html>\n"
    )
    target = folder / "index.html"
    target.write_text(page)
    return target
