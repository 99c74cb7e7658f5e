// The agent's `kdm` config section: where accepted KDMs go (the folder a TMS ingests keys from),
// the public certificates of this server's media block, and how early an ending KDM is flagged.
export interface KdmConfig {
  dir: string;
  /** PEM files (public certificates only) registered with every group for KDM routing */
  certificates: string[];
  /** KDM_EXPIRING is raised this many days before a DCP's valid KDM ends */
  warnDays: number;
}

type Obj = Record<string, unknown>;

/** Validates `kdm`; `fail` throws the config's own error naming the field. */
export function parseKdmSection(raw: unknown, fail: (message: string) => never): KdmConfig | undefined {
  if (raw === undefined) return undefined;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) fail('kdm must be an object {dir, certificates, warnDays}');
  const o = raw as Obj;
  for (const k of Object.keys(o)) if (!['dir', 'certificates', 'warnDays'].includes(k)) fail(`kdm.${k} is not a known setting (typo?)`);
  if (typeof o.dir !== 'string' || o.dir.trim() === '') fail('kdm.dir must be a non-empty string (the folder accepted KDMs are written to)');
  const certs = o.certificates ?? [];
  if (!Array.isArray(certs) || certs.some((c) => typeof c !== 'string' || c.trim() === '')) fail('kdm.certificates must be a list of PEM file paths');
  const warnDays = o.warnDays ?? 2;
  if (typeof warnDays !== 'number' || !Number.isFinite(warnDays) || warnDays < 0) fail('kdm.warnDays must be a number of days, 0 or more');
  return { dir: o.dir, certificates: certs as string[], warnDays };
}
