// Load generator for the server benchmarks, run as its own process: keeps `concurrency`
// connections (keep-alive unless told otherwise) busy with GET requests (cycling through the given paths) for a fixed
// time, then prints one JSON line {requests, errors, seconds, statuses}.
import http from 'node:http';

interface LoadSpec {
  origin: string;
  paths: string[];
  headers?: Record<string, string>;
  concurrency: number;
  durationMs: number;
  /** false: one connection per request, as BitTorrent clients announce (opentracker closes anyway) */
  keepAlive?: boolean;
}

async function main(): Promise<void> {
  const spec = JSON.parse(process.argv[2] ?? '') as LoadSpec;
  const url = new URL(spec.origin);
  const agent = new http.Agent({ keepAlive: spec.keepAlive !== false, maxSockets: spec.concurrency });
  const statuses: Record<string, number> = {};
  let requests = 0;
  let errors = 0;
  let next = 0;
  const start = process.hrtime.bigint();
  const deadline = Date.now() + spec.durationMs;

  const one = (path: string) =>
    new Promise<void>((resolve, reject) => {
      const req = http.get({ host: url.hostname, port: url.port, path, agent, headers: spec.headers }, (res) => {
        statuses[res.statusCode ?? 0] = (statuses[res.statusCode ?? 0] ?? 0) + 1;
        res.resume();
        res.on('end', resolve);
      });
      req.on('error', reject);
    });

  async function worker(): Promise<void> {
    while (Date.now() < deadline) {
      try {
        await one(spec.paths[next++ % spec.paths.length]!);
        requests++;
      } catch {
        // counted, not fatal: opentracker drops some connections under concurrent load
        errors++;
      }
    }
  }
  await Promise.all(Array.from({ length: spec.concurrency }, worker));
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  agent.destroy();
  process.stdout.write(JSON.stringify({ requests, errors, seconds, statuses }) + '\n');
}

main().catch((err: unknown) => {
  process.stderr.write(`http-load: ${(err as Error).message}\n`);
  process.exit(1);
});
