// Asset-map paths: only relative paths that stay inside the DCP folder are ever resolved.
import test from 'ava';
import path from 'node:path';
import { resolveAssetPath } from '../../src/dcp/paths.js';

const ROOT = '/srv/dcp/FILM';

test('relative paths, subfolders and file:// prefixes resolve inside the folder', (t) => {
  t.deepEqual(resolveAssetPath(ROOT, 'video.mxf'), { ok: true, rel: 'video.mxf', abs: path.join(ROOT, 'video.mxf') });
  t.deepEqual(resolveAssetPath(ROOT, 'b9b10266/Reel01.xml'), { ok: true, rel: 'b9b10266/Reel01.xml', abs: path.join(ROOT, 'b9b10266', 'Reel01.xml') });
  t.like(resolveAssetPath(ROOT, 'file://video.mxf'), { ok: true, rel: 'video.mxf' });
  t.like(resolveAssetPath(ROOT, './sub/../video.mxf'), { ok: true, rel: 'video.mxf' });
  t.like(resolveAssetPath(ROOT, 'sub\\Reel01.xml'), { ok: true, rel: 'sub/Reel01.xml' });
});

test('paths leading out of the folder are refused', (t) => {
  for (const p of ['../video.mxf', 'sub/../../video.mxf', '..', '..\\..\\etc\\passwd', 'a/b/../../../x']) {
    t.like(resolveAssetPath(ROOT, p), { ok: false, code: 'PATH_ESCAPES' }, p);
  }
  for (const p of ['/etc/passwd', 'file:///etc/passwd', 'C:\\DCP\\video.mxf', 'c:/video.mxf', '\\\\server\\share\\x.mxf']) {
    t.like(resolveAssetPath(ROOT, p), { ok: false, code: 'PATH_ABSOLUTE' }, p);
  }
  t.like(resolveAssetPath(ROOT, 'video\0.mxf'), { ok: false, code: 'PATH_ESCAPES' });
});

test('empty paths are refused', (t) => {
  for (const p of ['', '   ', '.', './', 'file://']) t.like(resolveAssetPath(ROOT, p), { ok: false, code: 'PATH_EMPTY' }, JSON.stringify(p));
});
