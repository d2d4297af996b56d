// A small signature pad: pointer strokes are kept as points in pad units (0..1) with
// milliseconds since the first touch, and sent with a PNG picture of the pad.
(function () {
  "use strict";
  var canvas = document.getElementById("signature-pad");
  var form = document.getElementById("approval-form");
  if (!canvas || !form) { return; }
  var context = canvas.getContext("2d");
  var strokes = [];
  var current = null;
  var started = null;

  function fit() {
    var ratio = window.devicePixelRatio || 1;
    var width = canvas.clientWidth;
    var height = canvas.clientHeight;
    canvas.width = Math.round(width * ratio);
    canvas.height = Math.round(height * ratio);
    context.setTransform(ratio, 0, 0, ratio, 0, 0);
    redraw();
  }

  function redraw() {
    context.clearRect(0, 0, canvas.width, canvas.height);
    context.lineWidth = 2.5;
    context.lineCap = "round";
    context.lineJoin = "round";
    context.strokeStyle = "#111";
    var width = canvas.clientWidth, height = canvas.clientHeight;
    strokes.forEach(function (stroke) {
      context.beginPath();
      stroke.forEach(function (point, index) {
        var x = point[0] * width, y = point[1] * height;
        if (index === 0) { context.moveTo(x, y); } else { context.lineTo(x, y); }
      });
      if (stroke.length === 1) { context.lineTo(stroke[0][0] * width + 0.1, stroke[0][1] * height); }
      context.stroke();
    });
  }

  function point(event) {
    var box = canvas.getBoundingClientRect();
    if (started === null) { started = event.timeStamp; }
    var x = Math.min(1, Math.max(0, (event.clientX - box.left) / box.width));
    var y = Math.min(1, Math.max(0, (event.clientY - box.top) / box.height));
    return [Math.round(x * 10000) / 10000, Math.round(y * 10000) / 10000, Math.max(0, Math.round(event.timeStamp - started))];
  }

  canvas.addEventListener("pointerdown", function (event) {
    event.preventDefault();
    canvas.setPointerCapture(event.pointerId);
    current = [point(event)];
    strokes.push(current);
    redraw();
  });
  canvas.addEventListener("pointermove", function (event) {
    if (!current) { return; }
    event.preventDefault();
    current.push(point(event));
    redraw();
  });
  function end() { current = null; }
  canvas.addEventListener("pointerup", end);
  canvas.addEventListener("pointercancel", end);

  document.getElementById("clear-signature").addEventListener("click", function () {
    strokes = [];
    started = null;
    redraw();
  });

  form.addEventListener("submit", function () {
    document.getElementById("strokes").value = JSON.stringify(strokes);
    document.getElementById("signature-png").value = strokes.length ? canvas.toDataURL("image/png") : "";
  });

  // The running total of what the customer chose, so there is no surprise at the end.
  var amounts = JSON.parse((document.getElementById("line-amounts") || {}).textContent || "{}");
  var shown = document.getElementById("chosen-total");
  function total() {
    if (!shown || !amounts.lines) { return; }
    var sum = 0;
    Object.keys(amounts.lines).forEach(function (id) {
      var line = amounts.lines[id];
      var picked = form.querySelector('input[name="decision-' + id + '"]:checked');
      if (!line.choosable || (picked && picked.value === "approved")) { sum += line.amount; }
    });
    sum = Math.max(0, sum);
    var withTax = sum * (1 + amounts.tax_rate);
    shown.textContent = amounts.symbol + withTax.toFixed(2);
  }
  form.addEventListener("change", total);
  total();

  window.addEventListener("resize", fit);
  fit();
})();
