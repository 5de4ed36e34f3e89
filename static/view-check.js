// The "does not know" banner (role="alert"): values in this screen's link that match nothing the
// board knows (app/rules/view_check.py). The server renders it with the page; this asks
// /api/view again, every PROBLEM_MS while it shows and every OK_MS otherwise, and after each
// reconnect, so it goes away by itself once mappings/ has the name, and appears if a name goes.
(function () {
  "use strict";

  var B = window.TicketDashBoard;
  var body = document.body;
  var banner = document.getElementById("view-alert");
  var list = document.getElementById("view-alert-list");
  var url = body.dataset.viewUrl;
  var PROBLEM_MS = 10000;
  var OK_MS = 5 * 60 * 1000;
  var timer = null;
  var snapshots = 0;
  if (!banner || !list || !url || !window.fetch) return;

  function render(unknown) {
    var items = unknown.map(function (u) {
      var li = document.createElement("li");
      li.textContent = String((u && u.message) || "");
      return li;
    });
    list.replaceChildren.apply(list, items);
    banner.hidden = items.length === 0;
  }

  function schedule() {
    clearTimeout(timer);
    timer = setTimeout(check, banner.hidden ? OK_MS : PROBLEM_MS);
  }

  function check() {
    clearTimeout(timer);
    window
      .fetch(url, { credentials: "same-origin", cache: "no-store" })
      .then(function (response) {
        return response.ok ? response.json() : null;
      })
      .then(function (answer) {
        if (answer && Array.isArray(answer.unknown)) render(answer.unknown);
      })
      .catch(function () {
        /* the server is away: the connection indicator says so; ask again later */
      })
      .then(schedule);
  }

  if (B) {
    B.onChange(function (change) {
      if (change.kind === "snapshot" && ++snapshots > 1) check(); // a reconnect: ask again
    });
  }
  schedule();
})();
