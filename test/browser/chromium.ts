/**
 * The browser of the browser suites: the headless Chromium that ships inside the
 * `@sparticuz/chromium` npm package (so `npm ci` is all a machine needs), or any other binary named
 * by `CHROMIUM_PATH` (e.g. Debian's: `apt-get install -y chromium`, then
 * `CHROMIUM_PATH=/usr/bin/chromium`). Driven by playwright-core.
 *
 * The packaged browser is unpacked once per package version into the temp dir, with the shared
 * libraries the package bundles for Amazon Linux (NSS, NSPR, expat) and its fonts, and it always
 * runs on those bundled libraries: then it needs nothing from the system but glibc and libgcc, which
 * every Linux with Node.js has, and behaves the same on a bare machine as on a desktop.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type BrowserContext, chromium, type LaunchOptions } from 'playwright-core';

/**
 * Headless flags. From @sparticuz/chromium's recommended `args`, only those that change nothing a
 * test looks at: never `--disable-web-security` and friends, since the suites check CORS.
 */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--no-zygote',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-domain-reliability',
  '--disable-sync',
  '--no-first-run',
  '--no-pings',
  '--font-render-hinting=none',
];

/** A fake microphone that needs no permission prompt (MediaRecorder tests). */
export const FAKE_MEDIA_ARGS = ['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream'];

export interface ChromiumBinary {
  executablePath: string;
  /** Environment of the browser process (the bundled libraries and fonts for the packaged one). */
  env: Record<string, string>;
  /** Where it came from, for messages. */
  source: string;
}

const require = createRequire(import.meta.url);

/** The packaged browser's folder: unpacked on first use, shared by later runs and test files. */
async function unpackPackaged(): Promise<ChromiumBinary> {
  const packageDir = path.resolve(path.dirname(require.resolve('@sparticuz/chromium')), '..');
  const { version } = JSON.parse(await readFile(path.join(packageDir, 'package.json'), 'utf8')) as { version: string };
  const root = path.join(tmpdir(), `chat-test-chromium-${version}`);
  const done = path.join(root, '.complete');
  if (!existsSync(done)) {
    // Unpack into a private folder, then rename it into place: test files that start at the same
    // time each unpack their own copy, and none ever sees a half-written binary.
    const staging = await mkdtemp(`${root}.partial-`);
    await unpackInto(staging, path.join(packageDir, 'bin'), root);
    await writeFile(path.join(staging, '.complete'), version);
    await rename(staging, root).catch(async (error: NodeJS.ErrnoException) => {
      await rm(staging, { recursive: true, force: true });
      if (!existsSync(done)) throw error;
    });
  }
  return {
    executablePath: path.join(root, 'chromium'),
    env: {
      LD_LIBRARY_PATH: [path.join(root, 'al2023', 'lib'), process.env.LD_LIBRARY_PATH].filter(Boolean).join(':'),
      FONTCONFIG_FILE: path.join(root, 'fonts.conf'),
    },
    source: `@sparticuz/chromium ${version} (${root})`,
  };
}

/**
 * The package unpacks into `os.tmpdir()`, so TMPDIR points at `dir` for the time it takes. `root`
 * is where `dir` will be renamed to.
 */
async function unpackInto(dir: string, binDir: string, root: string): Promise<void> {
  const previous = process.env.TMPDIR;
  process.env.TMPDIR = dir;
  try {
    const { default: Chromium, inflate } = await import('@sparticuz/chromium');
    await Chromium.executablePath(binDir);
    await inflate(path.join(binDir, 'al2023.tar.br'));
  } finally {
    if (previous === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = previous;
  }
  // The package's own fonts.conf names fixed folders under /tmp; this one names the unpacked fonts.
  await writeFile(
    path.join(dir, 'fonts.conf'),
    [
      '<?xml version="1.0"?>',
      '<!DOCTYPE fontconfig SYSTEM "fonts.dtd">',
      '<fontconfig>',
      `  <dir>${path.join(root, 'fonts')}</dir>`,
      `  <cachedir>${path.join(root, 'fonts-cache')}</cachedir>`,
      '</fontconfig>',
      '',
    ].join('\n'),
  );
}

/** `CHROMIUM_PATH` if set, else the packaged browser. */
export async function chromiumBinary(): Promise<ChromiumBinary> {
  const override = process.env.CHROMIUM_PATH;
  if (override) {
    if (!existsSync(override)) throw new Error(`CHROMIUM_PATH=${override} does not exist`);
    return { executablePath: override, env: {}, source: `CHROMIUM_PATH (${override})` };
  }
  return unpackPackaged();
}

function launchOptions(binary: ChromiumBinary, extraArgs: string[]): LaunchOptions {
  return {
    executablePath: binary.executablePath,
    headless: true,
    args: [...CHROMIUM_ARGS, ...extraArgs],
    env: { ...process.env, ...binary.env } as Record<string, string>,
    timeout: 60_000,
  };
}

export interface LaunchedContext {
  context: BrowserContext;
  /** Closes the browser and removes its profile folder. */
  close(): Promise<void>;
}

/** A browser with its own profile folder. */
export async function launchContext(
  options: { extraArgs?: string[]; viewport?: { width: number; height: number }; permissions?: string[] } = {},
): Promise<LaunchedContext> {
  const binary = await chromiumBinary();
  const userDataDir = await mkdtemp(path.join(tmpdir(), 'chat-browser-profile-'));
  const removeProfile = () => rm(userDataDir, { recursive: true, force: true });
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(userDataDir, {
      ...launchOptions(binary, options.extraArgs ?? []),
      viewport: options.viewport ?? { width: 1280, height: 820 },
      permissions: options.permissions,
    });
  } catch (error) {
    await removeProfile();
    throw new Error(`Could not launch ${binary.source}: ${(error as Error).message}`);
  }
  return {
    context,
    close: async () => {
      await context.close().catch(() => undefined);
      await removeProfile();
    },
  };
}
