// The customer's approval page, beyond the signature pad (signature.js):
// - a message goes away as soon as the answer it asked for is given;
// - declining a safety (red) item asks the customer to confirm they understand;
// - the page asks the server now and then whether its link is still open, and the moment
//   the advisor starts revising the quote it says so, before anything more is typed.
(function () {
  "use strict";
  var form = document.getElementById("approval-form");
  if (!form) { return; }

  function forget(container, selector) {
    if (!container) { return; }
    Array.prototype.forEach.call(container.querySelectorAll(selector), function (node) { node.remove(); });
  }

  // The general "please answer every item" note goes once nothing is left to answer.
  function tidyNote() {
    var note = document.getElementById("form-error");
    if (note && note.hasAttribute("data-until-fixed") && !form.querySelector(".field-error")) {
      note.remove();
    }
  }

  function lineChanged(input) {
    var item = input.closest(".quote-item");
    if (!item) { return; }
    var id = item.getAttribute("data-line");
    if (input.name === "decision-" + id) {
      item.classList.remove("invalid");
      forget(item, ".choice + .field-error");
      var safety = item.querySelector(".safety-confirm");
      if (safety) {
        safety.hidden = input.value !== "declined";
        if (input.value !== "declined") {
          safety.classList.remove("invalid");
          forget(safety, ".field-error");
        }
      }
    } else if (input.name === "safety-" + id && input.checked) {
      var box = item.querySelector(".safety-confirm");
      box.classList.remove("invalid");
      forget(box, ".field-error");
    }
  }

  form.addEventListener("change", function (event) {
    var input = event.target;
    if (input.name === "option") {
      var compare = form.querySelector(".option-compare");
      if (compare) { compare.classList.remove("invalid"); }
      forget(form, ".option-none + .field-error");
    } else {
      lineChanged(input);
    }
    tidyNote();
  });

  var pad = document.getElementById("signature-pad");
  if (pad) {
    pad.addEventListener("pointerup", function () {
      pad.classList.remove("invalid");
      forget(pad.parentNode, ".signature-pad + .field-error");
      tidyNote();
    });
  }

  // Is the link still open? Asked every few seconds, and whenever the page is looked at
  // again; a link that closed replaces the form with what the customer needs to know.
  var stateUrl = form.getAttribute("data-state-url");
  var seconds = parseFloat(form.getAttribute("data-poll-seconds")) || 8;
  var closed = document.getElementById("link-closed");
  var timer = null;

  function close(message) {
    if (!closed) { return; }
    closed.querySelector("p").textContent = message;
    closed.hidden = false;
    Array.prototype.forEach.call(document.querySelectorAll(".open-only"), function (node) {
      node.hidden = true;
    });
    form.remove();
    forget(document, "#form-error");
    if (timer) { window.clearInterval(timer); }
  }

  function check() {
    if (!window.fetch || !document.body.contains(form)) { return; }
    window.fetch(stateUrl, { headers: { Accept: "application/json" }, cache: "no-store" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (answer) {
        if (answer && answer.state && answer.state !== "open") { close(answer.message); }
      })
      .catch(function () { /* offline for a moment: the next check tries again */ });
  }

  if (stateUrl) {
    timer = window.setInterval(check, seconds * 1000);
    document.addEventListener("visibilitychange", function () {
      if (document.visibilityState === "visible") { check(); }
    });
    window.addEventListener("focus", check);
  }
})();
