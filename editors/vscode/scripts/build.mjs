// Bundles the extension (Node, CommonJS) and the panel script (browser, IIFE) with esbuild.
//   node scripts/build.mjs [--production] [--watch] [--tests]
import * as esbuild from 'esbuild';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const production = process.argv.includes('--production');
const watch = process.argv.includes('--watch');
const tests = process.argv.includes('--tests');

/** @type {esbuild.BuildOptions[]} */
const builds = [
  {
    entryPoints: [join(root, 'src/extension.ts')],
    outfile: join(root, 'dist/extension.js'),
    bundle: true, platform: 'node', format: 'cjs', target: 'node18',
    external: ['vscode'], sourcemap: !production, minify: production,
  },
  {
    entryPoints: [join(root, 'media/chat.js')],
    outfile: join(root, 'dist/webview.js'),
    bundle: true, platform: 'browser', format: 'iife', target: 'es2020',
    sourcemap: production ? false : 'inline', minify: production,
  },
];
if (tests) {
  const dir = join(root, 'test');
  builds.push({
    entryPoints: readdirSync(dir).filter((f) => f.endsWith('.test.ts')).map((f) => join(dir, f)),
    outdir: join(root, 'out/test'),
    bundle: true, platform: 'node', format: 'cjs', target: 'node20', sourcemap: 'inline',
    external: ['vscode'],
  });
}

for (const options of builds) {
  if (watch) {
    const ctx = await esbuild.context({ ...options, logLevel: 'info' });
    await ctx.watch();
  } else {
    await esbuild.build({ ...options, logLevel: 'warning' });
  }
}
