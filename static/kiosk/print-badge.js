// Print the badge once, as soon as the page, its QR code and the face photo are
// ready, then go back to the "checked in" screen, which has the kiosk's idle timer:
// this page must not stay on a shared screen. The kiosk's Chromium runs with
// --kiosk-printing, so the print goes to the label printer without a dialog.
//
// The server never sends a face photo back to the kiosk: the check-in's camera
// step kept a copy in this tab's session storage, and it goes into the badge's
// photo slot here. Without one the badge prints with the slot hidden.
(function () {
  "use strict";

  // A short pause after printing lets the print job finish before the page is
  // left; the longer one returns even if the browser never reports the print.
  var AFTER_PRINT_MS = 2000;
  var AT_MOST_MS = 30000;
  var FACE_KEY = "gatekeeper.face";
  var back = document.body.dataset.backUrl;

  function goBack() {
    if (back) {
      window.location.replace(back);
    }
  }

  function storedFace() {
    try {
      return window.sessionStorage.getItem(FACE_KEY);
    } catch (error) {
      return null;
    }
  }

  // Resolves once the photo is in its slot, or at once when there is none.
  function placeFace() {
    var slot = document.querySelector(".badge-photo");
    var image = slot && slot.querySelector("img");
    var face = storedFace();
    if (!image || !face || face.indexOf("data:image/jpeg;base64,") !== 0) {
      return Promise.resolve();
    }

    image.src = face;
    slot.hidden = false;
    return image.decode().catch(function () { slot.hidden = true; });
  }

  window.addEventListener("afterprint", function () {
    window.setTimeout(goBack, AFTER_PRINT_MS);
  }, { once: true });

  window.addEventListener("load", function () {
    window.setTimeout(goBack, AT_MOST_MS);
    placeFace().then(function () { window.print(); });
  }, { once: true });
}());
