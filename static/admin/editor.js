// Filter editor: validates as the admin types (line and column of the first problem), then
// previews how many accounts the filter gives and the first of them. Server checks again on Save.
(function () {
  "use strict";
  const form = document.getElementById("editor-form");
  const box = document.getElementById("filter_text");
  if (!form || !box) return;
  const csrf = form.dataset.csrf;
  const status = document.getElementById("filter-check");
  const count = document.getElementById("preview-count");
  const body = document.getElementById("preview-body");
  let validateTimer = null, previewTimer = null, sequence = 0;

  function post(path, payload) {
    return fetch(path, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf, "Accept": "application/json" },
      body: JSON.stringify(payload),
    }).then(function (r) {
      return r.json().then(function (data) {
        if (!r.ok) throw new Error(data.message || ("The server answered " + r.status + ". Reload the page."));
        return data;
      });
    });
  }

  // Line and column (1-based) to an offset in the text, to put the caret on the problem.
  function offsetOf(text, line, col) {
    const lines = text.split("\n");
    let at = 0;
    for (let i = 0; i < Math.min(line - 1, lines.length); i++) at += lines[i].length + 1;
    return Math.min(text.length, at + Math.max(0, col - 1));
  }

  function showCheck(check) {
    status.textContent = "";
    if (check.ok) {
      status.className = "check-ok";
      status.textContent = box.value.trim() ? "Filter is valid." : "Empty: no filter, the default applies.";
      box.removeAttribute("aria-invalid");
      return;
    }
    status.className = "check-bad";
    const span = document.createElement("span");
    span.className = "error";
    span.textContent = "Line " + check.line + ", column " + check.col + ": " + check.message;
    status.appendChild(span);
    if (check.fragment) {
      const code = document.createElement("code");
      code.textContent = check.fragment;
      status.append(" ", code);
    }
    const go = document.createElement("button");
    go.type = "button"; go.className = "linklike-dark"; go.textContent = "Go to the problem";
    go.addEventListener("click", function () {
      const at = offsetOf(box.value, check.line, check.col);
      box.focus(); box.setSelectionRange(at, at);
    });
    status.append(" ", go);
    box.setAttribute("aria-invalid", "true");
  }

  function showPreview(p) {
    body.textContent = "";
    if (p.count === null) { count.textContent = "No preview: correct the filter first."; return; }
    count.textContent = p.count + (p.count === 1 ? " account" : " accounts") + " with this filter" +
      (p.kind === "all" ? " (no filter: every account)." : ".");
    p.accounts.forEach(function (a) {
      const tr = document.createElement("tr");
      [a.an8, a.name, a.city + (a.state ? ", " + a.state : "")].forEach(function (v) {
        const td = document.createElement("td"); td.textContent = v; tr.appendChild(td);
      });
      body.appendChild(tr);
    });
  }

  function failed(err) {
    status.className = "check-bad";
    status.textContent = err.message;
  }

  box.addEventListener("input", function () {
    const mine = ++sequence;
    clearTimeout(validateTimer); clearTimeout(previewTimer);
    validateTimer = setTimeout(function () {
      post("/api/v1/admin/restrictions/validate", { filter_text: box.value }).then(function (check) {
        if (mine !== sequence) return;  // an older answer: the text changed since
        showCheck(check);
        if (!check.ok) { showPreview({ count: null, accounts: [] }); return; }
        previewTimer = setTimeout(function () {
          count.textContent = "Counting…";
          post("/api/v1/admin/restrictions/preview", { filter_text: box.value, limit: 10 }).then(function (p) {
            if (mine === sequence) showPreview(p);
          }, failed);
        }, 250);
      }, failed);
    }, 150);
  });
})();
