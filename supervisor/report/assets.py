"""The timeline page's inline stylesheet and script.

Kept as Python strings (not package data files) so the page can be built from any install.
Nothing here may reference anything outside the page: the page's Content-Security-Policy
forbids it anyway (``default-src 'none'``), so a slip would show as a broken page, not a leak.

The script pages through each run's transcript: it reads the embedded JSON (inflating it with
the browser's own ``DecompressionStream`` when it was gzipped), renders one page of entries
at a time with ``textContent`` (log text is never parsed as HTML), filters by text and kind,
and follows ``#r<N>-seq-<seq>`` links from the timeline's marks to the right page and entry.
"""

from __future__ import annotations

CSS = """
:root { color-scheme: light; --ink: #0f172a; --muted: #64748b; --line: #e2e8f0; }
* { box-sizing: border-box; }
body { margin: 0; padding: 20px 28px 60px; color: var(--ink); background: #ffffff;
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", sans-serif; }
h1 { font-size: 20px; margin: 0 0 4px; }
h2 { font-size: 17px; margin: 0 0 8px; display: flex; gap: 8px; align-items: center;
  flex-wrap: wrap; }
h3 { font-size: 15px; margin: 18px 0 6px; }
code, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace;
  font-size: 12.5px; }
.meta { color: var(--muted); margin: 0 0 16px; }
nav.runs { margin: 0 0 18px; }
nav.runs a { margin-right: 12px; }
section.run { border-top: 2px solid var(--line); padding-top: 14px; margin-top: 14px; }
.pill { font-size: 12px; font-weight: 600; border-radius: 10px; padding: 1px 9px;
  background: #e2e8f0; }
.pill.error { background: #fee2e2; color: #991b1b; }
.phase-succeeded { background: #dcfce7; color: #166534; }
.phase-failed, .phase-lost { background: #fee2e2; color: #991b1b; }
.phase-cancelled { background: #e5e7eb; color: #374151; }
.phase-running, .phase-finishing, .phase-scheduling, .phase-pending { background: #dbeafe;
  color: #1e40af; }
dl.facts { display: grid; grid-template-columns: repeat(auto-fill, minmax(210px, 1fr));
  gap: 2px 18px; margin: 0 0 10px; }
dl.facts div { display: flex; gap: 6px; min-width: 0; }
dl.facts dt { color: var(--muted); white-space: nowrap; }
dl.facts dd { margin: 0; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.legend { display: flex; flex-wrap: wrap; gap: 4px 14px; color: var(--muted); font-size: 12px;
  margin: 4px 0 6px; }
.legend span::before { content: ""; display: inline-block; width: 10px; height: 10px;
  margin-right: 5px; vertical-align: -1px; background: var(--swatch); border-radius: 2px; }
.chart { overflow-x: auto; }
svg.timeline { width: 100%; height: auto; max-width: 1400px; display: block;
  font: 11px system-ui, sans-serif; }
svg.timeline text { fill: #334155; }
svg.timeline text.lane { fill: var(--muted); }
svg.timeline text.note { fill: var(--muted); font-size: 10px; }
svg.timeline a.mark:hover { opacity: 0.6; }
details.events summary { cursor: pointer; color: #334155; font-weight: 600; margin: 10px 0 4px; }
table.events { border-collapse: collapse; width: 100%; font-size: 12.5px; }
table.events td { border-bottom: 1px solid var(--line); padding: 2px 8px 2px 0;
  vertical-align: top; }
table.events td.summary { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace;
  font-size: 12px; word-break: break-word; }
table.events tr.warn td.kind { color: #c2410c; font-weight: 600; }
table.events tr.error td.kind { color: #b91c1c; font-weight: 600; }
.pager { display: flex; flex-wrap: wrap; gap: 6px; align-items: center; margin: 6px 0;
  position: sticky; top: 0; background: #ffffff; padding: 4px 0; z-index: 1; }
.pager button { font: inherit; padding: 1px 8px; }
.pager .where { color: var(--muted); min-width: 250px; }
.pager input { font: inherit; padding: 1px 6px; width: 220px; }
ol.entries { list-style: none; margin: 0; padding: 0;
  font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12.5px; }
ol.entries li { display: flex; gap: 10px; padding: 2px 4px; border-bottom: 1px solid #f1f5f9; }
ol.entries li a.seq { color: #94a3b8; text-decoration: none; min-width: 64px; text-align: right;
  flex: none; }
ol.entries li .text { white-space: pre-wrap; word-break: break-word; min-width: 0; }
ol.entries li.long .text { max-height: 4.4em; overflow: hidden; cursor: pointer; }
ol.entries li.long.open .text { max-height: none; }
ol.entries li.long .text::after { content: " ▾"; color: #94a3b8; }
ol.entries li.target { background: #fef9c3; }
.k-assistant .text { color: #166534; }
.k-thinking .text { color: #64748b; font-style: italic; }
.k-tool-call .text { color: #a16207; }
.k-tool-result .text, .k-user .text { color: #0e7490; }
.k-tool-error .text, .k-error .text { color: #b91c1c; }
.k-result .text { color: #1d4ed8; font-weight: 600; }
.k-system .text { color: #1d4ed8; }
.k-rate-limit .text { color: #c2410c; }
.k-event, .k-event-error, .k-gap { background: #f8fafc; }
.k-event .text { color: #475569; }
.k-event-error .text, .k-gap .text { color: #b91c1c; font-weight: 600; }
.problem { color: #b91c1c; }
"""

