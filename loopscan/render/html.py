"""``loopscan report``: one self-contained HTML file for an architecture review.

Styles, the script and the SVG diagram are inline, and a content security
policy forbids every load: ``default-src 'none'``, with the one inline style
and the one inline script allowed by their SHA-256 hashes. Every string from
a scanned repository reaches the page in one of two ways only: escaped by
:func:`html.escape` into markup, or inside the JSON data block with ``<``,
``>`` and ``&`` written as ``\\u003c`` and friends, from which the script
writes it as text (``textContent``), never as markup. Links are built from a
file path and a line: relative ones start with ``./``, and ``--link-base``
must be an ``http(s)`` URL, so no ``javascript:`` link can arise.

The findings table is drawn a page at a time by the script, so a project of
thousands of findings stays quick to open.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from html import escape
from typing import Any

from loopscan.analysis.facts import Loop
from loopscan.baseline import Entry
from loopscan.findings import Finding, Waypoint, elided, observed_note
from loopscan.linter import Report
from loopscan.overrides import Review

PAGE_ROWS = 100
"""Rows of the findings table shown at a time."""


@dataclass(frozen=True)
class ReviewInput:
    """What the report shows besides the findings: computed by the command, formatted here."""

    today: date
    reviews: Sequence[Review]
    witnesses: dict[str, tuple[Waypoint, ...]]
    """Each loop's shortest cycle through its first generate step, by loop id."""
    svg: str | None
    """The diagram as SVG markup from Graphviz, or None when it could not be drawn."""
    diagram_note: str
    link_base: str | None = None
    baseline: Sequence[Entry] | None = None
    """Every entry of the baseline the findings were marked with (``--baseline``), or None without one."""


STYLE = """
body{font:14px/1.4 system-ui,sans-serif;margin:0 2em 2em;color:#222}
h1{font-size:22px}h2{font-size:18px;margin-top:1.6em}
table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #ddd;padding:3px 6px;text-align:left;
vertical-align:top}th{background:#f4f4f4}.error{color:#b00020;font-weight:600}.warning{color:#a15c00}
.info{color:#555}.pass{color:#2e7d32}#diagram{border:1px solid #ccc;height:520px;overflow:hidden;cursor:grab;
background:#fff}#diagram svg{width:100%;height:100%}.filters select{margin-right:1em}.note{color:#555}
code{font-size:12px}.flag{color:#b00020;font-weight:600}
"""

