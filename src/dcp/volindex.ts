// VOLINDEX reader (SMPTE `VOLINDEX.xml`, Interop `VOLINDEX`): only the volume number matters to us.
import { DcpError } from './errors.js';
import { flavourOf, type Flavour } from './namespaces.js';
import { intField, parseXml } from './xml.js';

export interface VolIndex { flavour: Flavour; namespace: string; index: number | null }

export function parseVolIndex(source: string | Buffer, label: string): VolIndex {
  const root = parseXml(source, label);
  if (root.name !== 'VolumeIndex') {
    throw new DcpError('VOLINDEX_INVALID', `${label} is not a volume index (its root element is <${root.name}>)`, label);
  }
  const flavour = flavourOf('volindex', root.ns);
  if (!flavour) throw new DcpError('VOLINDEX_NAMESPACE', `${label} uses an unknown namespace (${root.ns ?? 'none'})`, label);
  return { flavour, namespace: root.ns!, index: intField(root, 'Index', label) };
}
