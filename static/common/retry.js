// The page of a database outage tries again by itself after a few seconds, so a
// kiosk nobody touches, or a console left open, comes back when the database does.
// The server names where to go: the same page after a GET, the first page after a
// form, which is never sent twice.
(function () {
  "use strict";

  var seconds = Number(document.body.dataset.retrySeconds || 0);
  var target = document.body.dataset.retryUrl;
  if (!(seconds > 0) || !/^\/(?![\/\\])/.test(target || "")) {
    return;
  }

  window.setTimeout(function () {
    window.location.assign(target);
  }, seconds * 1000);
}());
