// The findings panel is redrawn by the typing preview, answers and filters. A finding the reader
// had opened stays open across a redraw: it is reopened, which reloads its details (trace and
// plan) with the values now in the form.
(function () {
  var reopen = [];
  function remember() {
    var panel = document.getElementById("findings-panel");
    if (!panel) return;
    reopen = Array.prototype.map.call(panel.querySelectorAll("ul.findings > li > details[open]"),
      function (details) { return details.parentElement.id; });
  }
  document.addEventListener("htmx:beforeSwap", function (event) {
    if (event.detail.target && event.detail.target.id === "findings-panel") remember();
  });
  document.addEventListener("htmx:oobBeforeSwap", function (event) {
    if (event.detail.target && event.detail.target.id === "findings-panel") remember();
  });
  document.addEventListener("htmx:afterSettle", function () {
    var ids = reopen;
    reopen = [];
    ids.forEach(function (id) {
      var details = document.querySelector("#" + CSS.escape(id) + " > details");
      if (details && !details.open) details.open = true;
    });
  });
})();
