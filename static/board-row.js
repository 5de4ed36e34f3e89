// One ticket's row: the markup of docs/stream.md ("Row markup"), the same as templates/_row.html
// renders, filled with textContent only (ticket text is never parsed as HTML), and its two
// ticking texts (SLA countdown, "updated … ago") from board-format.js.
(function () {
  "use strict";

  var F = window.TicketDashFormat;
  var PRIORITY_CLASSES = { 1: "low", 2: "medium", 3: "high", 4: "urgent" };
  var SLA_STATES = ["overdue", "critical", "warning", "normal", "none"];
  var CELLS = ["id", "subject", "requester", "agent", "group", "priority", "status", "sla", "updated"];
  var NAME_CELLS = ["requester", "agent", "group"];

  function setText(el, text) {
    if (el.textContent !== text) el.textContent = text;
  }

  function rowClasses(row) {
    var sla = SLA_STATES.indexOf(row.sla) >= 0 ? row.sla : "none";
    var classes = ["row", "sla-" + sla, "prio-" + (PRIORITY_CLASSES[row.priority] || "low")];
    if (row.update_overdue) classes.push("update-overdue");
    if (!row.agent) classes.push("unassigned");
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
      if (NAME_CELLS.indexOf(name) >= 0) td.dir = "auto"; // a right-to-left name stays in its cell
      tr.appendChild(td);
    });
    var subjectCell = cell(tr, "subject");
    var subject = document.createElement("span");
    subject.className = "subject";
    subject.dir = "auto"; // a right-to-left subject stays within its own cell
    subject.tabIndex = 0;
    var desc = document.createElement("span");
    desc.className = "desc";
    desc.dir = "auto";
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
    sla.dataset.slaKind = row.sla_kind || "";
    sla.dataset.slaDue = numAttr(row.sla_due);
    sla.dataset.updateDue = numAttr(row.update_due);
    sla.dataset.updateOverdue = row.update_overdue ? "1" : "";
    setText(sla, F.countdown(row, now));
    var updated = cell(tr, "updated");
    updated.dataset.t = numAttr(row.updated_at);
    setText(updated, F.ago(row.updated_at, now));
  }

  function numData(value) {
    return value === undefined || value === "" ? null : Number(value);
  }

  // The texts that change with time, from the data attributes, on the server's clock `now`.
  function tickRow(tr, now) {
    var sla = cell(tr, "sla");
    if (sla) {
      setText(
        sla,
        F.countdown(
          {
            sla: sla.dataset.sla,
            sla_kind: sla.dataset.slaKind || null,
            sla_due: numData(sla.dataset.slaDue),
            update_due: numData(sla.dataset.updateDue),
            update_overdue: sla.dataset.updateOverdue === "1",
          },
          now
        )
      );
    }
    var updated = cell(tr, "updated");
    if (updated) setText(updated, F.ago(numData(updated.dataset.t), now));
  }


  window.TicketDashRow = { fill: fillRow, tick: tickRow, cell: cell };
})();
