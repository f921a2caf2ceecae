// Supervisor's view: refresh the alerts and live sessions without reloading the page. Paused while
// the focus is inside the live list (typing a reason, pressing End), so nothing moves under the keyboard.
(function () {
  "use strict";
  const box = document.getElementById("supervisor-live");
  const status = document.getElementById("live-status");
  if (!box || !window.fetch) return;
  const seconds = Math.max(2, parseInt(box.dataset.refresh || "15", 10));

  function busy() {
    return box.contains(document.activeElement) && document.activeElement !== document.body;
  }

  function refresh() {
    if (busy() || document.hidden) return;
    fetch("/admin/supervisor/live", { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (r) {
        if (!r.ok) throw new Error("the server answered " + r.status);
        return r.text();
      })
      .then(function (html) {
        if (busy()) return;
        box.innerHTML = html;
        const count = box.querySelectorAll("#live-sessions tbody tr[data-session]").length;
        status.textContent = "Updated at " + new Date().toISOString().slice(11, 19) + " UTC: " + count +
          " live session" + (count === 1 ? "" : "s") + ".";
      }, function (err) {
        status.textContent = "Not updated (" + err.message + "). Use Refresh now.";
      });
  }
  window.setInterval(refresh, seconds * 1000);
})();
