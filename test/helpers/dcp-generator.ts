// Writes valid SMPTE or Interop DCPs with random MXF-named payloads, for tests and benchmarks larger than
// the fixtures. SHA-1s are computed with node:crypto while the bytes are written: this is test-data
// production; verification itself always goes through the engine.
import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';

export interface GenerateOptions {
  flavour?: 'smpte' | 'interop';        // default smpte
  title?: string;                       // default 'CINESWARM_TEST_FTR'
  assetSizes?: number[];                // bytes of each MXF; even index = picture, odd = sound, two per reel
  seed?: number;                        // deterministic ids and bytes when given
  encrypted?: boolean;                  // give every track file a KeyId (the bytes stay random either way)
  cplHashes?: boolean;                  // write <Hash> for track files in the CPL; default true
  signXml?: (xml: string) => string;    // signs the CPL and PKL text (see test-kdm.ts); default unsigned
}

export interface GeneratedAsset { id: string; path: string; kind: 'picture' | 'sound'; size: number; hash: string }

export interface GeneratedDcp {
  dir: string;
  files: string[];                      // absolute paths of every file written
  totalBytes: number;
  cplId: string;
  pklId: string;
  assets: GeneratedAsset[];             // the MXFs
  assetMapPath: string; volIndexPath: string; pklPath: string; cplPath: string;
}

const MiB = 1024 * 1024;
const CHUNK = 8 * MiB;

export async function generateDcp(dir: string, opts: GenerateOptions = {}): Promise<GeneratedDcp> {
  const flavour = opts.flavour ?? 'smpte';
  const title = opts.title ?? 'CINESWARM_TEST_FTR';
  const sizes = opts.assetSizes ?? [8 * MiB, 2 * MiB];
  const rng = makeRng(opts.seed);
  const uuid = (): string => formatUuid(rng.bytes(16));
  await fs.mkdir(dir, { recursive: true });

  const assets: GeneratedAsset[] = [];
  for (const [i, size] of sizes.entries()) {
    const id = uuid();
    const kind = i % 2 === 0 ? 'picture' : 'sound';
    const file = path.join(dir, `${kind === 'picture' ? 'j2c' : 'pcm'}_${id}.mxf`);
    assets.push({ id, path: file, kind, size, hash: await writeRandomFile(file, size, rng.bytes(32)) });
  }

  const cplId = uuid();
  const pklId = uuid();
  const date = '2026-01-01T12:00:00+00:00';
  const sign = opts.signXml ?? ((x: string) => x);
  const cplXml = sign(cplDocument(flavour, { id: cplId, title, date, assets, uuid, encrypted: !!opts.encrypted, hashes: opts.cplHashes ?? true }));
  const cplPath = path.join(dir, `CPL_${cplId}.xml`);
  await fs.writeFile(cplPath, cplXml);
  const cplHash = sha1b64(Buffer.from(cplXml));

  const pklXml = sign(pklDocument(flavour, { id: pklId, title, date, cpl: { id: cplId, path: cplPath, size: Buffer.byteLength(cplXml), hash: cplHash }, assets }));
  const pklPath = path.join(dir, `PKL_${pklId}.xml`);
  await fs.writeFile(pklPath, pklXml);

  const entries = [
    { id: pklId, path: pklPath, size: Buffer.byteLength(pklXml), pkl: true },
    { id: cplId, path: cplPath, size: Buffer.byteLength(cplXml), pkl: false },
    ...assets.map((a) => ({ id: a.id, path: a.path, size: a.size, pkl: false })),
  ];
  const assetMapPath = path.join(dir, flavour === 'smpte' ? 'ASSETMAP.xml' : 'ASSETMAP');
  await fs.writeFile(assetMapPath, assetMapDocument(flavour, { id: uuid(), title, date, entries }));
  const volIndexPath = path.join(dir, flavour === 'smpte' ? 'VOLINDEX.xml' : 'VOLINDEX');
  const volNs = flavour === 'smpte' ? 'http://www.smpte-ra.org/schemas/429-9/2007/AM' : 'http://www.digicine.com/PROTO-ASDCP-VL-20040311#';
  await fs.writeFile(volIndexPath, `<?xml version="1.0" encoding="UTF-8"?>\n<VolumeIndex xmlns="${volNs}">\n  <Index>1</Index>\n</VolumeIndex>\n`);

  const files = [assetMapPath, volIndexPath, pklPath, cplPath, ...assets.map((a) => a.path)];
  let totalBytes = 0;
  for (const f of files) totalBytes += (await fs.stat(f)).size;
  return { dir, files, totalBytes, cplId, pklId, assets, assetMapPath, volIndexPath, pklPath, cplPath };
}

