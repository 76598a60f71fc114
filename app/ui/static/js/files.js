// Previews of the files picked in a file field, before they are sent: images and PDFs, from the browser's memory.
(function () {
  "use strict";
  function show(input) {
    var box = document.getElementById(input.dataset.preview);
    if (!box) return;
    box.textContent = "";
    Array.prototype.forEach.call(input.files || [], function (file) {
      var figure = document.createElement("figure");
      var url = URL.createObjectURL(file);
      if (file.type.indexOf("image/") === 0) {
        var img = document.createElement("img");
        img.src = url;
        img.alt = file.name;
        figure.appendChild(img);
      } else if (file.type === "application/pdf") {
        var frame = document.createElement("object");
        frame.data = url;
        frame.type = "application/pdf";
        frame.setAttribute("aria-label", file.name);
        figure.appendChild(frame);
      }
      var caption = document.createElement("figcaption");
      caption.textContent = file.name;
      figure.appendChild(caption);
      box.appendChild(figure);
    });
  }
  document.addEventListener("change", function (event) {
    var input = event.target;
    if (input instanceof HTMLInputElement && input.type === "file" && input.dataset.preview) show(input);
  });
})();
