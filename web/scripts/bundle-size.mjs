// The JavaScript each first page loads, gzip-compressed, against the goal of issue 13: the entry with what
// it imports statically, plus the page's own lazy chunk and its imports. Every other chunk loads later.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";

const GOAL_KB = 150;
const dist = new URL("../dist/", import.meta.url).pathname;
const manifest = JSON.parse(readFileSync(join(dist, ".vite/manifest.json"), "utf8"));
const FIRST_PAGES = {
  "sign-in": ["src/auth/SignInForms.tsx"],
  contacts: ["src/pages/Contacts.tsx"],
  deals: ["src/pages/Deals.tsx"],
};

function chunks(key, seen = new Set()) {
  const entry = manifest[key];
  if (!entry || seen.has(entry.file)) return seen;
  seen.add(entry.file);
  for (const imported of entry.imports ?? []) chunks(imported, seen);
  return seen;
}

const gzipKb = (file) => gzipSync(readFileSync(join(dist, file)), { level: 9 }).length / 1024;
let worst = 0;
for (const [page, lazyChunks] of Object.entries(FIRST_PAGES)) {
  const files = new Set(chunks("index.html"));
  for (const key of lazyChunks) chunks(key, files);
  const kb = [...files].reduce((sum, file) => sum + gzipKb(file), 0);
  worst = Math.max(worst, kb);
  console.log(`first-page JavaScript, ${page}: ${kb.toFixed(1)} KB gzip in ${files.size} files`);
}
console.log(`goal: <= ${GOAL_KB} KB gzip`);
if (worst > GOAL_KB) {
  console.error("over the goal: split the code a first page does not need into lazy chunks");
  process.exit(1);
}
