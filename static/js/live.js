// Live status: re-render the status part of the page when the server says it changed.
// Without JavaScript (or EventSource) the page still works; it just needs a reload.
(function () {
  "use strict";
  var box = document.getElementById("live-status");
  if (!box || !window.EventSource || !window.fetch) { return; }
  var loading = false;
  function refresh() {
    if (loading) { return; }
    // Never replace the form while someone is typing an answer.
    if (box.contains(document.activeElement) && document.activeElement.tagName === "TEXTAREA") { return; }
    loading = true;
    box.setAttribute("aria-busy", "true");
    fetch(box.getAttribute("data-fragment"), { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
      .then(function (html) { box.innerHTML = html; })
      .catch(function () {})
      .then(function () { loading = false; box.removeAttribute("aria-busy"); });
  }
  var source = new EventSource(box.getAttribute("data-stream"));
  source.addEventListener("changed", refresh);
  window.addEventListener("pagehide", function () { source.close(); });
})();
