// Return the kiosk to its first screen after the site's idle time, so the next
// person finds nothing of the last one's input. The fields are emptied first, and
// the face photo the check-in kept in session storage, then a POST clears the
// server session; pages are sent with no-store and inputs with autocomplete off,
// so Back reopens only empty forms. The start screen (data-forget) empties the
// storage too, whichever way the kiosk got there.
(function () {
  "use strict";

  function forget() {
    try {
      window.sessionStorage.clear();
    } catch (error) {
      // No storage, nothing kept.
    }
  }

  if (document.body.dataset.forget === "true") {
    forget();
  }

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
      forget();
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
