// Print the badge once, as soon as the page and its QR code have loaded, then go
// back to the "checked in" screen, which has the kiosk's idle timer: this page must
// not stay on a shared screen. The kiosk's Chromium runs with --kiosk-printing, so
// the print goes to the label printer without a dialog.
(function () {
  "use strict";

  // A short pause after printing lets the print job finish before the page is
  // left; the longer one returns even if the browser never reports the print.
  var AFTER_PRINT_MS = 2000;
  var AT_MOST_MS = 30000;
  var back = document.body.dataset.backUrl;

  function goBack() {
    if (back) {
      window.location.replace(back);
    }
  }

  window.addEventListener("afterprint", function () {
    window.setTimeout(goBack, AFTER_PRINT_MS);
  }, { once: true });

  window.addEventListener("load", function () {
    window.setTimeout(goBack, AT_MOST_MS);
    window.print();
  }, { once: true });
}());
