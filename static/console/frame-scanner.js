// The console's camera scanner, shared by the guard's badge check and the seal at
// departure. The phone only captures: once the camera has settled, a frame is posted
// to the page's scan address every 400 ms, and the server reads the code in it. The
// first code read is handed to the page. Without a camera, or without permission,
// the scanner says so and the page stays the form it was, for a USB scanner or
// typing.
//
// GKFrameScanner.attach({prefix, quality, onCode, focus, messages}) finds the
// elements <prefix> (the box, with data-scan-url), <prefix>-start, -stop, -video and
// -status, unhides the box and returns true; it returns false where the browser has
// no camera API, so the page falls back to its form alone.
(function () {
  "use strict";

  var INTERVAL_MS = 400;
  // The first frames after a camera starts can be black; these are skipped.
  var SETTLE_FRAMES = 3;

  function attach(options) {
    var box = document.getElementById(options.prefix);
    var media = navigator.mediaDevices;
    var token = document.querySelector('meta[name="csrf-token"]');
    if (!box || !token || !media || !media.getUserMedia || !window.fetch) {
      return false;
    }

    var start = document.getElementById(options.prefix + "-start");
    var stop = document.getElementById(options.prefix + "-stop");
    var video = document.getElementById(options.prefix + "-video");
    var status = document.getElementById(options.prefix + "-status");
    var messages = options.messages;
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
          stopCamera();
          options.onCode(answer.code, say);
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
          say(messages.notSent);
        }).finally(function () { busy = false; });
      }, "image/jpeg", options.quality);
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
          say(messages.hold);
          afterFrames(SETTLE_FRAMES, function () {
            if (stream) {
              timer = setInterval(capture, INTERVAL_MS);
            }
          });
        })
        .catch(function () {
          stopCamera();
          say(messages.unavailable);
          options.focus.focus();
        });
    });

    stop.addEventListener("click", function () {
      stopCamera();
      say("");
      options.focus.focus();
    });

    window.addEventListener("pagehide", stopCamera);
    return true;
  }

  window.GKFrameScanner = { attach: attach };
}());
