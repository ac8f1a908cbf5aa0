// Draws every chart of a dashboard page from the figure JSON embedded beside it (plotly.min.js).
// data-rendered on each chart and data-charts-ready on <body> let tests wait for the drawing.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  var charts = document.querySelectorAll(".chart[data-fig]");
  var pending = charts.length;
  var config = {displaylogo: false, responsive: true,
                modeBarButtonsToRemove: ["select2d", "lasso2d", "autoScale2d", "toggleSpikelines"]};
  function done() {
    pending -= 1;
    if (pending <= 0) document.body.setAttribute("data-charts-ready", String(charts.length));
  }
  if (pending === 0) document.body.setAttribute("data-charts-ready", "0");
  charts.forEach(function (el) {
    var fig = JSON.parse(document.getElementById(el.getAttribute("data-fig")).textContent);
    Plotly.newPlot(el, fig.data, fig.layout, config).then(function () {
      el.setAttribute("data-rendered", "1");
      done();
    });
  });
  // close the other pickers when one opens
  document.querySelectorAll("details.picker").forEach(function (d) {
    d.addEventListener("toggle", function () {
      if (!d.open) return;
      document.querySelectorAll("details.picker").forEach(function (o) { if (o !== d) o.open = false; });
    });
  });
});
