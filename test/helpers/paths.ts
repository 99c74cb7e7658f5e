// Locations shared by the tests: the repository root and the read-only fixtures beside it.
import { fileURLToPath } from 'node:url';
import path from 'node:path';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const FIXTURES = path.resolve(REPO_ROOT, '..', 'shared', 'fixtures');
export const DCP_FIXTURES = path.join(FIXTURES, 'dcp');
export const XML_FIXTURES = path.join(FIXTURES, 'xml');
