// Locations shared by the tests: the repository root and the fixtures kept in test/fixtures/
// (real DCPs, DCP XML and KDMs made by other tools; each folder's SOURCE/README says where from).
import { fileURLToPath } from 'node:url';
import path from 'node:path';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const FIXTURES = path.join(REPO_ROOT, 'test', 'fixtures');
export const DCP_FIXTURES = path.join(FIXTURES, 'dcp');
export const XML_FIXTURES = path.join(FIXTURES, 'xml');
export const KDM_FIXTURES = path.join(FIXTURES, 'kdm');
