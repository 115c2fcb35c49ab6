// The kiosk's camera, shared by the photo steps and the QR scanners: start it,
// wait until it shows real pictures, and take one frame as a JPEG. The browser
// only captures; the server judges every picture and reads every code.
(function () {
  "use strict";

  // The first frames after a camera starts are often black or still adjusting.
  var SETTLE_FRAMES = 5;

  function start(video, facing) {
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      return Promise.reject(new Error("no camera API"));
    }

    var wanted = {
      video: {
        facingMode: { ideal: facing || "user" },
        width: { ideal: 1280 },
        height: { ideal: 720 },
      },
      audio: false,
    };
    return navigator.mediaDevices.getUserMedia(wanted).then(function (stream) {
      video.srcObject = stream;
      return video.play().then(function () {
        return settle(video);
      }).then(function () {
        return stream;
      });
    });
  }

  // Resolves once the video has presented a few real frames.
  function settle(video) {
    return new Promise(function (resolve) {
      var seen = 0;
      function counted() {
        seen += 1;
        if (seen >= SETTLE_FRAMES && video.videoWidth > 0) {
          resolve();
        } else {
          next();
        }
      }

      function next() {
        if (video.requestVideoFrameCallback) {
          video.requestVideoFrameCallback(counted);
        } else {
          window.setTimeout(counted, 100);
        }
      }

      next();
    });
  }

  function stop(stream) {
    if (stream) {
      stream.getTracks().forEach(function (track) { track.stop(); });
    }
  }

  // The current frame drawn on a canvas, at most maxSide pixels on its long side.
  function canvasOf(video, maxSide) {
    var width = video.videoWidth;
    var height = video.videoHeight;
    var scale = maxSide ? Math.min(1, maxSide / Math.max(width, height)) : 1;
    var canvas = document.createElement("canvas");
    canvas.width = Math.round(width * scale);
    canvas.height = Math.round(height * scale);
    canvas.getContext("2d").drawImage(video, 0, 0, canvas.width, canvas.height);
    return canvas;
  }

  function jpeg(canvas, quality) {
    return new Promise(function (resolve, reject) {
      canvas.toBlob(function (blob) {
        if (blob) {
          resolve(blob);
        } else {
          reject(new Error("the frame could not be encoded"));
        }
      }, "image/jpeg", quality || 0.92);
    });
  }

  function csrfToken() {
    var meta = document.querySelector("meta[name=csrf-token]");
    return meta ? meta.content : "";
  }

  // POST one picture as multipart form data, with the page's CSRF token.
  function send(url, field, blob) {
    var body = new FormData();
    body.append(field, blob, field + ".jpg");
    return fetch(url, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrfToken(), Accept: "application/json" },
    });
  }

  window.KioskCamera = {
    start: start,
    stop: stop,
    canvasOf: canvasOf,
    jpeg: jpeg,
    send: send,
  };
}());
