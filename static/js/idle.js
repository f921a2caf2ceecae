// The idle warning and the drafts of forms (issue 15, part 7).
// - Two minutes before the session's idle timeout a modal dialog offers "Stay signed in" (one request
//   that counts as activity) or "Sign out". At the timeout it offers "Sign in again", which returns
//   to this page; the server then acts again for the account the rep had, when still allowed.
// - What is typed into this page's forms is kept in this tab's sessionStorage (never passwords,
//   hidden fields or card data), under the user, the account acted for and the page; it is put back
//   after signing in again, and dropped when the form is sent.
// - Tabs of one signed-in user share one session, so they share its deadline: each tab writes the
//   deadline it learns (page load, an answer from the gateway, Stay signed in) to localStorage, and
//   the others take a later one from the storage event. A tab left alone does not warn, nor say
//   "signed out", while the rep works in another.
(function () {
  "use strict";
  var conf = document.getElementById("idle");
  if (!conf) { return; }
  var dialog = document.getElementById("idle-dialog");
  var count = document.getElementById("idle-count");
  var minutes = parseInt(conf.getAttribute("data-minutes"), 10);
  var warn = parseInt(conf.getAttribute("data-warn"), 10) * 1000;
  var touch = parseInt(conf.getAttribute("data-touch"), 10) * 1000;
  var deadline = Date.now() + parseInt(conf.getAttribute("data-left"), 10) * 1000;
  var draftKey = "ecgw-draft:" + conf.getAttribute("data-user") + ":" + (conf.getAttribute("data-acting") || "-") + ":" + location.pathname;
  var RESTORE = "ecgw-restore";
  var SHARED = "ecgw-idle-deadline:" + conf.getAttribute("data-user");
  var ended = false;
  var before = null;

  // --- drafts -------------------------------------------------------------------------------
  function keep(el) {
    if (!el.name || el.disabled) { return false; }
    var type = (el.type || "").toLowerCase();
    if (/^(hidden|password|file|submit|button|reset|image)$/.test(type)) { return false; }
    var what = (el.name + " " + (el.getAttribute("autocomplete") || "")).toLowerCase();
    return !/(card|cc-|cvv|cvc|security|password|csrf|idempotency)/.test(what);
  }
  function formsOnPage() { return Array.prototype.filter.call(document.forms, function (f) { return !f.closest("dialog, #switcher"); }); }
  function save() {
    var data = {};
    formsOnPage().forEach(function (f, i) {
      var fields = {};
      Array.prototype.forEach.call(f.elements, function (el) {
        if (!keep(el)) { return; }
        if (el.type === "checkbox" || el.type === "radio") { if (el.checked) { fields[el.name + "=" + el.value] = true; } }
        else { fields[el.name] = el.value; }
      });
      data[(f.id || "form") + ":" + i] = fields;
    });
    try { sessionStorage.setItem(draftKey, JSON.stringify({ at: Date.now(), forms: data })); } catch (e) { /* storage full or off */ }
  }
  function restore() {
    var raw = null;
    try { raw = sessionStorage.getItem(draftKey); } catch (e) { return; }
    if (!raw) { return; }
    var draft = JSON.parse(raw);
    var put = 0;
    formsOnPage().forEach(function (f, i) {
      var fields = draft.forms[(f.id || "form") + ":" + i];
      if (!fields) { return; }
      Array.prototype.forEach.call(f.elements, function (el) {
        if (!keep(el)) { return; }
        if (el.type === "checkbox" || el.type === "radio") {
          var on = !!fields[el.name + "=" + el.value];
          if (el.checked !== on) { el.checked = on; put++; }
        } else if (fields[el.name] !== undefined && el.value !== fields[el.name]) { el.value = fields[el.name]; put++; }
      });
    });
    if (put) {
      var note = document.createElement("p");
      note.className = "restored"; note.id = "draft-restored"; note.setAttribute("role", "status");
      note.textContent = "What you had typed on this page before your session ended is back in the form.";
      var main = document.getElementById("main");
      main.insertBefore(note, main.firstChild);
    }
  }
  var saveTimer = null;
  document.addEventListener("input", function (ev) {
    if (!ev.target.form || ev.target.closest("#switcher")) { return; }
    if (saveTimer) { clearTimeout(saveTimer); }
    saveTimer = setTimeout(save, 300);
  });
  document.addEventListener("change", function (ev) { if (ev.target.form && !ev.target.closest("#switcher")) { save(); } });
  document.addEventListener("submit", function () { try { sessionStorage.removeItem(draftKey); } catch (e) { /* off */ } });

  try {
    if (sessionStorage.getItem(RESTORE) === location.pathname) { sessionStorage.removeItem(RESTORE); restore(); }
  } catch (e) { /* storage off: nothing to restore */ }

  // --- the idle timer -----------------------------------------------------------------------
  // Every answer from the gateway counts as activity; the server writes it down at most every
  // `touch` ms, so the new deadline is counted from the earliest time it may have been written.
  function share() { try { localStorage.setItem(SHARED, String(deadline)); } catch (e) { /* storage off: tabs on their own */ } }
  function later(d) { if (d > deadline) { deadline = d; share(); } }
  share();  // this page's load counted as activity on the server: the other tabs learn the new deadline
  window.addEventListener("storage", function (ev) {
    if (ev.key !== SHARED || ended) { return; }
    var d = parseInt(ev.newValue, 10);
    if (d > deadline) { deadline = d; tick(); }
  });
  var realFetch = window.fetch;
  window.fetch = function () {
    return realFetch.apply(this, arguments).then(function (resp) {
      if (resp.ok && !ended) { later(Date.now() + minutes * 60000 - touch); }
      return resp;
    });
  };

  function mmss(ms) {
    var s = Math.max(0, Math.ceil(ms / 1000));
    return Math.floor(s / 60) + ":" + (s % 60 < 10 ? "0" : "") + (s % 60);
  }
  function openDialog() {
    before = document.activeElement;
    if (!dialog.open) { dialog.showModal(); }
    document.getElementById("idle-stay").focus();
  }
  function signedOut() {
    ended = true;
    save();
    try { sessionStorage.setItem(RESTORE, location.pathname); } catch (e) { /* off */ }
    document.getElementById("idle-title").textContent = "You were signed out";
    document.getElementById("idle-text").textContent = "Your session ended after " + minutes + " minutes without activity. " +
      "Sign in again to come back to this page; what you typed here is kept in this tab.";
    document.getElementById("idle-actions").hidden = true;
    document.getElementById("idle-ended").hidden = false;
    var link = document.getElementById("idle-signin");
    link.href = "/login?resume=1&next=" + encodeURIComponent(location.pathname + location.search);
    if (!dialog.open) { dialog.showModal(); }
    link.focus();
  }
  function tick() {
    if (ended) { return; }
    var left = deadline - Date.now();
    if (left <= 0) { signedOut(); return; }
    if (left <= warn) { count.textContent = mmss(left); if (!dialog.open) { openDialog(); } }
    else if (dialog.open) { dialog.close(); }
  }
  document.getElementById("idle-stay").addEventListener("click", function () {
    realFetch("/api/v1/session/idle", { headers: { "Accept": "application/json" }, credentials: "same-origin" })
      .then(function (resp) { return resp.ok ? resp.json() : null; })
      .then(function (data) {
        if (!data) { signedOut(); return; }
        deadline = Date.now() + data.seconds_left * 1000;
        share();
        dialog.close();
        if (before && before.focus) { before.focus(); }
      })
      .catch(function () { document.getElementById("idle-text").textContent = "The gateway did not answer. Check your connection and press Stay signed in again."; });
  });
  document.getElementById("idle-signout").addEventListener("click", function () {
    var out = document.querySelector('form[action="/logout"]');
    try { sessionStorage.removeItem(draftKey); } catch (e) { /* off */ }
    if (out) { out.submit(); }
  });
  // Escape on the warning means "I am here": the same as Stay signed in; after the timeout it does nothing.
  dialog.addEventListener("cancel", function (ev) { ev.preventDefault(); if (!ended) { document.getElementById("idle-stay").click(); } });
  setInterval(tick, 1000);
  window.EcgwIdle = { tick: tick, setLeft: function (s) { deadline = Date.now() + s * 1000; tick(); } };
})();
