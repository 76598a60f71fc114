// Entry for the vendor bundle: expose bpmn-js's NavigatedViewer to our own static/js/diagram.js.
import NavigatedViewer from 'bpmn-js/lib/NavigatedViewer';

window.BpmnNavigatedViewer = NavigatedViewer;
