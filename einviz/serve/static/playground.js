// The einviz playground: the boxes, the presets and the panels, driven by a transport
// that answers updates (the web server's /api/update, or a notebook kernel). Every text
// goes in with textContent; only the player and the contraction path, which einviz draws
// and escapes itself, go in as HTML.

// How long typing must pause before an update is asked for (ms).
var EZP_DEBOUNCE = 100;

function ezpEl(tag, cls, text) {
  var node = document.createElement(tag);
  if (cls) node.className = cls;
  if (text !== undefined && text !== null) node.textContent = text;
  return node;
}

// innerHTML does not run scripts: put each in again as a new element, once the box is in
// the document (the player finds its root by id).
function ezpSetHTML(box, html) {
  box.innerHTML = html;
  var scripts = box.querySelectorAll('script');
  function run() {
    for (var i = 0; i < scripts.length; i++) {
      var old = scripts[i];
      if (old.type && old.type !== 'text/javascript') continue;
      var fresh = document.createElement('script');
      fresh.textContent = old.textContent;
      old.parentNode.replaceChild(fresh, old);
    }
  }
  (function wait() { if (box.isConnected) run(); else requestAnimationFrame(wait); })();
}

function einvizPlayground(root, transport, boot) {
  var form = root.querySelector('.ezp-form');
  var inputs = {}, names = ['s', 'shapes', 'sizes', 'values', 'seed'];
  names.forEach(function (n) { inputs[n] = form.elements[n]; });
  var figure = root.querySelector('.ezp-figure'), status = root.querySelector('.ezp-status');
  var timer = null, serial = 0, current = null;

  function state() {
    var s = {};
    names.forEach(function (n) { s[n] = n === 'seed' ? String(inputs[n].value || '0') : inputs[n].value; });
    return s;
  }
  function fill(s) {
    names.forEach(function (n) { if (n in s) inputs[n].value = String(s[n]); });
    inputs.seed.disabled = inputs.values.value !== 'random';
    inputs.shapes.disabled = inputs.sizes.disabled = inputs.values.value === 'yours';
  }

  function clearErrors() {
    root.querySelectorAll('.ezp-error').forEach(function (box) { box.hidden = true; box.textContent = ''; });
    root.querySelectorAll('.ezp-input').forEach(function (i) { i.removeAttribute('aria-invalid'); });
  }
  // The message under its box: the problem, the text with the culprit characters marked
  // and a caret under each (the positions come from the error), the details and the hint.
  function showError(err) {
    var box = root.querySelector('.ezp-error[data-box="' + (err.box || 's') + '"]') ||
              root.querySelector('.ezp-error[data-box="s"]');
    box.hidden = false;
    box.appendChild(ezpEl('div', 'ezp-problem', err.problem || err.message));
    var chars = err.chars || [], marked = {};
    (err.positions || []).forEach(function (p) { marked[p] = true; });
    if (chars.length) {
      var line = ezpEl('div', 'ezp-culprits ezp-mono');
      var last = Math.max(chars.length, Math.max.apply(null, (err.positions || []).concat([0])) + 1);
      for (var i = 0; i < last; i++) {
        var ch = ezpEl('span', 'ezp-ch', i < chars.length ? chars[i] : ' ');
        if (marked[i]) {
          ch.classList.add('ezp-culprit');
          ch.setAttribute('data-pos', i);
          var caret = ezpEl('span', 'ezp-caret', '^');
          caret.setAttribute('aria-hidden', 'true');
          ch.appendChild(caret);
        }
        line.appendChild(ch);
      }
      box.appendChild(line);
    }
    (err.details || []).forEach(function (d) { box.appendChild(ezpEl('div', 'ezp-detail ezp-mono', d)); });
    if (err.hint) box.appendChild(ezpEl('div', 'ezp-hint', 'hint: ' + err.hint));
    var input = inputs[err.box] || inputs.s;
    input.setAttribute('aria-invalid', 'true');
  }

  function text(sel, value) { root.querySelector(sel).textContent = value === null ? '' : value; }
  // Code with each label letter standing alone (not part of a longer name) in its colour,
  // as the figure colours it; the letter itself always shows too.
  function coloured(sel, code, colours) {
    var box = root.querySelector(sel), run = '';
    box.textContent = '';
    var chars = Array.from(code);
    function word(c) { return c !== undefined && /[A-Za-z0-9\u0080-\uffff]/.test(c); }
    chars.forEach(function (c, k) {
      if (colours[c] && !word(chars[k - 1]) && !word(chars[k + 1])) {
        if (run) box.appendChild(document.createTextNode(run));
        run = '';
        var span = ezpEl('span', 'ezp-label', c);
        span.style.color = colours[c];
        box.appendChild(span);
      } else run += c;
    });
    if (run) box.appendChild(document.createTextNode(run));
  }
  function show(p) {
    clearErrors();
    current = p;
    ezpSetHTML(figure, p.player);
    root.classList.remove('ezp-stale');
    var colours = p.colours || {};
    coloured('.ezp-formula', p.formula, colours);
    coloured('.ezp-loops', p.loop_code, colours);
    var body = root.querySelector('.ezp-sizes tbody');
    body.textContent = '';
    p.sizes.forEach(function (r) {
      var tr = ezpEl('tr');
      [r.label, r.size, r.role].forEach(function (v) { tr.appendChild(ezpEl('td', null, String(v))); });
      if (colours[r.label]) tr.firstChild.style.color = colours[r.label];
      tr.className = 'ezp-' + r.role;
      body.appendChild(tr);
    });
    text('.ezp-steps', p.steps.toLocaleString('en') + ' multiply-adds');
    text('.ezp-title', p.title);
    var words = root.querySelector('.ezp-words');
    words.textContent = '';
    p.sentences.forEach(function (s) { words.appendChild(ezpEl('li', null, s)); });
    text('.ezp-numpy', p.equivalent === null ? '(no single numpy call: see the loop code)' : p.equivalent);
    var pathBox = root.querySelector('.ezp-path-box');
    pathBox.hidden = !p.path;
    if (p.path) ezpSetHTML(root.querySelector('.ezp-path'), p.path);
    else root.querySelector('.ezp-path').textContent = '';
    if (!inputs.shapes.value) inputs.shapes.placeholder = p.shapes;  // the shapes drawn
    root.querySelector('.ezp-checks').hidden = true;
    text('.ezp-check-status', '');
    status.textContent = 'drawn in ' + Math.round(1000 * p.seconds) + ' ms';
    root.setAttribute('data-state', p.query || '');
  }

  function refresh() {
    var mine = ++serial, asked = state(), t0 = performance.now();
    root.setAttribute('data-busy', 'true');
    transport.update(asked).then(function (p) {
      if (mine !== serial) return;  // a later keystroke asked again
      root.removeAttribute('data-busy');
      if (p.ok) {
        show(p);
        if (transport.changed) transport.changed(asked, p);
      } else if (p.error && p.error.kind === 'BadRequest') {  // e.g. a seed below 0
        clearErrors();
        root.classList.add('ezp-stale');
        status.textContent = p.error.message;
      } else {
        clearErrors();
        showError(p.error);
        root.classList.add('ezp-stale');  // the last good figure stays, dimmed
        root.setAttribute('data-state', '');
        status.textContent = p.error.kind + ' (the figure is the last one that worked)';
        if (transport.changed) transport.changed(asked, null);
      }
      root.setAttribute('data-ms', Math.round(performance.now() - t0));
    }, function (e) {
      if (mine !== serial) return;
      root.removeAttribute('data-busy');
      root.classList.add('ezp-stale');
      status.textContent = 'no answer: ' + e;
    });
  }
  function soon() {
    if (timer !== null) clearTimeout(timer);
    timer = setTimeout(function () { timer = null; refresh(); }, EZP_DEBOUNCE);
  }
  form.addEventListener('input', function () { fill({}); soon(); });
  form.addEventListener('submit', function (e) { e.preventDefault(); refresh(); });

  var nav = root.querySelector('.ezp-presets');
  (boot.presets || []).forEach(function (preset) {
    var b = ezpEl('button', 'ezp-preset', preset.name);
    b.type = 'button';
    b.title = preset.s + (preset.shapes ? '  shapes ' + preset.shapes : '') +
              (preset.sizes ? '  sizes ' + preset.sizes : '');
    b.addEventListener('click', function () {
      fill({s: preset.s, shapes: preset.shapes, sizes: preset.sizes,
            values: inputs.values.value === 'yours' ? 'arange' : inputs.values.value});
      refresh();
    });
    nav.appendChild(b);
  });

  // The backend check: one request a backend, so the page shows how far it has got.
  var checkButton = root.querySelector('.ezp-check'), progress = root.querySelector('.ezp-progress');
  var checks = root.querySelector('.ezp-checks'), checkStatus = root.querySelector('.ezp-check-status');
  checkButton.addEventListener('click', function () {
    var asked = state(), backends = boot.backends || [], rows = checks.querySelector('tbody');
    rows.textContent = '';
    checks.hidden = false; progress.hidden = false; progress.max = backends.length; progress.value = 0;
    checkButton.disabled = true;
    function next(k) {
      if (k >= backends.length) {
        progress.hidden = true; checkButton.disabled = false;
        checkStatus.textContent = 'checked ' + backends.length + ' backends';
        return;
      }
      checkStatus.textContent = 'running ' + backends[k] + ' (' + (k + 1) + ' of ' + backends.length + ')…';
      transport.check(asked, backends[k]).then(function (r) {
        var tr = ezpEl('tr');
        var cells = r.ok ? [r.backend, r.status, r.version, r.dtype, r.max_abs_error,
                             r.seconds === null ? '-' : (1000 * r.seconds).toFixed(2) + ' ms', r.note]
                         : [backends[k], 'error', '', '', '', '', r.error.message];
        cells.forEach(function (v) { tr.appendChild(ezpEl('td', null, v === null ? '-' : String(v))); });
        tr.className = 'ezp-status-' + (r.ok ? r.status.replace(/\s+/g, '-') : 'error');
        rows.appendChild(tr);
        progress.value = k + 1;
        next(k + 1);
      }, function (e) {
        checkStatus.textContent = 'no answer: ' + e; progress.hidden = true; checkButton.disabled = false;
      });
    }
    next(0);
  });

  fill(boot.state || {});
  if (boot.yours) root.querySelector('option[value="yours"]').hidden = false;
  refresh();
  return {refresh: refresh, fill: fill, current: function () { return current; }};
}

