/* The filters drawer (<details data-open-wide>, templates/search/_filters.html) works without
   JavaScript: closed on a phone so the results come first, one tap opens it. On a wide screen it
   is a sidebar: open it there, and again when a narrow window grows wide. */
(function () {
  var wide = window.matchMedia('(min-width: 800px)');
  function sync() {
    if (!wide.matches) { return; }
    document.querySelectorAll('details[data-open-wide]').forEach(function (el) { el.open = true; });
  }
  sync();
  if (wide.addEventListener) { wide.addEventListener('change', sync); }
})();
