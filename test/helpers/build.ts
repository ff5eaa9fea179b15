import { execFileSync } from 'node:child_process';

/** The CLI tests run the real `vigil` command, so the compiled output must match the sources. */
export default function setup(): void {
  execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'], {
    stdio: 'inherit',
  });
}