// The web page: updates over HTTP, and the address bar kept equal to what is shown.
function einvizPage(root, boot) {
  var pending = null;
  var transport = {
    update: function (s) {
      if (pending) pending.abort();  // an answer no one will show
      pending = new AbortController();
      return fetch('/api/update?' + new URLSearchParams(s), {signal: pending.signal})
        .then(function (r) { return r.json(); });
    },
    check: function (s, backend) {
      var q = new URLSearchParams(s);
      q.set('backend', backend);
      return fetch('/api/check?' + q).then(function (r) { return r.json(); });
    },
    changed: function (s, p) {
      var q = p ? p.query : ezpQuery(s);
      if (location.search !== '?' + q) history.replaceState(null, '', '?' + q);
      document.title = 'einsum ' + s.s + ' · einviz playground';
    }
  };
  return einvizPlayground(root, transport, boot);
}

// The query string of a link: the subscripts, and the other fields where they differ from
// their defaults (commas and '=' left as they are, as the server writes them).
function ezpQuery(s) {
  function enc(v) { return encodeURIComponent(v).replace(/%2C/g, ',').replace(/%3D/g, '='); }
  var parts = ['s=' + enc(s.s)];
  var defaults = {shapes: '', sizes: '', values: 'arange', seed: '0'};
  for (var k in defaults)
    if (String(s[k]) !== defaults[k]) parts.push(k + '=' + enc(s[k]));
  return parts.join('&');
}
