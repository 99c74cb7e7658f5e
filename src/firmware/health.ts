// Health check of a freshly started agent: its local API must answer and report the version
// that was just installed, within a deadline.
import fs from 'node:fs/promises';
import path from 'node:path';

export interface HealthTarget {
  url: string;
  /** The version the agent must report; a stale process of the old slot does not count. */
  version: string;
  authorization?: string;
}

/** One probe: true when the agent answers 200 with a JSON status of the expected version. */
export async function probe(target: HealthTarget): Promise<boolean> {
  try {
    const res = await fetch(target.url, {
      headers: target.authorization ? { authorization: target.authorization } : {},
      signal: AbortSignal.timeout(3000),
    });
    if (!res.ok) return false;
    const body = (await res.json()) as { version?: unknown };
    return body.version === target.version;
  } catch {
    return false;
  }
}

/** Probes every `intervalMs` until healthy (true) or `timeoutMs` passes (false). */
export async function waitHealthy(target: HealthTarget, timeoutMs: number, intervalMs = 500): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await probe(target)) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((r) => setTimeout(r, Math.min(intervalMs, Math.max(0, deadline - Date.now()))));
  }
}

/** The agent's status URL read from the site's agent.json under `root`. /api/status is readable
 * without logging in (the web password only guards actions), so no credentials are needed. */
export async function agentStatusTarget(root: string, configPath: string, version: string): Promise<HealthTarget> {
  const file = path.isAbsolute(configPath) && root !== '/' && !configPath.startsWith(root) ? path.join(root, configPath) : configPath;
  const cfg = JSON.parse(await fs.readFile(file, 'utf8')) as { web?: { host?: string; port?: number } };
  const port = cfg.web?.port ?? 8680;
  let host = cfg.web?.host ?? '127.0.0.1';
  if (host === '0.0.0.0' || host === '::' || host === '') host = '127.0.0.1';
  const h = host.includes(':') ? `[${host}]` : host;
  return { url: `http://${h}:${port}/api/status`, version };
}
