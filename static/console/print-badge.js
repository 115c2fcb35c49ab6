// Open the browser's print dialog for the reprinted badge once it has loaded; the
// desk chooses the label printer there. The page stays, with its Back link.
(function () {
  "use strict";

  window.addEventListener("load", function () {
    window.print();
  }, { once: true });
}());
