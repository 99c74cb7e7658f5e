// JSON schemas of the agent's local API (DESIGN.md "Agent local API" plus the status page's extras).
// Replies are serialized through these, so a field missing here would silently vanish from the API.

const str = { type: 'string' } as const;
const int = { type: 'integer' } as const;
const nnum = { type: 'number' } as const;

const torrentState = { type: 'string', enum: ['queued', 'checking', 'downloading', 'verifying', 'ready', 'seeding', 'failed', 'paused', 'retired'] } as const;

const torrent = {
  type: 'object',
  required: ['name', 'group', 'infoHash', 'state', 'progress', 'downloadBps', 'uploadBps', 'peers', 'etaSeconds', 'verify'],
  properties: {
    name: str,
    group: str,
    infoHash: str,
    state: torrentState,
    progress: nnum,
    sizeBytes: nnum,
    downloadBps: nnum,
    uploadBps: nnum,
    peers: int,
    etaSeconds: { type: ['number', 'null'] },
    verify: {
      type: 'object',
      required: ['state', 'failed'],
      properties: {
        state: { type: 'string', enum: ['none', 'pending', 'running', 'passed', 'failed'] },
        failed: { type: 'array', items: { type: 'object', properties: { path: str, reason: str } } },
      },
    },
    message: str,
    replaces: str,
    replacedBy: str,
    decision: str,
    bannedPeers: { type: 'array', items: str },
    kdm: {
      type: 'object',
      required: ['state'],
      properties: {
        state: { type: 'string', enum: ['valid', 'waiting-for-dcp', 'not-yet-valid', 'expired', 'not-for-this-server', 'keys-missing', 'signature-invalid', 'signature-not-checked', 'missing'] },
        messageId: str,
        notValidAfter: str,
        message: str,
      },
    },
  },
} as const;

const rule = { type: 'object', required: ['cron', 'downloadKiBps', 'uploadKiBps'], properties: { cron: str, downloadKiBps: nnum, uploadKiBps: nnum } } as const;
const timedRule = { type: ['object', 'null'], required: ['cron', 'downloadKiBps', 'uploadKiBps', 'at'], properties: { ...rule.properties, at: str } } as const;

const disk = { type: 'object', required: ['path', 'total', 'free'], properties: { path: str, total: nnum, free: nnum } } as const;

export const statusSchema = {
  type: 'object',
  required: ['id', 'version', 'uptime', 'disk', 'network', 'torrents'],
  properties: {
    id: str,
    version: str,
    uptime: nnum,
    disk,
    network: { type: 'object', required: ['rxBps', 'txBps'], properties: { rxBps: nnum, txBps: nnum } },
    torrents: { type: 'array', items: torrent },
    groups: {
      type: 'array',
      items: { type: 'object', properties: { id: str, state: str, message: str, lastPollAt: str } },
    },
    alarms: {
      type: 'array',
      items: { type: 'object', properties: { code: str, severity: str, message: str, since: str } },
    },
    history: {
      type: 'array',
      items: { type: 'object', properties: { name: str, infoHash: str, group: str, addedAt: str, completedAt: str, state: str } },
    },
    conflicts: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          name: str, group: str, knownInfoHash: str, offeredInfoHash: str, seenAt: str, accepted: { type: 'boolean' },
          known: { type: 'object', properties: { state: str, sizeBytes: nnum, inIngest: { type: 'boolean' } } },
          offered: { type: 'object', properties: { sizeBytes: nnum, createdAt: str } },
        },
      },
    },
    lastPollAt: { type: ['string', 'null'] },
    memory: { type: 'object', required: ['rssBytes', 'anonBytes'], properties: { rssBytes: nnum, anonBytes: nnum } },
    reclaimable: { type: 'array', items: { type: 'object', properties: { name: str, infoHash: str, bytes: nnum, keptBecause: str } } },
    bandwidth: { type: 'object', properties: { inForce: timedRule, next: timedRule, rules: { type: 'array', items: rule } } },
    config: { type: 'object', properties: { reloadedAt: str, restartNeededFor: { type: 'array', items: str } } },
    system: {
      type: 'object',
      properties: {
        disks: { type: 'array', items: disk },
        storage: {
          type: 'array',
          items: { type: 'object', properties: { device: str, kind: str, state: str, detail: str } },
        },
        process: { type: 'object', properties: { cpuPercent: nnum, rssBytes: nnum } },
      },
    },
  },
} as const;

export const errorSchema = {
  type: 'object',
  required: ['error', 'message'],
  properties: { error: str, message: str },
} as const;

export const sessionSchema = {
  type: 'object',
  required: ['passwordSet', 'loggedIn', 'actionsAvailable'],
  properties: {
    passwordSet: { type: 'boolean' },
    loggedIn: { type: 'boolean' },
    actionsAvailable: { type: 'boolean' },
    csrfToken: str,
    pollIntervalMs: int,
  },
} as const;

export const loginBodySchema = {
  type: 'object',
  required: ['password'],
  properties: { password: { type: 'string', minLength: 1, maxLength: 1024 } },
} as const;

export const infoHashParams = {
  type: 'object',
  required: ['infoHash', 'action'],
  properties: {
    infoHash: { type: 'string', pattern: '^[0-9a-fA-F]{40}$' },
    action: { type: 'string', enum: ['pause', 'resume', 'reverify'] },
  },
} as const;

export const acceptBodySchema = {
  type: 'object',
  required: ['name'],
  properties: { name: { type: 'string', minLength: 1, maxLength: 255 } },
} as const;

export const actionReplySchema = {
  type: 'object',
  required: ['done', 'message'],
  properties: { done: str, message: str },
} as const;

// The group id pattern of DESIGN.md ("POST /api/groups" on the server).
const groupId = { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$' } as const;

export const joinBodySchema = {
  type: 'object',
  required: ['id', 'password'],
  properties: { id: groupId, password: { type: 'string', minLength: 1, maxLength: 1024 } },
} as const;

export const groupParams = {
  type: 'object',
  required: ['id'],
  properties: { id: groupId },
} as const;

export const leaveQuerySchema = {
  type: 'object',
  properties: { delete: { type: 'boolean' } },
  additionalProperties: false,
} as const;
