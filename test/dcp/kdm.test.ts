// KDM reading and judgement with the real fixture KDMs (test/fixtures/kdm/README.md says what each must
// give); xmlsec1 checks the signatures, the clock is set by each test.
import test from 'ava';
import fs from 'node:fs/promises';
import path from 'node:path';
import {
  certificateFacts, checkKdmSignature, DcpError, examineKdm, parseKdm, parsePemCertificates, readCompositions, verifyDcp,
} from '../../src/dcp/index.js';
import { generateDcp } from '../helpers/dcp-generator.js';
import { dcpSigner, makeTestKdm, makeTestPki } from '../helpers/test-kdm.js';
import { DCP_FIXTURES, KDM_FIXTURES } from '../helpers/paths.js';
import { makeCertificate, subjFromDn } from '../helpers/test-pki.js';
import { tempDir } from '../helpers/tmp.js';

const ECL29_DCP = path.join(DCP_FIXTURES, 'incomplete_ECL29-SINGLE-CPL-CRYPT_TST_S_EN-EN_UK-U_51_2K_DI_20180103_ECL_IOP_OV');
const read = (name: string): Promise<Buffer> => fs.readFile(path.join(KDM_FIXTURES, name));
const at = (iso: string): Date => new Date(iso);
const certsOf = async (name: string) =>
  parsePemCertificates(await fs.readFile(path.join(KDM_FIXTURES, name), 'utf8'), name).map(certificateFacts);

test('the facts of other_kdm are read as its fixture notes say', async (t) => {
  const k = parseKdm(await read('libdcp_other_kdm_smpte.xml'), 'other_kdm');
  t.is(k.messageId, '30b00f08-6fcf-414a-8924-831fd4daf05d');
  t.is(k.annotation, 'Test_FTR-1_F-133_EN-XX_MOS_2K_20251217_SMPTE_OV');
  t.is(k.cplId, '67334526-342c-475d-bb64-d8fd8318f954');
  t.is(k.title, 'Test_FTR-1_F-133_EN-XX_MOS_2K_20251217_SMPTE_OV');
  t.is(k.notValidBefore, '2018-04-17T17:46:18+00:00');
  t.is(k.notValidAfter, '2028-04-10T17:46:18+00:00');
  t.is(k.recipient.serial, '7');
  t.is(k.recipient.dnQualifier, 'MekIXGBkYdh28siMnnF/Zs2JeK8=');
  t.regex(k.recipient.issuer, /CN=\.smpte-430-2\.INTERMEDIATE\.NOT_FOR_PRODUCTION/);
  t.deepEqual(k.keys, [
    { type: 'MDIK', id: '8380c321-7412-405b-a725-e9251f2de4a5' },
    { type: 'MDAK', id: '79d60a9e-382f-4fc0-963f-5d643cd8fa7d' },
  ]);
  t.is(k.certificates.length, 3);
  t.is(k.encryptedKeys, 2);
});

test('other_kdm verifies, names its DCP-o-matic chain, and is routed only to the certificate it names', async (t) => {
  const xml = await read('libdcp_other_kdm_smpte.xml');
  const target = await certsOf('libdcp_other_kdm_smpte.target.pem');
  t.is(target[0]!.dnQualifier, 'MekIXGBkYdh28siMnnF/Zs2JeK8=', 'dnQualifier is the digest of the public key');
  const mine = await examineKdm(xml, 'other_kdm', { clock: at('2026-12-01T00:00:00Z'), certificates: target });
  t.is(mine.signature.state, 'valid', mine.signature.message);
  t.deepEqual(mine.signature.chain.map((c) => /CN=([^,]+)/.exec(c.subject)![1]),
    ['CS.dcpomatic.smpte-430-2.LEAF', '.dcpomatic.smpte-430-2.INTERMEDIATE', '.dcpomatic.smpte-430-2.ROOT']);
  t.is(mine.verdict.state, 'valid', mine.verdict.message);
  t.truthy(mine.verdict.recipient);
  // Another server's certificate (easyDCP's target, a different key and name) is not the recipient.
  const other = await certsOf('libdcp_easydcp_paulbowles_smpte.target.pem');
  const theirs = await examineKdm(xml, 'other_kdm', { clock: at('2026-12-01T00:00:00Z'), certificates: other });
  t.is(theirs.verdict.state, 'not-for-this-server');
  t.regex(theirs.verdict.message, /addressed to .*LEAF\.NOT_FOR_PRODUCTION/);
});

