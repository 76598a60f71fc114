// The migration page's progress bar: polls the batch until it completes, then reloads to list what stayed.
(function () {
  'use strict';
  var card = document.querySelector('[data-migration]');
  if (!card) { return; }
  var bar = document.getElementById('migration-bar');
  function set(name, value) { card.querySelector('[data-' + name + ']').textContent = value; }
  function poll() {
    fetch(card.getAttribute('data-migration'), { credentials: 'same-origin' })
      .then(function (response) { return response.json(); })
      .then(function (p) {
        var handled = p.done + p.failed;
        bar.max = p.total || 1;
        bar.value = p.total ? handled : 1;
        set('percent', p.total ? Math.floor(handled * 100 / p.total) : 100);
        set('done', p.done); set('failed', p.failed); set('remaining', p.remaining);
        if (p.state === 'completed') {
          card.querySelector('[data-finished]').hidden = false;
          if (p.failed && !card.querySelector('ul')) { window.location.reload(); }
        } else {
          window.setTimeout(poll, 700);
        }
      })
      .catch(function () { window.setTimeout(poll, 2000); });
  }
  if (card.querySelector('[data-finished]').hidden) { poll(); }
}());
