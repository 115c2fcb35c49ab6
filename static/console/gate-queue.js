// The gate's lists refresh themselves: every few seconds the page is fetched
// again and, when what it shows has changed, the lists are swapped for the new
// server-rendered ones. Nothing is swapped while the guard is using a control in
// them or while the page is hidden, so a tap never lands on a card that moved.
(function () {
  "use strict";

  var REFRESH_MS = 10000;

  var live = document.getElementById("gate-live");
  if (!live || !window.fetch || !window.DOMParser) {
    return;
  }

  function busy() {
    return document.hidden || live.contains(document.activeElement);
  }

  function refresh() {
    if (busy()) {
      return;
    }
    fetch(window.location.pathname, {
      credentials: "same-origin",
      cache: "no-store",
      redirect: "error"
    })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("gate " + response.status);
        }
        return response.text();
      })
      .then(function (html) {
        var fresh = new DOMParser()
          .parseFromString(html, "text/html")
          .getElementById("gate-live");
        if (fresh && !busy() && fresh.innerHTML !== live.innerHTML) {
          live.replaceChildren.apply(live, Array.from(fresh.childNodes));
        }
      })
      .catch(function () { /* the next refresh tries again */ });
  }

  setInterval(refresh, REFRESH_MS);
}());
