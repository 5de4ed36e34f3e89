// The board's texts, the same as app/web/render.py produces for the first paint.
// tests/test_page_render.py runs both sides over one table of cases.
(function (root) {
  "use strict";
  var MINUTE = 60;
  var HOUR = 60 * MINUTE;
  var DAY = 24 * HOUR;

  function duration(seconds) {
    var s = Math.max(0, seconds);
    if (s < MINUTE) return "< 1 m";
    if (s < HOUR) return Math.floor(s / MINUTE) + " m";
    if (s < DAY) {
      var totalMinutes = Math.floor(s / MINUTE);
      var h = Math.floor(totalMinutes / 60);
      var m = totalMinutes % 60;
      return m ? h + " h " + m + " m" : h + " h";
    }
    var totalHours = Math.floor(s / HOUR);
    var d = Math.floor(totalHours / 24);
    var hh = totalHours % 24;
    return hh ? d + " d " + hh + " h" : d + " d";
  }

  function isNum(v) {
    return typeof v === "number" && isFinite(v);
  }

  // The SLA cell: the next unmet deadline, else update overdue, else No SLA (as render.py).
  function countdown(row, now) {
    if (isNum(row.sla_due)) {
      var fr = row.sla_kind === "fr";
      var left = row.sla_due - now;
      if (left < 0) return (fr ? "FR overdue" : "Overdue") + " by " + duration(-left); // says more than "update overdue" would
      var text = (fr ? "FR due" : "Due") + " in " + duration(left);
      return row.update_overdue ? text + " · update overdue" : text;
    }
    if (row.update_overdue) {
      return isNum(row.update_due)
        ? "Update overdue by " + duration(now - row.update_due)
        : "Update overdue";
    }
    return "No SLA";
  }

  function ago(t, now) {
    if (!isNum(t)) return "";
    var d = now - t;
    if (d < MINUTE) return "just now";
    if (d < HOUR) return Math.floor(d / MINUTE) + " m ago";
    if (d < DAY) return Math.floor(d / HOUR) + " h ago";
    return Math.floor(d / DAY) + " d ago";
  }

  var FUTURE_SKEW = 60; // seconds a sync time may be ahead of the server's clock (as render.py)

  function parseIso(text) {
    if (typeof text !== "string" || !text) return null;
    var s = text.trim();
    // A time without a zone is UTC (the watcher writes UTC), as in app/web/render.py.
    if (!/(Z|[+-]\d\d:?\d\d)$/i.test(s)) s += "Z";
    var ms = Date.parse(s);
    return isNaN(ms) ? null : ms / 1000;
  }

  function lastSuccess(watcher) {
    return watcher ? parseIso(watcher.last_success) : null;
  }

  function syncedText(watcher, now) {
    if (!watcher) return "no watcher status";
    var t = lastSuccess(watcher);
    if (t === null) return "never synced";
    if (t - now > FUTURE_SKEW) return "last sync in the future (clock?)";
    var d = Math.max(0, now - t);
    return d < MINUTE ? "last synced " + Math.floor(d) + " s ago" : "last synced " + ago(t, now);
  }

  function malformedText(malformed) {
    var count = (malformed && Number(malformed.count)) || 0;
    if (count <= 0) return "";
    return count + " malformed file" + (count === 1 ? "" : "s");
  }

  function isStale(watcher, now, staleAfterSeconds) {
    var t = lastSuccess(watcher);
    // A sync in the future cannot be trusted (a skewed clock would hide a dead watcher).
    return t === null || now - t > staleAfterSeconds || t - now > FUTURE_SKEW;
  }

  // Sort keys are compared element by element, ascending; a shorter prefix sorts first.
  function compareKeys(a, b) {
    var n = Math.min(a.length, b.length);
    for (var i = 0; i < n; i++) {
      if (a[i] < b[i]) return -1;
      if (a[i] > b[i]) return 1;
    }
    return a.length - b.length;
  }

  root.TicketDashFormat = {
    duration: duration,
    countdown: countdown,
    ago: ago,
    parseIso: parseIso,
    syncedText: syncedText,
    malformedText: malformedText,
    isStale: isStale,
    compareKeys: compareKeys,
  };
})(typeof window !== "undefined" ? window : globalThis);
