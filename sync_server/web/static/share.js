// The approval link's box selects the whole link on a click, ready to copy.
(function () {
  "use strict";
  var box = document.getElementById("approval-link");
  if (box) {
    box.addEventListener("click", function () { box.select(); });
  }
})();
