// Scanning a seal's barcode on the departure page (CTPAT 6.7, 7.30). The phone
// only captures: a frame every 400 ms is posted to the server, which reads Code 128,
// Code 39, ITF, QR or Data Matrix. The first number read fills both seal fields, for
// the guard to compare with the seal before logging the driver out; nothing is
// submitted by the script. Without a camera the page is the same typed form.
(function () {
  "use strict";

  var INTERVAL_MS = 400;
  // The first frames after a camera starts can be black; these are skipped.
  var SETTLE_FRAMES = 3;
  var JPEG_QUALITY = 0.9;

  var box = document.getElementById("seal-scan");
  var media = navigator.mediaDevices;
  if (!box || !media || !media.getUserMedia || !window.fetch) {
    return;
  }

  var first = document.getElementById(box.dataset.first);
  var second = document.getElementById(box.dataset.second);
  var start = document.getElementById("seal-scan-start");
  var stop = document.getElementById("seal-scan-stop");
  var video = document.getElementById("seal-scan-video");
  var status = document.getElementById("seal-scan-status");
  var token = document.querySelector('meta[name="csrf-token"]');
  if (!first || !second || !token) {
    return;
  }

  var canvas = document.createElement("canvas");
  var stream = null;
  var timer = null;
  var busy = false;

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

  function fill(number) {
    stopCamera();
    first.value = number;
    second.value = number;
    say("Read " + number + ". Check it against the seal, then finish the inspection.");
    first.focus();
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
      if (answer.code && stream) {
        fill(answer.code);
      }
    });
  }

  function capture() {
    if (busy || !stream || !video.videoWidth) {
      return;
    }
    busy = true;
    canvas.width = video.videoWidth;
    canvas.height = video.videoHeight;
    canvas.getContext("2d").drawImage(video, 0, 0);
    canvas.toBlob(function (blob) {
      var sent = blob ? post(blob) : Promise.resolve();
      sent.catch(function () {
        say("The picture could not be sent. Check the connection, or type the number.");
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
        say("Hold the seal's barcode in the frame.");
        afterFrames(SETTLE_FRAMES, function () {
          if (stream) {
            timer = setInterval(capture, INTERVAL_MS);
          }
        });
      })
      .catch(function () {
        stopCamera();
        say("The camera is not available. Type the seal number twice.");
        first.focus();
      });
  });

  stop.addEventListener("click", function () {
    stopCamera();
    say("");
    first.focus();
  });

  window.addEventListener("pagehide", stopCamera);
}());