SCRIPT = r"""
(function(){
'use strict';
var data=JSON.parse(document.getElementById('loopscan-data').textContent);
var PAGE=data.page, page=0;
var sel={severity:'',rule:'',play:'',pipeline:'',status:''};
function cell(row,text,cls){var td=document.createElement('td');td.textContent=text;if(cls)td.className=cls;
row.appendChild(td);return td;}
function href(f){if(data.linkBase)return data.linkBase+f.file.split('/').map(encodeURIComponent).join('/')+
'#L'+f.line;return './'+f.file.split('/').map(encodeURIComponent).join('/');}
function shown(){return data.findings.filter(function(f){
return (!sel.severity||f.severity===sel.severity)&&(!sel.rule||f.rule===sel.rule)&&
(!sel.play||String(f.play)===sel.play)&&(!sel.pipeline||f.pipeline===sel.pipeline)&&
(!sel.status||f.status===sel.status);});}
function draw(){var rows=shown(),body=document.getElementById('findings-body');
var pages=Math.max(1,Math.ceil(rows.length/PAGE));if(page>=pages)page=pages-1;body.textContent='';
rows.slice(page*PAGE,(page+1)*PAGE).forEach(function(f){var tr=document.createElement('tr');
tr.className='finding';cell(tr,f.severity,f.severity);cell(tr,f.rule+' '+f.name);cell(tr,f.pipeline||'-');
var td=cell(tr,'');var a=document.createElement('a');a.href=href(f);a.textContent=f.file+':'+f.line;
td.appendChild(a);cell(tr,f.message+f.note);cell(tr,f.status);body.appendChild(tr);});
document.getElementById('findings-count').textContent=rows.length+' of '+data.findings.length+
' findings; page '+(page+1)+' of '+pages;}
function fill(id,key,values){var s=document.getElementById(id);values.forEach(function(v){
var o=document.createElement('option');o.value=String(v[0]);o.textContent=v[1];s.appendChild(o);});
s.addEventListener('change',function(){sel[key]=s.value;page=0;draw();});}
fill('filter-severity','severity',data.severities.map(function(v){return [v,v];}));
fill('filter-rule','rule',data.rules.map(function(v){return [v[0],v[0]+' '+v[1]];}));
fill('filter-play','play',data.plays.map(function(v){return [v[0],v[1]];}));
fill('filter-pipeline','pipeline',data.pipelines.map(function(v){return [v,v];}));
fill('filter-status','status',data.statuses.map(function(v){return [v,v];}));
document.getElementById('prev').addEventListener('click',function(){if(page>0){page--;draw();}});
document.getElementById('next').addEventListener('click',function(){page++;draw();});
draw();
var box=document.getElementById('diagram'),svg=box&&box.querySelector('svg');
if(svg){var vb=svg.viewBox.baseVal,x=vb.x,y=vb.y,w=vb.width,h=vb.height,drag=null;
svg.removeAttribute('width');svg.removeAttribute('height');
function set(){svg.setAttribute('viewBox',x+' '+y+' '+w+' '+h);}
box.addEventListener('wheel',function(e){e.preventDefault();var k=e.deltaY<0?0.8:1.25,r=box.getBoundingClientRect();
var px=x+w*(e.clientX-r.left)/r.width,py=y+h*(e.clientY-r.top)/r.height;x=px-(px-x)*k;y=py-(py-y)*k;w*=k;h*=k;set();},
{passive:false});
box.addEventListener('mousedown',function(e){drag=[e.clientX,e.clientY];});
window.addEventListener('mouseup',function(){drag=null;});
window.addEventListener('mousemove',function(e){if(!drag)return;var r=box.getBoundingClientRect();
x-=(e.clientX-drag[0])*w/r.width;y-=(e.clientY-drag[1])*h/r.height;drag=[e.clientX,e.clientY];set();});}
})();
"""


def _hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii") + "'"


def policy() -> str:
    """The content security policy: nothing loads, only the report's own style and script run.

    >>> "default-src 'none'" in policy() and "connect-src 'none'" in policy()
    True
    """
    return (f"default-src 'none'; style-src {_hash(STYLE)}; script-src {_hash(SCRIPT)}; img-src 'none'; "
            "connect-src 'none'; font-src 'none'; form-action 'none'; base-uri 'none'; frame-src 'none'")


