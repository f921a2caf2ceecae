// The set-password link carries its code after '#': move it into the form, hide the field and
// drop it from the address bar (so it is not left in the browser history).
(function () {
  "use strict";
  const field = document.getElementById("token");
  if (!field) return;
  const code = window.location.hash.slice(1);
  if (code) {
    field.value = decodeURIComponent(code);
    history.replaceState(null, "", window.location.pathname);
  }
  if (field.value) document.getElementById("token-field").hidden = true;
})();
