// The front desk's queue redraws itself every few seconds from the JSON the
// server gives, so a check-in held or waiting at the kiosk shows up without a
// reload. Every value is written as text, never as markup.
(function () {
  "use strict";

  var REFRESH_MS = 5000;

  var box = document.getElementById("desk-queue");
  if (!box || !window.fetch) {
    return;
  }

  var table = box.querySelector(".queue-table");
  var body = table.querySelector("tbody");
  var empty = box.querySelector(".queue-empty");

  function cell(row, content) {
    var td = document.createElement("td");
    if (typeof content === "string") {
      td.textContent = content;
    } else {
      td.append.apply(td, content);
    }
    row.appendChild(td);
  }

  function tag(held) {
    var span = document.createElement("span");
    span.className = held ? "tag tag-alert" : "tag tag-warn";
    span.textContent = held ? "hold decision" : "ID check";
    return span;
  }

  function visitor(visit) {
    var link = document.createElement("a");
    link.href = visit.url;
    link.textContent = visit.visitor_name;
    var company = document.createElement("span");
    company.className = "subtle";
    company.textContent = visit.company;
    return [link, document.createElement("br"), company];
  }

  function draw(visits) {
    var rows = visits.map(function (visit) {
      var held = visit.admission === "held";
      var row = document.createElement("tr");
      row.className = held ? "queue-held" : "queue-awaiting";
      cell(row, visit.arrived);
      cell(row, visitor(visit));
      cell(row, [tag(held)]);
      cell(row, visit.host_name);
      cell(row, visit.site);
      return row;
    });
    body.replaceChildren.apply(body, rows);
    table.hidden = rows.length === 0;
    empty.hidden = rows.length !== 0;
  }

  function refresh() {
    fetch(box.dataset.source, { credentials: "same-origin", cache: "no-store" })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("queue " + response.status);
        }
        return response.json();
      })
      .then(function (data) { draw(data.visits); })
      .catch(function () { /* the next refresh tries again */ });
  }

  setInterval(refresh, REFRESH_MS);
}());
