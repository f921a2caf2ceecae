// The header's account switcher: an ARIA combobox over /api/v1/desk/search. Empty: the rep's recent
// accounts; typed: accounts found by number, name, city... and by a customer PO or order number.
// Ctrl+K (or "/" outside a text field) focuses it. Enter acts only on what is on screen, by the
// rule in account_search.js. Options are built with textContent only (never innerHTML).
(function () {
  "use strict";
  var root = document.getElementById("switcher");
  var input = document.getElementById("switcher-q");
  var pop = document.getElementById("switcher-pop");
  var list = document.getElementById("switcher-list");
  var status = document.getElementById("switcher-status");
  if (!root || !input || !window.EcgwAccountSearch) { return; }
  var csrf = root.getAttribute("data-csrf") || "";
  var active = -1;
  var acting = false;

  function options() { return list.querySelectorAll('[role="option"]'); }

  function open() { pop.hidden = false; input.setAttribute("aria-expanded", "true"); }
  function close() {
    pop.hidden = true; input.setAttribute("aria-expanded", "false"); input.removeAttribute("aria-activedescendant");
    search.forget();
  }

  function highlight(index) {
    var all = options();
    if (!all.length) { active = -1; input.removeAttribute("aria-activedescendant"); return; }
    index = Math.max(0, Math.min(index, all.length - 1));
    for (var i = 0; i < all.length; i++) { all[i].setAttribute("aria-selected", i === index ? "true" : "false"); }
    active = index;
    input.setAttribute("aria-activedescendant", all[index].id);
    all[index].scrollIntoView({ block: "nearest" });
  }

  function say(text, isError) { status.textContent = text; status.className = "switcher-status" + (isError ? " error" : ""); }

  function option(a, tag, n) {
    var li = document.createElement("li");
    li.setAttribute("role", "option");
    li.id = "switcher-opt-" + n;
    li.setAttribute("data-an8", String(a.an8));
    li.setAttribute("aria-selected", "false");
    if (tag) { var t = document.createElement("span"); t.className = "tag"; t.textContent = tag; li.appendChild(t); }
    var name = document.createElement("span"); name.className = "name"; name.textContent = a.name + " (" + a.an8 + ")";
    li.appendChild(name);
    var where = document.createElement("span"); where.className = "where";
    where.textContent = [a.city + (a.state ? ", " + a.state : ""), a.phone].filter(Boolean).join(" · ");
    li.appendChild(where);
    li.addEventListener("mousedown", function (ev) { ev.preventDefault(); }); // keep the focus in the field
    li.addEventListener("click", function () { actOn(li); });
    return li;
  }

  var reason = document.getElementById("switcher-reason");

  function actOn(li) {
    if (acting || !li) { return; }
    if (reason && reason.getAttribute("data-required") === "true" && !reason.value.trim()) {
      say("Type the reason or ticket number for acting on behalf, then press Enter.", true);
      reason.focus();
      return;
    }
    acting = true;
    say("Acting on behalf of account " + li.getAttribute("data-an8") + "…", false);
    window.EcgwAccountSearch.actFor(li.getAttribute("data-an8"), csrf);
  }

  var search = window.EcgwAccountSearch({
    debounce: 150,
    key: function () { return input.value.trim(); },
    url: function (q) { return "/api/v1/desk/search?q=" + encodeURIComponent(q); },
    loading: function (on) { list.setAttribute("aria-busy", on ? "true" : "false"); if (on) { say("Searching…", false); } },
    fail: function (message, status) {
      if (status === 401) { window.location.href = "/login?next=" + encodeURIComponent(location.pathname + location.search); return; }
      say(message, true);
    },
    show: function (data, q) {
      list.textContent = "";
      active = -1;
      var n = 0;
      if (!q) {
        data.recent.forEach(function (a) { list.appendChild(option(a, "recent", n++)); });
        say(n ? "Your recent accounts." : "No recent accounts yet: type a number, name, city or PO.", false);
      } else {
        data.accounts.forEach(function (a) { list.appendChild(option(a, "", n++)); });
        data.orders.forEach(function (m) {
          var tag = m.matched === "order number" ? "order " + m.order_id : "PO " + m.customer_po;
          list.appendChild(option(m.account, tag, n++));
        });
        say(n ? n + (n === 1 ? " match" : " matches") + (data.more ? "; more on the Accounts page" : "") + "."
              : "No account matches \u201c" + q + "\u201d.", false);
      }
      open();
      if (n) { highlight(0); }
    },
    onConfirmedWhenShown: function (q) {
      var number = window.EcgwAccountSearch.exactNumber(q);
      var exact = number ? list.querySelector('[role="option"][data-an8="' + number + '"]') : null;
      if (exact) { highlight(Array.prototype.indexOf.call(options(), exact)); actOn(exact); return; }
      if (options().length) { say(status.textContent + " Press Enter again to act on behalf of the highlighted account.", false); }
    }
  });

  input.addEventListener("input", function () { search.changed(); });
  input.addEventListener("focus", function () { if (pop.hidden) { search.now(); } });
  function leftSwitcher() { setTimeout(function () { if (!root.contains(document.activeElement)) { close(); } }, 150); }
  input.addEventListener("blur", leftSwitcher);
  if (reason) {
    reason.addEventListener("blur", leftSwitcher);
    reason.addEventListener("keydown", function (ev) {
      if (ev.key === "Enter") {
        ev.preventDefault();
        var all = options();
        if (active >= 0 && active < all.length) { actOn(all[active]); }
        else { input.focus(); say("Choose an account first: type to search, then Enter.", false); }
      } else if (ev.key === "Escape") { ev.preventDefault(); input.focus(); }
    });
    // The switcher's own form is made by account_search.js; the reason goes with it (formdata fires for submit()).
    document.addEventListener("formdata", function (ev) {
      if ((ev.target.getAttribute("action") || "") === "/obo" && ev.target.hidden && reason.value.trim()) {
        ev.formData.set("reason", reason.value);
      }
    });
  }
  input.addEventListener("keydown", function (ev) {
    if (ev.key === "ArrowDown") { ev.preventDefault(); if (pop.hidden) { search.now(); } else { highlight(active + 1); } }
    else if (ev.key === "ArrowUp") { ev.preventDefault(); highlight(active - 1); }
    else if (ev.key === "Enter") {
      ev.preventDefault();
      if (!search.enter()) { open(); say("Searching for \u201c" + input.value.trim() + "\u201d…", false); return; }
      var all = options();
      if (active >= 0 && active < all.length) { actOn(all[active]); }
      else { say("No account is highlighted: type to search, then choose one with the arrow keys.", false); }
    }
    else if (ev.key === "Escape") {
      ev.preventDefault();
      if (!pop.hidden) { close(); } else { input.value = ""; }
    }
  });

  document.addEventListener("keydown", function (ev) {
    var t = ev.target;
    var typing = t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName));
    if ((ev.key === "k" || ev.key === "K") && (ev.ctrlKey || ev.metaKey) && !ev.altKey) {
      ev.preventDefault(); input.focus(); input.select();
    } else if (ev.key === "/" && !typing && !ev.ctrlKey && !ev.metaKey && !ev.altKey) {
      ev.preventDefault(); input.focus();
    }
  });
})();
