// Return the kiosk to its first screen after the site's idle time, so the next
// person finds nothing of the last one's input. The fields are emptied first, then
// a POST clears the server session; pages are sent with no-store and inputs with
// autocomplete off, so Back reopens only empty forms.
(function () {
  "use strict";

  var seconds = Number(document.body.dataset.idleSeconds || 0);
  var form = document.getElementById("idle-reset");
  if (!form || !(seconds > 0)) {
    return;
  }

  var timer = null;
  function arm() {
    window.clearTimeout(timer);
    timer = window.setTimeout(function () {
      document.querySelectorAll("form").forEach(function (f) { f.reset(); });
      form.submit();
    }, seconds * 1000);
  }

  ["pointerdown", "keydown", "input", "touchstart"].forEach(function (name) {
    document.addEventListener(name, arm, { passive: true });
  });

  // A page restored from the back-forward cache must not show old input.
  window.addEventListener("pageshow", function (event) {
    if (event.persisted) {
      window.location.reload();
    }
  });

  arm();
}());
