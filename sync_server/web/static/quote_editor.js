// The quote editor: each line shows the fields of its kind (labour: hours and rate; a
// part: quantity, unit price and part number; a fee or a discount: one amount, and no
// urgency), its amount, and the running total of the quote as it is typed. The server
// checks everything again; this only helps the advisor see what they are writing.
(function () {
  "use strict";
  var form = document.querySelector("form.quote-editor");
  var box = document.getElementById("running-total");
  if (!form || !box) { return; }

  // Whole cents from what the advisor typed ("1,260", "¥260", "13%"); null if it is no
  // number, or a negative one.
  function cents(text, scale) {
    var cleaned = (text || "").replace(/[,，¥￥%％\s]/g, "").replace(/[−－]/g, "-");
    if (!/^\d*\.?\d+$|^\d+\.$/.test(cleaned)) { return null; }
    return Math.round(parseFloat(cleaned) * (scale || 100));
  }

  function value(line, name) {
    var input = line.querySelector('[data-number="' + name + '"]');
    return input ? input.value : "";
  }

  function showKind(line) {
    var kind = line.querySelector(".line-kind").value;
    Array.prototype.forEach.call(line.querySelectorAll("[data-kinds]"), function (part) {
      part.hidden = part.getAttribute("data-kinds").split(" ").indexOf(kind) < 0;
    });
    return kind;
  }

  // A line's money in cents (negative for a discount), or null when it is not complete.
  function amount(line, kind) {
    if (kind === "labour") {
      var hours = cents(value(line, "hours"), 10000), rate = cents(value(line, "labour_rate"));
      return hours === null || rate === null ? null : Math.round(hours * rate / 10000);
    }
    var price = cents(value(line, "unit_price"));
    if (price === null) { return null; }
    if (kind === "part") {
      var quantity = cents(value(line, "quantity"), 10000);
      return quantity === null ? null : Math.round(quantity * price / 10000);
    }
    return kind === "discount" ? -price : price;
  }

  function money(amountCents) {
    var sign = amountCents < 0 ? "−" : "";
    var whole = Math.floor(Math.abs(amountCents) / 100).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ",");
    var rest = (Math.abs(amountCents) % 100).toString();
    return sign + box.getAttribute("data-symbol") + whole + "." + (rest.length < 2 ? "0" + rest : rest);
  }

  function row(label, text, warn) {
    var tr = document.createElement("tr");
    var name = document.createElement("td");
    var figure = document.createElement("td");
    name.textContent = label;
    figure.textContent = text;
    figure.className = "num";
    if (warn) { tr.className = "warn-text"; }
    tr.appendChild(name);
    tr.appendChild(figure);
    return tr;
  }

  // The bottom of the quote for one choice: the shared lines and those of ``option``.
  function totals(lines, option) {
    var charges = 0, discounts = 0;
    lines.forEach(function (line) {
      if (line.option !== "" && line.option !== option) { return; }
      if (line.cents < 0) { discounts -= line.cents; } else { charges += line.cents; }
    });
    var taxRate = cents(value(form, "tax"), 10000);
    var net = charges - Math.min(discounts, charges);
    var tax = taxRate === null ? 0 : Math.floor((net * taxRate / 100 + 5000) / 10000);
    return { charges: charges, discounts: discounts, tax: tax, total: net + tax };
  }

  function update() {
    var lines = [];
    Array.prototype.forEach.call(form.querySelectorAll("fieldset[data-line]"), function (line) {
      var kind = showKind(line);
      var described = line.querySelector('input[name$="-description"]').value.trim();
      var lineCents = amount(line, kind);
      line.querySelector("output.amount").textContent = lineCents === null ? "—" : money(lineCents);
      if (lineCents !== null && described) {
        lines.push({ cents: lineCents, option: line.querySelector('select[name$="-option"]').value });
      }
    });
    var options = [];
    lines.forEach(function (line) {
      if (line.option !== "" && options.indexOf(line.option) < 0) { options.push(line.option); }
    });
    options.sort();
    var body = box.querySelector("tbody");
    body.textContent = "";
    var every = totals(lines, "");
    if (!options.length) {
      body.appendChild(row(box.getAttribute("data-subtotal"), money(every.charges)));
      if (every.discounts) { body.appendChild(row(box.getAttribute("data-discount"), money(-every.discounts))); }
      body.appendChild(row(box.getAttribute("data-tax"), money(every.tax)));
      body.appendChild(row(box.getAttribute("data-total"), money(every.total)));
    } else {
      options.forEach(function (option) {
        var letter = "ABCD".charAt(parseInt(option, 10)) || option;
        body.appendChild(row(box.getAttribute("data-option").replace("{letter}", letter), money(totals(lines, option).total)));
      });
      body.appendChild(row(box.getAttribute("data-every"), money(every.total)));
    }
    var tooMuch = [""].concat(options).some(function (option) {
      var sums = totals(lines, option);
      return sums.discounts > sums.charges;
    });
    if (tooMuch) { body.appendChild(row(box.getAttribute("data-too-much"), "", true)); }
  }

  form.addEventListener("input", update);
  form.addEventListener("change", update);
  // A photo the tablet has not sent yet shows an hourglass instead of a broken picture.
  function pending(image) { image.replaceWith(document.createTextNode("\u231B")); }
  Array.prototype.forEach.call(form.querySelectorAll(".thumb-pick img"), function (image) {
    if (image.complete && image.naturalWidth === 0) {
      pending(image);  // failed before this script ran
    } else {
      image.addEventListener("error", function () { pending(image); });
    }
  });
  update();
})();
