// The counters on top: rows per section, per SLA state, update overdue and unassigned, counted
// from the rows themselves after every change, so they always equal what the board holds (the
// server's filters included). app/web/render.py: counters() counts the same for the first paint.
(function () {
  "use strict";

  var B = window.TicketDashBoard;
  if (!B) return;

  // counter -> the row class it counts (sections count their rows)
  var CLASSES = {
    overdue: "sla-overdue",
    critical: "sla-critical",
    warning: "sla-warning",
    update_overdue: "update-overdue",
    unassigned: "unassigned",
  };
  var tiles = {};
  document.querySelectorAll("#counters [data-counter]").forEach(function (li) {
    tiles[li.dataset.counter] = { li: li, n: li.querySelector(".n") };
  });

  var strip = document.getElementById("counters");
  var digits = "";

  // Short labels when the long ones do not fit on one line (checked when a number's width changes).
  function fitLabels() {
    strip.classList.remove("is-tight");
    strip.classList.toggle("is-tight", strip.scrollWidth > strip.clientWidth + 1);
  }

  function count() {
    var totals = {};
    Object.keys(CLASSES).forEach(function (k) {
      totals[k] = 0;
    });
    B.sections.forEach(function (s) {
      var rows = B.sectionRows(s);
      totals[s] = rows.length;
      for (var i = 0; i < rows.length; i++) {
        var c = rows[i].classList;
        for (var k in CLASSES) if (c.contains(CLASSES[k])) totals[k]++;
      }
    });
    Object.keys(tiles).forEach(function (k) {
      var value = totals[k] || 0;
      var text = String(value);
      if (tiles[k].n.textContent !== text) tiles[k].n.textContent = text;
      tiles[k].li.classList.toggle("is-zero", value === 0);
    });
    var now = Object.keys(tiles)
      .map(function (k) {
        return tiles[k].n.textContent.length;
      })
      .join();
    if (strip && now !== digits) {
      digits = now;
      fitLabels();
    }
  }

  B.onChange(count);
  window.addEventListener("resize", fitLabels);
})();
