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
  // Whole cents and the server's rules: discounts never more than the charges, tax on
  // what remains, rounded half up to the cent.
  var amounts = JSON.parse((document.getElementById("line-amounts") || {}).textContent || "{}");
  var shown = document.getElementById("chosen-total");

  function chosenOption() {
    var picked = form.querySelector('input[name="option"]:checked');
    return picked ? picked.value : null;
  }

  function money(cents) {
    var whole = Math.floor(cents / 100).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ",");
    var rest = (cents % 100).toString();
    return amounts.symbol + whole + "." + (rest.length < 2 ? "0" + rest : rest);
  }

  function total() {
    if (!shown || !amounts.lines) { return; }
    var option = chosenOption();
    var charges = 0, discounts = 0;
    Object.keys(amounts.lines).forEach(function (id) {
      var line = amounts.lines[id];
      if (line.option && line.option !== option) { return; }
      if (line.choosable) {
        var picked = form.querySelector('input[name="decision-' + id + '"]:checked');
        if (!picked || picked.value !== "approved") { return; }
      }
      if (line.discount) { discounts += line.cents; } else { charges += line.cents; }
    });
    var net = charges - Math.min(discounts, charges);
    var tax = Math.floor((net * amounts.tax_rate_e4 + 5000) / 10000);
    shown.textContent = money(net + tax);
  }

  // With options, only the chosen option's items are asked about (without this script
  // every option's items show, each under its name, and only the chosen one counts).
  function showOption() {
    var option = chosenOption();
    Array.prototype.forEach.call(document.querySelectorAll(".option-items"), function (section) {
      section.hidden = section.getAttribute("data-option") !== option;
    });
    Array.prototype.forEach.call(document.querySelectorAll(".option-card"), function (card) {
      card.classList.toggle("chosen", card.getAttribute("data-option") === option);
    });
  }

  form.addEventListener("change", function () { showOption(); total(); });
  showOption();
  total();

  window.addEventListener("resize", fit);
  fit();
})();
