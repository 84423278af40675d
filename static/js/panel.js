// Small behaviours the pages share; no inline scripts (the Content-Security-Policy allows only this site's files).
document.addEventListener("change", function (event) {
  // A "select all" box checks every box named by its data-select-all attribute.
  var box = event.target;
  if (!box.matches || !box.matches("input[data-select-all]")) return;
  document.querySelectorAll('input[name="' + box.dataset.selectAll + '"]').forEach(function (other) {
    other.checked = box.checked;
  });
});
