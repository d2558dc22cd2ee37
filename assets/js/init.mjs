// Start GOV.UK Frontend's components. A module file, so the Content-Security-Policy needs
// no inline script.
import { initAll } from "./govuk-frontend.min.js";
// A UMD bundle: imported for its effect, it sets window.accessibleAutocomplete.
import "./accessible-autocomplete.min.js";

// What a person typed and chose; never a password, a file or the page's own hidden fields.
const NOT_ANSWERS = new Set(["hidden", "password", "file", "submit", "button", "reset"]);
restoreKeptAnswers(); // before GOV.UK's components start, so that conditional parts follow the answers
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
  enhanceAutocompletes(main);
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

  // Back to this page, with its query (a register's day and half), after signing in again; the
  // page itself never writes its query out (a search can hold a UPN).
  function signedOut() {
    const url = new URL(dialog.dataset.signedOut, window.location.href);
    url.searchParams.set("next", window.location.pathname + window.location.search);
    return url.pathname + url.search;
  }

  function say(milliseconds) {
    const seconds = Math.max(0, Math.round(milliseconds / 1000));
    const minutes = Math.ceil(seconds / 60);
    left.textContent = seconds > 60 ? `${minutes} minutes` : `${seconds} second${seconds === 1 ? "" : "s"}`;
  }

  // The session lasts `left` from now (all of it, unless the server said otherwise).
  function start(left = lifetime) {
    clearTimeout(warnTimer);
    clearTimeout(endTimer);
    clearInterval(tickTimer);
    endsAt = Date.now() + left;
    warnTimer = setTimeout(warn, Math.max(0, left - warnFor));
    // A few seconds before the server's own lapse: keep a half-done form's answers (which
    // signs the person out), or else wait for the lapse and show the sign-in page.
    endTimer = setTimeout(lapse, Math.max(0, left - 5000));
  }

  async function lapse() {
    const form = changedForm();
    if (form) {
      try {
        const answer = await fetch(dialog.dataset.keepAnswers, {
          method: "POST",
          credentials: "same-origin",
          headers: {
            "Content-Type": "application/json",
            "X-CSRFToken": dialog.querySelector("input[name=csrf_token]").value,
          },
          body: JSON.stringify({
            path: window.location.pathname + window.location.search,
            action: pathOf(form.action),
            fields: answersOf(form),
          }),
          redirect: "manual", // already lapsed: a sign-in page is not "kept"
        });
        if (answer.status === 409) {
          // Still in use in another tab: not lapsing after all; it lapses when the server says.
          if (dialog.open) dialog.close();
          const { seconds_left: left } = await answer.json();
          start(Math.max(10, Number(left) || 0) * 1000);
          return;
        }
        if (answer.status === 204) {
          window.location.assign(signedOut());
          return;
        }
      } catch {
        // Not kept (the connection): the lapse goes on as it would have.
      }
    }
    setTimeout(() => window.location.assign(signedOut()), 7000);
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
    else window.location.assign(signedOut());
  }

  dialog.querySelector(".app-timeout__stay").addEventListener("click", stay);
  dialog.addEventListener("cancel", (event) => {
    event.preventDefault(); // Escape is "stay signed in", never a silent sign-out
    stay();
  });
  start();
}

enhanceTimeout();

// Autocompletes (GOV.UK's accessible autocomplete). Two kinds, both working without the script:
// a select of settings becomes a box where typing part of a name narrows the list; a UPN box
// becomes a pupil search, where typing a name (or part of a UPN) suggests the pupils this person
// may see and choosing one puts that pupil's UPN in the box. What is typed is always sent as it is.
const autocomplete = window.accessibleAutocomplete;

function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

// The component draws its own input; keep the GOV.UK hint and error message read with it.
function keepDescribedBy(input, ids) {
  if (!input || ids.length === 0) return;
  const apply = () => {
    const now = (input.getAttribute("aria-describedby") || "").split(" ").filter(Boolean);
    const wanted = [...new Set([...now, ...ids])].join(" ");
    if (input.getAttribute("aria-describedby") !== wanted) input.setAttribute("aria-describedby", wanted);
  };
  new MutationObserver(apply).observe(input, { attributes: true, attributeFilter: ["aria-describedby"] });
  apply();
}

