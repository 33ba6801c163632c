// Live preview of the insurer's branding (cover/branding_admin.py): name, logo and colours.
(function () {
  "use strict";

  function init() {
    var preview = document.querySelector("[data-branding-preview]");
    if (!preview) return;
    var form = preview.closest("form") || document;
    var name = form.querySelector("[name=display_name]");
    var primary = form.querySelector("[name=primary_colour]");
    var accent = form.querySelector("[name=accent_colour]");
    var logoInput = form.querySelector("[name=logo]");
    var previewName = preview.querySelector("[data-preview-name]");
    var previewLogo = preview.querySelector("[data-preview-logo]");
    var hex = /^#[0-9a-fA-F]{6}$/;

    function colour(input, variable) {
      if (input && hex.test(input.value)) preview.style.setProperty(variable, input.value);
    }
    function logo() {
      var chooser = logoInput && document.getElementById(logoInput.id + "-chooser");
      var image = chooser && chooser.querySelector("[data-chooser-image]");
      var chosen = logoInput && logoInput.value && image && image.getAttribute("src");
      if (chosen) {
        previewLogo.setAttribute("src", chosen);
        previewLogo.style.display = "";
      } else {
        previewLogo.removeAttribute("src");
        previewLogo.style.display = "none";
      }
    }
    function update() {
      if (name) previewName.textContent = name.value;
      colour(primary, "--preview-primary");
      colour(accent, "--preview-accent");
    }

    [name, primary, accent].forEach(function (input) {
      if (input) {
        input.addEventListener("input", update);
        input.addEventListener("change", update);
      }
    });
    if (logoInput) {
      logoInput.addEventListener("change", logo);
      // The chooser sets the hidden input's value without an event in some versions.
      new MutationObserver(logo).observe(logoInput, { attributes: true, attributeFilter: ["value"] });
    }
    update();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
