// Attention, done calmly. A new Urgent ticket or a new breach is marked for MARK_S (a pulsing ring
// around the row and a pulsing tag before its subject: tr[data-attn="urgent"|"breach"], see wall.css), so a
// person glancing up sees what changed; wall-pages.js keeps marked rows on every page. All pulses
// run in step (one phase for the whole page), and with ?sound=1 a short tone plays when it happens
// while the page watches (wall-sound.js). prefers-reduced-motion: the ring stands still.
//
// "New" is read from the row, so a reloaded page marks the same rows: created less than MARK_S ago
// with priority Urgent; its next deadline (first response or resolution) or its update SLA passed
// less than MARK_S ago. Raised to Urgent while the page watched (the row has no time for that) is
// remembered here.
(function () {
  "use strict";

  var B = window.TicketDashBoard;
  var W = (window.TicketDashWall = window.TicketDashWall || {});
  if (!B) return;

  var MARK_S = 10 * 60;
  var RECHECK_MS = 15000;
  var URGENT = 4;
  var PULSES = ["pulse", "pulse-tag"]; // wall.css: the same period, kept in one phase
  var seenHere = new Map(); // id -> {kind, until}: what this page saw happen
  var syncQueued = false;

  function recent(t, now) {
    return typeof t === "number" && isFinite(t) && now - t >= 0 && now - t < MARK_S;
  }

  function markOf(tr, row, now) {
    if (!row) return null;
    var id = tr.id.slice(2);
    var here = seenHere.get(id);
    if (here && here.until <= now) {
      seenHere.delete(id);
      here = null;
    }
    var breach =
      (row.sla === "overdue" && recent(row.sla_due, now)) ||
      (row.update_overdue && recent(row.update_due, now)) ||
      (here && here.kind === "breach");
    if (breach) return "breach";
    var urgent = row.priority === URGENT && (recent(row.created_at, now) || (here && here.kind === "urgent"));
    return urgent ? "urgent" : null;
  }

  function mark(tr, now) {
    var kind = markOf(tr, B.data(tr), now);
    var had = tr.getAttribute("data-attn");
    if (kind === had) return false;
    if (kind) tr.setAttribute("data-attn", kind);
    else tr.removeAttribute("data-attn");
    return !!kind;
  }

  // What happened to a row the page already had: raised to Urgent, or breached just now.
  function happened(before, after) {
    if (!before) return null;
    var breached =
      (after.sla === "overdue" && before.sla !== "overdue") || (after.update_overdue && !before.update_overdue);
    if (breached) return "breach";
    return after.priority === URGENT && before.priority !== URGENT ? "urgent" : null;
  }

  // One phase for every pulse: each starts at the document timeline's zero.
  function sync() {
    syncQueued = false;
    if (!document.getAnimations) return;
    document.getAnimations().forEach(function (a) {
      if (PULSES.indexOf(a.animationName) >= 0 && a.startTime !== 0) a.startTime = 0;
    });
  }

  function syncSoon() {
    if (syncQueued) return;
    syncQueued = true;
    window.requestAnimationFrame(sync);
  }

  function markAll() {
    var now = B.serverNow();
    var changed = false;
    B.rows().forEach(function (tr) {
      if (tr.getAttribute("data-attn") !== markOf(tr, B.data(tr), now)) {
        mark(tr, now);
        changed = true;
      }
    });
    if (changed) syncSoon();
  }

  B.onChange(function (change) {
    var now = B.serverNow();
    change.removed.forEach(function (id) {
      seenHere.delete(id); // also when a snapshot removed it: a TV stays up for months
    });
    if (change.kind !== "patch") {
      markAll();
      return;
    }
    var sound = null;
    var onScreen = false; // a row on the screen changed: its pulses may need the common phase
    change.updated.forEach(function (u) {
      var kind = happened(u.before, u.after);
      if (kind) {
        seenHere.set(u.tr.id.slice(2), { kind: kind, until: now + MARK_S });
        sound = sound === "breach" ? sound : kind;
      }
      mark(u.tr, now);
      onScreen = onScreen || !u.tr.hidden;
    });
    change.created.forEach(function (tr) {
      if (mark(tr, now)) sound = sound === "breach" ? sound : tr.getAttribute("data-attn");
    }); // wall-pages.js decides whether they are on the screen, and asks for the phase then
    if (sound && W.sound) W.sound.play(sound);
    if (onScreen) syncSoon();
  });

  setInterval(markAll, RECHECK_MS); // marks end by themselves
  W.attention = { sync: sync, syncSoon: syncSoon };
})();
