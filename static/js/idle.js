/* Shared computers: the page does not stay on screen after the session ends.
   After data-idle-seconds without a page load the browser goes to data-idle-url, which ends the session
   and tells the browser to forget what it showed.  Shortly before, a dialog offers to continue (WCAG 2.2.1):
   continuing asks the server, which keeps the session alive.  Without JavaScript the server still ends the
   session after the same time; this only clears the screen. */
(function () {
  "use strict";
  var body = document.body;
  var total = parseInt(body.getAttribute("data-idle-seconds"), 10);
  var url = body.getAttribute("data-idle-url");
  var dialog = document.getElementById("idle-dialog");
  if (!total || !url) {
    return;
  }
  var warnBefore = Math.max(20, Math.min(60, Math.floor(total / 4)));
  var warnTimer = null;
  var endTimer = null;

  function end() {
    window.location.replace(url);
  }

  function warn() {
    if (dialog && typeof dialog.showModal === "function" && !dialog.open) {
      dialog.showModal();
    }
  }

  function schedule() {
    window.clearTimeout(warnTimer);
    window.clearTimeout(endTimer);
    warnTimer = window.setTimeout(warn, (total - warnBefore) * 1000);
    endTimer = window.setTimeout(end, total * 1000);
  }

  function keepAlive() {
    if (dialog && dialog.open) {
      dialog.close();
    }
    fetch(dialog.getAttribute("data-alive-url"), {credentials: "same-origin", cache: "no-store"})
      .then(function (response) {
        if (response.status === 204) {
          schedule();
        } else {
          end();
        }
      })
      .catch(function () { /* offline: the timers keep running */ });
  }

  if (dialog) {
    dialog.querySelector("[data-idle-continue]").addEventListener("click", keepAlive);
    dialog.querySelector("[data-idle-end]").addEventListener("click", end);
    dialog.addEventListener("cancel", function (event) {
      event.preventDefault();
      keepAlive();
    });
  }
  schedule();
})();