JS = r"""
(function () {
  "use strict";
  var PAGE_SIZE = 250;
  var LONG_CHARS = 320;
  var views = {};

  function readPayload(node) {
    if (node.dataset.encoding === "json") {
      return Promise.resolve(JSON.parse(node.textContent));
    }
    if (typeof DecompressionStream === "undefined") {
      return Promise.reject(new Error("this browser cannot inflate the transcript"));
    }
    var text = atob(node.textContent.trim());
    var bytes = new Uint8Array(text.length);
    for (var i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
    var stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
    return new Response(stream).text().then(JSON.parse);
  }

  function TranscriptView(root, doc) {
    this.root = root;
    this.prefix = root.dataset.prefix;
    this.kinds = doc.kinds;
    this.entries = doc.entries;
    this.shown = null;  // indices matching the filter, or null for all
    this.page = 0;
    this.list = root.querySelector("ol.entries");
    this.where = root.querySelector(".where");
    this.filter = root.querySelector("input.filter");
    this.only = root.querySelector("select.only");
    var self = this;
    root.querySelectorAll("button[data-go]").forEach(function (button) {
      button.addEventListener("click", function () { self.go(button.dataset.go); });
    });
    this.filter.addEventListener("input", function () { self.refilter(); });
    this.only.addEventListener("change", function () { self.refilter(); });
    this.list.addEventListener("click", function (event) {
      var item = event.target.closest("li.long");
      if (item && !event.target.closest("a")) item.classList.toggle("open");
    });
  }

  TranscriptView.prototype.count = function () {
    return this.shown ? this.shown.length : this.entries.length;
  };

  TranscriptView.prototype.at = function (position) {
    return this.shown ? this.shown[position] : position;
  };

  TranscriptView.prototype.refilter = function () {
    var needle = this.filter.value.trim().toLowerCase();
    var only = this.only.value;
    if (!needle && only === "all") {
      this.shown = null;
    } else {
      var kinds = this.kinds, shown = [];
      for (var i = 0; i < this.entries.length; i++) {
        var entry = this.entries[i], kind = kinds[entry[1]];
        if (only === "conversation" && (kind === "tool-result" || kind === "event")) continue;
        if (only === "problems" && !/error|gap|event/.test(kind)) continue;
        if (needle && entry[2].toLowerCase().indexOf(needle) < 0) continue;
        shown.push(i);
      }
      this.shown = shown;
    }
    this.page = 0;
    this.render();
  };

  TranscriptView.prototype.pages = function () {
    return Math.max(1, Math.ceil(this.count() / PAGE_SIZE));
  };

  TranscriptView.prototype.go = function (where) {
    var last = this.pages() - 1;
    var page = {first: 0, prev: this.page - 1, next: this.page + 1, last: last}[where];
    this.page = Math.min(last, Math.max(0, page));
    this.render();
  };

  TranscriptView.prototype.render = function () {
    var start = this.page * PAGE_SIZE;
    var end = Math.min(this.count(), start + PAGE_SIZE);
    var fragment = document.createDocumentFragment();
    var named = {};
    for (var position = start; position < end; position++) {
      var entry = this.entries[this.at(position)];
      var seq = entry[0], text = entry[2];
      var item = document.createElement("li");
      item.className = "entry k-" + this.kinds[entry[1]];
      var id = this.prefix + "-seq-" + seq;
      if (!named[id]) { item.id = id; named[id] = true; }
      var link = document.createElement("a");
      link.className = "seq";
      link.href = "#" + id;
      link.textContent = "#" + seq;
      var body = document.createElement("span");
      body.className = "text";
      body.textContent = text;
      if (text.length > LONG_CHARS || text.split("\n").length > 3) item.classList.add("long");
      item.appendChild(link);
      item.appendChild(body);
      fragment.appendChild(item);
    }
    this.list.replaceChildren(fragment);
    var total = this.count();
    this.where.textContent = total === 0 ? "no entries match" :
      "entries " + (start + 1) + "–" + end + " of " + total +
      " (page " + (this.page + 1) + " of " + this.pages() + ")";
  };

  TranscriptView.prototype.reveal = function (seq) {
    if (this.shown) { this.filter.value = ""; this.only.value = "all"; this.shown = null; }
    var low = 0, high = this.entries.length;
    while (low < high) {  // the first entry at or after seq
      var middle = (low + high) >> 1;
      if (this.entries[middle][0] < seq) low = middle + 1; else high = middle;
    }
    if (low >= this.entries.length) return;
    this.page = Math.floor(low / PAGE_SIZE);
    this.render();
    var item = this.list.children[low - this.page * PAGE_SIZE];
    if (!item) return;
    item.classList.add("target");
    item.scrollIntoView({block: "center"});
  };

  function followHash() {
    var match = /^#(r\d+)-seq-(\d+)$/.exec(window.location.hash);
    if (match && views[match[1]]) views[match[1]].reveal(Number(match[2]));
  }

  document.querySelectorAll(".transcript").forEach(function (root) {
    var source = document.getElementById(root.dataset.source);
    readPayload(source).then(function (doc) {
      var view = new TranscriptView(root, doc);
      views[view.prefix] = view;
      view.render();
      root.dataset.ready = "true";
      followHash();
    }).catch(function (error) {
      root.querySelector(".where").textContent = "transcript unavailable: " + error.message;
      root.querySelector(".where").classList.add("problem");
    });
  });
  window.addEventListener("hashchange", followHash);
})();
"""
