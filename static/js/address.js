/* Address forms (templates/_address_fields.html), declared in the markup (the
   Content-Security-Policy allows no inline script):
   - <select data-province-select>: choosing a province sends the form as its "Chọn" button
     (<button data-province-refresh>) would, so the page comes back with that province's
     communes (and, at checkout, the shipping fees to it); the button itself is only for
     browsers without JavaScript;
   - <select data-commune-select>: a search box above it keeps only the communes whose name
     contains what is typed, with or without diacritics ("ky xuan" finds "Xã Kỳ Xuân"). */
(function () {
  function fold(text) {
    return text.normalize('NFD').replace(/[\u0300-\u036f]/g, '')
      .replace(/đ/g, 'd').replace(/Đ/g, 'D').toLowerCase().replace(/\s+/g, ' ').trim();
  }

  function setUpProvince(select) {
    var picker = select.closest('[data-address-picker]');
    var button = picker && picker.querySelector('[data-province-refresh]');
    var help = picker && picker.querySelector('[data-province-help]');
    var form = select.form;
    if (!button || !form) { return; }
    // Gone rather than hidden: Enter in a text field must not press it.
    button.remove();
    if (help) { help.hidden = true; }
    select.addEventListener('change', function () {
      var flag = document.createElement('input');
      flag.type = 'hidden';
      flag.name = button.name;
      flag.value = button.value;
      form.appendChild(flag);
      form.submit();
    });
  }

  function setUpCommunes(select) {
    var all = Array.prototype.slice.call(select.options).map(function (option) {
      return { value: option.value, text: option.text, key: fold(option.text), placeholder: !option.value || option.value === '0' };
    });
    if (all.length < 8) { return; }  // a short list needs no filter
    var box = document.createElement('input');
    box.type = 'search';
    box.className = 'commune-filter';
    box.setAttribute('aria-label', select.getAttribute('data-filter-label') || '');
    box.setAttribute('placeholder', select.getAttribute('data-filter-placeholder') || '');
    box.setAttribute('aria-controls', select.id);
    box.autocomplete = 'off';
    var status = document.createElement('p');
    status.className = 'help';
    status.setAttribute('role', 'status');
    select.parentNode.insertBefore(box, select);
    select.parentNode.insertBefore(status, select.nextSibling);

    box.addEventListener('input', function () {
      var words = fold(box.value).split(' ').filter(Boolean);
      var chosen = select.value;
      var shown = 0;
      while (select.options.length) { select.remove(0); }
      all.forEach(function (item) {
        var match = item.placeholder || words.every(function (w) { return item.key.indexOf(w) !== -1; });
        if (!match && item.value !== chosen) { return; }
        var option = new Option(item.text, item.value, false, item.value === chosen);
        select.add(option);
        if (!item.placeholder && match) { shown += 1; }
      });
      status.textContent = words.length && !shown ? select.getAttribute('data-no-match') : '';
      if (words.length && shown === 1 && (!chosen || chosen === '0')) {
        var only = Array.prototype.find.call(select.options, function (o) { return o.value && o.value !== '0'; });
        if (only) { select.value = only.value; }
      }
    });
    // Enter in the search box must not send the form half filled in.
    box.addEventListener('keydown', function (event) {
      if (event.key === 'Enter') { event.preventDefault(); select.focus(); }
    });
  }

  document.querySelectorAll('select[data-province-select]').forEach(setUpProvince);
  document.querySelectorAll('select[data-commune-select]').forEach(setUpCommunes);
})();
