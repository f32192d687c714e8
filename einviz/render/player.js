// The HTML player's script (einviz.render.html): one function of the player's root element,
// which the page calls as (this function)(document.getElementById(id)). Nothing is shared
// between players but this text. Frames show by toggling einviz-on; hover marks reuse the
// frames' <use> shapes. The data it reads is the JSON in the player's script.ez-data.
// The figure is the animated SVG, inline or (in a notebook, where sanitizers keep only an
// image) as an <img> of it, which is decoded here and put inline in its place; the controls
// come with the data, so a page that runs no script shows the animation and no dead buttons.
// The data (and, in a notebook, the style) may come as the second argument instead.
(function (root, given) {
  var data = given || JSON.parse(root.querySelector('script.ez-data').textContent);
  if (data.style) {
    var style = document.createElement('style');
    style.textContent = data.style;
    root.insertBefore(style, root.firstChild);
  }
  var fig = root.querySelector('.ez-fig'), images = root.querySelectorAll('.ez-fig img, .ez-panel img');
  for (var m = 0; m < images.length; m++) {
    var bytes = atob(images[m].getAttribute('src').split(',')[1]), codes = new Uint8Array(bytes.length);
    for (var b = 0; b < bytes.length; b++) codes[b] = bytes.charCodeAt(b);
    var parsed = new DOMParser().parseFromString(new TextDecoder().decode(codes), 'image/svg+xml');
    images[m].parentNode.replaceChild(document.importNode(parsed.documentElement, true), images[m]);
  }
  (root.querySelector('.ez-figs') || fig).insertAdjacentHTML('afterend', data.controls);
  root.setAttribute('tabindex', '0');
  root.setAttribute('role', 'group');
  root.setAttribute('aria-label', data.label);
  var svg = fig.querySelector('svg'), svgns = 'http://www.w3.org/2000/svg';
  var frames = svg.querySelectorAll('.einviz-frame'), finals = svg.querySelectorAll('.einviz-finals text');
  var codeline = svg.querySelector('.einviz-codeline'), runs = svg.querySelectorAll('.einviz-runs > *');
  // A diagram beside the figure (a panel): each frame lights the groups of its last step.
  var panelSteps = root.querySelectorAll('.ez-panel svg g.einviz-step');
  // Its output values show once their cell is done, as the grids' do: from the frame that
  // reaches their last step (every one at the final frame).
  var panelDone = root.querySelectorAll('.ez-panel svg g.einviz-done'), reached = [];
  data.frames.forEach(function (f, k) {
    reached.push(f.kind === 'final' ? Infinity : f.steps ? f.steps[1] : (k ? reached[k - 1] : -1));
  });
  var scrub = root.querySelector('.ez-scrub'), count = root.querySelector('.ez-count');
  var playButton = root.querySelector('.ez-play'), speed = root.querySelector('.ez-speed');
  var info = root.querySelector('.ez-info'), n = data.frames.length, current = 0, timer = null;
  var hover = document.createElementNS(svgns, 'g');
  hover.setAttribute('class', 'v einviz-hover');
  svg.insertBefore(hover, svg.querySelector('.einviz-finals'));  // under the values: they stay legible
  var words = document.createElementNS(svgns, 'g');  // the hover's caption and loop values
  words.setAttribute('class', 'einviz-hover-words');
  svg.appendChild(words);
  svg.classList.add('einviz-live');

  function status() {
    var f = data.frames[current], text = 'frame ' + (current + 1) + ' / ' + n;
    if (f.steps) text += (f.steps[0] === f.steps[1] ? ' · step ' + (f.steps[0] + 1)
                          : ' · steps ' + (f.steps[0] + 1) + '–' + (f.steps[1] + 1)) + ' of ' + data.n_steps;
    count.textContent = text;
  }
  function show(k) {
    current = Math.max(0, Math.min(n - 1, k));
    for (var i = 0; i < frames.length; i++) frames[i].classList.toggle('einviz-on', i === current);
    for (var j = 0; j < finals.length; j++)
      finals[j].classList.toggle('einviz-on', +finals[j].getAttribute('data-from') <= current);
    if (codeline) codeline.classList.toggle('einviz-on', data.frames[current].code_line !== null);
    var steps = data.frames[current].kind === 'final' ? null : data.frames[current].steps;
    for (var q = 0; q < panelSteps.length; q++)
      panelSteps[q].classList.toggle('einviz-on',
                                     steps !== null && +panelSteps[q].getAttribute('data-step') === steps[1]);
    for (var d = 0; d < panelDone.length; d++)
      panelDone[d].style.visibility = +panelDone[d].getAttribute('data-step') <= reached[current] ? '' : 'hidden';
    for (var r = 0; r < runs.length; r++)
      runs[r].classList.toggle('einviz-on', +runs[r].getAttribute('data-first') <= current &&
                                            current <= +runs[r].getAttribute('data-last'));
    scrub.value = current;
    root.setAttribute('data-frame', current);
    status();
    if (!hover.firstChild) info.textContent = data.frames[current].caption.join('\n');
  }
  function stop() {
    if (timer !== null) clearTimeout(timer);
    timer = null;
    playButton.textContent = '▶ Play';
    playButton.setAttribute('aria-label', 'Play');
    root.setAttribute('data-playing', 'false');
  }
  // An intro frame stays up for its reading time (its hold), however fast the speed; the
  // others show for their duration at the chosen speed.
  function wait(f) {
    var seconds = f.duration / +speed.value;
    return 1000 * (f.kind === 'intro' ? Math.max(seconds, f.hold || 0) : seconds);
  }
  function tick() {
    timer = setTimeout(function () {
      if (current >= n - 1) { stop(); return; }
      show(current + 1);
      tick();
    }, wait(data.frames[current]));
  }
  function play() {
    if (current >= n - 1) show(0);
    playButton.textContent = '❚❚ Pause';
    playButton.setAttribute('aria-label', 'Pause');
    root.setAttribute('data-playing', 'true');
    tick();
  }
  function toggle() { if (timer === null) play(); else stop(); }
  function go(k) { stop(); show(k); }

  // Which output cells an input cell feeds: its labels agree with the output cell's on every
  // free label (a broadcast axis says nothing; a repeated label must agree with itself).
  var operands = {};
  data.operands.forEach(function (o) { operands[o.name] = o; });
  function labelsOf(use) {
    var name = use.getAttribute('data-operand'), text = use.getAttribute('data-index');
    var index = text ? text.split(',').map(Number) : [], values = {};
    var term = name === 'out' ? data.output : operands[name].term;
    for (var a = 0; a < term.length; a++) {
      if (name !== 'out' && operands[name].broadcast[a]) continue;
      if (term[a] in values && values[term[a]] !== index[a]) return null;
      values[term[a]] = index[a];
    }
    return values;
  }
  function feeds(input, output) {
    if (input === null || !data.n_steps) return false;
    for (var label in input) if (label in output && output[label] !== input[label]) return false;
    return true;
  }
  // How many output cells an input cell feeds, drawn or hidden in a cut axis: each output
  // label the cell does not fix takes every value.
  function fedCount(input) {
    if (input === null || !data.n_steps) return 0;
    var total = 1;
    for (var a = 0; a < data.output.length; a++)
      if (!(data.output[a] in input)) total *= data.out_shape[a];
    return total;
  }
  function ref(name, index) { return index ? name + '[' + index + ']' : name; }
  var cells = svg.querySelectorAll('.einviz-cells use[data-operand]');
  var outs = [], ins = [];
  for (var c = 0; c < cells.length; c++) {
    var cell = cells[c], values = labelsOf(cell);
    if (cell.getAttribute('data-operand') === 'out') {
      cell.setAttribute('tabindex', '0');
      cell.setAttribute('role', 'button');
      cell.setAttribute('aria-label',
                        ref('out', cell.getAttribute('data-index')) + ': show its sum');
      outs.push([cell, values]);
    } else ins.push([cell, values]);
  }
  function mark(cell, shape) {
    var m = document.createElementNS(svgns, 'use');
    m.setAttribute('href', '#' + svg.id + shape);
    m.setAttribute('x', cell.getAttribute('x'));
    m.setAttribute('y', cell.getAttribute('y'));
    m.setAttribute('data-operand', cell.getAttribute('data-operand'));
    m.setAttribute('data-index', cell.getAttribute('data-index'));
    hover.appendChild(m);
  }
  function clear() {
    while (hover.firstChild) hover.removeChild(hover.firstChild);
    while (words.firstChild) words.removeChild(words.firstChild);
    root.removeAttribute('data-hover');
    info.textContent = data.frames[current].caption.join('\n');
  }
  // While a cell is pointed at, the figure's own caption and loop values say what it lights
  // (the frame's are hidden by the style): its sum, or the cells it feeds, and each loop
  // variable's value, or the range it runs over.
  function write(x, y, text, cls) {
    var t = document.createElementNS(svgns, 'text');
    t.setAttribute('x', x);
    t.setAttribute('y', y);
    t.setAttribute('class', cls);
    t.textContent = text;
    words.appendChild(t);
  }
  function lines(text, width) {
    var out = [];
    text.split('\n').forEach(function (line) {
      while (line.length > width) {
        var cut = line.lastIndexOf(' ', width);
        if (cut <= width / 2) cut = width;
        out.push(line.slice(0, cut));
        line = line.slice(cut).replace(/^ +/, '    ');
      }
      out.push(line);
    });
    return out;
  }
  function caption(text, values) {
    var c = data.places.caption, shown = lines(text, c[3]);
    var keep = Math.max(2, data.frames.reduce(function (m, f) { return Math.max(m, f.caption.length); }, 0));
    if (shown.length > keep) shown = shown.slice(0, keep - 1).concat(['… (the whole text is under the figure)']);
    shown.forEach(function (line, k) { write(c[0], c[1] + c[2] * k, line, 'c'); });
    for (var label in data.places.lines) {
      var v = label in values ? String(values[label]) : '0–' + (data.sizes[label] - 1);
      write(data.places.value_x, data.places.lines[label], v, 'k');
    }
  }
  function point(cell) {
    clear();
    var name = cell.getAttribute('data-operand'), index = cell.getAttribute('data-index');
    var values = labelsOf(cell), lit = [];
    if (name === 'out') {
      mark(cell, 'o');
      ins.forEach(function (p) { if (feeds(p[1], values)) { mark(p[0], 'm'); } });
      info.textContent = data.sums[index] || '';
      caption(info.textContent, values);
    } else {
      mark(cell, 'm');
      outs.forEach(function (p) {
        if (!feeds(values, p[1])) return;
        mark(p[0], 'o');
        lit.push(ref('out', p[0].getAttribute('data-index')));
      });
      var total = fedCount(values), hidden = total - lit.length;
      var text = ref(name, index) + ' feeds ';
      if (!total) text += 'no output cell' + (values === null ? ' (its labels disagree)'
                                              : ' (a label has size 0: no multiply-adds)');
      else {
        text += total === 1 ? 'one output cell: ' : total + ' output cells: ';
        if (!lit.length) text += (total === 1 ? 'it is' : 'all') + ' hidden in …';
        else text += lit.join(', ') + (hidden ? ' and ' + hidden + ' hidden in …' : '');
      }
      info.textContent = text;
      caption(text, values || {});
    }
    root.setAttribute('data-hover', name + ':' + index);
  }
  function cellOf(event) {
    var t = event.target;
    return t && t.closest ? t.closest('.einviz-cells use[data-operand]') : null;
  }
  svg.addEventListener('mouseover', function (e) { var c = cellOf(e); if (c) point(c); });
  // Off a cell onto blank space (a gap, the caption, the code) clears; onto another cell,
  // its mouseover takes over.
  svg.addEventListener('mouseout', function (e) {
    var to = e.relatedTarget;
    if (cellOf(e) && !(to && to.closest && to.closest('.einviz-cells use[data-operand]'))) clear();
  });
  svg.addEventListener('focusin', function (e) { var c = cellOf(e); if (c) point(c); });
  svg.addEventListener('focusout', clear);

  var zoom = root.querySelector('.ez-zoom'), fig = root.querySelector('.ez-fig');
  zoom.addEventListener('click', function () {
    var on = fig.classList.toggle('ez-zoomed');
    zoom.setAttribute('aria-pressed', on ? 'true' : 'false');
  });
  root.querySelector('.ez-first').addEventListener('click', function () { go(0); });
  root.querySelector('.ez-back').addEventListener('click', function () { go(current - 1); });
  root.querySelector('.ez-next').addEventListener('click', function () { go(current + 1); });
  root.querySelector('.ez-last').addEventListener('click', function () { go(n - 1); });
  playButton.addEventListener('click', toggle);
  scrub.addEventListener('input', function () { go(+scrub.value); });
  root.addEventListener('keydown', function (e) {
    var tag = e.target.tagName;
    if (tag === 'INPUT' || tag === 'SELECT' || e.altKey || e.ctrlKey || e.metaKey) return;
    if (e.key === ' ' && tag === 'BUTTON') return;  // the button's own click
    var k = {'ArrowRight': current + 1, 'ArrowLeft': current - 1, 'Home': 0, 'End': n - 1}[e.key];
    if (e.key === ' ') toggle();
    else if (k !== undefined) go(k);
    else return;
    e.preventDefault();
  });
  // Reduced motion: the finished picture, as the animated SVG shows it then; nothing plays
  // until asked.
  var still = window.matchMedia && window.matchMedia('(prefers-reduced-motion: reduce)').matches;
  show(still ? n - 1 : 0);
})
