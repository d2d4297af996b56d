// The quote editor: a photo whose thumbnail is not on the server yet shows an hourglass.
(function () {
  "use strict";
  function pending(image) {
    image.replaceWith(document.createTextNode("\u231B"));
  }
  document.querySelectorAll(".thumb-pick img").forEach(function (image) {
    if (image.complete && image.naturalWidth === 0) {
      pending(image);  // failed before this script ran
    } else {
      image.addEventListener("error", function () { pending(image); });
    }
  });
})();
