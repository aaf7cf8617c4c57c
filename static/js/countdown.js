/* A countdown beside a deadline written as text: <span data-deadline="2026-11-27T08:00:00Z"
   data-left="Thời gian còn lại" data-over="Đã hết hạn" hidden>. It shows "Thời gian còn lại:
   23:59:07" (hours may pass 24), updated every second, and the "over" text once the time is up. */
(function () {
  function pad(n) { return (n < 10 ? '0' : '') + n; }

  document.querySelectorAll('[data-deadline]').forEach(function (el) {
    var deadline = Date.parse(el.getAttribute('data-deadline'));
    if (isNaN(deadline)) return;
    el.setAttribute('aria-live', 'off');  // read on demand, not every second
    function tick() {
      var left = Math.floor((deadline - Date.now()) / 1000);
      if (left <= 0) {
        el.textContent = el.getAttribute('data-over');
        el.classList.add('over');
        return false;
      }
      var h = Math.floor(left / 3600), m = Math.floor((left % 3600) / 60), s = left % 60;
      el.textContent = el.getAttribute('data-left') + ': ' + h + ':' + pad(m) + ':' + pad(s);
      return true;
    }
    el.hidden = false;
    if (tick()) {
      var timer = setInterval(function () { if (!tick()) clearInterval(timer); }, 1000);
    }
  });
})();
