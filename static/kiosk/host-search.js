// The check-in page's point of contact (CTPAT 10.2), searched as the visitor types:
// a large text box above the directory's <select>, and up to eight matching names
// as buttons. Tapping one chooses that host in the <select>, which stays the field
// the form submits, so the page works the same without this script. The words come
// from data- attributes the template renders, already translated.
(function () {
  "use strict";

  var MIN_LENGTH = 2;
  var DELAY_MS = 150;

  var box = document.getElementById("host-search");
  var select = box && document.getElementById(box.dataset.select);
  if (!box || !select || !window.fetch) {
    return;
  }

  var input = document.createElement("input");
  input.id = "host-search-input";
  input.type = "text";
  input.autocomplete = "off";
  input.spellcheck = false;
  input.setAttribute("autocapitalize", "words");
  input.setAttribute("enterkeyhint", "search");
  input.setAttribute("aria-controls", "host-search-results");

  var label = document.createElement("label");
  label.htmlFor = input.id;
  label.textContent = box.dataset.label;

  var results = document.createElement("div");
  results.id = "host-search-results";
  results.className = "host-matches";
  results.setAttribute("aria-live", "polite");

  box.append(label, input, results);
  box.hidden = false;

  var timer = null;
  var pending = null;

  function clear() {
    results.replaceChildren();
  }

  function say(text) {
    var message = document.createElement("p");
    message.className = "hint";
    message.textContent = text;
    results.replaceChildren(message);
  }

  function choose(host) {
    var value = String(host.id);
    var option = Array.prototype.find.call(select.options, function (o) {
      return o.value === value;
    });
    // A host added to the directory after this page was drawn is still offered:
    // the server checks the choice against the directory when the form comes back.
    if (!option) {
      option = new Option(host.name, value);
      select.add(option);
    }

    select.value = value;
    select.dispatchEvent(new Event("change", { bubbles: true }));
    input.value = host.name;
    clear();
  }

  function show(hosts) {
    if (hosts.length === 0) {
      say(box.dataset.noMatch);
      return;
    }

    var list = document.createElement("ul");
    list.setAttribute("role", "list");
    hosts.forEach(function (host) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "button host-match";
      button.textContent = host.name;
      if (host.department) {
        var department = document.createElement("span");
        department.className = "host-department";
        department.textContent = host.department;
        button.append(" ", department);
      }

      button.addEventListener("click", function () { choose(host); });
      var item = document.createElement("li");
      item.append(button);
      list.append(item);
    });
    results.replaceChildren(list);
  }

  function search(query) {
    if (pending) {
      pending.abort();
    }

    pending = new AbortController();
    var url = box.dataset.url + "?q=" + encodeURIComponent(query);
    fetch(url, {
      headers: { Accept: "application/json" },
      credentials: "same-origin",
      signal: pending.signal,
    })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("host search answered " + response.status);
        }

        return response.json();
      })
      .then(show)
      .catch(function (error) {
        if (error.name !== "AbortError") {
          say(box.dataset.unavailable);
        }
      });
  }

  input.addEventListener("input", function () {
    window.clearTimeout(timer);
    var query = input.value.trim();
    if (query.length < MIN_LENGTH) {
      if (pending) {
        pending.abort();
      }

      clear();
      return;
    }

    timer = window.setTimeout(function () { search(query); }, DELAY_MS);
  });

  // Enter in the search box would submit the half-filled check-in form.
  input.addEventListener("keydown", function (event) {
    if (event.key === "Enter") {
      event.preventDefault();
    }
  });
}());
