// The findings panel is redrawn by the typing preview, answers and filters, and the numbers panel
// by the typing preview. A finding or a number's explanation the reader had opened stays open
// across a redraw: it is reopened, which reloads its details (trace and plan, or formula and
// values) with the values now in the form.
(function () {
  var reopen = [];
  var reopenNumbers = [];
  function remember() {
    var panel = document.getElementById("findings-panel");
    if (!panel) return;
    reopen = Array.prototype.map.call(panel.querySelectorAll("ul.findings > li > details[open]"),
      function (details) { return details.parentElement.id; });
  }
  function rememberNumbers() {
    var panel = document.getElementById("design-numbers");
    if (!panel) return;
    reopenNumbers = Array.prototype.map.call(panel.querySelectorAll("th > details[open]"),
      function (details) { return details.getAttribute("hx-post"); });
  }
  function before(event) {
    var target = event.detail.target;
    if (!target) return;
    if (target.id === "findings-panel") remember();
    if (target.id === "design-numbers") rememberNumbers();
  }
  document.addEventListener("htmx:beforeSwap", before);
  document.addEventListener("htmx:oobBeforeSwap", before);
  document.addEventListener("htmx:afterSettle", function () {
    var ids = reopen;
    reopen = [];
    ids.forEach(function (id) {
      var details = document.querySelector("#" + CSS.escape(id) + " > details");
      if (details && !details.open) details.open = true;
    });
    var urls = reopenNumbers;
    reopenNumbers = [];
    if (!urls.length) return;
    Array.prototype.forEach.call(document.querySelectorAll("#design-numbers th > details"), function (details) {
      if (!details.open && urls.indexOf(details.getAttribute("hx-post")) >= 0) details.open = true;
    });
  });
})();
