// The live board: one EventSource to /events (docs/stream.md), rows patched in place by ticket id.
// Every piece of ticket text goes in with textContent; nothing here is parsed as HTML.
(function () {
  "use strict";

  var F = window.TicketDashFormat;
  var body = document.body;
  var SECTIONS = ["open", "waiting", "other"];
  var PRIORITY_CLASSES = { 1: "low", 2: "medium", 3: "high", 4: "urgent" };
  var SLA_STATES = ["overdue", "critical", "warning", "normal", "responded", "none"];
  var CELLS = ["id", "subject", "requester", "agent", "group", "priority", "status", "sla", "updated"];
  var HIGHLIGHT_MS = 3000;
  var BACKOFF_FIRST_MS = 1000;
  var BACKOFF_CAP_MS = 30000;
  var OFFLINE_AFTER_MS = 60000; // "reconnecting" turns into "offline" after this long down
  var THEME_KEY = "ticket-dash-theme";

  var heartbeatMs = (Number(body.dataset.heartbeatSeconds) || 15) * 1000;
  var streamQuietMs = 2 * heartbeatMs; // no event for this long: the stream counts as down
  var watchdogMs = 3 * heartbeatMs; // no event for this long: reconnect
  var eventsUrl = body.dataset.eventsUrl || "/events";

  var staleAfter = Number(body.dataset.staleAfter) || 300;
  var watcher = parseJson(body.dataset.watcher);
  var malformed = parseJson(body.dataset.malformed);
  var pageStart = Date.now();
  var offsetMs = Number(body.dataset.serverNow) * 1000 - pageStart || 0;

  var tbodies = {};
  var counts = {};
  SECTIONS.forEach(function (s) {
    tbodies[s] = document.getElementById("rows-" + s);
    counts[s] = document.getElementById("count-" + s);
  });

  var known = new Map(); // ticket id -> the row's JSON as last applied (server-rendered: unknown)
  var keys = new WeakMap(); // <tr> -> its parsed sort key
  var highlightTimers = new Map(); // <tr> -> timer

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

  // ---- rows ------------------------------------------------------------------------------

  function rowClasses(row) {
    var sla = SLA_STATES.indexOf(row.sla) >= 0 ? row.sla : "none";
    var classes = ["row", "sla-" + sla, "prio-" + (PRIORITY_CLASSES[row.priority] || "low")];
    if (row.update_overdue) classes.push("update-overdue");
    return classes.join(" ");
  }

  function safeUrl(url) {
    return typeof url === "string" && /^https?:\/\//i.test(url) ? url : "";
  }

  // Cells by position (cheap enough to run for every row every second), checked by class.
  function cell(tr, name) {
    var td = tr.cells[CELLS.indexOf(name)];
    return td && td.classList.contains("c-" + name) ? td : tr.querySelector("td.c-" + name);
  }

  function buildCells(tr) {
    tr.replaceChildren();
    CELLS.forEach(function (name) {
      var td = document.createElement("td");
      td.className = "c-" + name;
      tr.appendChild(td);
    });
    var subjectCell = cell(tr, "subject");
    var subject = document.createElement("span");
    subject.className = "subject";
    subject.tabIndex = 0;
    var desc = document.createElement("span");
    desc.className = "desc";
    desc.setAttribute("role", "tooltip");
    subjectCell.append(subject, desc);
    var badge = document.createElement("span");
    badge.className = "badge";
    cell(tr, "priority").appendChild(badge);
  }

  function numAttr(value) {
    return typeof value === "number" ? String(value) : "";
  }

  function fillIdCell(td, row) {
    var url = safeUrl(row.url);
    var link = td.querySelector("a");
    if (!url) {
      if (link || td.textContent !== String(row.id)) td.textContent = String(row.id);
      return;
    }
    if (!link) {
      td.replaceChildren();
      link = document.createElement("a");
      link.target = "_blank";
      link.rel = "noopener";
      td.appendChild(link);
    }
    if (link.getAttribute("href") !== url) link.setAttribute("href", url);
    setText(link, String(row.id));
  }

  // Writes `row` into `tr`, reusing its cells (keyboard focus on a subject survives an update).
  function fillRow(tr, row, now) {
    if (tr.cells.length !== CELLS.length || !tr.querySelector(".subject") || !tr.querySelector(".badge")) {
      buildCells(tr);
    }
    tr.id = "t-" + row.id;
    tr.className = rowClasses(row);
    tr.dataset.key = JSON.stringify(row.key);
    keys.set(tr, row.key);

    fillIdCell(cell(tr, "id"), row);
    var subject = tr.querySelector(".subject");
    var desc = tr.querySelector(".desc");
    desc.id = "d-" + row.id;
    subject.setAttribute("aria-describedby", desc.id);
    setText(subject, String(row.subject || ""));
    setText(desc, String(row.description || ""));
    setText(cell(tr, "requester"), String(row.requester || ""));
    setText(cell(tr, "agent"), String(row.agent || ""));
    setText(cell(tr, "group"), String(row.group || ""));
    var badge = tr.querySelector(".badge");
    badge.className = "badge prio-" + (PRIORITY_CLASSES[row.priority] || "low");
    setText(badge, String(row.priority_name || ""));
    setText(cell(tr, "status"), String(row.status_name || ""));

    var sla = cell(tr, "sla");
    sla.dataset.sla = row.sla || "none";
    sla.dataset.frDue = numAttr(row.fr_due);
    sla.dataset.updateDue = numAttr(row.update_due);
    sla.dataset.updateOverdue = row.update_overdue ? "1" : "";
    setText(sla, F.countdown(row, now));
    var updated = cell(tr, "updated");
    updated.dataset.t = numAttr(row.updated_at);
    setText(updated, F.ago(row.updated_at, now));
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

  // Creates or updates the row's <tr> when its JSON differs from what the page has; returns it.
  function applyRow(row, now) {
    var id = String(row.id);
    var json = JSON.stringify(row);
    var tr = document.getElementById("t-" + id);
    var before = known.get(id);
    if (tr && before === json) return tr;
    var created = !tr;
    if (created) tr = document.createElement("tr");
    fillRow(tr, row, now);
    known.set(id, json);
    // Server-rendered rows are rewritten on the first snapshot without a flash.
    if (created || before !== undefined) highlight(tr);
    return tr;
  }

  function removeRow(tr) {
    known.delete(idOf(tr));
    clearTimeout(highlightTimers.get(tr));
    highlightTimers.delete(tr);
    tr.remove();
  }

  // Puts `tr` where its key belongs in the section (binary search); leaves it if already in order.
  function placeRow(tr, section) {
    var tbody = tbodies[section] || tbodies.other;
    var key = keyOf(tr);
    if (tr.parentNode === tbody) {
      var prev = tr.previousElementSibling;
      var next = tr.nextElementSibling;
      if ((!prev || F.compareKeys(keyOf(prev), key) <= 0) && (!next || F.compareKeys(key, keyOf(next)) <= 0)) {
        return;
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
  }

  function allRows() {
    var out = [];
    SECTIONS.forEach(function (s) {
      if (tbodies[s]) out.push.apply(out, tbodies[s].rows);
    });
    return out;
  }

  function updateCounts() {
    SECTIONS.forEach(function (s) {
      if (!tbodies[s]) return;
      var n = tbodies[s].rows.length;
      setText(counts[s], String(n));
      tbodies[s].closest("section").classList.toggle("is-empty", n === 0);
    });
  }

  function applySnapshot(data) {
    var now = serverNow();
    var seen = new Set();
    SECTIONS.forEach(function (s) {
      var tbody = tbodies[s];
      var list = (data.sections && data.sections[s]) || [];
      var i = 0;
      list.forEach(function (row) {
        var id = String(row.id);
        if (seen.has(id)) return;
        seen.add(id);
        var tr = applyRow(row, now);
        var at = tbody.rows[i];
        if (at !== tr) tbody.insertBefore(tr, at || null);
        i++;
      });
    });
    allRows().forEach(function (tr) {
      if (!seen.has(idOf(tr))) removeRow(tr);
    });
    if (data.watcher !== undefined) watcher = data.watcher;
    if (data.malformed !== undefined) malformed = data.malformed;
    if (typeof data.stale_after_seconds === "number") staleAfter = data.stale_after_seconds;
    updateCounts();
  }

  function applyPatch(data) {
    var now = serverNow();
    (data.remove || []).forEach(function (id) {
      var tr = document.getElementById("t-" + id);
      if (tr) removeRow(tr);
      known.delete(String(id));
    });
    (data.upsert || []).forEach(function (row) {
      var tr = applyRow(row, now);
      placeRow(tr, row.section);
    });
    updateCounts();
  }

  function applyStatus(data) {
    if (data.watcher !== undefined) watcher = data.watcher;
    if (data.malformed !== undefined) malformed = data.malformed;
  }

  // ---- the clock: every second, from the server's time ------------------------------------

  function numData(value) {
    return value === undefined || value === "" ? null : Number(value);
  }

  function tickRows(now) {
    allRows().forEach(function (tr) {
      var sla = cell(tr, "sla");
      if (sla) {
        setText(
          sla,
          F.countdown(
            {
              sla: sla.dataset.sla,
              fr_due: numData(sla.dataset.frDue),
              update_due: numData(sla.dataset.updateDue),
              update_overdue: sla.dataset.updateOverdue === "1",
            },
            now
          )
        );
      }
      var updated = cell(tr, "updated");
      if (updated) setText(updated, F.ago(numData(updated.dataset.t), now));
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
      })
    );
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

  // ---- theme ------------------------------------------------------------------------------

  var themeButton = document.getElementById("theme-toggle");
  var darkQuery = window.matchMedia ? window.matchMedia("(prefers-color-scheme: dark)") : null;

  function currentTheme() {
    var chosen = document.documentElement.getAttribute("data-theme");
    if (chosen === "dark" || chosen === "light") return chosen;
    return darkQuery && !darkQuery.matches ? "light" : "dark";
  }

  function showTheme() {
    if (!themeButton) return;
    var theme = currentTheme();
    var other = theme === "dark" ? "light" : "dark";
    themeButton.textContent = theme === "dark" ? "☾ Dark" : "☀ Light";
    themeButton.setAttribute("aria-label", "Theme: " + theme + ". Switch to " + other + ".");
  }

  if (themeButton) {
    themeButton.addEventListener("click", function () {
      var next = currentTheme() === "dark" ? "light" : "dark";
      document.documentElement.setAttribute("data-theme", next);
      try {
        window.localStorage.setItem(THEME_KEY, next);
      } catch (e) {
        // Not remembered when storage is disabled; the toggle still works for this page.
      }
      showTheme();
    });
  }
  if (darkQuery && darkQuery.addEventListener) darkQuery.addEventListener("change", showTheme);
  showTheme();

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

  updateCounts();
  connect();
  tick();
  setInterval(tick, 1000);
})();
