// The waiting screens: ask every few seconds how this screen's visit stands. Once
// the front desk admits it, the badge prints; if the desk turns it away, the
// visitor is asked to see the desk; if it moves from held to awaiting the ID
// check, the page is drawn again with the right words.
(function () {
  "use strict";

  var INTERVAL_MS = 3000;
  var box = document.getElementById("wait");
  if (!box || !window.fetch) {
    return;
  }

  function poll() {
    fetch(box.dataset.statusUrl, {
      headers: { Accept: "application/json" },
      credentials: "same-origin",
      cache: "no-store",
    })
      .then(function (response) { return response.json(); })
      .then(function (answer) {
        if (answer.admission === "admitted") {
          window.location.replace(box.dataset.admittedUrl);
        } else if (answer.admission === "denied") {
          window.location.replace(box.dataset.deniedUrl);
        } else if (!answer.admission) {
          window.location.replace(box.dataset.startUrl);
        } else if (answer.admission !== box.dataset.admission) {
          window.location.reload();
        } else {
          window.setTimeout(poll, INTERVAL_MS);
        }
      })
      .catch(function () { window.setTimeout(poll, INTERVAL_MS); });
  }

  window.setTimeout(poll, INTERVAL_MS);
}());
