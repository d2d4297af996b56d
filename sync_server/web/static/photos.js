// Photos open in a viewer over the page, with their damage pins; a click zooms in where
// clicked, another click zooms out. Without JavaScript the link opens the photo itself.
(function () {
  "use strict";
  var viewer = document.getElementById("photo-viewer");
  if (!viewer || typeof viewer.showModal !== "function") { return; }
  var frame = viewer.querySelector(".viewer-frame");
  var image = viewer.querySelector("img");

  document.querySelectorAll("a.photo[data-full]").forEach(function (link) {
    link.addEventListener("click", function (event) {
      event.preventDefault();
      frame.querySelectorAll(".pin").forEach(function (pin) { pin.remove(); });
      link.querySelectorAll(".pin").forEach(function (pin) { frame.appendChild(pin.cloneNode(true)); });
      image.src = link.getAttribute("data-full");
      image.alt = link.querySelector("img").alt;
      frame.classList.remove("zoomed");
      viewer.showModal();
    });
  });
  frame.addEventListener("click", function (event) {
    var box = frame.getBoundingClientRect();
    frame.style.transformOrigin = ((event.clientX - box.left) / box.width * 100) + "% " +
      ((event.clientY - box.top) / box.height * 100) + "%";
    frame.classList.toggle("zoomed");
  });
  viewer.querySelector(".viewer-close").addEventListener("click", function () { viewer.close(); });
  viewer.addEventListener("click", function (event) { if (event.target === viewer) { viewer.close(); } });
})();