test('ECL29 matches the ECL29 fixture CPL and its 12 keys: valid in 2020, expired at 2026-12-01', async (t) => {
  const xml = await read('clairmeta_ECL29.xml');
  const compositions = await readCompositions(ECL29_DCP);
  t.is(compositions.length, 1);
  t.is(compositions[0]!.id, '27f3b280-6b7b-4569-bd3c-c706b746027f');
  t.true(compositions[0]!.encrypted);
  t.is(compositions[0]!.keyIds.length, 12);
  // The recipient certificate is not public; its key is. A stand-in certificate with that key and the
  // names the KDM gives makes the recipient check real (test material, made here with openssl).
  const dir = await tempDir(t);
  const facts = parseKdm(xml, 'ECL29');
  const ca = makeCertificate({ dir, name: 'issuer', subject: subjFromDn(facts.recipient.issuer), ca: true });
  const leaf = makeCertificate({
    dir, name: 'leaf', subject: subjFromDn(facts.recipient.subject), issuer: ca,
    key: path.join(KDM_FIXTURES, 'clairmeta_ECL29.key'), serial: 7,
  });
  const certificates = parsePemCertificates(leaf.pem, 'leaf').map(certificateFacts);
  t.is(certificates[0]!.dnQualifier, 'mk0hJHARgli0RglcUQ7lDCIIcAU=');

  const then = await examineKdm(xml, 'ECL29', { clock: at('2020-06-01T00:00:00Z'), certificates, compositions });
  t.is(then.verdict.state, 'valid', then.verdict.message);
  t.is(then.verdict.composition?.keyIds.length, 12);
  t.true(then.signature.chainValidAtClock);
  const now = await examineKdm(xml, 'ECL29', { clock: at('2026-12-01T00:00:00Z'), certificates, compositions });
  t.is(now.verdict.state, 'expired');
  t.regex(now.verdict.message, /expired on 2022-01-18T23:59:59\+01:00/);
  // The Doremi chain ended 2025-12-31, after the KDM was issued: information, not a bad signature.
  t.is(now.signature.state, 'valid', now.signature.message);
  t.false(now.signature.chainValidAtClock);
  t.regex(now.signature.message, /expired 2025-12-31.*information only/);
  t.is(now.signature.chain.length, 5);
});

test('a KDM missing one of the CPL keys is keys-missing; an unknown CPL is waiting-for-dcp', async (t) => {
  const xml = await read('clairmeta_ECL29.xml');
  const [cpl] = await readCompositions(ECL29_DCP);
  const clock = at('2020-06-01T00:00:00Z');
  const extra = { ...cpl!, keyIds: [...cpl!.keyIds, '00000000-0000-4000-8000-000000000001'] };
  t.is((await examineKdm(xml, 'ECL29', { clock, compositions: [extra] })).verdict.state, 'keys-missing');
  const waiting = await examineKdm(xml, 'ECL29', { clock, compositions: [] });
  t.is(waiting.verdict.state, 'waiting-for-dcp');
  t.is((await examineKdm(xml, 'ECL29', { clock: at('2017-06-01T00:00:00Z'), compositions: [cpl!] })).verdict.state, 'not-yet-valid');
});

test('the truncated copy is refused as malformed', async (t) => {
  const err = t.throws(() => parseKdm(Buffer.from('x'), 'x'), { instanceOf: DcpError });
  t.truthy(err);
  const cut = t.throws(() => parseKdm(Buffer.alloc(0), 'empty'), { instanceOf: DcpError });
  t.is(cut?.code, 'XML_EMPTY');
  const trunc = await read('broken_truncated_other_kdm.xml');
  const e = t.throws(() => parseKdm(trunc, 'broken_truncated_other_kdm.xml'), { instanceOf: DcpError });
  t.is(e?.code, 'XML_MALFORMED');
  t.regex(e!.message, /not valid XML/);
});

test('entities, oversize documents and non-KDM XML are refused before anything else reads them', (t) => {
  const bomb = '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]><x>&b;</x>';
  t.is(t.throws(() => parseKdm(bomb, 'bomb'), { instanceOf: DcpError })?.code, 'KDM_DOCTYPE');
  t.is(t.throws(() => parseKdm(Buffer.alloc(2 * 1024 * 1024, 0x20), 'big'), { instanceOf: DcpError })?.code, 'KDM_TOO_LARGE');
  const cpl = '<CompositionPlaylist xmlns="http://www.smpte-ra.org/schemas/429-7/2006/CPL"/>';
  t.is(t.throws(() => parseKdm(cpl, 'cpl'), { instanceOf: DcpError })?.code, 'KDM_NOT_KDM');
});

test('a KDM without its recipient is refused naming the field', async (t) => {
  const text = (await read('libdcp_other_kdm_smpte.xml')).toString('utf8').replace(/<X509SubjectName>[^<]*<\/X509SubjectName>/, '');
  const e = t.throws(() => parseKdm(text, 'no-subject'), { instanceOf: DcpError });
  t.is(e?.code, 'KDM_MISSING_FIELD');
  t.regex(e!.message, /X509SubjectName/);
});

