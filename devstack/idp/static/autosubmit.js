/* Send forms marked data-autosubmit as soon as the page loads (SAML HTTP-POST binding).
   The form keeps a visible submit button for people without JavaScript. When the person comes
   back to this page with the Back button the form is not sent again: its message was used once. */
(function () {
  "use strict";

  function cameBack(event) {
    if (event && event.persisted) {
      return true;
    }
    var entries = window.performance && performance.getEntriesByType ? performance.getEntriesByType("navigation") : [];
    return entries.length > 0 && entries[0].type === "back_forward";
  }

  function send(event) {
    if (cameBack(event)) {
      return;
    }
    var form = document.querySelector("form[data-autosubmit]");
    if (form && !form.dataset.sent) {
      form.dataset.sent = "true";
      form.submit();
    }
  }

  window.addEventListener("pageshow", send);
})();
