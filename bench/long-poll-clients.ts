// Many agents long-polling one group's torrent list, as its own process for bench/long-poll.bench.ts:
// each agent has its own connection and sends GET …/torrents?wait=W with If-None-Match. Prints
// {"sent": n} once every request is written, then {"answers": [[status, epoch ms], …]} when each
// agent has its answer, and exits.
//   argv: ORIGIN GROUP PASSWORD ETAG COUNT WAIT_SECONDS
import http from 'node:http';

const [origin, group, password, etag, count, wait] = process.argv.slice(2) as [string, string, string, string, string, string];
const url = new URL(origin);
const n = Number(count);
const agent = new http.Agent({ keepAlive: true, maxSockets: n });
const headers = { authorization: 'Basic ' + Buffer.from(`${group}:${password}`).toString('base64'), 'if-none-match': etag };
const answers: [number, number][] = [];
let sent = 0;
for (let i = 0; i < n; i++) {
  const req = http.get({ host: url.hostname, port: url.port, path: `/api/groups/${group}/torrents?wait=${wait}`, agent, headers }, (res) => {
    res.resume();
    res.on('end', () => {
      answers.push([res.statusCode ?? 0, performance.timeOrigin + performance.now()]);
      if (answers.length === n) {
        process.stdout.write(JSON.stringify({ answers }) + '\n');
        agent.destroy();
      }
    });
  });
  req.on('error', (err) => {
    answers.push([-1, performance.timeOrigin + performance.now()]);
    process.stderr.write(`long-poll client: ${err.message}\n`);
  });
  req.on('finish', () => {
    if (++sent === n) process.stdout.write(JSON.stringify({ sent }) + '\n');
  });
}
