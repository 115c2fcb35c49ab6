// The guard's camera scanner on the badge check page (CTPAT 10.2). The phone only
// captures: a frame every 400 ms is posted to the server, which reads the QR code,
// and the first code read is put in the check's field and submitted, exactly as a
// USB scanner would. Without a camera (or without permission) the page is the same
// form as before, for the scanner or typing.
(function () {
  "use strict";

  var INTERVAL_MS = 400;
  // The first frames after a camera starts can be black; these are skipped.
  var SETTLE_FRAMES = 3;
  var JPEG_QUALITY = 0.85;

  var box = document.getElementById("badge-scan");
  keepVerdictInView(box && document.getElementById(box.dataset.field));

  var media = navigator.mediaDevices;
  if (!box || !media || !media.getUserMedia || !window.fetch) {
    return;
  }

  var form = document.getElementById(box.dataset.form);
  var field = document.getElementById(box.dataset.field);
  var start = document.getElementById("badge-scan-start");
  var stop = document.getElementById("badge-scan-stop");
  var video = document.getElementById("badge-scan-video");
  var status = document.getElementById("badge-scan-status");
  var token = document.querySelector('meta[name="csrf-token"]');
  if (!form || !field || !token) {
    return;
  }

  var canvas = document.createElement("canvas");
  var stream = null;
  var timer = null;
  var busy = false;
  var done = false;

  box.hidden = false;

  function say(text) {
    status.textContent = text;
  }

  function stopCamera() {
    if (timer !== null) {
      clearInterval(timer);
      timer = null;
    }
    if (stream) {
      stream.getTracks().forEach(function (track) { track.stop(); });
      stream = null;
    }
    video.srcObject = null;
    video.hidden = true;
    stop.hidden = true;
    start.hidden = false;
  }

  function submit(code) {
    done = true;
    stopCamera();
    field.value = code;
    say("Code read. Checking the badge…");
    form.submit();
  }

  function post(blob) {
    return fetch(box.dataset.scanUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "image/jpeg", "X-CSRFToken": token.content },
      body: blob
    }).then(function (response) {
      return response.ok ? response.json() : { code: null };
    }).then(function (answer) {
      if (answer.code && !done) {
        submit(answer.code);
      }
    });
  }

  function capture() {
    if (busy || done || !video.videoWidth) {
      return;
    }
    busy = true;
    canvas.width = video.videoWidth;
    canvas.height = video.videoHeight;
    canvas.getContext("2d").drawImage(video, 0, 0);
    canvas.toBlob(function (blob) {
      var sent = blob ? post(blob) : Promise.resolve();
      sent.catch(function () {
        say("The code could not be sent. Check the connection, or use the scanner.");
      }).finally(function () { busy = false; });
    }, "image/jpeg", JPEG_QUALITY);
  }

  function afterFrames(count, then) {
    if (count <= 0 || !video.requestVideoFrameCallback) {
      setTimeout(then, count > 0 ? 200 : 0);
      return;
    }
    video.requestVideoFrameCallback(function () { afterFrames(count - 1, then); });
  }

  start.addEventListener("click", function () {
    say("Starting the camera…");
    media.getUserMedia({ video: { facingMode: { ideal: "environment" } }, audio: false })
      .then(function (camera) {
        stream = camera;
        video.srcObject = camera;
        video.hidden = false;
        start.hidden = true;
        stop.hidden = false;
        return video.play();
      })
      .then(function () {
        say("Hold the code on the badge in the frame.");
        afterFrames(SETTLE_FRAMES, function () {
          if (stream) {
            timer = setInterval(capture, INTERVAL_MS);
          }
        });
      })
      .catch(function () {
        stopCamera();
        say("The camera is not available. Use the USB scanner or type the code.");
        field.focus();
      });
  });

  stop.addEventListener("click", function () {
    stopCamera();
    say("");
    field.focus();
  });

  window.addEventListener("pagehide", stopCamera);

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
