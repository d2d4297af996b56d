// "Go back" links return to the previous page; without a history they follow their href.
(function () {
  "use strict";
  document.querySelectorAll("a[data-go-back]").forEach(function (link) {
    link.addEventListener("click", function (event) {
      if (window.history.length > 1) {
        event.preventDefault();
        window.history.back();
      }
    });
  });
})();
