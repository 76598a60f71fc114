// Draws a process diagram with bpmn-js (static/vendor, bundled from npm) and marks elements:
// done (from history), active (open tasks), selected (this task), failed (open incidents).
(function () {
  'use strict';

  var MARKERS = { completed: 'v-done', active: 'v-active', selected: 'v-selected', failed: 'v-failed' };

  function say(figure, key) {
    var message = figure.querySelector('.diagram-message');
    if (message) {
      message.textContent = message.getAttribute(key);
      message.hidden = false;
    }
    figure.setAttribute('data-state', 'error');
  }

  function addControls(figure, canvas) {
    var bar = document.createElement('div');
    bar.className = 'diagram-controls';
    [['+', 1.25], ['−', 0.8], ['⤢', 0]].forEach(function (spec) {
      var button = document.createElement('button');
      button.type = 'button';
      button.textContent = spec[0];
      button.setAttribute('aria-label', spec[1] === 0 ? 'fit' : (spec[1] > 1 ? 'zoom in' : 'zoom out'));
      button.addEventListener('click', function () {
        if (spec[1] === 0) { canvas.zoom('fit-viewport', 'auto'); } else { canvas.zoom(canvas.zoom() * spec[1]); }
      });
      bar.appendChild(button);
    });
    figure.insertBefore(bar, figure.firstChild);
  }

  function mark(viewer, marks) {
    var canvas = viewer.get('canvas');
    var registry = viewer.get('elementRegistry');
    var reached = {};
    Object.keys(MARKERS).forEach(function (kind) {
      (marks[kind] || []).forEach(function (id) {
        if (registry.get(id)) {
          canvas.addMarker(id, MARKERS[kind]);
          reached[id] = true;
        }
      });
    });
    // A flow between two reached elements has been taken.
    registry.filter(function (element) { return element.waypoints && element.source && element.target; })
      .forEach(function (flow) {
        if (reached[flow.source.id] && reached[flow.target.id]) { canvas.addMarker(flow.id, MARKERS.completed); }
      });
  }

  function show(figure) {
    var container = figure.querySelector('.diagram-canvas');
    if (typeof window.BpmnNavigatedViewer !== 'function') { say(figure, 'data-text-missing'); return; }
    var marks = JSON.parse(figure.getAttribute('data-marks') || '{}');
    var viewer = new window.BpmnNavigatedViewer({ container: container });
    fetch(figure.getAttribute('data-xml'), { credentials: 'same-origin' })
      .then(function (response) {
        if (!response.ok) { throw new Error('HTTP ' + response.status); }
        return response.text();
      })
      .then(function (xml) { return viewer.importXML(xml); })
      .then(function () {
        var canvas = viewer.get('canvas');
        canvas.zoom('fit-viewport', 'auto');
        mark(viewer, marks);
        var focus = (marks.selected && marks.selected[0]) || (marks.active && marks.active[0]);
        var element = focus && viewer.get('elementRegistry').get(focus);
        if (element && canvas.zoom() < 0.7 && canvas.scrollToElement) {
          canvas.zoom(0.9);
          canvas.scrollToElement(element);
        }
        addControls(figure, canvas);
        figure.setAttribute('data-state', 'ready');
      })
      .catch(function () { say(figure, 'data-text-failed'); });
  }

  document.querySelectorAll('[data-diagram]').forEach(show);
})();
