// Small enhancements of the server-rendered pages; every page works without them.
(function () {
  'use strict';

  // Times are formatted on the server in the browser's time zone once it is known.
  try {
    var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (zone && document.cookie.indexOf('voronka_tz=' + encodeURIComponent(zone)) === -1) {
      document.cookie = 'voronka_tz=' + encodeURIComponent(zone) + '; path=/; max-age=31536000; samesite=lax';
    }
  } catch (e) { /* no Intl: UTC it is */ }

  // Filter forms apply a changed select at once (the Apply button stays for keyboards and no-JS).
  document.querySelectorAll('form[data-autosubmit] select').forEach(function (select) {
    select.addEventListener('change', function () {
      if (select.form.requestSubmit) { select.form.requestSubmit(); } else { select.form.submit(); }
    });
  });

  // The inbox refreshes itself: poll a small JSON answer, reload the list only when it changed.
  var list = document.getElementById('inbox-list');
  if (!list) { return; }
  var period = 10000;
  var stopped = false;

  function currentSignature() {
    var state = list.querySelector('.list-state');
    return state ? state.getAttribute('data-signature') : '';
  }

  function setCounts(mine, groups) {
    var values = { mine: mine, groups: groups, inbox: mine + groups };
    Object.keys(values).forEach(function (key) {
      var badge = document.querySelector('[data-count="' + key + '"]');
      if (badge) { badge.textContent = String(values[key]); }
    });
  }

  function refreshRows() {
    if (list.contains(document.activeElement)) { return Promise.resolve(); } // never pull the list from under a keyboard user
    return fetch(list.getAttribute('data-rows'), { credentials: 'same-origin', headers: { Accept: 'text/html' } })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) { if (html !== null) { list.innerHTML = html; } });
  }

  function poll() {
    if (stopped || document.hidden) { return; }
    fetch(list.getAttribute('data-poll'), { credentials: 'same-origin', headers: { Accept: 'application/json' } })
      .then(function (response) {
        if (response.status === 401) { stopped = true; return null; }
        return response.ok ? response.json() : null;
      })
      .then(function (data) {
        if (!data) { return; }
        setCounts(data.mine, data.groups);
        if (data.signature !== currentSignature()) { return refreshRows(); }
      })
      .catch(function () { /* offline for a moment: try again next time */ });
  }

  window.setInterval(poll, period);
  document.addEventListener('visibilitychange', function () { if (!document.hidden) { poll(); } });
})();
