// Start GOV.UK Frontend's components. A module file, so the Content-Security-Policy needs
// no inline script.
import { initAll } from "./govuk-frontend.min.js";

initAll();

// Imports: show the upload's progress while a large file is sent.
for (const form of document.querySelectorAll("form[data-upload-progress]")) {
  const progress = document.getElementById(form.dataset.uploadProgress);
  if (!progress) continue;
  form.addEventListener("submit", () => {
    progress.hidden = false;
  });
}
