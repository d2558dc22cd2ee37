// Start GOV.UK Frontend's components. A module file, so the Content-Security-Policy needs
// no inline script.
import { initAll } from "./govuk-frontend.min.js";

initAll();

// Imports: send the file from the page and show how far it has got. While the file is sent, the
// bar follows the upload; then the server sends a line of JSON now and then as it reads the file
// and checks it against the register, and at the end the result page, whose main content takes
// the place of the form. Without this script the form posts as usual and the bar just shows that
// something is happening.
const PHASES = {
  reading: "Reading the file",
  checking: "Checking each line against the register",
};

function showPage(html) {
  const page = new DOMParser().parseFromString(html, "text/html");
  const main = page.querySelector("main");
  if (!main) return false;
  document.title = page.title;
  document.querySelector("main").replaceWith(main);
  initAll({ scope: main });
  enhanceImports(main);
  const focus = main.querySelector(".govuk-error-summary, h1");
  if (focus) {
    focus.setAttribute("tabindex", "-1");
    focus.focus();
  }
  return true;
}

function enhanceImports(root) {
  for (const form of root.querySelectorAll("form[data-upload-progress]")) enhanceImport(form);
}

function enhanceImport(form) {
  const box = document.getElementById(form.dataset.uploadProgress);
  if (!box) return;
  const bar = box.querySelector("progress");
  const label = box.querySelector("label");
  const status = box.querySelector("[role=status]");

  function show(text, done, size) {
    if (label.textContent !== text) {
      label.textContent = text;
      status.textContent = text + ". Keep this page open: nothing is written until every line has been checked.";
    }
    if (size > 0) {
      bar.max = size;
      bar.value = Math.min(done, size);
      bar.textContent = Math.floor((100 * bar.value) / size) + "%";
    }
  }

  // A failure: a GOV.UK error summary at the top of the page, announced and focused, the title
  // marked, and the buttons back for another try.
  function fail(message) {
    box.hidden = true;
    for (const button of form.querySelectorAll("button")) button.disabled = false;
    let summary = document.querySelector(".app-import-failed");
    if (!summary) {
      summary = document.createElement("div");
      summary.className = "govuk-error-summary app-import-failed";
      summary.setAttribute("tabindex", "-1");
      summary.innerHTML =
        '<div role="alert"><h2 class="govuk-error-summary__title">There is a problem</h2>' +
        '<div class="govuk-error-summary__body"><p class="govuk-body"></p></div></div>';
      (form.closest("[class*=govuk-grid-column]") || form.parentElement).prepend(summary);
    }
    summary.querySelector("p").textContent = message;
    if (!document.title.startsWith("Error: ")) document.title = "Error: " + document.title;
    summary.focus();
  }

  form.addEventListener("submit", (event) => {
    box.hidden = false;
    if (!window.XMLHttpRequest || !window.FormData || !window.DOMParser) return;
    event.preventDefault();
    const data = new FormData(form);
    if (event.submitter && event.submitter.name) data.append(event.submitter.name, event.submitter.value);
    for (const button of form.querySelectorAll("button")) button.disabled = true;
    const request = new XMLHttpRequest();
    let seen = 0;
    let finished = false;
    request.open("POST", form.action);
    request.setRequestHeader("Accept", "application/x-ndjson");
    request.upload.addEventListener("progress", (sent) => {
      show("Sending the file", sent.loaded, sent.lengthComputable ? sent.total : 0);
    });
    function readLines() {
      const type = request.getResponseHeader("Content-Type") || "";
      if (!type.startsWith("application/x-ndjson")) return;
      const text = request.responseText;
      let end;
      while ((end = text.indexOf("\n", seen)) !== -1) {
        const line = text.slice(seen, end);
        seen = end + 1;
        if (!line) continue;
        const message = JSON.parse(line);
        if (message.phase) show(PHASES[message.phase], message.done, message.size);
        if (message.page) finished = showPage(message.page);
        if (message.error) {
          finished = true;
          fail(message.error);
        }
      }
    }
    request.addEventListener("progress", readLines);
    request.addEventListener("load", () => {
      readLines();
      if (finished) return;
      // Not the import's stream (a refused form, a sign-in page, a limit): show what came back.
      if (!showPage(request.responseText)) fail("The file could not be sent. Try again.");
    });
    request.addEventListener("error", () => fail("The file could not be sent: check your connection and try again."));
    request.send(data);
  });
}

enhanceImports(document);

// The timeout warning: before the session lapses (it is renewed by every request), a dialog
// says so and counts down; "Stay signed in" asks the server once more, which renews it. At the
// end the person is taken to sign in again, and back to this page after.
function enhanceTimeout() {
  const dialog = document.getElementById("timeout-warning");
  if (!dialog || typeof dialog.showModal !== "function") return;
  const lifetime = Number(dialog.dataset.sessionSeconds) * 1000;
  const warnFor = Number(dialog.dataset.warnSeconds) * 1000;
  const left = dialog.querySelector(".app-timeout__left");
  let warnTimer, endTimer, tickTimer, endsAt;

  function say(milliseconds) {
    const seconds = Math.max(0, Math.round(milliseconds / 1000));
    const minutes = Math.ceil(seconds / 60);
    left.textContent = seconds > 60 ? `${minutes} minutes` : `${seconds} second${seconds === 1 ? "" : "s"}`;
  }

  function start() {
    clearTimeout(warnTimer);
    clearTimeout(endTimer);
    clearInterval(tickTimer);
    endsAt = Date.now() + lifetime;
    warnTimer = setTimeout(warn, Math.max(0, lifetime - warnFor));
    // A moment after the server's own lapse, so that the sign-in page finds it lapsed.
    endTimer = setTimeout(() => window.location.assign(dialog.dataset.signedOut), lifetime + 2000);
  }

  function warn() {
    say(endsAt - Date.now());
    dialog.showModal();
    tickTimer = setInterval(() => say(endsAt - Date.now()), 15000);
  }

  async function stay() {
    const answer = await fetch(dialog.dataset.keepAlive, { credentials: "same-origin" });
    if (dialog.open) dialog.close();
    if (answer.ok) start();
    else window.location.assign(dialog.dataset.signedOut);
  }

  dialog.querySelector(".app-timeout__stay").addEventListener("click", stay);
  dialog.addEventListener("cancel", (event) => {
    event.preventDefault(); // Escape is "stay signed in", never a silent sign-out
    stay();
  });
  start();
}

enhanceTimeout();
