// The guard's camera scanner on the badge check page (CTPAT 10.2), with the
// console's frame scanner: the first QR code the server reads is put in the check's
// field and submitted, exactly as a USB scanner would.
(function () {
  "use strict";

  var box = document.getElementById("badge-scan");
  var form = box && document.getElementById(box.dataset.form);
  var field = box && document.getElementById(box.dataset.field);
  keepVerdictInView(field);
  if (!form || !field || !window.GKFrameScanner) {
    return;
  }

  window.GKFrameScanner.attach({
    prefix: "badge-scan",
    quality: 0.85,
    focus: field,
    messages: {
      hold: "Hold the code on the badge in the frame.",
      unavailable: "The camera is not available. Use the USB scanner or type the code.",
      notSent: "The code could not be sent. Check the connection, or use the scanner."
    },
    onCode: function (code, say) {
      field.value = code;
      say("Code read. Checking the badge…");
      form.submit();
    }
  });

  // The field keeps the focus, for the next scan from a USB scanner, but on a phone
  // the browser's autofocus would scroll the verdict above it out of sight.
  function keepVerdictInView(input) {
    if (!input || !document.querySelector(".verdict")) {
      return;
    }
    input.removeAttribute("autofocus");
    input.focus({ preventScroll: true });
    window.scrollTo(0, 0);
  }
}());
