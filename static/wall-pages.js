// The wall's pages: when the rows do not fit on the screen, they are shown in turns.
//
// A turn shows every row that was on the board when it began. Each page takes, in display order,
// rows not yet shown in this turn, after the most urgent rows, which stay on every page: breached
// first, then new Urgent tickets, then critical ones, up to PIN_SHARE of the page (more than that
// rotate like the rest). "Shown" is kept by ticket id, so a row that moves or changes mid-turn
// never makes the turn skip or repeat a row. A row that arrives mid-turn is shown as soon as a
// page has room (at once if it is urgent or if everything fits) but does not hold the turn open:
// under a steady stream of new tickets a turn still ends. A page stays `?dwell=` seconds, by
// default the time left of a TURN_S turn (under a minute) shared by the pages left (each MIN_DWELL_S..MAX_DWELL_S),
// so a turn keeps to its minute as the board grows or shrinks. Rows off the page are `hidden`: not
// laid out, not painted, not ticked. body[data-page] says "2/5" and body[data-turns] counts
// finished turns (for tests and for a person with DevTools).
(function () {
  "use strict";

  var B = window.TicketDashBoard;
  var W = (window.TicketDashWall = window.TicketDashWall || {});
  var body = document.body;
  var main = document.getElementById("board");
  var table = main && main.querySelector("table.board");
  if (!B || !main || !table) return;

  var TURN_S = 54; // under the minute a turn may take: the page estimate can grow mid-turn
  var MIN_DWELL_S = 6;
  var MAX_DWELL_S = 20;
  var PIN_SHARE = 1 / 3;
  var SEEN_AFTER_MS = 2000; // a row taken off the page after this long on it counts as seen
  // (or after half a page's dwell, when pages turn faster than that)
  var fixedDwell = Number(body.dataset.dwell) || 0;
  var indicator = document.getElementById("pager");
  var pageNoEl = document.getElementById("page-no");
  var fill = document.getElementById("pager-fill");
  var reduceMotion = window.matchMedia ? window.matchMedia("(prefers-reduced-motion: reduce)") : null;

  var seen = new Set(); // ids shown in this turn
  var turnRows = new Set(); // ids on the board when this turn began
  var onPage = new Set(); // ids on the screen now
  var shownAt = new Map(); // id -> Date.now() when it came on the screen
  var pageNo = 0;
  var pages = 1;
  var turns = 0;
  var dwellS = MAX_DWELL_S;
  var freePerPage = 1; // rows a page has for the rotation (besides the pinned ones)
  var turnStarted = Date.now();
  var timer = null;
  var sizes = null; // {row, head, limit}: measured heights in px, until the screen changes

  function idOf(tr) {
    return tr.id.slice(2);
  }

  function urgent(tr) {
    return severity(tr) < 3;
  }

  // 0 breached, 1 a new Urgent ticket, 2 critical, 3 the rest.
  function severity(tr) {
    var c = tr.classList;
    var attn = tr.getAttribute("data-attn");
    if (c.contains("sla-overdue") || attn === "breach") return 0;
    if (attn === "urgent") return 1;
    return c.contains("sla-critical") ? 2 : 3;
  }

  // ---- measuring ---------------------------------------------------------------------------

  function heightOf(el) {
    if (!el) return 0;
    var wasHidden = el.hidden;
    el.hidden = false;
    var h = el.getBoundingClientRect().height;
    el.hidden = wasHidden;
    return h;
  }

  function measure() {
    var style = getComputedStyle(main);
    // The box's own height rounded down, not clientHeight (rounded to the nearest pixel): a strip
    // above the board of 2rem leaves the board a fractional height, and a row must not end half
    // a pixel below it.
    var limit =
      Math.min(main.clientHeight, Math.floor(main.getBoundingClientRect().height)) -
      parseFloat(style.paddingTop) -
      parseFloat(style.paddingBottom) -
      (table.tHead ? table.tHead.getBoundingClientRect().height : 0);
    var rows = B.rows();
    var row = 0;
    for (var i = 0; i < rows.length && !row; i++) if (!rows[i].hidden) row = heightOf(rows[i]);
    if (!row && rows.length) row = heightOf(rows[0]);
    var head = 0;
    B.sections.forEach(function (s) {
      head = Math.max(head, heightOf(B.sectionHead(s)));
    });
    return { row: row || 1, head: head, limit: limit };
  }

  // ---- choosing a page ----------------------------------------------------------------------

  // The rows of the next page: the urgent ones first (up to half a page), then unseen ones.
  function plan() {
    var s = sizes || (sizes = measure());
    var budget = s.limit;
    var open = {};
    B.sections.forEach(function (sec) {
      if (B.sectionRows(sec).length === 0) budget -= s.head; // "No tickets" stays drawn
    });
    var pinCap = Math.floor(Math.max(1, Math.floor(budget / s.row)) * PIN_SHARE);
    var chosen = new Set();
    var used = 0;
    var all = [];
    B.sections.forEach(function (sec) {
      var rows = B.sectionRows(sec);
      for (var i = 0; i < rows.length; i++) all.push([rows[i], sec]);
    });

    function take(tr, sec) {
      var cost = s.row + (open[sec] ? 0 : s.head);
      if (used + cost > budget) return false;
      used += cost;
      open[sec] = true;
      chosen.add(tr);
      return true;
    }

    var pinned = 0;
    for (var level = 0; level < 3; level++) {
      for (var i = 0; i < all.length && pinned < pinCap; i++) {
        if (severity(all[i][0]) === level && take(all[i][0], all[i][1])) pinned++;
      }
    }
    for (var j = 0; j < all.length; j++) {
      var tr = all[j][0];
      if (chosen.has(tr) || seen.has(idOf(tr))) continue;
      if (!take(tr, all[j][1])) break;
    }
    return { chosen: chosen, pinned: pinned };
  }

  function show(tr) {
    var id = idOf(tr);
    if (tr.hidden) {
      tr.hidden = false;
      B.tickRow(tr); // its texts may be a page old
    }
    if (!onPage.has(id)) shownAt.set(id, Date.now());
    onPage.add(id);
    seen.add(id);
  }

  function hide(tr) {
    var id = idOf(tr);
    if (!tr.hidden) tr.hidden = true;
    onPage.delete(id);
    shownAt.delete(id);
  }

  // How long a row must have been on the screen to count as seen when it is taken off.
  function glimpseMs() {
    return Math.min(SEEN_AFTER_MS, dwellS * 500);
  }

  // Rows that came on the page just before it turns (a ticket that became urgent a moment ago)
  // were only glimpsed: they count as not yet seen, so a later page of the turn shows them.
  function forgetGlimpses() {
    var now = Date.now();
    var least = glimpseMs();
    onPage.forEach(function (id) {
      if (now - (shownAt.get(id) || 0) < least) seen.delete(id);
    });
  }

  // Rows of this turn not shown yet (rows that arrived since it began do not count).
  function unseenCount() {
    var n = 0;
    B.rows().forEach(function (tr) {
      var id = idOf(tr);
      if (turnRows.has(id) && !seen.has(id)) n++;
    });
    return n;
  }

  // Section headings: drawn when the page has rows of the section, or when it has none at all.
  function drawSections() {
    B.sections.forEach(function (sec) {
      var rows = B.sectionRows(sec);
      var here = 0;
      for (var i = 0; i < rows.length; i++) if (!rows[i].hidden) here++;
      var head = B.sectionHead(sec);
      if (head) head.hidden = rows.length > 0 && here === 0;
      var more = document.getElementById("more-" + sec);
      if (more) {
        var rest = rows.length - here;
        var text = rest > 0 ? "+" + rest + " on other pages" : "";
        if (more.textContent !== text) more.textContent = text;
      }
    });
  }

  function overflows() {
    var s = sizes || (sizes = measure());
    return table.getBoundingClientRect().height - (table.tHead ? table.tHead.getBoundingClientRect().height : 0) > s.limit + 0.5;
  }

  // The estimates can be off by a pixel or a font, and rows join the page as they come: take rows
  // off until the page fits. First a row that has been on the screen long enough to count as seen
  // (nothing lost), then a row that joined just now (`joined`: it comes on a later page, pinned),
  // unless it is news (a new Urgent ticket, a new breach: that one stays), then the last row that
  // is not urgent (barely seen, so the turn shows it again later).
  function fit(joined) {
    var dropped = false;
    for (var guard = onPage.size; guard > 0 && onPage.size > 1 && overflows(); guard--) {
      var victim = pickVictim(joined || []);
      var id = idOf(victim);
      if (Date.now() - (shownAt.get(id) || 0) < glimpseMs()) seen.delete(id);
      hide(victim);
      drawSections();
      dropped = true;
    }
    return dropped;
  }

  function pickVictim(joined) {
    var rows = B.rows().filter(function (tr) {
      return !tr.hidden;
    });
    var now = Date.now();
    var i;
    for (i = rows.length - 1; i >= 0; i--) {
      var id = idOf(rows[i]);
      if (!urgent(rows[i]) && joined.indexOf(rows[i]) < 0 && now - (shownAt.get(id) || now) >= glimpseMs()) {
        return rows[i];
      }
    }
    for (i = joined.length - 1; i >= 0; i--) {
      if (!joined[i].hidden && !joined[i].hasAttribute("data-attn")) return joined[i];
    }
    for (i = rows.length - 1; i >= 0; i--) if (!urgent(rows[i])) return rows[i];
    return rows[rows.length - 1];
  }

  // ---- turning ------------------------------------------------------------------------------

  function showIndicator() {
    var text = pageNo + "/" + pages;
    body.dataset.page = text;
    body.dataset.turns = String(turns);
    if (!indicator) return;
    indicator.hidden = pages <= 1;
    if (pageNoEl && pageNoEl.textContent !== text) pageNoEl.textContent = text;
  }

  function runBar() {
    if (!fill || !fill.animate || pages <= 1 || (reduceMotion && reduceMotion.matches)) return;
    fill.getAnimations().forEach(function (a) {
      a.cancel();
    });
    // transform only: the compositor draws it, the main thread does nothing while it fills.
    fill.animate([{ transform: "scaleX(0)" }, { transform: "scaleX(1)" }], {
      duration: dwellS * 1000,
      easing: "linear",
      fill: "forwards",
    });
  }

  function estimatePages() {
    var left = unseenCount();
    return pageNo + (left ? Math.ceil(left / Math.max(1, freePerPage)) : 0);
  }

  function turn() {
    clearTimeout(timer);
    var rows = B.rows();
    forgetGlimpses();
    if (unseenCount() === 0) {
      if (pageNo > 0) turns++;
      seen.clear();
      turnRows = new Set(rows.map(idOf));
      turnStarted = Date.now();
      pageNo = 0;
    }
    pageNo++;
    var p = plan();
    rows.forEach(function (tr) {
      if (p.chosen.has(tr)) show(tr);
      else hide(tr);
    });
    drawSections();
    fit();
    freePerPage = Math.max(1, onPage.size - p.pinned);
    pages = estimatePages();
    var left = (TURN_S * 1000 - (Date.now() - turnStarted)) / 1000 / Math.max(1, pages - pageNo + 1);
    dwellS = fixedDwell || Math.min(MAX_DWELL_S, Math.max(MIN_DWELL_S, left));
    if (W.columns) W.columns.fit();
    if (W.attention) W.attention.syncSoon();
    showIndicator();
    runBar();
    timer = setTimeout(turn, dwellS * 1000);
  }

  // A page shown again from scratch (the screen changed size): its rows count as not yet seen.
  function again() {
    sizes = null;
    onPage.forEach(function (id) {
      seen.delete(id);
    });
    pageNo = Math.max(0, pageNo - 1);
    turn();
  }

  // ---- patches ------------------------------------------------------------------------------

  // Became urgent in this change: it was on the board, with data, and not urgent then. (The first
  // snapshot brings data for rows the server rendered: nothing "became" anything there.)
  function becameUrgent(tr, before) {
    return !!before && before.sla !== "overdue" && before.sla !== "critical" && urgent(tr);
  }

  B.onChange(function (change) {
    if (change.kind === "init") {
      turn();
      return;
    }
    // The whole board was on the screen (new rows are not on the page yet): a new row joins it.
    var total = 0;
    B.sections.forEach(function (sec) {
      total += B.sectionRows(sec).length;
    });
    var everything = onPage.size + change.created.length - change.removed.length >= total;
    change.removed.forEach(function (id) {
      seen.delete(id);
      onPage.delete(id);
      shownAt.delete(id);
      turnRows.delete(id);
    });
    var admit = [];
    change.created.forEach(function (tr) {
      tr.hidden = true;
      if (everything || urgent(tr)) admit.push(tr);
    });
    change.updated.forEach(function (u) {
      var tr = u.tr;
      if (tr.hidden) {
        if (becameUrgent(tr, u.before)) admit.push(tr);
      } else if (!onPage.has(idOf(tr))) {
        show(tr); // a server-rendered row the first paint showed
      }
    });
    admit.forEach(show);
    drawSections();
    var dropped = fit(admit);
    var touched = admit.length > 0 || change.updated.some(function (u) {
      return !u.tr.hidden;
    });
    if (touched && W.columns) W.columns.fit();
    if (admit.length || dropped || change.removed.length) {
      pages = Math.max(pageNo, estimatePages());
      showIndicator();
      if (W.attention) W.attention.syncSoon();
    }
  });

  if (window.ResizeObserver) {
    var lastHeight = -1;
    var lastWidth = -1;
    new ResizeObserver(function () {
      var h = main.clientHeight;
      var w = main.clientWidth;
      if (h === lastHeight && w === lastWidth) return;
      var first = lastHeight < 0;
      lastHeight = h;
      lastWidth = w;
      // The first call reports the size the page was planned for, unless something above the
      // board changed height in between (a strip filled in by the first snapshot): then plan again.
      if (!first || (sizes && Math.abs(measure().limit - sizes.limit) > 0.5)) again();
    }).observe(main);
  }

  W.pages = {
    state: function () {
      return { page: pageNo, pages: pages, turns: turns, dwell: dwellS, onPage: onPage.size };
    },
  };
})();
