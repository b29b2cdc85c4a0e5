// The console's front end: one script and one style sheet, bundled by esbuild. An installed
// package serves what `npm run build` wrote to dist/console/ (scripts/bundle-console.mjs). Run from
// a checkout (tsx, tests before a build), the sources in src/console/app/ are there too: when they
// are newer than dist/console/ (or it is missing), the server bundles them in memory once, on the
// first request, so what it serves always matches the sources without a build step.
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface ConsoleAssets {
  script: string;
  style: string;
}

/** The project folder: the nearest one above this module with a package.json (source, dist/src and the CLI bundle all sit under it). */
export function projectRoot(): string {
  let directory = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(directory, 'package.json'))) return directory;
    const parent = dirname(directory);
    if (parent === directory) throw new Error('the console cannot find its package folder');
    directory = parent;
  }
}

let loaded: Promise<ConsoleAssets> | undefined;

/** The bundle to serve, built at most once per process. */
export function consoleAssets(): Promise<ConsoleAssets> {
  loaded ??= loadAssets(projectRoot());
  loaded.catch(() => (loaded = undefined));
  return loaded;
}

async function loadAssets(root: string): Promise<ConsoleAssets> {
  const sources = join(root, 'src', 'console', 'app');
  const built = join(root, 'dist', 'console');
  const script = join(built, 'app.js');
  const style = join(built, 'app-style.css');
  const fresh = existsSync(script) && existsSync(style) && (!existsSync(sources) || newestChange(sources) <= Math.min(statSync(script).mtimeMs, statSync(style).mtimeMs));
  if (fresh) return { script: readFileSync(script, 'utf8'), style: readFileSync(style, 'utf8') };
  if (!existsSync(sources)) throw new Error(`the console's front end is not built: ${script} is missing (run npm run build)`);
  return bundleInMemory(sources);
}

function newestChange(directory: string): number {
  let newest = 0;
  for (const entry of readdirSync(directory, { withFileTypes: true })) {
    const path = join(directory, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestChange(path) : statSync(path).mtimeMs);
  }
  return newest;
}

/** The same build as scripts/bundle-console.mjs, kept in memory. esbuild is a devDependency: only a checkout has it, and only a checkout gets here. */
async function bundleInMemory(sources: string): Promise<ConsoleAssets> {
  // A specifier in a variable: the CLI bundle leaves it to require() at run time instead of inlining esbuild.
  const name = 'esbuild';
  const esbuild = (await import(name)) as typeof import('esbuild');
  const result = await esbuild.build({
    entryPoints: [join(sources, 'main.tsx'), join(sources, 'style.css')],
    bundle: true,
    write: false,
    outdir: '/console-bundle',
    format: 'iife',
    target: 'es2022',
    minify: true,
    logLevel: 'silent',
  });
  const file = (extension: string) => result.outputFiles.find((output) => output.path.endsWith(extension))?.text ?? '';
  return { script: file('.js'), style: file('.css') };
}
