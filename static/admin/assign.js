// Assign page: fill in each representative's account count after the page shows. Reps with the
// same filter share one request; two requests at a time (counting a large JDE list takes a while).
(function () {
  "use strict";
  const cells = Array.from(document.querySelectorAll("#reps-table td[data-count][data-pending]"));
  if (!cells.length) return;
  const groups = new Map();
  cells.forEach(function (cell) {
    const row = cell.closest("tr");
    const key = row.dataset.filterKey;
    if (!groups.has(key)) groups.set(key, { repId: row.dataset.repId, cells: [] });
    groups.get(key).cells.push(cell);
  });
  const queue = Array.from(groups.values());

  function next() {
    const group = queue.shift();
    if (!group) return;
    fetch("/api/v1/admin/restrictions/" + encodeURIComponent(group.repId), {
      credentials: "same-origin", headers: { "Accept": "application/json" },
    }).then(function (r) {
      return r.json().then(function (data) {
        if (!r.ok) throw new Error(data.message || ("error " + r.status));
        return data;
      });
    }).then(function (data) {
      group.cells.forEach(function (cell) {
        cell.textContent = data.account_count === null ? "—" : String(data.account_count);
        cell.removeAttribute("data-pending");
      });
    }, function (err) {
      group.cells.forEach(function (cell) {
        cell.textContent = "not counted";
        cell.title = err.message + " Reload the page to try again.";
        cell.removeAttribute("data-pending");
      });
    }).then(next);
  }
  next();
  next();
})();
