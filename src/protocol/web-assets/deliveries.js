// How a group's delivery status (GET /api/groups/:id/status) reads for a distributor: the words
// for states, flags, verification and keys, the totals per DCP, and what to do about a cinema
// that needs attention. Plain JS, shared by the console page (served as a module) and
// `cineswarm deliveries` (imported), so both say the same thing.

const STATES = {
  queued: 'Waiting',
  checking: 'Checking files',
  downloading: 'Downloading',
  verifying: 'Verifying',
  ready: 'Ready',
  seeding: 'Ready, sharing',
  failed: 'Failed',
  paused: 'Paused at the cinema',
  retired: 'Retired, stopped sharing',
};

const KDM = {
  valid: 'valid',
  'waiting-for-dcp': 'waiting for the DCP',
  'not-yet-valid': 'not yet valid',
  expired: 'expired',
  'not-for-this-server': 'made for another server',
  'keys-missing': 'keys missing',
  'signature-invalid': 'signature invalid',
  'signature-not-checked': 'signature not checked',
  missing: 'missing',
};

const DONE = new Set(['ready', 'seeding']);

export const isSeeder = (p) => p.role === 'seeder';

/** The peer's state in words; a rostered cinema that never reported is "Not started". */
export function stateWords(p) {
  if (p.flag === 'not-started') return 'Not started';
  return STATES[p.state] ?? p.state;
}

/** Milliseconds since the peer's last report, or null when it never reported. */
export function sinceLastReport(p, nowMs) {
  return p.updatedAt ? nowMs - Date.parse(p.updatedAt) : null;
}

export function who(p) {
  return p.name ? `${p.name} (${p.peer})` : p.peer;
}

export function verifyWords(v) {
  if (!v || v.state === 'none') return '–';
  if (v.state === 'failed') return v.failed.length ? `failed: ${v.failed.map((f) => `${f.path} (${f.reason})`).join('; ')}` : 'failed';
  return { pending: 'pending', running: 'running', passed: 'passed' }[v.state] ?? v.state;
}

export function kdmWords(k) {
  if (!k) return '–';
  const words = KDM[k.state] ?? k.state;
  return k.notValidAfter && k.state === 'valid' ? `${words} until ${k.notValidAfter.slice(0, 16).replace('T', ' ')}` : words;
}

/** Totals of one DCP over its cinemas (seeders apart). */
export function totals(t) {
  const cinemas = t.peers.filter((p) => !isSeeder(p));
  const ready = cinemas.filter((p) => DONE.has(p.state)).length;
  const retired = cinemas.filter((p) => p.state === 'retired').length;
  const failed = cinemas.filter((p) => p.state === 'failed').length;
  const notStarted = cinemas.filter((p) => p.flag === 'not-started').length;
  const noun = cinemas.length === 1 ? 'cinema' : 'cinemas';
  const text = t.retired
    ? `withdrawn: ${retired} of ${cinemas.length} ${noun} stopped sharing it`
    : `${ready} of ${cinemas.length} ${noun} ready${failed ? `, ${failed} failed` : ''}${notStarted ? `, ${notStarted} not started` : ''}`;
  return { cinemas: cinemas.length, ready, retired, failed, notStarted, text };
}

const minutes = (ms) => `${Math.max(1, Math.round(ms / 60000))} min`;

/**
 * What a person should know and do about one cinema on one DCP, in a sentence; null when it is fine.
 * `group` is the group id (the cinema must have joined it).
 */
export function attention(t, p, nowMs, group) {
  if (isSeeder(p)) return null;
  const w = who(p);
  const dcp = t.name;
  switch (p.flag) {
    case 'not-started':
      return `${w} has not started ${dcp}: it never reported on it. Check that its agent is running and has joined group ${group}.`;
    case 'silent':
      return `${w} has been silent for ${minutes(sinceLastReport(p, nowMs) ?? 0)} on ${dcp} (last state: ${stateWords(p).toLowerCase()}). Its agent may be off, or cannot reach this server.`;
    case 'stalled': {
      const still = p.progressAt ? nowMs - Date.parse(p.progressAt) : 0;
      return `${w} is stuck at ${(p.progress * 100).toFixed(1)}% of ${dcp}: no progress for ${minutes(still)}. Check that a seeder is up and that the cinema's network lets peers in.`;
    }
    case 'not-rostered':
      return `${w} reports on ${dcp} but is not on the roster. Add it to the roster if it is one of your cinemas.`;
  }
  if (p.state === 'failed') {
    const bad = p.verify && p.verify.state === 'failed' ? p.verify.failed : [];
    // The files are named in the verification column; here the count and what to do.
    const why = bad.length
      ? `${bad.length} file${bad.length === 1 ? '' : 's'} did not verify (${bad[0].path}${bad.length > 1 ? ', …' : ''})`
      : (p.message ?? 'no reason given').slice(0, 300);
    return `${w} failed ${dcp}: ${why}. If the published DCP is sound, someone at the cinema has to look at its status page.`;
  }
  if (p.state === 'paused') return `${w} paused ${dcp} at the cinema; someone there has to resume it.`;
  if (p.kdm && !['valid', 'waiting-for-dcp'].includes(p.kdm.state)) {
    return `${w} cannot play ${dcp}: its KDM is ${kdmWords(p.kdm)}. Send a KDM made for that cinema's server.`;
  }
  return null;
}
