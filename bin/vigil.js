#!/usr/bin/env node
// The `vigil` command. The code is compiled to dist/ by `npm ci` (the prepare script) or `npm run build`.
try {
  const { main } = await import('../dist/cli/main.js');
  await main(process.argv);
} catch (error) {
  if (error && error.code === 'ERR_MODULE_NOT_FOUND' && String(error.message).includes('dist/cli/main.js')) {
    process.stderr.write(
      'vigil: not built yet; run `npm ci` (or `npm run build`) in the Vigil folder first.\n',
    );
    process.exit(2);
  }
  throw error;
}
