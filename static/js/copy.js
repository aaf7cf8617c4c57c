/* Copy buttons: <button data-copy="text" data-copied="Đã sao chép" hidden>. They stay hidden
   without JavaScript (the text beside them can be selected by hand) and where the browser offers
   no way to copy; a click copies the text and says so for a moment. */
(function () {
  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text);
    }
    // Plain http (a local install): the older way, through a temporary text area.
    return new Promise(function (resolve, reject) {
      var area = document.createElement('textarea');
      area.value = text;
      area.setAttribute('readonly', '');
      area.className = 'sr';
      document.body.appendChild(area);
      area.select();
      var ok = false;
      try { ok = document.execCommand('copy'); } catch (e) { ok = false; }
      document.body.removeChild(area);
      if (ok) { resolve(); } else { reject(new Error('copy refused')); }
    });
  }

  var canCopy = (navigator.clipboard && window.isSecureContext) ||
    (document.queryCommandSupported && document.queryCommandSupported('copy'));
  if (!canCopy) return;

  document.querySelectorAll('button[data-copy]').forEach(function (button) {
    var label = button.textContent;
    button.hidden = false;
    button.addEventListener('click', function () {
      copyText(button.getAttribute('data-copy')).then(function () {
        button.textContent = button.getAttribute('data-copied') || label;
        button.classList.add('copied');
        setTimeout(function () { button.textContent = label; button.classList.remove('copied'); }, 2000);
      }, function () { /* the text stays selectable */ });
    });
  });
})();
