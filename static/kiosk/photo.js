// A camera step of the check-in: the live picture, a guide to fill, and one big
// button. The picture goes to the server, which judges it; a poor one comes back
// with advice to retake, a good one moves the visitor on. The face photo is also
// kept in this tab's session storage, because the server never sends a picture
// back: the badge page prints it from there, and the start screen and the idle
// reset empty the storage.
(function () {
  "use strict";

  var FACE_KEY = "gatekeeper.face";
  // The badge photo slot is 20 × 25 mm; 480 pixels is plenty for a label printer.
  var FACE_SIDE = 480;

  var box = document.getElementById("camera");
  var video = document.getElementById("camera-video");
  var button = document.getElementById("take-photo");
  var advice = document.getElementById("camera-advice");
  var status = document.getElementById("camera-status");
  if (!box || !video || !button || !window.KioskCamera) {
    return;
  }

  var camera = window.KioskCamera;
  var stream = null;

  function noCamera() {
    window.location.replace(box.dataset.noCameraUrl);
  }

  function showAdvice(lines) {
    var items = lines.map(function (line) {
      var p = document.createElement("p");
      p.textContent = line;
      return p;
    });
    advice.replaceChildren.apply(advice, items);
    advice.hidden = items.length === 0;
  }

  function keepFace(canvas) {
    var small = document.createElement("canvas");
    var scale = Math.min(1, FACE_SIDE / Math.max(canvas.width, canvas.height));
    small.width = Math.round(canvas.width * scale);
    small.height = Math.round(canvas.height * scale);
    small.getContext("2d").drawImage(canvas, 0, 0, small.width, small.height);
    try {
      window.sessionStorage.setItem(FACE_KEY, small.toDataURL("image/jpeg", 0.85));
    } catch (error) {
      // Without storage the badge prints without the photo; the visit is not lost.
    }
  }

  function answered(response, canvas) {
    if (response.status === 413) {
      showAdvice([box.dataset.tooLarge]);
      return;
    }

    return response.json().then(function (answer) {
      if (answer.ok) {
        if (box.dataset.kind === "face") {
          keepFace(canvas);
        }

        camera.stop(stream);
        window.location.assign(answer.next);
        return;
      }

      if (answer.next && response.status === 409) {
        window.location.assign(answer.next);
        return;
      }

      showAdvice(answer.advice && answer.advice.length ? answer.advice
        : [box.dataset.failed]);
    });
  }

  function take() {
    button.disabled = true;
    showAdvice([]);
    status.textContent = box.dataset.sending;
    var canvas = camera.canvasOf(video);
    camera.jpeg(canvas)
      .then(function (blob) { return camera.send(box.dataset.uploadUrl, "photo", blob); })
      .then(function (response) { return answered(response, canvas); })
      .catch(function () { showAdvice([box.dataset.failed]); })
      .then(function () {
        status.textContent = "";
        button.disabled = false;
      });
  }

  button.addEventListener("click", take);
  window.addEventListener("pagehide", function () { camera.stop(stream); });

  camera.start(video, box.dataset.facing)
    .then(function (started) {
      stream = started;
      button.disabled = false;
    })
    .catch(noCamera);
}());
