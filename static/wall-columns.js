// Column widths follow the content: on each page, each column is as wide as the widest text it
// shows (its heading included), so nothing is cut that could be shown; the subject takes what is
// left, at least SUBJECT_MIN of the width. If the names are too long for that, the who-columns
// give way (with an ellipsis), never below their heading. The SLA column is as wide as its
// widest text up to SLA_MAX of the width, and never narrower than its widest countdown: only the
// " · update overdue" after a countdown (also told by the red bar and the status) may give way,
// so that one rare long text cannot squeeze the names to initials. Texts are measured on a
// canvas (no layout) when a page is shown and when a row on it changes (wall-pages.js calls
// fit()); SLACK_EM leaves room for a countdown that grows while the page stays.
(function () {
  "use strict";

  var B = window.TicketDashBoard;
  var W = (window.TicketDashWall = window.TicketDashWall || {});
  var table = document.querySelector("table.board");
  if (!B || !table || !table.tHead) return;

  var CELLS = ["id", "subject", "requester", "agent", "group", "priority", "status", "sla", "updated"];
  var SHRINKABLE = ["requester", "agent", "group", "status"];
  var CAP_EM = 12; // a who-column is never wider than this
  var FLOOR_EM = 4; // nor, when giving way, narrower than this or than its heading
  var SUBJECT_MIN = 0.27;
  var SLA_MAX = 0.24;
  var SLACK_EM = 0.6;

  var cols = {};
  table.querySelectorAll("col").forEach(function (col) {
    cols[col.className.replace(/^c-/, "")] = col;
  });
  var heads = {};
  Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th) {
    heads[th.className.replace(/^c-/, "")] = th;
  });
  var canvas = document.createElement("canvas");
  var ctx = canvas.getContext && canvas.getContext("2d");
  // Text widths measured by this fit and the one before. A TV's texts change all day
  // (countdowns every minute, names, subjects): a cache kept across fits grew the tab's heap by
  // 0.3 MiB an hour in the soak (bench_soak.py), so only what the last fit measured is kept.
  var widths = new Map();
  var lastWidths = new Map();
  var applied = {};

  function textWidth(font, spacing, text) {
    var key = font + "|" + spacing + "|" + text;
    var w = widths.get(key);
    if (w === undefined) {
      w = lastWidths.get(key);
      if (w === undefined) {
        ctx.font = font;
        if ("letterSpacing" in ctx) ctx.letterSpacing = spacing;
        w = ctx.measureText(text).width;
      }
      widths.set(key, w);
    }
    return w;
  }

  // The canvas font of an element (`font` itself reads "" when e.g. tabular-nums is set).
  function fontOf(el, weight) {
    var st = getComputedStyle(el);
    return {
      font: [st.fontStyle, weight || st.fontWeight, st.fontSize, st.fontFamily].join(" "),
      spacing: st.letterSpacing === "normal" ? "0px" : st.letterSpacing,
      upper: st.textTransform === "uppercase",
    };
  }

  function padOf(el) {
    var st = getComputedStyle(el);
    return parseFloat(st.paddingLeft) + parseFloat(st.paddingRight) + parseFloat(st.borderLeftWidth || 0);
  }

  // board.css: overdue, and update overdue without a deadline to count down to, are 800.
  function isHeavy(tr) {
    var c = tr.classList;
    return c.contains("sla-overdue") || (c.contains("update-overdue") && c.contains("sla-none"));
  }

  // In px, with the cells' padding: `width`, each column's widest content; `heading`, each
  // heading's; `slaCore`, the widest SLA text without what follows its " · ".
  function natural(rows) {
    var sample = rows[0];
    var out = { width: {}, heading: {}, slaCore: 0 };
    CELLS.forEach(function (name, i) {
      if (name === "subject") return;
      var th = heads[name];
      var hf = fontOf(th);
      var widest = textWidth(hf.font, hf.spacing, hf.upper ? th.textContent.toUpperCase() : th.textContent) + padOf(th);
      out.heading[name] = Math.ceil(widest) + 2;
      var td = sample.cells[i];
      var target = name === "priority" ? td.querySelector(".badge") || td : td;
      var f = fontOf(target);
      var heavy = name === "sla" ? fontOf(target, "800") : f; // overdue SLA text is bolder
      var extra = padOf(td) + (target === td ? 0 : padOf(target));
      if (name === "sla") extra += parseFloat(getComputedStyle(document.documentElement).fontSize) * 0.4; // update-overdue bar
      var seenText = new Set();
      var core = 0;
      for (var r = 0; r < rows.length; r++) {
        var cell = rows[r].cells[i];
        if (!cell) continue;
        var text = cell.textContent;
        var g = name === "sla" && isHeavy(rows[r]) ? heavy : f;
        if (seenText.has(g.font + text)) continue;
        seenText.add(g.font + text);
        var w = textWidth(g.font, g.spacing, g.upper ? text.toUpperCase() : text) + extra;
        widest = Math.max(widest, w);
        if (name === "sla") {
          var cut = text.indexOf(" · ");
          core = Math.max(core, cut < 0 ? w : textWidth(g.font, g.spacing, text.slice(0, cut) + " …") + extra);
        }
      }
      if (name === "sla") out.slaCore = Math.ceil(core) + 2;
      out.width[name] = Math.ceil(widest) + 2;
    });
    return out;
  }

  function setWidth(name, px) {
    var value = Math.round(px) + "px";
    if (applied[name] === value) return;
    applied[name] = value;
    cols[name].style.width = value; // CSSOM, not a style attribute in markup: the CSP allows it
  }

  function fit() {
    if (!ctx) return;
    lastWidths = widths;
    widths = new Map();
    var rows = B.rows().filter(function (tr) {
      return !tr.hidden;
    });
    if (!rows.length) return;
    var em = parseFloat(getComputedStyle(table).fontSize) || 16;
    var total = table.clientWidth;
    var measured = natural(rows);
    var want = measured.width;
    want.sla = Math.min(want.sla + SLACK_EM * em, Math.max(measured.slaCore + SLACK_EM * em, total * SLA_MAX));
    want.updated += SLACK_EM * em;
    var shrinkable = SHRINKABLE.filter(function (name) {
      return getComputedStyle(cols[name]).visibility !== "collapse"; // wall.css: ?density=large
    });
    shrinkable.forEach(function (name) {
      want[name] = Math.min(want[name], CAP_EM * em);
    });
    var fixed = want.id + want.priority + want.sla + want.updated;
    var flex = shrinkable.reduce(function (sum, name) {
      return sum + want[name];
    }, 0);
    var room = total * (1 - SUBJECT_MIN) - fixed;
    if (flex > room) {
      var floors = {};
      var floorSum = 0;
      shrinkable.forEach(function (name) {
        floors[name] = Math.min(want[name], Math.max(FLOOR_EM * em, measured.heading[name]));
        floorSum += floors[name];
      });
      var above = flex - floorSum;
      var keep = Math.max(0, (room - floorSum) / Math.max(1, above));
      shrinkable.forEach(function (name) {
        want[name] = floors[name] + (want[name] - floors[name]) * Math.min(1, keep);
      });
    }
    CELLS.forEach(function (name) {
      var collapsed = SHRINKABLE.indexOf(name) >= 0 && shrinkable.indexOf(name) < 0;
      if (name !== "subject" && cols[name]) setWidth(name, collapsed ? 0 : want[name]); // 0: the table keeps its width
    });
  }

  W.columns = { fit: fit };
})();
