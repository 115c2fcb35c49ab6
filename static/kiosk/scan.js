// Codes read with the kiosk's camera: a badge's QR code at sign-out, an
// invitation's at check-in, the barcode of a driver's bill of lading. While the
// camera is on, a frame goes to the server (the scanner's data-scan-url) every
// 400 ms; the server reads it and answers with the code's text, which fills the
// field and submits its form, just as a USB scanner typing the code and Enter would.
(function () {
  "use strict";

  var INTERVAL_MS = 400;
  // Frames are scaled down before sending: a QR code a visitor holds up reads well
  // at this size, and the uploads stay small.
  var FRAME_SIDE = 960;

  var camera = window.KioskCamera;
  var scanner = document.querySelector(".scanner");
  var field = scanner && document.getElementById(scanner.dataset.field);
  if (!scanner || !field) {
    return;
  }

  // A USB scanner types wherever the focus is. Until the visitor has chosen a field,
  // keystrokes go to this one, so a code scanned on arrival is not lost.
  document.addEventListener("keydown", function (event) {
    var idle = document.activeElement === document.body || !document.activeElement;
    if (idle && event.key.length === 1 && !event.ctrlKey && !event.metaKey) {
      field.focus();
    }
  });

  if (!camera || !window.fetch) {
    return;
  }

  var form = field.form;
  var view = scanner.querySelector(".scanner-view");
  var video = scanner.querySelector(".scanner-video");
  var startButton = scanner.querySelector(".scanner-start");
  var stopButton = scanner.querySelector(".scanner-stop");
  var message = scanner.querySelector(".scanner-message");
  var stream = null;
  var timer = null;

  function stop() {
    window.clearTimeout(timer);
    camera.stop(stream);
    stream = null;
    view.hidden = true;
    startButton.hidden = false;
  }

  function found(text) {
    stop();
    field.value = text;
    if (form.requestSubmit) {
      form.requestSubmit();
    } else {
      form.submit();
    }
  }

  function look() {
    if (!stream) {
      return;
    }

    camera.jpeg(camera.canvasOf(video, FRAME_SIDE), 0.85)
      .then(function (blob) { return camera.send(scanner.dataset.scanUrl, "frame", blob); })
      .then(function (response) { return response.ok ? response.json() : {}; })
      .then(function (answer) {
        if (answer.text) {
          found(answer.text);
        } else if (stream) {
          timer = window.setTimeout(look, INTERVAL_MS);
        }
      })
      .catch(function () {
        if (stream) {
          timer = window.setTimeout(look, INTERVAL_MS * 2);
        }
      });
  }

  startButton.addEventListener("click", function () {
    message.textContent = "";
    startButton.hidden = true;
    view.hidden = false;
    camera.start(video, "environment")
      .then(function (started) {
        stream = started;
        look();
      })
      .catch(function () {
        stop();
        message.textContent = scanner.dataset.noCamera;
      });
  });
  stopButton.addEventListener("click", stop);
  window.addEventListener("pagehide", stop);
  scanner.hidden = false;
}());
