/* Search box #q suggestions: ARIA combobox + listbox, debounced. */
(function () {
  var q = document.getElementById('q');
  if (!q || q.dataset.suggest) return;
  q.dataset.suggest = '1';
  var s = document.currentScript, api = (s && s.dataset.url) || '/api/v1/search/suggest';
  var en = document.documentElement.lang == 'en';
  var heads = {products: en ? 'Products' : 'Sản phẩm', categories: en ? 'Categories' : 'Danh mục',
    shops: en ? 'Shops' : 'Cửa hàng'};
  var ul = document.createElement('ul'), items = [], cur = -1, timer, seq = 0;
  function attr(el, k, v) { el.setAttribute(k, v); }
  ul.id = 'q-suggest';
  ul.hidden = true;
  attr(ul, 'role', 'listbox');
  q.parentNode.appendChild(ul);
  attr(q, 'role', 'combobox');
  attr(q, 'aria-autocomplete', 'list');
  attr(q, 'aria-controls', ul.id);
  attr(q, 'aria-expanded', 'false');
  function close() {
    ul.hidden = true;
    cur = -1;
    attr(q, 'aria-expanded', 'false');
    q.removeAttribute('aria-activedescendant');
  }
  function render(data) {
    ul.textContent = '';
    items = [];
    cur = -1;
    ['products', 'categories', 'shops'].forEach(function (g) {
      var rows = (data && data[g]) || [];
      if (!rows.length) return;
      var h = document.createElement('li');
      attr(h, 'role', 'presentation');
      h.textContent = heads[g];
      ul.appendChild(h);
      rows.forEach(function (r) {
        var li = document.createElement('li');
        li.id = 'q-opt-' + items.length;
        attr(li, 'role', 'option');
        attr(li, 'aria-selected', 'false');
        if (r.html) li.innerHTML = r.html; /* server-escaped */
        else li.textContent = r.name;
        li.onmousedown = function (e) { e.preventDefault(); location.href = r.url; };
        ul.appendChild(li);
        items.push({el: li, url: r.url});
      });
    });
    ul.hidden = !items.length;
    attr(q, 'aria-expanded', !ul.hidden);
  }
  function move(d) {
    if (!items.length) return;
    ul.hidden = false;
    attr(q, 'aria-expanded', 'true');
    if (cur >= 0) attr(items[cur].el, 'aria-selected', 'false');
    cur = (cur + d + items.length) % items.length;
    attr(items[cur].el, 'aria-selected', 'true');
    attr(q, 'aria-activedescendant', items[cur].el.id);
  }
  q.addEventListener('input', function () {
    clearTimeout(timer);
    var v = q.value.trim(), n = ++seq;
    if (v.length < 2) return close();
    timer = setTimeout(function () {
      fetch(api + '?q=' + encodeURIComponent(v))
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (d) { if (n == seq) render(d); }, close);
    }, 150);
  });
  q.addEventListener('keydown', function (e) {
    var k = e.key;
    if (k == 'ArrowDown' || k == 'ArrowUp') { e.preventDefault(); move(k == 'ArrowDown' ? 1 : -1); }
    else if (k == 'Escape') close();
    else if (k == 'Enter' && cur >= 0 && !ul.hidden) { e.preventDefault(); location.href = items[cur].url; }
  });
  q.addEventListener('blur', function () { setTimeout(close, 100); });
})();
