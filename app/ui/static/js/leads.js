// The import's progress bar: asks the server every second until the import has ended (survives reloads and
// server restarts: the numbers live in the database).
(function () {
  "use strict";
  var box = document.getElementById("import-progress");
  if (!box) return;
  function text(template, name, value) { return template.replace("%(" + name + ")s", value); }
  function show(p) {
    document.getElementById("import-bar").value = p.percent;
    document.getElementById("import-percent").textContent = p.percent + " %";
    document.getElementById("import-state").textContent = box.getAttribute("data-state-" + p.state) || p.state;
    ["done", "imported", "duplicates", "failed"].forEach(function (name) {
      var el = box.querySelector('[data-count="' + name + '"]');
      if (el) el.textContent = p[name];
    });
    var pace = [];
    if (p.rate && !p.final) pace.push(text(box.dataset.textRate, "rate", p.rate));
    if (p.eta_seconds && !p.final) pace.push(text(box.dataset.textEta, "seconds", Math.round(p.eta_seconds)));
    document.getElementById("import-pace").textContent = pace.length ? "· " + pace.join(" · ") : "";
    if (p.final) {
      var cancel = document.getElementById("import-cancel");
      if (cancel) cancel.remove();
    }
    return p.final;
  }
  function poll() {
    fetch(box.dataset.progress, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (p) { if (!p || !show(p)) setTimeout(poll, 1000); })
      .catch(function () { setTimeout(poll, 3000); });
  }
  poll();
})();
