"use strict";
// Pointing at a hop in the picture lights up its row in the table, and the other way round.
document.querySelectorAll("[data-hop-index]").forEach(function (element) {
  var index = element.getAttribute("data-hop-index");
  var twins = document.querySelectorAll('[data-hop-index="' + index + '"]');
  element.addEventListener("mouseenter", function () {
    twins.forEach(function (twin) { twin.classList.add("hl"); });
  });
  element.addEventListener("mouseleave", function () {
    twins.forEach(function (twin) { twin.classList.remove("hl"); });
  });
});
