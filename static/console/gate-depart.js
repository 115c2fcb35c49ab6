// Scanning a seal's barcode on the departure page (CTPAT 6.7, 7.30), with the
// console's frame scanner: the server reads Code 128, Code 39, ITF, QR or Data
// Matrix. The first number read fills both seal fields, for the guard to compare
// with the seal before logging the driver out; nothing is submitted by the script.
(function () {
  "use strict";

  var box = document.getElementById("seal-scan");
  var first = box && document.getElementById(box.dataset.first);
  var second = box && document.getElementById(box.dataset.second);
  if (!first || !second || !window.GKFrameScanner) {
    return;
  }

  window.GKFrameScanner.attach({
    prefix: "seal-scan",
    quality: 0.9,
    focus: first,
    messages: {
      hold: "Hold the seal's barcode in the frame.",
      unavailable: "The camera is not available. Type the seal number twice.",
      notSent: "The picture could not be sent. Check the connection, or type the number."
    },
    onCode: function (number, say) {
      first.value = number;
      second.value = number;
      say("Read " + number + ". Check it against the seal, then finish the inspection.");
      first.focus();
    }
  });
}());
