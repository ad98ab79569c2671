// The design form is redrawn by the server when a choice shows or hides fields. A choice (or a
// keystroke) made just after a redraw is swapped in, before htmx has wired the new form (its
// settle step, ~20 ms later), reaches no listener: it misses its redraw and the numbers' preview,
// leaving fields shown for the old choice. After each redraw, a value that differs from the one
// the redraw was computed from asks again: a choice for another redraw, anything else for a
// preview.
(function () {
  var REDRAW = '[hx-post$="/inputs/form/"]';
  var posted = null;
  function values(form) {
    var out = {};
    var data = new FormData(form);
    data.forEach(function (value, name) { out[name] = name in out ? out[name] + "\n" + value : String(value); });
    return out;
  }
  document.addEventListener("htmx:beforeRequest", function (event) {
    var form = document.getElementById("design-form");
    if (form && event.detail.elt && event.detail.elt.matches && event.detail.elt.matches(REDRAW)) posted = values(form);
  });
  document.addEventListener("htmx:afterSettle", function (event) {
    if (!posted || !event.detail.target || event.detail.target.id !== "design-form") return;
    var before = posted;
    posted = null;
    var form = document.getElementById("design-form");  // the new form (the event's target is the old one)
    if (!form) return;
    var now = values(form);
    var changed = Object.keys(now).concat(Object.keys(before)).filter(function (name) {
      return name !== "csrfmiddlewaretoken" && now[name] !== before[name];
    });
    if (!changed.length) return;
    for (var i = 0; i < changed.length; i++) {
      var control = form.querySelector('[name="' + CSS.escape(changed[i]) + '"]');
      var wrapper = control && control.closest(REDRAW);
      if (wrapper) { htmx.trigger(wrapper, "change"); return; }  // redraw and preview
    }
    htmx.trigger(form, "change");  // a preview
  });
})();