function describedBy(element) {
  return (element.getAttribute("aria-describedby") || "").split(" ").filter(Boolean);
}

function markError(input, hadError) {
  if (input && hadError) input.classList.add("app-autocomplete__input--error");
}

function enhanceSettingSelect(select) {
  const id = select.id;
  const ids = describedBy(select);
  const hadError = select.classList.contains("govuk-select--error");
  const blank = [...select.options].find((option) => option.value === "");
  const chosen = select.options[select.selectedIndex];
  autocomplete.enhanceSelectElement({
    selectElement: select,
    defaultValue: chosen && chosen.value !== "" ? chosen.textContent : "",
    showAllValues: true,
    // Nothing chosen for the person: leaving a box emptied or half typed must not pick the
    // first setting in the list.
    autoselect: false,
    dropdownArrow: () => "",
    tNoResults: () => "No setting has that name",
    // A setting's name is text (it may come from a file): never markup in the list.
    templates: { inputValue: (name) => name || "", suggestion: (name) => escapeHtml(name || "") },
    // On choosing, or on leaving the box: the option whose name is in the box, else the one
    // setting whose name holds what was typed, else none (the blank choice: clearing the box
    // clears the answer, and a name that fits several is asked for again, never guessed).
    onConfirm: (choice) => {
      const typed = (choice !== undefined ? choice : document.getElementById(id).value).trim().toLowerCase();
      const named = [...select.options].filter((option) => option.value !== "");
      const exact = named.filter((option) => option.textContent.toLowerCase() === typed);
      const partial = named.filter((option) => typed && option.textContent.toLowerCase().includes(typed));
      const match = exact.length === 1 ? exact[0] : partial.length === 1 ? partial[0] : blank;
      if (match) match.selected = true;
    },
  });
  const input = document.getElementById(id);
  keepDescribedBy(input, ids);
  markError(input, hadError);
}

function enhancePupilSearch(box) {
  const wrapper = document.createElement("div");
  const ids = describedBy(box);
  const hadError = box.classList.contains("govuk-input--error");
  const source = box.dataset.source;
  let asked = 0;
  let failed = false;
  let timer;
  box.parentNode.insertBefore(wrapper, box);
  box.remove();
  autocomplete({
    element: wrapper,
    id: box.id,
    name: box.name,
    defaultValue: box.value,
    minLength: 2,
    confirmOnBlur: false,
    tNoResults: () =>
      failed ? "The search is not available just now: type the whole UPN" : "No pupil you may see matches",
    tStatusQueryTooShort: (minQueryLength) => `Type ${minQueryLength} or more letters of a name, or a whole UPN`,
    templates: {
      // The box starts with what was typed before (a string), then holds suggestions (pupils).
      inputValue: (pupil) => (pupil && typeof pupil === "object" ? pupil.upn : pupil || ""),
      suggestion: (pupil) =>
        pupil && typeof pupil === "object"
          ? `${escapeHtml(pupil.name)} <span class="app-autocomplete__detail">${escapeHtml(pupil.upn)}, ${escapeHtml(pupil.school)}</span>`
          : escapeHtml(pupil || ""),
    },
    // A short wait after each key, and only the latest answer shown.
    source: (query, populate) => {
      clearTimeout(timer);
      const mine = ++asked;
      timer = setTimeout(async () => {
        try {
          const answer = await fetch(`${source}?q=${encodeURIComponent(query)}`, {
            credentials: "same-origin",
            headers: { Accept: "application/json" },
          });
          const found = answer.ok ? (await answer.json()).pupils : null;
          if (mine !== asked) return;
          failed = !Array.isArray(found);
          populate(failed ? [] : found);
        } catch {
          if (mine !== asked) return;
          failed = true;
          populate([]);
        }
      }, 150);
    },
  });
  const input = document.getElementById(box.id);
  keepDescribedBy(input, ids);
  markError(input, hadError);
  // Enter with the list open and nothing in it chosen searches for what was typed, as the box
  // did before the list (the component would otherwise keep the key to itself).
  input.addEventListener("keydown", (event) => {
    if (event.key !== "Enter" || !input.form) return;
    if (input.getAttribute("aria-expanded") === "true" && !input.getAttribute("aria-activedescendant")) {
      event.preventDefault();
      input.form.requestSubmit();
    }
  });
}

