// Builds ap_register/static/ from assets/ and the govuk-frontend package: one CSS file compiled with
// Dart Sass (the pkg: importer finds govuk-frontend in node_modules), the GOV.UK JavaScript
// bundle, the accessible autocomplete (pupil search and settings lists), our own module script and our own images (not GOV.UK's: no crown here). Run by `npm run build` at set-up.
import { cpSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as sass from "sass";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const out = join(root, "ap_register", "static");
const govuk = join(root, "node_modules", "govuk-frontend", "dist", "govuk");
const autocomplete = join(root, "node_modules", "accessible-autocomplete", "dist");

mkdirSync(join(out, "css"), { recursive: true });
mkdirSync(join(out, "js"), { recursive: true });

const css = sass.compile(join(root, "assets", "scss", "main.scss"), {
  style: "compressed",
  importers: [new sass.NodePackageImporter()],
  quietDeps: true,
  silenceDeprecations: ["import"],
});
// The accessible autocomplete's own styles follow ours in the one file (its classes are its own).
const autocompleteCss = readFileSync(join(autocomplete, "accessible-autocomplete.min.css"), "utf8");
writeFileSync(join(out, "css", "main.css"), css.css + "\n" + autocompleteCss.replace(/\/\*# sourceMappingURL=.*\*\//, ""));

cpSync(join(govuk, "govuk-frontend.min.js"), join(out, "js", "govuk-frontend.min.js"));
cpSync(join(autocomplete, "accessible-autocomplete.min.js"), join(out, "js", "accessible-autocomplete.min.js"));
cpSync(join(root, "assets", "js"), join(out, "js"), { recursive: true });
cpSync(join(root, "assets", "images"), join(out, "images"), { recursive: true });
console.log("assets built in ap_register/static/");
