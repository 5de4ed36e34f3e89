// Today's strip: today's numbers (each marked worse or better than yesterday at the same time,
// where the board knows yesterday) and a sparkline per trend of the last 24 hours (a gap where
// the board was down; coloured by now against 24 hours ago). Patched from each snapshot and each
// `summary` event (board.js onSummary); the text is set with textContent only.
(function () {
  "use strict";

  var B = window.TicketDashBoard;
  var F = window.TicketDashFormat;
  var strip = document.getElementById("today");
  if (!B || !F || !strip) return;

  var SVG = "http://www.w3.org/2000/svg";
  // For these a higher number is the good news; for every other one it is the bad news.
  var HIGHER_IS_BETTER = { resolved: true };
  var last = "";
  var lastTrend = [];

  function setText(el, text) {
    if (el && el.textContent !== text) el.textContent = text;
  }

  function shown(key, value) {
    if (value === null || value === undefined) return "–";
    if (key === "median_first_response_seconds") return F.duration(value);
    return String(value);
  }

  function mark(li, now, before, higherIsBetter) {
    var verdict = "";
    if (typeof now === "number" && typeof before === "number" && now !== before) {
      verdict = now > before === !!higherIsBetter ? "is-better" : "is-worse";
    }
    li.classList.toggle("is-better", verdict === "is-better");
    li.classList.toggle("is-worse", verdict === "is-worse");
    return verdict;
  }

  function numbers(summary) {
    var today = summary.today || {};
    var yesterday = summary.yesterday; // null: not known
    strip.querySelectorAll("[data-today]").forEach(function (li) {
      var key = li.dataset.today;
      setText(li.querySelector(".n"), shown(key, today[key]));
      var before = yesterday ? yesterday[key] : null;
      var verdict = mark(li, today[key], before, HIGHER_IS_BETTER[key]);
      var vs = li.querySelector(".vs");
      // The arrow says which way today went (the colour says whether that is good): "▼ 71" is
      // fewer than yesterday's 71 by this time.
      var arrow = today[key] > before ? "▲ " : "▼ ";
      setText(vs, verdict ? arrow + shown(key, before) : "");
      if (yesterday) li.title = "yesterday at this time: " + shown(key, before);
      else li.removeAttribute("title");
    });
  }

  // A path through the points, lifted where a point is missing (the board was down).
  // A lone point (its neighbours missing) is a dot: a zero-length line with round caps.
  function sparkPath(values, max) {
    var d = "";
    var run = 0;
    for (var i = 0; i <= values.length; i++) {
      var v = values[i];
      if (typeof v !== "number") {
        if (run === 1) d += "h0.01";
        run = 0;
        continue;
      }
      var x = values.length > 1 ? (i * 96) / (values.length - 1) : 48;
      var y = 23 - (max > 0 ? (v * 22) / max : 0);
      d += (run ? "L" : "M") + x.toFixed(1) + " " + y.toFixed(1);
      run++;
    }
    return d;
  }

  function trends(summary) {
    var points = summary.trend || [];
    var now = summary.now || {};
    strip.querySelectorAll("[data-trend]").forEach(function (li) {
      var key = li.dataset.trend;
      var values = points.map(function (p) {
        return p[key];
      });
      var max = 0;
      values.forEach(function (v) {
        if (typeof v === "number" && v > max) max = v;
      });
      var svg = li.querySelector("svg");
      var path = svg.querySelector("path");
      if (!path) {
        path = document.createElementNS(SVG, "path");
        path.setAttribute("vector-effect", "non-scaling-stroke");
        svg.appendChild(path);
      }
      var d = sparkPath(values, max);
      if (path.getAttribute("d") !== d) path.setAttribute("d", d);
      mark(li, now[key], values.length ? values[0] : null, false);
    });
  }

  B.onSummary(function (summary) {
    // A `summary` event leaves the trend out while it has not changed: keep the one we have.
    if (summary.trend) lastTrend = summary.trend;
    else summary = Object.assign({}, summary, { trend: lastTrend });
    var text = JSON.stringify(summary);
    if (text === last) return; // a snapshot repeats what the strip shows: no work
    last = text;
    numbers(summary);
    trends(summary);
    strip.dataset.date = summary.date || "";
  });
})();
