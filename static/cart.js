// Add to cart without leaving the page (catalog). Progressive enhancement: without this script the
// form posts and the server draws the catalog again with the search kept. With it, the same form is
// sent with fetch (asking for JSON), the header's cart count and a status line are updated, and an
// error is shown beside the quantity with what was typed kept. The browser checks the quantity's
// bounds first (min/max come from the server's own limit).
(function () {
  "use strict";
  const status = document.getElementById("add-status");

  function errorBox(form) {
    const input = form.querySelector("input[name=quantity]");
    return document.getElementById(input.getAttribute("aria-describedby"));
  }

  function showError(form, message) {
    const input = form.querySelector("input[name=quantity]");
    errorBox(form).textContent = message;
    input.setAttribute("aria-invalid", "true");
    input.focus();
  }

  function clearError(form) {
    errorBox(form).textContent = "";
    form.querySelector("input[name=quantity]").removeAttribute("aria-invalid");
  }

  async function add(event) {
    const form = event.target;
    if (!form.matches("form[data-add-to-cart]")) return;
    event.preventDefault();
    if (!form.reportValidity()) return;
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    try {
      const response = await fetch(form.action, {
        method: "POST",
        body: new URLSearchParams(new FormData(form)),
        headers: { "Accept": "application/json" },
        credentials: "same-origin",
      });
      let answer = {};
      try { answer = await response.json(); } catch (e) { answer = {}; }
      if (!response.ok) {
        if (response.status === 401 || response.status === 403) { form.submit(); return; }  // let the page say why
        showError(form, answer.message || "The line could not be added. Check the quantity and try again.");
        return;
      }
      clearError(form);
      const count = document.getElementById("cart-count");
      if (count && typeof answer.cart_lines === "number") count.textContent = String(answer.cart_lines);
      if (status) { status.textContent = answer.message || "Added to the cart."; status.classList.add("flash"); }
    } catch (e) {
      showError(form, "The gateway did not answer. Check the connection and press Add again.");
    } finally {
      button.disabled = false;
    }
  }

  document.addEventListener("submit", add);
})();
