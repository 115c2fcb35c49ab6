// The roster's "Print muster list" button. It is hidden until this script runs,
// since without a script the browser's own Print does the same.
(function () {
  "use strict";

  var button = document.getElementById("print-muster");
  if (!button || !window.print) {
    return;
  }

  button.hidden = false;
  button.addEventListener("click", function () {
    window.print();
  });
}());
