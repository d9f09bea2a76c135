
(() => {
  "use strict";
  // Everything from the scan is data: read with JSON.parse, shown with textContent only.
  const started = performance.now();
  const $ = (id) => document.getElementById(id);
  const D = JSON.parse($("keyhound-data").textContent);
  const timings = { scriptStart: started, parse: performance.now() - started };
  window.keyhoundTimings = timings;

  const ROW = 30; // px; the CSS --row
  const F = D.findings;
  const rules = D.rules;
  const commits = D.commits;
  const repos = D.repos;
  const VALIDITY = { valid: "valid", invalid: "invalid", unknown: "unknown", unchecked: "not checked" };
  const HEAD = { yes: "yes", no: "no (history only)", "n/a": "n/a (not committed)" };
  const CONFIDENCE = { high: 3, medium: 2, low: 1 };
  const ORIGIN = {
    file: "file", stdin: "standard input", history: "a version only git history holds",
    staged: "a staged line", commit: "a line added by a commit",
    "commit-message": "a commit message", "tag-message": "a tag message",
  };
  const num = (n) => n.toLocaleString("en-US");
  const commitOf = (f) => (f.commit == null ? null : commits[f.commit]);
  const span = (text, cls) => {
    const el = document.createElement("span");
    el.className = cls;
    el.textContent = text;
    return el;
  };
  const isHttps = (u) => typeof u === "string" && /^https:\/\/[^\s"'<>`\\]+$/i.test(u);

  F.forEach((f, i) => {
    f.index = i;
    f.loc = f.path + ":" + f.line + (f.at ? " @ " + f.at : "");
    const c = commitOf(f);
    f.commitText = c ? c.id.slice(0, 8) + " " + c.date.slice(0, 10) : "";
    f.author = c ? c.author : "";
  });

  // The search text of a finding, built on first use.
  const hay = (f) => {
    if (f.hay === undefined) {
      const r = rules[f.rule];
      const c = commitOf(f) || {};
      f.hay = [f.loc, r.id, r.name, r.provider, c.id, c.author, c.email, c.summary,
        f.fingerprint, f.snippet].join("\n").toLowerCase();
    }
    return f.hay;
  };

  const multiRepo = repos.length > 1 || (repos.length === 1 && F.some((f) => f.repo == null));
  const COLUMNS = [
    { key: "repo", title: "Repository", text: (f) => (f.repo == null ? "" : repos[f.repo].path) },
    { key: "loc", title: "Location", text: (f) => f.loc, order: (f) => f.index, cls: () => "mono loc",
      render: (f) => (f.at ? [span(f.path + ":" + f.line, "p"), span("@ " + f.at, "at")] : [span(f.loc, "p")]) },
    { key: "rule", title: "Rule", text: (f) => rules[f.rule].name, tip: (f) => rules[f.rule].id },
    { key: "provider", title: "Provider", text: (f) => rules[f.rule].provider },
    { key: "confidence", title: "Confidence", text: (f) => f.confidence,
      order: (f) => -CONFIDENCE[f.confidence], cls: (f) => "c-" + f.confidence },
    { key: "validity", title: "Validation", text: (f) => VALIDITY[f.validity],
      tip: (f) => f.validation || VALIDITY[f.validity], cls: (f) => "v-" + f.validity },
    { key: "head", title: "In HEAD", text: (f) => f.head, cls: (f) => "h-" + f.head.replace("/", "") },
    { key: "commit", title: "Commit", text: (f) => f.commitText, cls: () => "mono",
      order: (f) => (commitOf(f) ? commitOf(f).date : ""), tip: (f) => (commitOf(f) || {}).summary },
    { key: "author", title: "Author", text: (f) => f.author },
    { key: "rotate", title: "Rotate", text: (f) => rules[f.rule].rotate || "", sortable: false,
      render: (f) => [rotateLink(rules[f.rule])] },
    { key: "fingerprint", title: "Fingerprint", text: (f) => f.fingerprint, cls: () => "mono" },
  ].filter((c) => c.key !== "repo" || multiRepo);

  const grid = $("grid");
  const body = $("grid-body");
  const filters = { repo: "", provider: "", rule: "", confidence: "", validity: "", head: "", text: "" };
  const sort = { key: "loc", dir: 1 };
  let shown = F;
  let selected = null;
  const pool = [];

  const matches = (f) =>
    (filters.repo === "" || String(f.repo == null ? "none" : f.repo) === filters.repo) &&
    (filters.provider === "" || rules[f.rule].provider === filters.provider) &&
    (filters.rule === "" || String(f.rule) === filters.rule) &&
    (filters.confidence === "" || f.confidence === filters.confidence) &&
    (filters.validity === "" || f.validity === filters.validity) &&
    (filters.head === "" || f.head === filters.head) &&
    (filters.text === "" || hay(f).includes(filters.text));

  // One select: "all" and every value that occurs, with its count.
  function options(id, all, values) {
    const sel = $(id);
    sel.appendChild(new Option(all + " (" + num(F.length) + ")", ""));
    for (const [value, label, n] of values) sel.appendChild(new Option(label + " (" + num(n) + ")", value));
    sel.closest("label").hidden = values.length < 2 && id !== "f-validity" && id !== "f-head";
  }

  function counted(key, label) {
    const counts = new Map();
    for (const f of F) counts.set(key(f), (counts.get(key(f)) || 0) + 1);
    return [...counts].map(([v, n]) => [String(v), label(v), n])
      .sort((a, b) => b[2] - a[2] || a[1].localeCompare(b[1]));
  }

  function buildFilters() {
    options("f-repo", "All repositories", counted((f) => (f.repo == null ? "none" : f.repo),
      (v) => (v === "none" ? "not in a repository" : repos[v].path)));
    options("f-provider", "All providers", counted((f) => rules[f.rule].provider, (v) => v));
    options("f-rule", "All rules", counted((f) => f.rule, (v) => rules[v].name));
    options("f-confidence", "Any confidence", counted((f) => f.confidence, (v) => v));
    options("f-validity", "Any validity", counted((f) => f.validity, (v) => VALIDITY[v]));
    options("f-head", "Anywhere", counted((f) => f.head, (v) => HEAD[v]));
    for (const sel of document.querySelectorAll("#filters select")) {
      sel.addEventListener("change", () => { filters[sel.dataset.filter] = sel.value; apply(); });
    }
    $("f-text").addEventListener("input", (e) => { filters.text = e.target.value.trim().toLowerCase(); apply(); });
    $("filters").addEventListener("reset", () => {
      for (const k of Object.keys(filters)) filters[k] = "";
      setTimeout(apply, 0);
    });
    $("filters").addEventListener("submit", (e) => e.preventDefault());
  }

  function buildHead() {
    const head = $("grid-head");
    if (multiRepo) grid.classList.add("with-repo");
    for (const col of COLUMNS) {
      const cell = document.createElement("div");
      cell.className = "cell";
      cell.setAttribute("role", "columnheader");
      cell.dataset.key = col.key;
      if (col.sortable === false) {
        cell.textContent = col.title;
      } else {
        const b = document.createElement("button");
        b.type = "button";
        b.textContent = col.title;
        b.addEventListener("click", () => {
          sort.dir = sort.key === col.key ? -sort.dir : 1;
          sort.key = col.key;
          apply();
        });
        cell.appendChild(b);
      }
      head.appendChild(cell);
    }
  }

  function sortShown() {
    const col = COLUMNS.find((c) => c.key === sort.key);
    const key = col.order || col.text;
    const keyed = shown.map((f) => [key(f), f]);
    keyed.sort((a, b) => (a[0] < b[0] ? -sort.dir : a[0] > b[0] ? sort.dir : a[1].index - b[1].index));
    shown = keyed.map((k) => k[1]);
    for (const cell of $("grid-head").children) {
      if (cell.dataset.key === sort.key) cell.setAttribute("aria-sort", sort.dir > 0 ? "ascending" : "descending");
      else cell.removeAttribute("aria-sort");
    }
  }

  function makeRow() {
    const el = document.createElement("div");
    el.className = "row";
    el.setAttribute("role", "row");
    el.tabIndex = 0;
    for (let i = 0; i < COLUMNS.length; i++) {
      const c = document.createElement("div");
      c.setAttribute("role", "cell");
      el.appendChild(c);
    }
    el.addEventListener("click", () => select(el.finding));
    el.addEventListener("keydown", (e) => { if (e.key === "Enter") select(el.finding); });
    body.appendChild(el);
    return el;
  }

  function rotateLink(r) {
    if (isHttps(r.rotate_href)) {
      const a = document.createElement("a");
      a.href = r.rotate_href;
      a.target = "_blank";
      a.rel = "noreferrer noopener";
      a.textContent = "rotate";
      a.title = r.rotate_href;
      a.addEventListener("click", (e) => e.stopPropagation());
      return a;
    }
    return document.createTextNode(r.rotate || "");
  }

  function fill(el, f) {
    el.finding = f;
    COLUMNS.forEach((col, i) => {
      const cell = el.children[i];
      cell.className = "cell" + (col.cls ? " " + col.cls(f) : "");
      const text = col.text(f);
      if (col.render) cell.replaceChildren(...col.render(f));
      else cell.textContent = text;
      cell.title = (col.tip && col.tip(f)) || text;
    });
    el.classList.toggle("selected", f === selected);
  }

  // Only the rows in view (and a few around them) exist in the page.
  function render() {
    const top = Math.max(0, grid.scrollTop - body.offsetTop);
    const first = Math.max(0, Math.floor(top / ROW) - 10);
    const last = Math.min(shown.length, Math.ceil((top + grid.clientHeight) / ROW) + 10);
    while (pool.length < last - first) pool.push(makeRow());
    pool.forEach((el, i) => {
      const at = first + i;
      if (at >= last) {
        el.hidden = true;
        return;
      }
      if (el.finding !== shown[at]) fill(el, shown[at]);
      el.style.transform = "translateY(" + at * ROW + "px)";
      el.setAttribute("aria-rowindex", String(at + 2));
      el.hidden = false;
    });
  }

  function apply() {
    const t0 = performance.now();
    shown = F.filter(matches);
    sortShown();
    body.style.height = Math.max(shown.length * ROW, ROW) + "px";
    for (const el of pool) el.finding = null;
    grid.scrollTop = 0;
    render();
    $("grid-empty").hidden = shown.length > 0;
    $("shown").textContent = shown.length === F.length
      ? "Showing all " + num(F.length) + " findings. Select a row for details."
      : "Showing " + num(shown.length) + " of " + num(F.length) + " findings.";
    timings.lastFilter = performance.now() - t0;
  }

  function detailItem(dl, name, value, cls) {
    if (value == null || value === "") return;
    const dt = document.createElement("dt");
    dt.textContent = name;
    const dd = document.createElement("dd");
    if (cls) dd.className = cls;
    if (value instanceof Node) dd.appendChild(value);
    else dd.textContent = String(value);
    dl.append(dt, dd);
  }

  function select(f) {
    if (!f) return;
    selected = f;
    for (const el of pool) el.classList.toggle("selected", el.finding === f);
    const r = rules[f.rule];
    const c = commitOf(f);
    const d = $("detail");
    const h = document.createElement("h3");
    h.textContent = r.name + " · " + f.loc;
    const dl = document.createElement("dl");
    detailItem(dl, "Rule", r.name + " (" + r.id + "), provider " + r.provider);
    detailItem(dl, "Confidence", f.confidence);
    detailItem(dl, "Location", f.loc + ", column " + f.column, "mono");
    if (f.repo != null) {
      const repo = repos[f.repo];
      detailItem(dl, "Repository", repo.path + (repo.remote ? " (" + repo.remote + ")" : ""));
    }
    detailItem(dl, "Found in", ORIGIN[f.origin] || f.origin);
    if (c) {
      const label = f.origin.endsWith("message") ? "Message of"
        : f.origin === "commit" ? "Commit" : "Introduced in";
      detailItem(dl, label, c.id + " · " + c.date, "mono");
      detailItem(dl, "Author", c.author + (c.email ? " <" + c.email + ">" : ""));
      detailItem(dl, "Commit message", c.summary);
    }
    if (f.commits != null) detailItem(dl, "History", num(f.commits) + " commit(s) hold it here; still in HEAD: " + f.head);
    detailItem(dl, "What to do", f.action == null ? null : D.actions[f.action]);
    detailItem(dl, "Secret", f.secret, "mono");
    detailItem(dl, "Paired with", f.partner, "mono");
    detailItem(dl, "Line", f.snippet, "mono snippet");
    detailItem(dl, "Decoded from", f.decoded_from);
    detailItem(dl, "Validation", f.validation || VALIDITY[f.validity]);
    detailItem(dl, "Rotate", r.rotate ? rotateLink(r) : null);
    detailItem(dl, "Fingerprint", f.fingerprint, "mono");
    d.replaceChildren(h, dl);
    d.hidden = false;
  }

  // A summary row sets its filter in the table.
  function summaryLinks() {
    for (const tr of document.querySelectorAll("tr[data-filter]")) {
      const go = () => {
        const sel = document.querySelector('#filters select[data-filter="' + tr.dataset.filter + '"]');
        if (!sel || ![...sel.options].some((o) => o.value === tr.dataset.value)) return;
        sel.value = tr.dataset.value;
        sel.dispatchEvent(new Event("change"));
        grid.scrollIntoView({ block: "nearest" });
      };
      tr.addEventListener("click", go);
      tr.addEventListener("keydown", (e) => { if (e.key === "Enter") go(); });
    }
  }

  const empty = document.createElement("div");
  empty.id = "grid-empty";
  empty.className = "empty";
  empty.textContent = F.length ? "No finding matches these filters." : "No secrets found.";
  grid.appendChild(empty);
  timings.prepared = performance.now();
  buildHead();
  buildFilters();
  summaryLinks();
  timings.filtersBuilt = performance.now();
  let pending = false;
  const schedule = () => {
    if (pending) return;
    pending = true;
    requestAnimationFrame(() => { pending = false; render(); });
  };
  grid.addEventListener("scroll", schedule, { passive: true });
  window.addEventListener("resize", schedule);
  apply();
  timings.firstRender = performance.now();
  requestAnimationFrame(() => setTimeout(() => {
    timings.painted = performance.now();
    document.documentElement.dataset.rendered = "true";
  }, 0));
})();
