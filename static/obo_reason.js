// Adds the reason typed above the account list to whichever "Act on behalf" form is sent,
// also when picker.js sends one with form.submit() (the formdata event fires for both).
(function () {
  "use strict";
  var field = document.querySelector("input[data-obo-reason]");
  if (!field) { return; }
  document.addEventListener("formdata", function (ev) {
    var action = ev.target.getAttribute("action") || "";
    // A reason already in the form (the header switcher's own field) is kept.
    if (action === "/obo" && !ev.formData.get("reason")) { ev.formData.set("reason", field.value); }
  });
})();
