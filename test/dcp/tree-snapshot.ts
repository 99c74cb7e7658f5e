// Snapshot of a folder tree (names, sizes, mtimes, modes, link targets) to prove verification changed nothing.
import fs from 'node:fs';
import path from 'node:path';

export function snapshotTree(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  const visit = (rel: string): void => {
    const abs = path.join(root, rel);
    const st = fs.lstatSync(abs);
    const link = st.isSymbolicLink() ? ` -> ${fs.readlinkSync(abs)}` : '';
    out[rel || '.'] = `${st.mode.toString(8)} ${st.isDirectory() ? '-' : st.size} ${st.mtimeMs}${link}`;
    if (st.isDirectory()) for (const name of fs.readdirSync(abs).sort()) visit(rel ? `${rel}/${name}` : name);
  };
  visit('');
  return out;
}