def script_json(value: Any) -> str:
    """JSON that is safe inside ``<script type="application/json">``: no ``<``, ``>`` or ``&`` at all.

    >>> script_json({"a": "</script><b>&"})
    '{"a":"\\\\u003c/script\\\\u003e\\\\u003cb\\\\u003e\\\\u0026"}'
    """
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return (text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def render(report: Report, extra: ReviewInput) -> str:
    """The whole HTML document."""
    plays = {rule.id: rule.play for rule in report.rules}
    findings = [{
        "rule": f.rule, "name": f.name, "severity": f.severity.label, "play": plays.get(f.rule, 0),
        "message": f.message, "file": f.location.file, "line": f.location.line,
        "pipeline": f.problem.pipeline, "status": _status(f), "note": _note(f),
    } for f in report.findings]
    play_labels = {rule.play: rule.play_label for rule in report.rules}
    data = {
        "page": PAGE_ROWS,
        "linkBase": extra.link_base.rstrip("/") + "/" if extra.link_base else None,
        "findings": findings,
        "severities": ["error", "warning", "info"],
        "rules": sorted({(f["rule"], f["name"]) for f in findings}),
        "plays": sorted(play_labels.items()),
        "pipelines": sorted({f["pipeline"] for f in findings if f["pipeline"]}),
        "statuses": [status for status in STATUSES if any(f["status"] == status for f in findings)],
    }
    counts = report.counts()
    parts = [
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">",
        f"<meta http-equiv=\"Content-Security-Policy\" content=\"{escape(policy())}\">",
        "<meta name=\"referrer\" content=\"no-referrer\">",
        f"<title>loopscan review {escape(extra.today.isoformat())}</title><style>{STYLE}</style></head><body>",
        f"<h1>loopscan review, {escape(extra.today.isoformat())}</h1>",
        f"<p>{len(report.files):,} files, {report.pipelines:,} pipelines, {report.nodes:,} nodes, "
        f"{len(report.loops):,} loops; {counts['error']:,} errors, {counts['warning']:,} warnings, "
        f"{counts['info']:,} info, {counts['suppressed']:,} overridden"
        + (f", {counts['baselined']:,} baselined" if "baselined" in counts else "") + ".</p>",
        _plays(report),
        "<h2>Diagram</h2>",
        f"<p class=\"note\">{escape(extra.diagram_note)}</p>",
        f"<div id=\"diagram\">{extra.svg}</div>" if extra.svg else "",
        _loops(report.loops, extra.witnesses),
        _findings_section(),
        _overrides(extra.reviews),
        _baseline(extra.baseline, report.unused_baseline, extra.today) if extra.baseline is not None else "",
        f"<script type=\"application/json\" id=\"loopscan-data\">{script_json(data)}</script>",
        f"<script>{SCRIPT}</script></body></html>\n",
    ]
    return "\n".join(part for part in parts if part)


STATUSES = ("in force", "overridden", "baselined", "baseline expired")
"""What became of a finding, in the order the status filter offers them."""


def _status(finding: Finding) -> str:
    if finding.suppressed is not None:
        return "overridden"
    if finding.baselined is not None:
        return "baseline expired" if finding.baselined.expired else "baselined"
    return "in force"


def _note(finding: Finding) -> str:
    """What the message cell adds: the observed evidence (``--lineage``), then the override's reason or the
    baseline entry's expiry, as ``check`` says them."""
    note = observed_note(finding.problem.evidence)
    if finding.suppressed is not None:
        return f"{note} (overridden: {finding.suppressed.reason})"
    if finding.baselined is not None:
        ended = "expired" if finding.baselined.expired else "until"
        return f"{note} (baseline entry {ended} {finding.baselined.expires})"
    return note


def _plays(report: Report) -> str:
    failing = {f.rule for f in report.findings if f.in_force}
    by_play: dict[int, tuple[str, list[str], list[str]]] = {}
    for rule in sorted(report.rules, key=lambda r: (r.play, r.id)):
        _, passed, failed = by_play.setdefault(rule.play, (rule.play_label, [], []))
        (failed if rule.id in failing else passed).append(rule.id)
    rows = "".join(
        f"<tr><td>{escape(label)}</td><td class=\"pass\">{len(passed)}</td>"
        f"<td class=\"{'error' if failed else 'pass'}\">{len(failed)}</td><td>{escape(', '.join(failed))}</td></tr>"
        for label, passed, failed in by_play.values())
    return ("<h2>Summary by play</h2><table id=\"plays\"><tr><th>play</th><th>rules passed</th>"
            f"<th>rules failing</th><th>failing</th></tr>{rows}</table>")


def _loops(loops: Sequence[Loop], witnesses: dict[str, tuple[Waypoint, ...]]) -> str:
    if not loops:
        return "<h2>Loops</h2><p>No loops.</p>"
    rows = []
    for loop in loops:
        shown = elided(witnesses.get(loop.id, ()))
        path = [w.node for w in shown.head]
        if shown.omitted:
            path.append(f"... {shown.omitted:,} more ...")
        path.extend(w.node for w in shown.tail)
        doc = (f"{loop.documented_by[0].location.file}:{loop.documented_by[0].location.line}"
               if loop.documented_by else "undocumented")
        rows.append("<tr class=\"loop\">" + "".join(f"<td>{escape(cell)}</td>" for cell in (
            loop.id, f"{len(loop.nodes):,}", " -> ".join(path), ", ".join(loop.gates[:20]) or "none",
            ", ".join(loop.caps[:20]) or "none", doc)) + "</tr>")
    return ("<h2>Loops</h2><table id=\"loops\"><tr><th>loop</th><th>nodes</th><th>witness</th><th>gates</th>"
            f"<th>caps</th><th>documented</th></tr>{''.join(rows)}</table>")


def _findings_section() -> str:
    selects = "".join(f"<label>{name} <select id=\"filter-{name}\"><option value=\"\">all</option></select></label>"
                      for name in ("severity", "rule", "play", "pipeline", "status"))
    return (f"<h2>Findings</h2><div class=\"filters\">{selects}</div><p id=\"findings-count\"></p>"
            "<button id=\"prev\">previous</button> <button id=\"next\">next</button>"
            "<table id=\"findings\"><thead><tr><th>severity</th><th>rule</th><th>pipeline</th><th>where</th>"
            "<th>message</th><th>status</th></tr></thead><tbody id=\"findings-body\"></tbody></table>")


def _overrides(reviews: Sequence[Review]) -> str:
    if not reviews:
        return "<h2>Overrides</h2><p>No overrides.</p>"
    rows = []
    for item in reviews:
        o = item.override
        rows.append("<tr class=\"override\">" + "".join(f"<td>{escape(cell)}</td>" for cell in (
            o.expires.isoformat() if o.expires else "-", "-" if item.days_left is None else str(item.days_left),
            item.status, o.rule, o.target.text if o.target else "-", o.approved_by or "-",
            f"{o.location.file}:{o.location.line}", o.reason or "-")) + "</tr>")
    return ("<h2>Overrides</h2><table id=\"overrides\"><tr><th>expires</th><th>days left</th><th>status</th>"
            "<th>rule</th><th>target</th><th>approved by</th><th>where</th><th>reason</th></tr>"
            f"{''.join(rows)}</table>")


def _baseline(entries: Sequence[Entry], unused: Sequence[Entry], today: date) -> str:
    """Every baseline entry, the expired ones first (soonest expiry first), each flagged if it matched nothing."""
    if not entries:
        return "<h2>Baseline</h2><p>The baseline has no entries.</p>"
    unmatched = {entry.location for entry in unused}
    rows = []
    for entry in sorted(entries, key=lambda e: (e.expires, e.location.file, e.location.line)):
        days_left = (entry.expires - today).days
        flags = (["expired"] if entry.expires < today else []) + (["matches nothing"] if entry.location in unmatched
                                                                   else [])
        status = "; ".join(flags) or "in force"
        cells = "".join(f"<td>{escape(cell)}</td>" for cell in (
            entry.expires.isoformat(), str(days_left)))
        cells += f"<td class=\"{'flag' if flags else 'pass'}\">{escape(status)}</td>"
        cells += "".join(f"<td>{escape(cell)}</td>" for cell in (
            entry.rule, entry.pipeline or "-", entry.subject.splitlines()[0],
            f"{entry.location.file}:{entry.location.line}", entry.message or "-"))
        rows.append(f"<tr class=\"baseline-entry{' flagged' if flags else ''}\">{cells}</tr>")
    return ("<h2>Baseline</h2><table id=\"baseline\"><tr><th>expires</th><th>days left</th><th>status</th>"
            "<th>rule</th><th>pipeline</th><th>about</th><th>where</th><th>message</th></tr>"
            f"{''.join(rows)}</table>")
