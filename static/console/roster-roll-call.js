// The roll call on a guard's phone: "Found" and "Undo" post without leaving the
// page, and every few seconds the page reads the marks again, so each guard sees
// the others' marks. The server decides every mark (the first guard's stands);
// this script only redraws what it answers. Text is set as text, never as markup.
(function () {
  "use strict";

  var REFRESH_MS = 3000;

  var box = document.getElementById("roll-call");
  var token = document.querySelector('meta[name="csrf-token"]');
  if (!box || box.dataset.open !== "true" || !window.fetch || !token) {
    return;
  }

  var message = document.getElementById("rc-message");
  var filter = box.querySelector(".roll-call-filter");
  var hideMarked = document.getElementById("rc-hide-marked");
  var busy = false;

  function setText(id, value) {
    var node = document.getElementById(id);
    if (node) {
      node.textContent = String(value);
    }
  }

  function drawState(card, mark) {
    var state = card.querySelector(".roll-card-state");
    if (mark.marked_at) {
      var by = document.createElement("span");
      by.className = "marked-by";
      by.textContent = mark.marked_by;
      var at = document.createElement("span");
      at.className = "marked-at";
      at.textContent = mark.marked_at;
      state.replaceChildren("Found by ", by, " at ", at);
    } else {
      state.replaceChildren("Not yet found");
    }
  }

  function drawMark(mark) {
    var card = document.getElementById("m" + mark.id);
    if (!card) {
      return;
    }

    var marked = Boolean(mark.marked_at);
    card.classList.toggle("is-marked", marked);
    card.classList.toggle("is-missing", !marked);
    card.querySelector(".mark-form").hidden = marked;
    card.querySelector(".unmark-form").hidden = !marked;
    drawState(card, mark);
  }

  function draw(data) {
    if (data.closed) {
      // The closed page has no buttons; the server draws it.
      window.location.reload();
      return;
    }

    data.marks.forEach(drawMark);
    setText("rc-marked", data.marked);
    setText("rc-total", data.total);
    setText("rc-missing", data.total - data.marked);
  }

  function refresh() {
    if (busy) {
      return;
    }

    fetch(box.dataset.source, { credentials: "same-origin", cache: "no-store" })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("marks " + response.status);
        }
        return response.json();
      })
      .then(draw)
      .catch(function () { /* the next refresh tries again */ });
  }

  function send(form) {
    var button = form.querySelector("button");
    var card = form.closest(".roll-card");
    button.disabled = true;
    busy = true;
    fetch(form.action, {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRFToken": token.content, "Accept": "application/json" },
      body: new FormData(form)
    })
      .then(function (response) {
        return response.json();
      })
      .then(function (data) {
        message.textContent = data.message || "";
        draw(data);
        var next = card.querySelector("form:not([hidden]) button");
        if (next) {
          next.focus();
        }
      })
      .catch(function () {
        message.textContent = "That did not reach the server. Check the connection and tap again.";
      })
      .finally(function () {
        button.disabled = false;
        busy = false;
      });
  }

  box.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.classList.contains("mark-form") && !form.classList.contains("unmark-form")) {
      return;
    }

    event.preventDefault();
    send(form);
  });

  if (filter && hideMarked) {
    filter.hidden = false;
    hideMarked.addEventListener("change", function () {
      box.classList.toggle("hide-marked", hideMarked.checked);
    });
  }

  setInterval(refresh, REFRESH_MS);
}());
