/* Small behaviours every page may use, declared in the markup instead of inline handlers (the
   Content-Security-Policy allows no inline script):
   - <form data-confirm-message="…">: asks before submitting;
   - <select data-autosubmit>: submits its form when changed;
   - <button data-print>: prints the page. */
(function () {
  document.addEventListener('submit', function (event) {
    var form = event.target;
    var message = form.getAttribute && form.getAttribute('data-confirm-message');
    if (message && !window.confirm(message)) { event.preventDefault(); }
  });
  document.addEventListener('change', function (event) {
    var el = event.target;
    if (el.hasAttribute && el.hasAttribute('data-autosubmit') && el.form) { el.form.submit(); }
  });
  document.addEventListener('click', function (event) {
    var el = event.target.closest && event.target.closest('[data-print]');
    if (el) { event.preventDefault(); window.print(); }
  });
})();
