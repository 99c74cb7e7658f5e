// `cineswarm firmware`: make a signing key, build a signed firmware bundle, and publish a
// bundle on the central server so agents can fetch it.
import { createPrivateKey, createPublicKey } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { packBundle, stageApp } from '../firmware/bundle.js';
import { parsePen } from '../firmware/mib-pen.js';
import { generateKeyFiles } from '../firmware/sign.js';
import { checkBundleSize } from '../firmware/install.js';
import { FirmwareError } from '../firmware/errors.js';
import { ApiError, ServerClient, type FirmwareInfo } from '../protocol/index.js';

const HELP = `usage: cineswarm firmware keygen DIR
       cineswarm firmware build --key FILE [--version V] [--out DIR] [--repo DIR] [--runtime DIR] [--no-node-modules] [--mib-pen N]
       cineswarm firmware publish BUNDLE --server URL (--token TOKEN | --token-file FILE)

keygen    writes a new Ed25519 key pair into DIR (firmware-ed25519.pem, private, mode 0600;
          firmware-ed25519.pub.pem, public). Never commit the private key.
build     stages the compiled JavaScript (dist/), the native addon (build/Release/*.node),
          production node_modules and rootfs/, writes manifest.json (version, createdAt,
          SHA-256 of every file), packs OUT/cineswarm-<version>.tar.gz and signs it into
          OUT/cineswarm-<version>.tar.gz.sig, with OUT/install-image.sh for a first install
          (install-image.sh BUNDLE PUBLIC_KEY [ROOT]). --version defaults to package.json's version;
          --out defaults to dist/image. The public key is shipped as the appliance's trusted key.
          --mib-pen N puts the vendor's IANA Private Enterprise Number into the image's MIB and
          snmpd drop-in (without it, the MIB's placeholder 0 stays).
          --runtime DIR ships the Node.js installed in DIR (its bin/node) as the release's own
          runtime, which bin/cineswarm and so the systemd units then use; make image passes the
          pinned runtime. Without it the release runs on the system's node.
publish   uploads a bundle and its signature (BUNDLE.sig) to the central server, which
          then offers it to agents at GET /api/firmware/latest. Uploading needs the
          server's admin token: the content of DATA/admin-token on the server.`;

const PACKAGE_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

async function keygen(positionals: string[]): Promise<number> {
  if (positionals.length !== 1) {
    process.stderr.write('cineswarm firmware keygen: give the directory for the key pair\n');
    return 2;
  }
  try {
    const files = await generateKeyFiles(positionals[0]!);
    process.stdout.write(`private key: ${files.privateKey}\npublic key:  ${files.publicKey}\n`);
    return 0;
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    process.stderr.write(`cineswarm firmware keygen: ${e.code === 'EEXIST' ? `a key pair already exists in ${positionals[0]}; not overwritten` : e.message}\n`);
    return 1;
  }
}

async function build(argv: string[]): Promise<number> {
  const { values: v } = parseArgs({
    args: argv,
    options: {
      key: { type: 'string' },
      version: { type: 'string' },
      out: { type: 'string' },
      repo: { type: 'string', default: PACKAGE_ROOT },
      'no-node-modules': { type: 'boolean', default: false },
      'mib-pen': { type: 'string' },
      runtime: { type: 'string' },
    },
  });
  if (!v.key) {
    process.stderr.write('cineswarm firmware build: --key FILE (the Ed25519 private key) is required\n');
    return 2;
  }
  let mibPen: number | undefined;
  try {
    mibPen = v['mib-pen'] === undefined || v['mib-pen'] === '' ? undefined : parsePen(v['mib-pen']);
  } catch (err) {
    process.stderr.write(`cineswarm firmware build: ${(err as Error).message}\n`);
    return 2;
  }
  const repo = path.resolve(v.repo!);
  const privateKeyPem = await fs.readFile(v.key);
  const publicKeyPem = createPublicKey(createPrivateKey(privateKeyPem)).export({ type: 'spki', format: 'pem' });
  const version = v.version ?? (JSON.parse(await fs.readFile(path.join(repo, 'package.json'), 'utf8')) as { version: string }).version;
  const outDir = path.resolve(v.out ?? path.join(repo, 'dist', 'image'));
  await fs.mkdir(outDir, { recursive: true });
  // Staged outside the repository: the default output dir lies inside dist/, which is staged.
  const stageDir = await fs.mkdtemp(path.join(os.tmpdir(), 'cineswarm-stage-'));
  try {
    await stageApp({
      repoRoot: repo,
      stageDir,
      nodeModules: v['no-node-modules'] ? 'none' : 'production',
      runtimeDir: v.runtime ? path.resolve(v.runtime) : undefined,
      mibPen,
    });
    const built = await packBundle({ stageDir, version, privateKeyPem, publicKeyPem, outDir });
    // The first-install script travels beside the bundle: it runs before any cineswarm exists.
    await fs.copyFile(path.join(repo, 'src', 'firmware', 'install-image.sh'), path.join(outDir, 'install-image.sh'));
    await fs.chmod(path.join(outDir, 'install-image.sh'), 0o755);
    process.stdout.write(`${built.archive}\n${built.signature}\n${Object.keys(built.manifest.files).length} files, version ${version}\n`);
    return 0;
  } finally {
    await fs.rm(stageDir, { recursive: true, force: true });
  }
}

async function publish(argv: string[]): Promise<number> {
  const { values: v, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { server: { type: 'string' }, token: { type: 'string' }, 'token-file': { type: 'string' }, signature: { type: 'string' } },
  });
  if (positionals.length !== 1 || !v.server) {
    process.stderr.write('cineswarm firmware publish: give BUNDLE and --server URL\n');
    return 2;
  }
  const token = v.token ?? (v['token-file'] ? (await fs.readFile(v['token-file'], 'utf8')).trim() : undefined);
  if (!token) {
    process.stderr.write("cineswarm firmware publish: --token or --token-file is required (the server's DATA/admin-token)\n");
    return 2;
  }
  const bundle = positionals[0]!;
  try {
    await checkBundleSize(bundle);
  } catch (err) {
    if (!(err instanceof FirmwareError)) throw err;
    process.stderr.write(`cineswarm firmware publish: ${err.message}\n`);
    return 1;
  }
  const body = await fs.readFile(bundle);
  const signature = (await fs.readFile(v.signature ?? `${bundle}.sig`, 'utf8')).trim();
  let info: FirmwareInfo;
  try {
    info = await new ServerClient(v.server).publishFirmware({ bearer: token }, body, signature);
  } catch (err) {
    if (!(err instanceof ApiError) || err.status === undefined) throw err;
    process.stderr.write(`cineswarm firmware publish: the server refused the bundle (${err.status} ${err.error ?? ''}): ${err.serverMessage ?? err.message}\n`);
    return 1;
  }
  process.stdout.write(`published firmware ${info.version} on ${v.server}\n`);
  return 0;
}

export async function run(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (!sub || sub === '--help' || sub === '-h') {
    process.stdout.write(HELP + '\n');
    return sub ? 0 : 2;
  }
  try {
    if (sub === 'keygen') return await keygen(rest);
    if (sub === 'build') return await build(rest);
    if (sub === 'publish') return await publish(rest);
  } catch (err) {
    const e = err as Error & { code?: string };
    process.stderr.write(`cineswarm firmware ${sub}: ${e.message}${e.code ? ` [${e.code}]` : ''}\n`);
    return 1;
  }
  process.stderr.write(`cineswarm firmware: unknown sub-command '${sub}'\n${HELP}\n`);
  return 2;
}
