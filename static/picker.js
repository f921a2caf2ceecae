// Account picker: search as you type, arrow keys to move, Enter to act on behalf (the rules of
// acting only on what is on screen are in js/account_search.js).
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

  function key() { return input.value.trim() + "\u0000" + sort.value; }
  function qOf(k) { return k.split("\u0000")[0]; }

  var acting = false;
  function actOn(tr) {
    if (acting || !tr) { return; }
    acting = true;
    say("Acting on behalf of account " + tr.getAttribute("data-an8") + "…", false);
    tr.querySelector("form").submit();
  }

  var started = 0;
  var search = window.EcgwAccountSearch({
    debounce: DEBOUNCE_MS,
    // The rows drawn by the server are those of the query in the URL, whatever the browser put back in the field.
    shownKey: (table.getAttribute("data-q") || "") + "\u0000" + (table.getAttribute("data-sort") || sort.value),
    key: key,
    url: function (k, append) {
      started = performance.now();
      var params = new URLSearchParams();
      var q = qOf(k);
      if (q) { params.set("q", q); }
      params.set("sort", sort.value);
      params.set("limit", String(PAGE));
      if (append && nextCursor) { params.set("cursor", nextCursor); }
      return "/api/v1/accounts?" + params.toString();
    },
    loading: function (on) { table.setAttribute("aria-busy", on ? "true" : "false"); if (on) { say("Searching…", false); } },
    fail: function (message, status) {
      if (status === 401) { window.location.href = "/login?next=" + encodeURIComponent(location.pathname + location.search); return; }
      say(message, true);
    },
    show: function (data, k, append) {
      if (!append) { body.textContent = ""; selected = -1; }
      data.items.forEach(function (a) { body.appendChild(rowFor(a)); });
      nextCursor = data.next_cursor;
      renderMore();
      var n = rows().length;
      say(n + (n === 1 ? " account" : " accounts") + " shown" + (nextCursor ? ", more below" : "") +
          " (" + Math.round(performance.now() - started) + " ms).", false);
      if (!append) { select(0); }
      var shown = new URLSearchParams();
      var q = qOf(k);
      if (q) { shown.set("q", q); }
      shown.set("sort", sort.value);
      history.replaceState(null, "", "/accounts?" + shown.toString());
    },
    // Enter was pressed before these rows were shown: an exact account number acts on its row; any
    // other text only shows the rows, and a second Enter acts on the highlighted one.
    onConfirmedWhenShown: function (k) {
      var number = window.EcgwAccountSearch.exactNumber(qOf(k));
      var exact = number ? body.querySelector('tr[data-an8="' + number + '"]') : null;
      if (exact) {
        select(Array.prototype.indexOf.call(rows(), exact));
        actOn(exact);
        return;
      }
      var n = rows().length;
      say(n ? n + (n === 1 ? " account" : " accounts") + " shown for \u201c" + qOf(k) + "\u201d. " +
              "Press Enter again to act on behalf of the highlighted account."
            : "No account matches \u201c" + qOf(k) + "\u201d.", false);
    }
  });

  function fetchPage(append) { if (append) { search.more(); } else { search.now(); } }

  input.addEventListener("input", function () { search.changed(); });
  sort.addEventListener("change", function () { search.now(); });
  form.addEventListener("submit", function (ev) { ev.preventDefault(); search.now(); });
  input.addEventListener("keydown", function (ev) {
    if (ev.key === "ArrowDown") { ev.preventDefault(); select(selected + 1); }
    else if (ev.key === "ArrowUp") { ev.preventDefault(); select(selected - 1); }
    else if (ev.key === "Enter") {
      ev.preventDefault();
      if (!search.enter()) { say("Searching for \u201c" + input.value.trim() + "\u201d…", false); return; }
      var all = rows();
      if (selected >= 0 && selected < all.length) { actOn(all[selected]); }
      else { say("No account is highlighted: type to search, then choose one with the arrow keys.", false); }
    }
    else if (ev.key === "Escape") { input.value = ""; search.changed(); }
  });
  Array.prototype.forEach.call(rows(), function (tr) {
    tr.id = "acct-" + tr.getAttribute("data-an8");
  });
  if (nextLink) { renderMore(); }
  if (rows().length) { select(0); }
})();
