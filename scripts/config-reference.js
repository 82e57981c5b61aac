// Prints the configuration reference (Markdown) from the schema's own descriptions and defaults:
// `node scripts/config-reference.js > docs/config-reference.md` after `npm run build`.
import { renderConfigReference } from '../dist/src/config/reference.js';

process.stdout.write(renderConfigReference());
