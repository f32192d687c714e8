// The notebook widget (anywidget): the playground's editor, answered by the kernel.
// Appended to playground.js to make one ES module.
function render({model, el}) {
  el.innerHTML = model.get('editor');
  var root = el.querySelector('.ezp'), waiting = {}, serial = 0, checks = {}, asked = 0;
  model.on('change:result', function () {
    var r = model.get('result'), done = waiting;
    waiting = {};
    for (var k in done) done[k](r);  // an older question gets the newest answer: the page drops it
  });
  model.on('msg:custom', function (msg) {
    if (msg && msg.kind === 'check' && checks[msg.id]) { checks[msg.id](msg.row); delete checks[msg.id]; }
  });
  var transport = {
    update: function (s) {
      return new Promise(function (resolve) {
        var n = ++serial;
        waiting[n] = resolve;
        // The serial makes every question a change, so the kernel always answers.
        model.set('state', Object.assign({}, s, {serial: n}));
        model.save_changes();
      });
    },
    check: function (s, backend) {
      return new Promise(function (resolve) {
        var id = ++asked;
        checks[id] = resolve;
        model.send({kind: 'check', id: id, state: s, backend: backend});
      });
    }
  };
  var state = Object.assign({}, model.get('state'));
  delete state.serial;
  einvizPlayground(root, transport, {state: state, presets: model.get('presets'),
                                     backends: model.get('backends'), yours: model.get('yours')});
}
export default { render };