test('toneplates (digest mismatch) and the edited other_kdm are signature-invalid', async (t) => {
  const tone = await examineKdm(await read('libdcp_toneplates_smpte.xml'), 'toneplates', {
    clock: at('2023-01-10T00:00:00Z'), certificates: await certsOf('libdcp_toneplates_smpte.target.pem'),
  });
  t.is(tone.verdict.state, 'signature-invalid', tone.verdict.message);
  t.regex(tone.verdict.message, /digest does not match/);
  const edited = await read('broken_expired_other_kdm.xml');
  const target = await certsOf('libdcp_other_kdm_smpte.target.pem');
  const inWindow = await examineKdm(edited, 'edited', { clock: at('2026-01-01T00:00:00Z'), certificates: target });
  t.is(inWindow.verdict.state, 'signature-invalid', inWindow.verdict.message);
  // Past its (edited) end the earlier check in the order speaks first, and the bad signature is still said.
  const late = await examineKdm(edited, 'edited', { clock: at('2026-12-01T00:00:00Z'), certificates: target });
  t.is(late.verdict.state, 'expired');
  t.is(late.signature.state, 'invalid');
  t.regex(late.verdict.message, /also its signature does not verify/);
});

test('the easyDCP KDM verifies today; the 2013 cinemaslides one verifies at its issue date', async (t) => {
  const xml = await read('libdcp_easydcp_paulbowles_smpte.xml');
  const facts = parseKdm(xml, 'easydcp');
  const sig = await checkKdmSignature(xml, facts, { clock: at('2026-12-01T00:00:00Z') });
  t.is(sig.state, 'valid', sig.message);
  t.true(sig.chainValidAtClock);
  t.regex(sig.message, /EASYDCP-CREATOR\.DCINEMA\.FRAUNHOFER\.DE/);
  const old = await read('libdcp_toneplates_2013_cinemaslides.xml');
  const oldSig = await checkKdmSignature(old, parseKdm(old, 'cinemaslides'), { clock: at('2026-12-01T00:00:00Z') });
  t.is(oldSig.state, 'valid', oldSig.message);
  t.false(oldSig.chainValidAtClock);
});

test('without xmlsec1 the signature is reported not checked, never valid', async (t) => {
  const xml = await read('libdcp_other_kdm_smpte.xml');
  const r = await examineKdm(xml, 'other_kdm', { clock: at('2026-12-01T00:00:00Z'), xmlsec1: '/nonexistent/xmlsec1' });
  t.is(r.verdict.state, 'signature-not-checked');
  t.regex(r.verdict.message, /not installed/);
});

test('a PEM bundle holding a private key is refused', async (t) => {
  const key = await fs.readFile(path.join(KDM_FIXTURES, 'libdcp_other_kdm_smpte.key'), 'utf8');
  const cert = await fs.readFile(path.join(KDM_FIXTURES, 'libdcp_other_kdm_smpte.target.pem'), 'utf8');
  t.is(t.throws(() => parsePemCertificates(cert + key, 'bundle'), { instanceOf: DcpError })?.code, 'PRIVATE_KEY');
  t.is((await certsOf('libdcp_other_kdm_smpte.target-chain.pem')).length, 3);
});

test('test material: a KDM made here for a generated signed encrypted DCP is valid, and only for its recipient', async (t) => {
  const dir = await tempDir(t);
  const pki = makeTestPki(dir);
  const dcp = await generateDcp(path.join(dir, 'dcp'), { encrypted: true, signXml: dcpSigner(pki), assetSizes: [20_000, 10_000] });
  const report = await verifyDcp(dcp.dir);
  t.true(report.ok, report.summary);
  const compositions = await readCompositions(dcp.dir);
  t.is(compositions[0]!.keyIds.length, 2);
  const { xml, messageId } = makeTestKdm(pki, {
    cplId: dcp.cplId, title: 'CINESWARM_TEST_FTR', keyIds: compositions[0]!.keyIds,
    notValidBefore: '2026-01-01T00:00:00+00:00', notValidAfter: '2027-01-01T00:00:00+00:00',
  });
  const certificates = parsePemCertificates(pki.recipient.pem, 'recipient').map(certificateFacts);
  const r = await examineKdm(Buffer.from(xml), 'test', { clock: at('2026-06-01T00:00:00Z'), certificates, compositions });
  t.is(r.facts.messageId, messageId);
  t.is(r.verdict.state, 'valid', r.verdict.message);
  t.regex(r.signature.message, /CS\.cineswarm-test\.SIGNER/);
  const other = parsePemCertificates(pki.signer.pem, 'signer').map(certificateFacts);
  t.is((await examineKdm(Buffer.from(xml), 'test', { clock: at('2026-06-01T00:00:00Z'), certificates: other, compositions })).verdict.state, 'not-for-this-server');
});
