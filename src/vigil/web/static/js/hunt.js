// Ctrl+Enter (or Cmd+Enter) in the KQL editor runs the query.
(function () {
  "use strict";
  var kql = document.getElementById("kql");
  var form = document.getElementById("hunt-form");
  if (!kql || !form) { return; }
  kql.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) { e.preventDefault(); form.requestSubmit(document.getElementById("hunt-run")); }
  });
}());
