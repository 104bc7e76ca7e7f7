// Qoltanba pages: the only script. The pages work without it; it adds dropping a file on the
// Verify form and says "too large" or "choose a file" before uploading (the server says the same).
(function () {
  "use strict";
  var form = document.querySelector("form.upload");
  if (!form) { return; }
  var input = form.querySelector("#file");
  var extra = form.querySelector("#detached");
  var drop = form.querySelector("[data-drop]");
  var alertBox = document.getElementById("error");
  var alertText = document.getElementById("error-text");

  function say(text) {
    alertText.textContent = text;
    alertBox.hidden = false;
    alertBox.focus();
  }

  ["dragenter", "dragover"].forEach(function (name) {
    drop.addEventListener(name, function (event) { event.preventDefault(); drop.classList.add("is-over"); });
  });
  ["dragleave", "drop"].forEach(function (name) {
    drop.addEventListener(name, function () { drop.classList.remove("is-over"); });
  });
  drop.addEventListener("drop", function (event) {
    event.preventDefault();
    if (event.dataTransfer && event.dataTransfer.files.length) { input.files = event.dataTransfer.files; }
  });

  form.addEventListener("submit", function (event) {
    var limit = Number(form.dataset.maxBytes);
    var chosen = [input, extra].map(function (field) { return field.files[0]; }).filter(Boolean);
    if (!input.files.length) {
      event.preventDefault();
      say(form.dataset.empty);
      return;
    }
    if (chosen.some(function (file) { return file.size > limit; })) {
      event.preventDefault();
      say(form.dataset.tooLarge);
    }
  });

  if (!alertBox.hidden) { alertBox.focus(); }
  var result = document.getElementById("result");
  if (result && alertBox.hidden) { result.setAttribute("tabindex", "-1"); result.focus(); }
})();
