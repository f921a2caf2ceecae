// The on-behalf-of time box: counts down in the banner and shows the warning before the limit.
// It sends nothing to the server, so it never keeps the rep's own sign-in alive; the server ends
// the session at its limit on the next request, whatever this page shows.
(function () {
  "use strict";
  var box = document.querySelector(".obo-timebox");
  if (!box) { return; }
  var clock = box.querySelector(".obo-countdown");
  var warning = document.querySelector(".obo-warning");
  var left = parseInt(box.getAttribute("data-seconds-left"), 10) || 0;
  var warnAt = parseInt(box.getAttribute("data-warn-seconds"), 10) || 120;
  var endsAt = Date.now() + left * 1000;
  function text(seconds) {
    var m = Math.floor(seconds / 60), s = seconds % 60;
    return m + ":" + (s < 10 ? "0" : "") + s;
  }
  function tick() {
    var seconds = Math.max(0, Math.round((endsAt - Date.now()) / 1000));
    clock.textContent = text(seconds);
    clock.setAttribute("datetime", "PT" + seconds + "S");
    if (warning && seconds <= warnAt && warning.hidden) { warning.hidden = false; }
    if (seconds === 0) {
      clearInterval(timer);
      if (warning) {
        warning.classList.add("over");
        warning.querySelector(".obo-warning-text").textContent =
          "Time is up: this on-behalf-of session has ended. Your next click shows your accounts; your cart is kept.";
        var form = warning.querySelector("form");
        if (form) { form.remove(); }
        warning.hidden = false;
      }
    }
  }
  var timer = setInterval(tick, 1000);
  tick();
})();
