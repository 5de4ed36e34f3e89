// The live board: one EventSource to /events (docs/stream.md), rows patched in place by ticket id.
// Every piece of ticket text goes in with textContent; nothing here is parsed as HTML.
//
// The wall's modules (wall-*.js) build on it through window.TicketDashBoard: they read the rows
// and their data, and `onChange(fn)` calls fn({kind, created, updated, removed}) right after the
// first paint ("init"), each snapshot and each patch, in the same task, before the next paint.
(function () {
  "use strict";

  var F = window.TicketDashFormat;
  var R = window.TicketDashRow;
  var body = document.body;
  var SECTIONS = ["open", "waiting", "other"];
  var HIGHLIGHT_MS = 3000;
  var BACKOFF_FIRST_MS = 1000;
  var BACKOFF_CAP_MS = 30000;
  var OFFLINE_AFTER_MS = 60000; // "reconnecting" turns into "offline" after this long down

  var heartbeatMs, streamQuietMs, watchdogMs;
  function setHeartbeat(seconds) {
    heartbeatMs = (Number(seconds) || 15) * 1000;
    streamQuietMs = 2 * heartbeatMs; // no event for this long: the stream counts as down
    watchdogMs = 3 * heartbeatMs; // no event for this long: reconnect
  }
  setHeartbeat(body.dataset.heartbeatSeconds);
  var eventsUrl = body.dataset.eventsUrl || "/events";

  var staleAfter = Number(body.dataset.staleAfter) || 300;
  var watcher = parseJson(body.dataset.watcher);
  var malformed = parseJson(body.dataset.malformed);
  var problem = body.dataset.problem || null; // the board's own trouble seeing tickets/
  var pageStart = Date.now();
  var offsetMs = Number(body.dataset.serverNow) * 1000 - pageStart || 0;

  // Sections this view draws (a section filtered away in the URL has no tbody).
  var tbodies = {};
  var counts = {};
  var heads = {};
  var shown = SECTIONS.filter(function (s) {
    tbodies[s] = document.getElementById("rows-" + s);
    counts[s] = document.getElementById("count-" + s);
    heads[s] = document.getElementById("section-" + s);
    return !!tbodies[s];
  });

  var known = new Map(); // ticket id -> the row's JSON as last applied (server-rendered: unknown)
  var data = new Map(); // ticket id -> the row as last applied
  var keys = new WeakMap(); // <tr> -> its parsed sort key
  var highlightTimers = new Map(); // <tr> -> timer
  var listeners = [];
  var summaryListeners = [];

  var source = null;
  var everOpen = false;
  var lastEventAt = pageStart;
  var attempt = 0;
  var reconnectTimer = null;
  var downSince = null;

  function parseJson(text) {
    if (!text) return null;
    try {
      return JSON.parse(text);
    } catch (e) {
      return null;
    }
  }

  function serverNow() {
    return (Date.now() + offsetMs) / 1000;
  }

  function setText(el, text) {
    if (el.textContent !== text) el.textContent = text;
  }

  function keyOf(tr) {
    var key = keys.get(tr);
    if (!key) {
      key = parseJson(tr.dataset.key) || [];
      keys.set(tr, key);
    }
    return key;
  }

  function idOf(tr) {
    return tr.id.slice(2);
  }

  function highlight(tr) {
    clearTimeout(highlightTimers.get(tr));
    tr.classList.add("changed");
    highlightTimers.set(
      tr,
      setTimeout(function () {
        tr.classList.remove("changed");
        highlightTimers.delete(tr);
      }, HIGHLIGHT_MS)
    );
  }

  // Creates or updates the row's <tr> when its JSON differs from what the page has; returns it
  // and notes what happened in `change` (created rows; updated rows with the data before).
  function applyRow(row, now, change) {
    var id = String(row.id);
    var json = JSON.stringify(row);
    var tr = document.getElementById("t-" + id);
    var before = known.get(id);
    if (tr && before === json) return tr;
    var created = !tr;
    if (created) tr = document.createElement("tr");
    var old = data.get(id) || null;
    R.fill(tr, row, now);
    keys.set(tr, row.key);
    known.set(id, json);
    data.set(id, row);
    if (created) change.created.push(tr);
    else change.updated.push({ tr: tr, before: old, after: row });
    // Server-rendered rows are rewritten on the first snapshot without a flash.
    if (created || before !== undefined) highlight(tr);
    return tr;
  }

  function removeRow(tr, change) {
    var id = idOf(tr);
    known.delete(id);
    data.delete(id);
    clearTimeout(highlightTimers.get(tr));
    highlightTimers.delete(tr);
    tr.remove();
    change.removed.push(id);
  }

  // Puts `tr` where its key belongs in the section (binary search); leaves it if already in order.
  // Returns false when this view does not draw that section (the server never sends such a row).
  function placeRow(tr, section) {
    var tbody = tbodies[section];
    if (!tbody) return false;
    var key = keyOf(tr);
    if (tr.parentNode === tbody) {
      var prev = tr.previousElementSibling;
      var next = tr.nextElementSibling;
      if ((!prev || F.compareKeys(keyOf(prev), key) <= 0) && (!next || F.compareKeys(key, keyOf(next)) <= 0)) {
        return true;
      }
    }
    if (tr.parentNode) tr.remove();
    var rows = tbody.rows;
    var lo = 0;
    var hi = rows.length;
    while (lo < hi) {
      var mid = (lo + hi) >> 1;
      if (F.compareKeys(keyOf(rows[mid]), key) <= 0) lo = mid + 1;
      else hi = mid;
    }
    tbody.insertBefore(tr, rows[lo] || null);
    return true;
  }

  // Every row in display order (the sections in order, each in its sort order).
  function allRows() {
    var out = [];
    shown.forEach(function (s) {
      out.push.apply(out, tbodies[s].rows);
    });
    return out;
  }

  function updateCounts() {
    shown.forEach(function (s) {
      var n = tbodies[s].rows.length;
      if (counts[s]) setText(counts[s], String(n));
      if (heads[s]) heads[s].classList.toggle("is-empty", n === 0);
    });
  }

  function newChange(kind) {
    return { kind: kind, created: [], updated: [], removed: [] };
  }

  function notifySummary(summary) {
    summaryListeners.forEach(function (fn) {
      fn(summary);
    });
  }

  function notify(change) {
    listeners.forEach(function (fn) {
      fn(change);
    });
  }

  function applySnapshot(snap) {
    var now = serverNow();
    var seen = new Set();
    var change = newChange("snapshot");
    shown.forEach(function (s) {
      var tbody = tbodies[s];
      var list = (snap.sections && snap.sections[s]) || [];
      var i = 0;
      list.forEach(function (row) {
        var id = String(row.id);
        if (seen.has(id)) return;
        seen.add(id);
        var tr = applyRow(row, now, change);
        var at = tbody.rows[i];
        if (at !== tr) tbody.insertBefore(tr, at || null);
        i++;
      });
    });
    allRows().forEach(function (tr) {
      if (!seen.has(idOf(tr))) removeRow(tr, change);
    });
    if (snap.watcher !== undefined) watcher = snap.watcher;
    if (snap.malformed !== undefined) malformed = snap.malformed;
    if (snap.problem !== undefined) problem = snap.problem;
    takeTimings(snap);
    updateCounts();
    notify(change);
  }

  function applyPatch(patch) {
    var now = serverNow();
    var change = newChange("patch");
    (patch.remove || []).forEach(function (id) {
      var tr = document.getElementById("t-" + id);
      if (tr) removeRow(tr, change);
      known.delete(String(id));
      data.delete(String(id));
    });
    (patch.upsert || []).forEach(function (row) {
      var tr = applyRow(row, now, change);
      if (!placeRow(tr, row.section)) removeRow(tr, change);
    });
    updateCounts();
    notify(change);
  }

  function applyStatus(data) {
    if (data.watcher !== undefined) watcher = data.watcher;
    if (data.malformed !== undefined) malformed = data.malformed;
    if (data.problem !== undefined) problem = data.problem;
    takeTimings(data);
  }

  // A reload of the board's settings may change these; they come with every snapshot and status.
  function takeTimings(data) {
    if (typeof data.stale_after_seconds === "number") staleAfter = data.stale_after_seconds;
    if (typeof data.heartbeat_seconds === "number") {
      setHeartbeat(data.heartbeat_seconds);
      body.dataset.heartbeatTaken = String(data.heartbeat_seconds); // for tests, as connects
    }
  }

  // ---- the clock: every second, from the server's time ------------------------------------

  // Rows the wall has paged away are not drawn: they are brought up to date when shown (tickRow).
  function tickRows(now) {
    allRows().forEach(function (tr) {
      if (!tr.hidden) R.tick(tr, now);
    });
  }

  // ---- connection, watcher line, STALE banner ---------------------------------------------

  var connEl = document.getElementById("conn");
  var syncedEl = document.getElementById("synced");
  var errorEl = document.getElementById("watch-error");
  var malformedEl = document.getElementById("malformed");
  var bannerEl = document.getElementById("stale-banner");
  var reasonEl = document.getElementById("stale-reason");

  function streamUp() {
    if (!source || source.readyState === EventSource.CLOSED) return false;
    var quiet = Date.now() - lastEventAt > streamQuietMs;
    if (source.readyState === EventSource.OPEN) return !quiet;
    return !everOpen && !quiet; // the very first connect gets the same grace as a heartbeat gap
  }

  function refreshStatus() {
    var now = serverNow();
    var up = streamUp();
    if (up) downSince = null;
    else if (downSince === null) downSince = Date.now();

    var state = "live";
    if (!up) {
      var offline = navigator.onLine === false || Date.now() - downSince > OFFLINE_AFTER_MS;
      state = offline ? "offline" : "reconnecting";
    } else if (!everOpen) {
      state = "connecting";
    }
    if (connEl) {
      setText(connEl, state);
      connEl.className = "conn conn-" + state;
    }
    if (syncedEl) setText(syncedEl, F.syncedText(watcher, now));
    if (errorEl) {
      var error = watcher && watcher.last_error ? String(watcher.last_error) : "";
      setText(errorEl, error);
      errorEl.hidden = !error;
    }
    if (malformedEl) {
      var label = F.malformedText(malformed);
      setText(malformedEl, label);
      malformedEl.title = malformed && malformed.files ? [].concat(malformed.files).join(", ") : "";
      malformedEl.hidden = !label;
    }

    var reasons = [];
    if (!up && everOpen) reasons.push("no live connection to the server");
    if (!up && !everOpen && Date.now() - pageStart > streamQuietMs) {
      reasons.push("cannot reach the server");
    }
    if (problem) reasons.push("the board cannot see changes: " + String(problem));
    if (F.isStale(watcher, now, staleAfter)) {
      var t = F.parseIso(watcher && watcher.last_success);
      reasons.push(t === null ? "no successful sync" : "last successful sync " + F.ago(t, now));
    }
    if (bannerEl) {
      bannerEl.hidden = reasons.length === 0;
      body.classList.toggle("is-stale", reasons.length > 0);
      if (reasonEl) setText(reasonEl, reasons.join(" · "));
    }
  }

  // ---- the stream ---------------------------------------------------------------------------

  function onEvent(handler) {
    return function (ev) {
      if (ev.target !== source) return;
      var data = parseJson(ev.data);
      lastEventAt = Date.now();
      if (!data) return;
      if (typeof data.server_time === "number") offsetMs = data.server_time * 1000 - Date.now();
      handler(data);
      refreshStatus();
    };
  }

  function connect() {
    clearTimeout(reconnectTimer);
    reconnectTimer = null;
    if (source) source.close();
    lastEventAt = Date.now();
    var es = new EventSource(eventsUrl);
    source = es;
    es.addEventListener("open", function () {
      if (es !== source) return;
      everOpen = true;
      lastEventAt = Date.now();
      refreshStatus();
    });
    es.addEventListener("error", function () {
      if (es !== source) return;
      // CLOSED: the browser gave up for good (a non-200 answer, e.g. a proxy's 502). Otherwise it
      // is retrying by itself (`retry:`), and the watchdog covers a retry that never succeeds.
      if (es.readyState === EventSource.CLOSED) scheduleReconnect();
      refreshStatus();
    });
    es.addEventListener(
      "snapshot",
      onEvent(function (data) {
        attempt = 0;
        // A new release is running: load its page and scripts (once; the server says which).
        if (data.version && body.dataset.version && data.version !== body.dataset.version) {
          var reloadedFor = null;
          try {
            reloadedFor = window.sessionStorage.getItem("ticket-dash-reloaded-for");
            window.sessionStorage.setItem("ticket-dash-reloaded-for", data.version);
          } catch (e) {
            /* storage off: reload anyway */
          }
          if (reloadedFor !== data.version) {
            window.location.reload();
            return;
          }
        }
        applySnapshot(data);
        if (data.summary) notifySummary(data.summary);
      })
    );
    es.addEventListener("summary", onEvent(notifySummary));
    es.addEventListener("patch", onEvent(applyPatch));
    es.addEventListener("status", onEvent(applyStatus));
    es.addEventListener("heartbeat", onEvent(function () {}));
    body.dataset.connects = String((Number(body.dataset.connects) || 0) + 1);
  }

  function scheduleReconnect() {
    if (source) source.close();
    if (reconnectTimer !== null) return;
    var base = Math.min(BACKOFF_CAP_MS, BACKOFF_FIRST_MS * Math.pow(2, attempt));
    attempt++;
    var delay = base / 2 + (Math.random() * base) / 2; // "equal jitter": between base/2 and base
    reconnectTimer = setTimeout(connect, delay);
  }

  function watchdog() {
    if (reconnectTimer === null && Date.now() - lastEventAt > watchdogMs) scheduleReconnect();
  }

  // ---- start ------------------------------------------------------------------------------

  function tick() {
    tickRows(serverNow());
    watchdog();
    refreshStatus();
  }

  window.addEventListener("online", function () {
    if (!streamUp()) {
      attempt = 0;
      clearTimeout(reconnectTimer);
      reconnectTimer = null;
      connect();
    }
  });

  window.TicketDashBoard = {
    sections: shown,
    rows: allRows,
    sectionRows: function (s) {
      return tbodies[s] ? tbodies[s].rows : [];
    },
    sectionHead: function (s) {
      return heads[s] || null;
    },
    data: function (tr) {
      return data.get(idOf(tr)) || null;
    },
    tickRow: function (tr) {
      R.tick(tr, serverNow());
    },
    serverNow: serverNow,
    onChange: function (fn) {
      listeners.push(fn);
    },
    // fn(summary): today's numbers, the board now and the trend (docs/stream.md), from each
    // snapshot and each `summary` event.
    onSummary: function (fn) {
      summaryListeners.push(fn);
    },
  };

  // After every deferred script (the wall's modules subscribe first), before any event is applied.
  function start() {
    updateCounts();
    var change = newChange("init");
    change.created = allRows();
    notify(change);
    connect();
    tick();
    setInterval(tick, 1000);
  }

  // Deferred scripts run while readyState is "interactive"; DOMContentLoaded follows the last one.
  if (document.readyState === "complete") start();
  else document.addEventListener("DOMContentLoaded", start);
})();