function enhanceAutocompletes(root) {
  if (typeof autocomplete !== "function") return;
  for (const select of root.querySelectorAll('select[data-module="app-autocomplete"]')) enhanceSettingSelect(select);
  for (const box of root.querySelectorAll('input[data-module="app-pupil-search"]')) enhancePupilSearch(box);
}

enhanceAutocompletes(document);

// Answers kept across a lapsed session: the form on the page that a person has changed is sent
// (as name and value pairs, files and the page's own tokens left out) just before the lapse; on
// signing in again the page carries them back (#kept-answers) and they are put in the form.
// A form with a secret in it (a password, shown or not; a sign-in code) is never kept.
const SECRETS =
  "input[type=file], input[type=password], [data-module=govuk-password-input], input[autocomplete*=password], input[autocomplete=one-time-code]";

function pathOf(address) {
  const url = new URL(address, window.location.href);
  return url.pathname + url.search;
}

function changedForm() {
  for (const form of document.querySelectorAll("main form")) {
    if (form.method !== "post" || form.querySelector(SECRETS)) continue;
    for (const element of form.elements) {
      if (!element.name || NOT_ANSWERS.has(element.type)) continue;
      if (element.type === "checkbox" || element.type === "radio") {
        if (element.checked !== element.defaultChecked) return form;
      } else if (element.tagName === "SELECT") {
        if ([...element.options].some((option) => option.selected !== option.defaultSelected)) return form;
      } else if ("defaultValue" in element && element.value !== element.defaultValue) {
        return form;
      }
    }
  }
  return null;
}

function answersOf(form) {
  const fields = [];
  for (const element of form.elements) {
    if (!element.name || element.disabled || NOT_ANSWERS.has(element.type)) continue;
    if (element.type === "checkbox" || element.type === "radio") {
      if (element.checked) fields.push([element.name, element.value]);
    } else if (element.tagName === "SELECT") {
      for (const option of element.selectedOptions) fields.push([element.name, option.value]);
    } else if ("value" in element) {
      fields.push([element.name, element.value]);
    }
  }
  return fields;
}

function restoreKeptAnswers() {
  const data = document.getElementById("kept-answers");
  if (!data) return;
  let kept;
  try {
    kept = JSON.parse(data.textContent);
  } catch {
    return;
  }
  // Only into the form they came from (the page may have several): else nowhere.
  const form = [...document.querySelectorAll("main form")].find(
    (candidate) => candidate.method === "post" && pathOf(candidate.action) === kept.action,
  );
  if (!form || !Array.isArray(kept.fields)) return;
  const values = new Map();
  for (const [name, value] of kept.fields) values.set(name, [...(values.get(name) || []), value]);
  for (const element of form.elements) {
    if (!element.name || NOT_ANSWERS.has(element.type)) continue;
    const mine = values.get(element.name) || [];
    if (element.type === "checkbox" || element.type === "radio") {
      element.checked = mine.includes(element.value);
    } else if (element.tagName === "SELECT") {
      for (const option of element.options) option.selected = mine.includes(option.value);
    } else if ("value" in element && element.type !== "submit" && element.type !== "button") {
      element.value = mine.length > 0 ? mine.shift() : "";
    }
  }
  const banner = document.getElementById("kept-answers-banner");
  if (banner) {
    banner.hidden = false;
    banner.setAttribute("tabindex", "-1");
    banner.focus();
  }
}
