// Account picker: search as you type, arrow keys to move, Enter to act on behalf.
// Rows are built with textContent only (never innerHTML), so account data cannot inject markup.
(function () {
  "use strict";
  var form = document.getElementById("picker-form");
  var input = document.getElementById("q");
  var sort = document.getElementById("sort");
  var table = document.getElementById("accounts-table");
  var body = document.getElementById("accounts-body");
  var status = document.getElementById("picker-status");
  var more = document.getElementById("picker-more");
  if (!form || !input || !body) { return; }
  var csrf = table.getAttribute("data-csrf") || "";
  var DEBOUNCE_MS = 180;
  var PAGE = 50;
  var timer = null;
  var inflight = null;
  var selected = -1;
  var nextCursor = null;
  var nextLink = document.getElementById("next-page");
  if (nextLink) { nextCursor = new URL(nextLink.href).searchParams.get("cursor"); }

  function rows() { return body.querySelectorAll("tr[data-an8]"); }

  function select(index) {
    var all = rows();
    if (!all.length) { selected = -1; return; }
    index = Math.max(0, Math.min(index, all.length - 1));
    for (var i = 0; i < all.length; i++) { all[i].setAttribute("aria-selected", i === index ? "true" : "false"); }
    selected = index;
    all[index].scrollIntoView({ block: "nearest" });
  }

  function cell(text) { var td = document.createElement("td"); td.textContent = text; return td; }

  function rowFor(a) {
    var tr = document.createElement("tr");
    tr.setAttribute("data-an8", String(a.an8));
    tr.id = "acct-" + a.an8;
    tr.appendChild(cell(String(a.an8)));
    var nameTd = document.createElement("td");
    var link = document.createElement("a");
    link.href = "/accounts/" + a.an8;
    link.textContent = a.name;
    nameTd.appendChild(link);
    tr.appendChild(nameTd);
    tr.appendChild(cell(a.city + (a.state ? ", " + a.state : "")));
    tr.appendChild(cell(a.phone || ""));
    var actTd = document.createElement("td");
    var f = document.createElement("form");
    f.method = "post"; f.action = "/obo"; f.className = "inline";
    [["csrf_token", csrf], ["an8", String(a.an8)]].forEach(function (kv) {
      var h = document.createElement("input"); h.type = "hidden"; h.name = kv[0]; h.value = kv[1]; f.appendChild(h);
    });
    var b = document.createElement("button");
    b.type = "submit"; b.textContent = "Act on behalf";
    b.setAttribute("aria-label", "Act on behalf of " + a.name + " (" + a.an8 + ")");
    f.appendChild(b);
    actTd.appendChild(f);
    tr.appendChild(actTd);
    tr.addEventListener("click", function (ev) {
      if (ev.target.tagName !== "A" && ev.target.tagName !== "BUTTON") { select(Array.prototype.indexOf.call(rows(), tr)); }
    });
    return tr;
  }

  function say(text, isError) {
    status.textContent = text;
    status.className = isError ? "error" : "";
  }

  function renderMore() {
    more.textContent = "";
    if (!nextCursor) { return; }
    var btn = document.createElement("button");
    btn.type = "button"; btn.className = "secondary"; btn.id = "load-more"; btn.textContent = "Load more";
    btn.addEventListener("click", function () { fetchPage(true); });
    more.appendChild(btn);
  }

  function fetchPage(append) {
    if (inflight) { inflight.abort(); }
    inflight = new AbortController();
    var params = new URLSearchParams();
    var q = input.value.trim();
    if (q) { params.set("q", q); }
    params.set("sort", sort.value);
    params.set("limit", String(PAGE));
    if (append && nextCursor) { params.set("cursor", nextCursor); }
    var started = performance.now();
    fetch("/api/v1/accounts?" + params.toString(), {
      headers: { "Accept": "application/json" }, credentials: "same-origin", signal: inflight.signal
    }).then(function (resp) {
      return resp.json().then(function (data) { return { ok: resp.ok, status: resp.status, data: data }; });
    }).then(function (r) {
      inflight = null;
      if (!r.ok) {
        if (r.status === 401) { window.location.href = "/login?next=" + encodeURIComponent(location.pathname + location.search); return; }
        say(r.data.message || ("Search failed (" + r.status + ")."), true);
        return;
      }
      if (!append) { body.textContent = ""; selected = -1; }
      r.data.items.forEach(function (a) { body.appendChild(rowFor(a)); });
      nextCursor = r.data.next_cursor;
      renderMore();
      var n = rows().length;
      say(n + (n === 1 ? " account" : " accounts") + " shown" + (nextCursor ? ", more below" : "") +
          " (" + Math.round(performance.now() - started) + " ms).", false);
      if (!append) { select(0); }
      var shown = new URLSearchParams();
      if (q) { shown.set("q", q); }
      shown.set("sort", sort.value);
      history.replaceState(null, "", "/accounts?" + shown.toString());
    }).catch(function (err) {
      if (err && err.name === "AbortError") { return; }
      inflight = null;
      say("Search failed: the gateway did not answer. Check your connection and type again.", true);
    });
  }

  function schedule() {
    if (timer) { clearTimeout(timer); }
    timer = setTimeout(function () { timer = null; fetchPage(false); }, DEBOUNCE_MS);
  }

  input.addEventListener("input", schedule);
  sort.addEventListener("change", function () { fetchPage(false); });
  form.addEventListener("submit", function (ev) { ev.preventDefault(); fetchPage(false); });
  input.addEventListener("keydown", function (ev) {
    if (ev.key === "ArrowDown") { ev.preventDefault(); select(selected + 1); }
    else if (ev.key === "ArrowUp") { ev.preventDefault(); select(selected - 1); }
    else if (ev.key === "Enter") {
      ev.preventDefault();
      // Results for the newest keystrokes are not shown yet: fetch them now, act on the next Enter.
      if (timer) { clearTimeout(timer); timer = null; fetchPage(false); return; }
      var all = rows();
      if (selected >= 0 && selected < all.length) { all[selected].querySelector("form").submit(); }
      else { fetchPage(false); }
    }
    else if (ev.key === "Escape") { input.value = ""; schedule(); }
  });
  Array.prototype.forEach.call(rows(), function (tr) {
    tr.id = "acct-" + tr.getAttribute("data-an8");
  });
  if (nextLink) { renderMore(); }
  if (rows().length) { select(0); }
})();
