// The gate pass page's Print button: the browser's print dialog, where the guard
// chooses the label printer. The page's stylesheet sizes the sheet to 4 x 6 in.
(function () {
  "use strict";

  var button = document.getElementById("print-pass");
  if (button) {
    button.addEventListener("click", function () { window.print(); });
  }
}());
