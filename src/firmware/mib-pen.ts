// The private enterprise number (PEN) under which the CINESWARM-MIB lives: read from the shipped
// MIB (the agent serves the OIDs the installed MIB names), and written into a staged image's MIB
// and snmpd drop-in when the vendor builds with its own number (`make image MIB_PEN=…`).
import { readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { FirmwareError } from './errors.js';

/** IANA's reserved entry 0, never assigned to anyone: the number a build without MIB_PEN carries. */
export const PLACEHOLDER_PEN = 0;

export const MIB_REL = 'usr/share/snmp/mibs/CINESWARM-MIB.txt';
export const DROP_IN_REL = 'etc/snmp/snmpd.conf.d/cineswarm.conf';
/** The SMIv2 base modules our MIB imports; Debian ships them only in non-free snmp-mibs-downloader. */
export const BASE_MIBS = ['SNMPv2-SMI', 'SNMPv2-TC', 'SNMPv2-CONF'];

const MODULE_OID = /::=\s*\{\s*enterprises\s+(\d+)\s*\}/;

/** The enterprise number of the MIB's MODULE-IDENTITY. */
export function readEnterpriseNumber(mibText: string): number {
  const m = MODULE_OID.exec(mibText);
  if (!m) throw new FirmwareError('BAD_MIB', 'CINESWARM-MIB has no "::= { enterprises N }" module identity');
  return Number(m[1]);
}

/** The checkout's or release's root (the folder holding package.json and rootfs/). */
function packageRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    try {
      readFileSync(path.join(dir, 'rootfs', MIB_REL));
      return dir;
    } catch {
      const up = path.dirname(dir);
      if (up === dir) throw new FirmwareError('BAD_MIB', `no rootfs/${MIB_REL} above ${fileURLToPath(import.meta.url)}`);
      dir = up;
    }
  }
}

/** The enterprise number of the MIB shipped with this release (or checkout). */
export function shippedEnterpriseNumber(): number {
  return readEnterpriseNumber(readFileSync(path.join(packageRoot(), 'rootfs', MIB_REL), 'utf8'));
}

export function parsePen(s: string): number {
  // A sub-identifier is 32 bits unsigned (RFC 2578 section 7.1.3); PENs are far below that.
  if (!/^\d{1,10}$/.test(s) || Number(s) > 2 ** 32 - 1) {
    throw new FirmwareError('BAD_PEN', `the MIB enterprise number must be a whole number (IANA Private Enterprise Number), got '${s}'`);
  }
  return Number(s);
}

/**
 * Writes `pen` into the MIB and the snmpd drop-in under `rootfsDir`, and puts the base modules the
 * MIB imports beside it (from the net-snmp package in `nodeModulesDir`), so the image's snmp tools
 * and smilint load CINESWARM-MIB by name.
 */
export async function stampEnterpriseNumber(rootfsDir: string, pen: number, nodeModulesDir: string): Promise<void> {
  const mibFile = path.join(rootfsDir, MIB_REL);
  const mib = await fs.readFile(mibFile, 'utf8');
  const old = readEnterpriseNumber(mib);
  await fs.writeFile(mibFile, mib.replace(MODULE_OID, `::= { enterprises ${pen} }`));
  const dropIn = path.join(rootfsDir, DROP_IN_REL);
  const conf = await fs.readFile(dropIn, 'utf8');
  // Every OID of our subtree in the drop-in (views, comments) moves with the number.
  const subtree = new RegExp(`\\.1\\.3\\.6\\.1\\.4\\.1\\.${old}(?=\\s|$)`, 'gm');
  await fs.writeFile(dropIn, conf.replace(subtree, `.1.3.6.1.4.1.${pen}`));
  for (const name of BASE_MIBS) {
    await fs.copyFile(path.join(nodeModulesDir, 'net-snmp', 'lib', 'mibs', `${name}.mib`), path.join(path.dirname(mibFile), `${name}.txt`));
  }
}
