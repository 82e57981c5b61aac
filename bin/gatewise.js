#!/usr/bin/env node
// The compiled CLI lives in dist/; `npm run build` (run by npm start / npm test) produces it.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const main = new URL('../dist/src/cli/main.js', import.meta.url);
if (!existsSync(fileURLToPath(main))) {
  process.stderr.write('gatewise: dist/ is missing; run `npm run build` first\n');
  process.exit(2);
}
await import(main.href);
