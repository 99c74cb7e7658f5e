// `cineswarm` command line: picks the sub-command and hands over to its module.
// Each sub-command lives in its own file and exports `run(argv): Promise<number>` (the exit code).

interface Command {
  summary: string;
  load: () => Promise<{ run: (argv: string[]) => Promise<number> }>;
}

const COMMANDS: Record<string, Command> = {
  server: { summary: 'run the central seed server (groups, torrents, tracker)', load: () => import('./server.js') },
  agent: { summary: 'run the cinema agent', load: () => import('./agent.js') },
  join: { summary: "join a group (checked with the server; the running agent follows at once)", load: () => import('./join.js') },
  leave: { summary: 'leave a group; its DCPs are retired (or removed with --delete)', load: () => import('./leave.js') },
  accept: { summary: 'accept the re-release of a DCP that replaces the one of the same name', load: () => import('./accept.js') },
  publish: { summary: 'publish a DCP folder to a group and optionally seed it', load: () => import('./publish.js') },
  seed: { summary: 'seed every DCP published from a publisher data dir, from its resume data', load: () => import('./seed.js') },
  get: { summary: 'download one torrent with the agent\'s settings and verify it', load: () => import('./get.js') },
  deliveries: { summary: 'show every delivery of a group: each DCP x each cinema, with totals', load: () => import('./deliveries.js') },
  kdm: { summary: 'inspect a KDM, or send KDMs to a group', load: () => import('./kdm.js') },
  verify: { summary: 'verify a DCP folder against its packing lists', load: () => import('./verify.js') },
  status: { summary: "show one agent's state", load: () => import('./status.js') },
  update: { summary: 'install a signed firmware bundle into the inactive slot', load: () => import('./update.js') },
  firmware: { summary: 'publish a signed firmware bundle to the central server', load: () => import('./firmware.js') },
};

function usage(): string {
  const lines = ['usage: cineswarm <command> [options]', '', 'commands:'];
  for (const [name, c] of Object.entries(COMMANDS)) lines.push(`  ${name.padEnd(10)} ${c.summary}`);
  lines.push('', "Run 'cineswarm <command> --help' for the options of one command.");
  return lines.join('\n');
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage() + '\n');
    return name ? 0 : 2;
  }
  const command = COMMANDS[name];
  if (!command) {
    process.stderr.write(`cineswarm: unknown command '${name}'\n${usage()}\n`);
    return 2;
  }
  const mod = await command.load();
  return mod.run(rest);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(`cineswarm: ${message}\n`);
    process.exitCode = 1;
  },
);
