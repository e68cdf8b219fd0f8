// Live status: when the server says something changed, fetch the changed part of the page again.
// Every element with data-stream (a Server-Sent Events URL) and data-fragment (the HTML of its content) is
// kept up to date: the status part of an application page, the list of "My applications".
// Without JavaScript (or EventSource) the pages still work: they show a link to reload.
(function () {
  "use strict";
  if (!window.EventSource || !window.fetch) { return; }
  var announcer = document.getElementById("live-announce");

  function typing(box) {
    var el = document.activeElement;
    return box.contains(el) && (el.tagName === "TEXTAREA" || el.tagName === "INPUT" || el.tagName === "SELECT");
  }

  function watch(box) {
    var loading = false, again = false, deferred = false;

    function refresh() {
      if (loading) { again = true; return; }
      // Never replace a form while someone is filling it in: catch up when they leave it.
      if (typing(box)) { deferred = true; return; }
      loading = true;
      box.setAttribute("aria-busy", "true");
      fetch(box.getAttribute("data-fragment"), { credentials: "same-origin", headers: { "Accept": "text/html" } })
        .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
        .then(function (html) {
          box.innerHTML = html;
          if (announcer && box.getAttribute("data-announce")) {
            announcer.textContent = "";
            window.setTimeout(function () { announcer.textContent = box.getAttribute("data-announce"); }, 50);
          }
        })
        .catch(function () {})
        .then(function () {
          loading = false;
          box.removeAttribute("aria-busy");
          if (again) { again = false; refresh(); }
        });
    }

    box.addEventListener("focusout", function () {
      window.setTimeout(function () { if (deferred && !typing(box)) { deferred = false; refresh(); } }, 0);
    });
    // The browser reconnects by itself (after "retry"), sending the last event id it saw.
    var source = new EventSource(box.getAttribute("data-stream"));
    source.addEventListener("changed", refresh);
    window.addEventListener("pagehide", function () { source.close(); });
  }

  var boxes = document.querySelectorAll("[data-stream][data-fragment]");
  for (var i = 0; i < boxes.length; i++) { watch(boxes[i]); }
})();
