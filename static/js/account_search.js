// The rule the account picker and the header switcher share: act only on what is on screen.
//
// - Every request carries a sequence number; an answer that is not the latest request's is dropped,
//   so a slow answer for older text never replaces newer rows.
// - shownKey is the search whose rows are on screen. Enter acts only when that is the search typed
//   now (no keystroke waiting in the debounce, no newer request out); otherwise the Enter is kept
//   for the typed text, the search is sent at once, and when its rows are shown the owner decides
//   (onConfirmedWhenShown): an exact account number typed acts on that account's row, anything
//   else asks for a second Enter on the rows now shown. Typing again forgets the kept Enter.
(function () {
  "use strict";

  function AccountSearch(opts) {
    // opts: key() -> string of the search typed now; url(key, append) -> request URL;
    // show(data, key, append); fail(message, status); onConfirmedWhenShown(key, data);
    // shownKey: the key of rows already drawn by the server (or null); debounce (ms).
    var debounce = opts.debounce || 180;
    var timer = null;
    var seq = 0;
    var inflight = null; // {seq, key, controller}
    var shownKey = opts.shownKey === undefined ? null : opts.shownKey;
    var keptEnter = null;

    function send(append) {
      if (timer) { clearTimeout(timer); timer = null; }
      if (inflight) { inflight.controller.abort(); }
      var key = opts.key();
      var mine = ++seq;
      var controller = new AbortController();
      inflight = { seq: mine, key: key, controller: controller };
      if (opts.loading) { opts.loading(true); }
      fetch(opts.url(key, append), {
        headers: { "Accept": "application/json" }, credentials: "same-origin", signal: controller.signal
      }).then(function (resp) {
        return resp.json().catch(function () { return {}; }).then(function (data) {
          return { ok: resp.ok, status: resp.status, data: data };
        });
      }).then(function (r) {
        if (mine !== seq) { return; } // a newer request was made: this answer is about older text
        inflight = null;
        if (opts.loading) { opts.loading(false); }
        if (!r.ok) { opts.fail((r.data && r.data.message) || ("The search failed (" + r.status + ")."), r.status); return; }
        shownKey = key;
        opts.show(r.data, key, append);
        if (keptEnter !== null && keptEnter === key) {
          keptEnter = null;
          opts.onConfirmedWhenShown(key, r.data);
        }
      }).catch(function (err) {
        if (err && err.name === "AbortError") { return; }
        if (mine !== seq) { return; }
        inflight = null;
        if (opts.loading) { opts.loading(false); }
        opts.fail("The search failed: the gateway did not answer. Check your connection and type again.", 0);
      });
    }

    return {
      // A keystroke changed the text: forget a kept Enter, search after the debounce.
      changed: function () {
        keptEnter = null;
        if (timer) { clearTimeout(timer); }
        timer = setTimeout(function () { timer = null; send(false); }, debounce);
      },
      now: function () { keptEnter = null; send(false); },
      more: function () { send(true); },
      // True when the rows on screen are those of the text typed now: the caller may act on them.
      // Else the Enter is kept for the text typed now and its search is sent (or left running).
      enter: function () {
        var key = opts.key();
        if (!timer && !inflight && shownKey === key) { return true; }
        keptEnter = key;
        if (timer || !inflight || inflight.key !== key) { send(false); }
        return false;
      },
      current: function () { return !timer && !inflight && shownKey === opts.key(); },
      forget: function () { keptEnter = null; }
    };
  }

  // An exact account number: digits only, no leading zero, as the picker's search takes them.
  AccountSearch.exactNumber = function (text) {
    text = (text || "").trim();
    return /^[1-9][0-9]{0,7}$/.test(text) ? text : null;
  };

  // POST /obo for an account, as the picker's own forms do (CSRF token from the page).
  AccountSearch.actFor = function (an8, csrf) {
    var f = document.createElement("form");
    f.method = "post"; f.action = "/obo"; f.hidden = true;
    [["csrf_token", csrf], ["an8", String(an8)]].forEach(function (kv) {
      var h = document.createElement("input"); h.type = "hidden"; h.name = kv[0]; h.value = kv[1]; f.appendChild(h);
    });
    document.body.appendChild(f);
    f.submit();
  };

  window.EcgwAccountSearch = AccountSearch;
})();
