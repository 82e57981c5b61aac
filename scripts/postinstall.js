// Builds dist/ after `npm ci` so that `npx gatewise` works straight away in a checkout.
// Skipped when gatewise is installed as a dependency (dist/ then ships in the package).
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

if (existsSync('tsconfig.json') && existsSync('node_modules/typescript')) {
  execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.json'], { stdio: 'inherit' });
}
