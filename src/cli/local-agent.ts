// The running agent's local API as `join`, `leave` and `accept` use it: found through the pid file
// in the config's dataDir, logged in with the config's web password like the status page.
import type { AgentConfig } from '../agent/config/config.js';
import { findRunningAgent } from '../agent/web/pid-file.js';

export interface AgentReply {
  status: number;
  body: { message?: string; error?: string };
}

/** Logs in at `base` and sends one action; throws with one line when that cannot be done. */
export async function callAgent(base: string, password: string | undefined, method: 'POST' | 'DELETE', path: string, body?: unknown): Promise<AgentReply> {
  const send = async (p: string, init: RequestInit): Promise<Response> => {
    try {
      return await fetch(`${base}${p}`, { ...init, signal: AbortSignal.timeout(60_000) });
    } catch (err) {
      const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
      throw new Error(`cannot reach the agent at ${base} (${cause})`);
    }
  };
  if (!password) throw new Error(`the agent at ${base} takes actions only with a web password (web.password in its config)`);
  const login = await send('/api/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ password }) });
  const session = (await login.json().catch(() => ({}))) as { csrfToken?: string; message?: string };
  if (!login.ok || !session.csrfToken) throw new Error(`the agent at ${base} refused the web password: ${session.message ?? login.status}`);
  const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0];
  const headers: Record<string, string> = { cookie, 'x-csrf-token': session.csrfToken };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await send(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  return { status: res.status, body: (await res.json().catch(() => ({}))) as AgentReply['body'] };
}

/** The local API of the agent running on this config's dataDir; null when none runs. */
export async function runningAgentUrl(config: AgentConfig): Promise<{ pid: number; url: string | null } | null> {
  return findRunningAgent(config.dataDir);
}