/** AES-128-CTR keystream: fast, incompressible, and reproducible from a seed. */
async function writeRandomFile(file: string, size: number, keyMaterial: Buffer): Promise<string> {
  const cipher = crypto.createCipheriv('aes-128-ctr', keyMaterial.subarray(0, 16), keyMaterial.subarray(16, 32));
  const sha1 = crypto.createHash('sha1');
  const zeros = Buffer.alloc(Math.min(CHUNK, Math.max(size, 1)));
  const fh = await fs.open(file, 'w');
  try {
    for (let done = 0; done < size;) {
      const n = Math.min(zeros.length, size - done);
      const chunk = cipher.update(n === zeros.length ? zeros : zeros.subarray(0, n));
      sha1.update(chunk);
      await fh.write(chunk, 0, chunk.length);
      done += n;
    }
  } finally {
    await fh.close();
  }
  return sha1.digest('base64');
}

function makeRng(seed: number | undefined): { bytes: (n: number) => Buffer } {
  if (seed === undefined) return { bytes: (n) => crypto.randomBytes(n) };
  let counter = 0;
  return {
    bytes: (n) => {
      const out = crypto.createHash('sha256').update(`cineswarm-dcp-${seed}-${counter++}`).digest();
      return out.subarray(0, n);
    },
  };
}

