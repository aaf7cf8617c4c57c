/* The bank-transfer page: reload once the operator or the statement import has confirmed it. */
(function () {
  var box = document.querySelector('[data-status-url]');
  if (!box) return;
  var timer = setInterval(async function () {
    try {
      var r = await fetch(box.dataset.statusUrl, {credentials: 'same-origin'});
      var body = await r.json();
      if (body.status !== 'pending') { clearInterval(timer); window.location.reload(); }
    } catch (e) { /* try again next time */ }
  }, 15000);
})();
