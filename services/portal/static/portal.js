// mynacar staff screens: the few things a page cannot do without script. Every page works without it.
"use strict";
// Enter in a field of a form with several buttons saves (the default action), rather than
// pressing whichever button comes first (e.g. "add an applicant").
document.addEventListener("keydown", (event) => {
  const field = event.target;
  if (event.key !== "Enter" || event.isComposing || !(field instanceof HTMLInputElement) || !field.form) return;
  const save = field.form.querySelector("[data-default-action]");
  if (save && field.type !== "submit" && field.type !== "checkbox" && field.type !== "radio") {
    event.preventDefault();
    save.click();
  }
});