function formatUuid(b: Buffer): string {
  const v = Buffer.from(b);
  v[6] = (v[6]! & 0x0f) | 0x40; // version 4
  v[8] = (v[8]! & 0x3f) | 0x80; // RFC 4122 variant
  const h = v.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

function sha1b64(b: Buffer): string {
  return crypto.createHash('sha1').update(b).digest('base64');
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

interface CplInput { id: string; title: string; date: string; assets: GeneratedAsset[]; uuid: () => string; encrypted: boolean; hashes: boolean }

function cplDocument(flavour: 'smpte' | 'interop', c: CplInput): string {
  const ns = flavour === 'smpte' ? 'http://www.smpte-ra.org/schemas/429-7/2006/CPL' : 'http://www.digicine.com/PROTO-ASDCP-CPL-20040511#';
  const reels: string[] = [];
  for (let i = 0; i < c.assets.length; i += 2) {
    const track = (a: GeneratedAsset): string => {
      const el = a.kind === 'picture' ? 'MainPicture' : 'MainSound';
      const extra = a.kind === 'picture'
        ? `        <FrameRate>24 1</FrameRate>\n        <ScreenAspectRatio>${flavour === 'smpte' ? '1998 1080' : '1.85'}</ScreenAspectRatio>\n`
        : '';
      return `      <${el}>\n        <Id>urn:uuid:${a.id}</Id>\n        <EditRate>24 1</EditRate>\n        <IntrinsicDuration>240</IntrinsicDuration>\n` +
        `        <EntryPoint>0</EntryPoint>\n        <Duration>240</Duration>\n` +
        (c.encrypted ? `        <KeyId>urn:uuid:${c.uuid()}</KeyId>\n` : '') +
        (c.hashes ? `        <Hash>${a.hash}</Hash>\n` : '') + extra + `      </${el}>\n`;
    };
    const tracks = c.assets.slice(i, i + 2).map(track).join('');
    reels.push(`  <Reel>\n    <Id>urn:uuid:${c.uuid()}</Id>\n    <AssetList>\n${tracks}    </AssetList>\n  </Reel>\n`);
  }
  const version = flavour === 'smpte'
    ? `<ContentVersion>\n    <Id>urn:uuid:${c.uuid()}</Id>\n    <LabelText>${esc(c.title)}</LabelText>\n  </ContentVersion>\n  `
    : '';
  return `<?xml version="1.0" encoding="UTF-8"?>\n<CompositionPlaylist xmlns="${ns}">\n  <Id>urn:uuid:${c.id}</Id>\n` +
    `  <AnnotationText>${esc(c.title)}</AnnotationText>\n  <IssueDate>${c.date}</IssueDate>\n  <Issuer>cineswarm</Issuer>\n` +
    `  <Creator>cineswarm test generator</Creator>\n  <ContentTitleText>${esc(c.title)}</ContentTitleText>\n` +
    `  <ContentKind>feature</ContentKind>\n  ${version}<RatingList/>\n  <ReelList>\n${reels.join('')}  </ReelList>\n</CompositionPlaylist>\n`;
}

interface PklInput { id: string; title: string; date: string; cpl: { id: string; path: string; size: number; hash: string }; assets: GeneratedAsset[] }

function pklDocument(flavour: 'smpte' | 'interop', p: PklInput): string {
  const ns = flavour === 'smpte' ? 'http://www.smpte-ra.org/schemas/429-8/2007/PKL' : 'http://www.digicine.com/PROTO-ASDCP-PKL-20040311#';
  const type = (kind: 'cpl' | 'picture' | 'sound'): string => {
    if (flavour === 'smpte') return kind === 'cpl' ? 'text/xml' : 'application/mxf';
    return kind === 'cpl' ? 'text/xml;asdcpKind=CPL' : `application/x-smpte-mxf;asdcpKind=${kind === 'picture' ? 'Picture' : 'Sound'}`;
  };
  const asset = (id: string, file: string, size: number, hash: string, kind: 'cpl' | 'picture' | 'sound'): string =>
    `    <Asset>\n      <Id>urn:uuid:${id}</Id>\n      <Hash>${hash}</Hash>\n      <Size>${size}</Size>\n      <Type>${type(kind)}</Type>\n` +
    `      <OriginalFileName>${esc(path.basename(file))}</OriginalFileName>\n    </Asset>\n`;
  const list = asset(p.cpl.id, p.cpl.path, p.cpl.size, p.cpl.hash, 'cpl') + p.assets.map((a) => asset(a.id, a.path, a.size, a.hash, a.kind)).join('');
  return `<?xml version="1.0" encoding="UTF-8"?>\n<PackingList xmlns="${ns}">\n  <Id>urn:uuid:${p.id}</Id>\n` +
    `  <AnnotationText>${esc(p.title)}</AnnotationText>\n  <IssueDate>${p.date}</IssueDate>\n  <Issuer>cineswarm</Issuer>\n` +
    `  <Creator>cineswarm test generator</Creator>\n  <AssetList>\n${list}  </AssetList>\n</PackingList>\n`;
}

interface AmInput { id: string; title: string; date: string; entries: { id: string; path: string; size: number; pkl: boolean }[] }

function assetMapDocument(flavour: 'smpte' | 'interop', m: AmInput): string {
  const ns = flavour === 'smpte' ? 'http://www.smpte-ra.org/schemas/429-9/2007/AM' : 'http://www.digicine.com/PROTO-ASDCP-AM-20040311#';
  const flag = flavour === 'smpte' ? '      <PackingList>true</PackingList>\n' : '      <PackingList/>\n';
  const assets = m.entries.map((e) =>
    `    <Asset>\n      <Id>urn:uuid:${e.id}</Id>\n${e.pkl ? flag : ''}      <ChunkList>\n        <Chunk>\n` +
    `          <Path>${esc(path.basename(e.path))}</Path>\n          <VolumeIndex>1</VolumeIndex>\n          <Offset>0</Offset>\n` +
    `          <Length>${e.size}</Length>\n        </Chunk>\n      </ChunkList>\n    </Asset>\n`).join('');
  // Element order differs between the two flavours (ST 429-9 puts Creator first).
  const head = flavour === 'smpte'
    ? `  <Creator>cineswarm test generator</Creator>\n  <VolumeCount>1</VolumeCount>\n  <IssueDate>${m.date}</IssueDate>\n  <Issuer>cineswarm</Issuer>\n`
    : `  <VolumeCount>1</VolumeCount>\n  <IssueDate>${m.date}</IssueDate>\n  <Issuer>cineswarm</Issuer>\n  <Creator>cineswarm test generator</Creator>\n`;
  return `<?xml version="1.0" encoding="UTF-8"?>\n<AssetMap xmlns="${ns}">\n  <Id>urn:uuid:${m.id}</Id>\n` +
    `  <AnnotationText>${esc(m.title)}</AnnotationText>\n${head}  <AssetList>\n${assets}  </AssetList>\n</AssetMap>\n`;
}
